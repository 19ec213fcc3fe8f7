/**
 * Structured JSON logs, one object per line. Secrets registered with `redact` never reach the sink:
 * every string field is scrubbed before it is written.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFields = Record<string, unknown>

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
  child(fields: LogFields): Logger
}

export interface LoggerOptions {
  level?: LogLevel
  /** Where lines go; default stdout. */
  sink?: (line: string) => void
  /** Values that must never be written (API keys, channel secrets). */
  secrets?: readonly string[]
  now?: () => number
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export function createLogger({
  level = 'info',
  sink = (line) => process.stdout.write(line + '\n'),
  secrets = [],
  now = Date.now,
}: LoggerOptions = {}): Logger {
  const hidden = secrets.filter((s) => s.length >= 4)
  const scrub = (line: string) => hidden.reduce((acc, s) => acc.split(s).join('[redacted]'), line)
  const make = (bound: LogFields): Logger => {
    const write = (lvl: LogLevel, msg: string, fields?: LogFields) => {
      if (ORDER[lvl] < ORDER[level]) return
      const record = { time: new Date(now()).toISOString(), level: lvl, msg, ...bound, ...fields }
      sink(scrub(JSON.stringify(record, errorReplacer)))
    }
    return {
      debug: (m, f) => write('debug', m, f),
      info: (m, f) => write('info', m, f),
      warn: (m, f) => write('warn', m, f),
      error: (m, f) => write('error', m, f),
      child: (fields) => make({ ...bound, ...fields }),
    }
  }
  return make({})
}

function errorReplacer(_key: string, value: unknown) {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack }
  return value
}

/** A logger that keeps its lines in memory, for tests that assert what was (not) logged. */
export function memoryLogger(options: Omit<LoggerOptions, 'sink'> = {}): Logger & { lines: string[] } {
  const lines: string[] = []
  const logger = createLogger({ level: 'debug', ...options, sink: (l) => lines.push(l) })
  return Object.assign(logger, { lines })
}

export const silentLogger: Logger = createLogger({ sink: () => {} })
