/**
 * What the load benchmarks (bench/intake, bench/sms, bench/email) share: their servers as child
 * processes with a log file each, waiting for them, talking to their helper processes over IPC,
 * CPU time from /proc, percentiles, the printed table, the result file and the machine's description.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'

export { freePort } from './free-port.ts'

/** The repository's root: the children's working directory. */
export const REPO_ROOT = join(import.meta.dirname, '..', '..')
/** The gateway's command line, run as `intake start --config <file>`. */
export const GATEWAY_CLI = join(REPO_ROOT, 'packages', 'core', 'src', 'cli', 'main.ts')
/** Where every benchmark writes its `<kind>-<time>.json`. */
export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results')

// ---------------------------------------------------------------------------------------------
// Command line

/** `--variants a,b` split and checked against `known`; throws `[component] unknown variant "x" (known: …)`. */
export function parseVariants(list: string, known: readonly string[], component: string): string[] {
  const variants = list.split(',').map((v) => v.trim())
  for (const v of variants) if (!known.includes(v)) throw new Error(`[${component}] unknown variant "${v}" (known: ${known.join(', ')})`)
  return variants
}

// ---------------------------------------------------------------------------------------------
// Child processes

/** A server (or helper) the benchmark started: the process and the file its stdout and stderr go to. */
export interface ChildServer {
  proc: ChildProcess
  logFile: string
}

export interface StartChildOptions {
  /** Names the log file (`<logDir>/<name>.log`). */
  name: string
  /** A TypeScript file, run with `node --import tsx`. */
  script: string
  args?: string[]
  /** Added to this process's environment. */
  env?: Record<string, string | undefined>
  logDir: string
  /** Open an IPC channel (for helpers that report counts). */
  ipc?: boolean
  /** When set, the child writes V8 CPU profiles there (`--cpu-prof`). */
  cpuProfileDir?: string
  /** Node flags before the script (`--max-semi-space-size=64`). */
  nodeFlags?: string[]
}

/** Starts `node --import tsx <script>` in the repository's root, its output appended to a log file. */
export function startChild({ name, script, args = [], env = {}, logDir, ipc = false, cpuProfileDir, nodeFlags = [] }: StartChildOptions): ChildServer {
  const logFile = join(logDir, `${name}.log`)
  const out = openSync(logFile, 'a')
  const nodeArgs = [...nodeFlags, '--import', 'tsx']
  if (cpuProfileDir) {
    // Node writes a profile per thread (tsx's loader hooks run on their own thread), named
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; the server's is the largest.
    mkdirSync(cpuProfileDir, { recursive: true })
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', cpuProfileDir)
  }
  const proc = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    // Logs go to a file, never to an unread pipe: a full pipe would block the child's stdout writes.
    stdio: ['ignore', out, out, ...(ipc ? (['ipc'] as const) : [])],
  })
  closeSync(out)
  return { proc, logFile }
}

/**
 * The Node flags `pnpm start` gives the gateway (package.json's start script, between `tsx` and
 * the script): a bench runs the gateway as it is deployed.
 */
export function gatewayNodeFlags(): string[] {
  const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
  const words = scripts.start!.split(/\s+/)
  const after = words.slice(words.indexOf('tsx') + 1)
  return after.slice(0, after.findIndex((word) => !word.startsWith('--')))
}

/** Starts the gateway (`intake start --config <config>`) quietly: log level warn, no banner. */
export function startGateway(options: { name: string; config: string; env: Record<string, string | undefined>; logDir: string; cpuProfileDir?: string }): ChildServer {
  const { config, env, ...rest } = options
  return startChild({
    ...rest,
    script: GATEWAY_CLI,
    args: ['start', '--config', config],
    nodeFlags: gatewayNodeFlags(),
    env: { ...env, INTAKE_LOG_LEVEL: 'warn', INTAKE_BANNER: '0' },
  })
}

/** The last 3,000 characters of a child's log, for error messages. */
export function logTail(child: ChildServer): string {
  return readFileSync(child.logFile, 'utf8').slice(-3000)
}

/** Polls `url` until it answers 2xx; throws with the child's log if the child exits or time runs out. */
export async function waitForHttpOk(url: string, child: ChildServer, component: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline && child.proc.exitCode === null) {
    try {
      if ((await fetch(url)).ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`[${component}] ${url} did not answer 200 (exit code ${child.proc.exitCode}); log:\n${logTail(child)}`)
}

/** SIGTERM, then SIGKILL if the child has not exited 15 s later; returns once it has exited. */
export async function stopChild({ proc }: ChildServer): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  proc.kill('SIGTERM')
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(timer)
}

/** The first IPC message a helper sends (its `{ url }` or `{ port }` once listening); rejects if it exits first. */
export function firstMessageFrom<T>(child: ChildServer, description: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${description} exited (${code}): ${readFileSync(child.logFile, 'utf8')}`))
    // Only until the message: a later exit (when the run is over and its log is gone) is not an error.
    child.proc.once('exit', onExit)
    child.proc.once('message', (msg) => {
      child.proc.off('exit', onExit)
      resolve(msg as T)
    })
  })
}

/** Sends `request` to a helper over IPC and resolves with its next message (the helpers answer `'count'`). */
export function askChild<T>(child: ChildServer, request: string): Promise<T> {
  return new Promise<T>((resolve) => {
    child.proc.once('message', (msg) => resolve(msg as T))
    child.proc.send(request)
  })
}

// ---------------------------------------------------------------------------------------------
// CPU time

/** utime + stime of a process in seconds, from /proc (Linux); undefined elsewhere or once it has gone. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // clock ticks; USER_HZ is 100 on Linux
  } catch {
    return undefined
  }
}

/** CPU seconds used so far by each labelled process. */
export function sampleCpu(processes: Record<string, number | undefined>): Record<string, number | undefined> {
  return Object.fromEntries(Object.entries(processes).map(([label, pid]) => [label, cpuSeconds(pid)]))
}

/** CPU seconds per wall second between two samples (1.0 = one core busy), for each process sampled both times. */
export function coresBusy(before: Record<string, number | undefined>, after: Record<string, number | undefined>, wallSeconds: number): Record<string, number> {
  const busy: Record<string, number> = {}
  for (const label of Object.keys(before)) {
    const [end, start] = [after[label], before[label]]
    if (end !== undefined && start !== undefined) busy[label] = round((end - start) / wallSeconds, 2)
  }
  return busy
}

// ---------------------------------------------------------------------------------------------
// Figures

/** `n` rounded to `digits` decimals. */
export function round(n: number, digits: number): number {
  return Math.round(n * 10 ** digits) / 10 ** digits
}

/** The nearest-rank percentile (`q` in 0..1) of ascending `sorted`; undefined when it is empty. */
export function percentile(sorted: readonly number[], q: number): number | undefined {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
}

/** A plain-text table: the first column left-aligned, the others right-aligned, a rule under the head. */
export function formatTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

// ---------------------------------------------------------------------------------------------
// The gateway's store

type SqliteDatabase = BetterSqlite3.Database
/** Outbox rows by status (pending, sending, sent, dead…). */
export type OutboxCounts = Record<string, number>

/** The gateway's outbox rows counted by status. */
export function outboxByStatus(db: SqliteDatabase): OutboxCounts {
  return Object.fromEntries((db.prepare('SELECT status, count(*) AS n FROM outbox GROUP BY status').all() as Array<{ status: string; n: number }>).map((r) => [r.status, r.n]))
}

/** Polls the outbox until nothing is pending or sending (at most `timeoutMs`): the last counts and the seconds it took. */
export async function waitForOutboxDrain(db: SqliteDatabase, first = outboxByStatus(db), timeoutMs = 120_000): Promise<{ outbox: OutboxCounts; seconds: number }> {
  const started = Date.now()
  let outbox = first
  while (Date.now() - started < timeoutMs && ((outbox.pending ?? 0) > 0 || (outbox.sending ?? 0) > 0)) {
    await new Promise((r) => setTimeout(r, 250))
    outbox = outboxByStatus(db)
  }
  return { outbox, seconds: round((Date.now() - started) / 1000, 1) }
}

// ---------------------------------------------------------------------------------------------
// Machine and result file

/** The run's time for file names, e.g. 2025-01-01T120000. */
export function resultStamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '').slice(0, 17)
}

/** The 1, 5 and 15 minute load averages, to two decimals. */
export function loadAverage(): number[] {
  return loadavg().map((n) => round(n, 2))
}

/** What the figures were measured on: cores, CPU model, Node version, load average now. */
export function describeMachine(): { nproc: number; cpu: string; node: string; loadAverageAtStart: number[] } {
  return { nproc: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverageAtStart: loadAverage() }
}

/** bench/results/<kind>-<stamp>.json. */
export function resultFilePath(kind: string, stamp: string): string {
  return join(RESULTS_DIR, `${kind}-${stamp}.json`)
}

/** Writes `data` as indented JSON (with a final newline), creating the folder if needed. */
export function writeResultFile(file: string, data: unknown): void {
  mkdirSync(join(file, '..'), { recursive: true })
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n')
}
