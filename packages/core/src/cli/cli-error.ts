import { ConfigError } from '../config/index.ts'

/**
 * What the command line prints when it cannot do what it was asked: one line that says what went
 * wrong, where, and what to do — and exit code 2 for a mistake in how it was called or configured
 * (a mistyped flag, a missing config file, a bad option), 1 for a failure while running. The stack
 * trace is for developers: only with --debug.
 */
export interface CliFailure {
  exitCode: 1 | 2
  lines: string[]
}

export function describeCliFailure(err: unknown, { debug = false, configFile }: { debug?: boolean; configFile?: string } = {}): CliFailure {
  const e = err as Error & { code?: string }
  const stack = debug && e?.stack ? [e.stack] : []
  if (err instanceof ConfigError) {
    const where = configFile ? ` in ${configFile}` : ''
    if (err.problems.length === 1) return { exitCode: 2, lines: [`intake: invalid configuration${where}: ${err.problems[0]}`, ...stack] }
    return { exitCode: 2, lines: [`intake: invalid configuration${where}:`, ...err.problems.map((p) => `  - ${p}`), ...stack] }
  }
  if (e?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e?.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || e?.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return { exitCode: 2, lines: [`intake: ${e.message.split('\n')[0]} — run \`intake help\` for the commands and their options`, ...stack] }
  }
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && configFile && e.message.includes(configFile.replace(/^\.\//, ''))) {
    return { exitCode: 2, lines: [`intake: no config file at ${configFile} — pass --config path/to/intake.config.ts (the demo's is examples/county-hotline/intake.config.ts)`, ...stack] }
  }
  // A plugin or store refusing its options names itself: "[web-form] maxPhotos: …", "[sqlite store] …".
  if (e instanceof Error && /^\[[\w -]+\] /.test(e.message)) {
    return { exitCode: 2, lines: [`intake: ${e.message.split('\n')[0]}${configFile ? ` (in ${configFile})` : ''}`, ...stack] }
  }
  const message = e instanceof Error ? e.message.split('\n')[0] : String(err)
  return { exitCode: 1, lines: [`intake: ${message}`, ...(debug ? stack : ['(run again with --debug for the stack trace)'])] }
}
