/**
 * bench/intake: throughput and latency of the full intake path (api channel: verify, parse,
 * persist, route, queue the acknowledgement, and the outbox delivering it) against a bare baseline
 * (Hono + zod + one better-sqlite3 insert), measured in the same run on the same machine.
 *
 *   npx tsx bench/intake/run.ts [--seconds 10] [--connections 50] [--warmup 2]
 *                               [--variants baseline,gateway[,gateway-no-callback]] [--cpu-prof]
 *
 * Each server is its own child process; the load generator (autocannon) runs here, the integrator's
 * callback endpoint in a third process (callback-child.ts). Every request is distinct (unique id and
 * sender) and signed just before it is sent. Figures go to stdout and bench/results/.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import autocannon, { type AutocannonRequest } from 'autocannon'
import type { CallbackCount } from './callback-child.ts'
import { messageBody, PLACES, signedHeaders } from './messages.ts'
import { loadBetterSqlite3 } from './workspace-deps.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const HERE = import.meta.dirname
const SECRET = 'bench-api-secret-0123456789'
const API_KEY = 'bench-api-key-0123456789'
const PATH = '/channels/api/messages'
const TARGET_RATIO = 0.5
const TARGET_P99_MS = 30

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '2' },
    variants: { type: 'string', default: 'baseline,gateway' },
    'cpu-prof': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
  strict: true,
})
const seconds = Number(args.seconds)
const connections = Number(args.connections)
const warmupSeconds = Number(args.warmup)
const variants = args.variants!.split(',').map((v) => v.trim())
const KNOWN = ['baseline', 'gateway', 'gateway-no-callback']
for (const v of variants) if (!KNOWN.includes(v)) throw new Error(`[bench] unknown variant "${v}" (known: ${KNOWN.join(', ')})`)
if (!(seconds > 0) || !(connections > 0) || !(warmupSeconds >= 0)) throw new Error('[bench] --seconds, --connections, --warmup must be positive numbers')

const stamp = new Date().toISOString().replace(/[:.]/g, '').slice(0, 17) // 2025-01-01T120000
const workDir = mkdtempSync(join(tmpdir(), 'intake-bench-'))
const profileDir = join(HERE, '..', '.tmp', 'profiles', stamp)
const Database = await loadBetterSqlite3()

interface LoadFigures {
  /** Answers received in the measured window. */
  requests: number
  seconds: number
  /** Answers per second over the measured window. */
  requestsPerSecond: number
  latencyMs: { mean: number; p50: number; p90: number; p99: number; p999: number; max: number }
  /** How evenly the server served the connections (a connection with 0 answers waited the whole run). */
  answersPerConnection: { min: number; median: number; max: number }
  /** Answers that came in during each second of the run, with their latency percentiles. */
  perSecond: Array<{ requests: number; p50: number; p99: number; max: number }>
  statusCodes: Record<string, number>
  non2xx: number
  connectionErrors: number
  timeouts: number
  firstErrorBody?: string
}

interface VariantResult {
  name: string
  /** `rampSeconds`: until every connection had its first answer; `seconds`: the whole warm-up. */
  warmup: { requests: number; created: number; non2xx: number; errors: number; rampSeconds: number; seconds: number }
  measured: LoadFigures
  /** 201 answers that came in after the measured window closed, before autocannon stopped. */
  createdAfterWindow: number
  /** CPU seconds per wall second during the measured window (1.0 = one core busy). */
  cpu: Record<string, number>
  work: BaselineWork | GatewayWork
  logLines: number
}

interface BaselineWork {
  rowsInserted: number
}

type OutboxCounts = Record<string, number>

interface GatewayWork {
  /** What the gateway answered to one request signed with the wrong secret (expected 401). */
  forgedSignatureStatus: number
  casesInStore: number
  answered201: number
  inboundMessages: number
  casesByOffice: Record<string, number>
  officesByPlace: Record<string, Record<string, number>>
  casesByCategory: Record<string, number>
  atEndOfMeasurement: { outbox: OutboxCounts; callbacksReceived: number }
  /** Case created → acknowledgement accepted by the callback, over all sent acks (warm-up and drain included). */
  acknowledgementDelayMs: { p50: number | null; p99: number | null; max: number | null }
  afterDrain: { seconds: number; outbox: OutboxCounts; callbacksReceived?: number; distinctIdempotencyKeys?: number }
  dbBytes: number
}

// ---------------------------------------------------------------------------------------------
// Processes

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
    srv.on('error', reject)
  })
}

interface Child {
  proc: ChildProcess
  logFile: string
}

function startChild(name: string, script: string, scriptArgs: string[], env: Record<string, string | undefined>, ipc = false): Child {
  const logFile = join(workDir, `${name}.log`)
  const out = openSync(logFile, 'a')
  const nodeArgs = ['--import', 'tsx']
  if (args['cpu-prof'] && name !== 'callback') {
    // One folder per server: Node writes a profile per thread (tsx's loader hooks run on their own
    // thread), named CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; the server's is the largest.
    mkdirSync(join(profileDir, name), { recursive: true })
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', join(profileDir, name))
  }
  const proc = spawn(process.execPath, [...nodeArgs, script, ...scriptArgs], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    // Logs go to a file, never to an unread pipe: a full pipe would block the child's stdout writes.
    stdio: ['ignore', out, out, ...(ipc ? (['ipc'] as const) : [])],
  })
  closeSync(out)
  return { proc, logFile }
}

async function waitHttpOk(url: string, child: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null) break
    try {
      const res = await fetch(url)
      if (res.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`[bench] ${url} did not answer 200 (exit code ${child.proc.exitCode}); log:\n${readFileSync(child.logFile, 'utf8').slice(-3000)}`)
}

async function stopChild(child: Child): Promise<void> {
  const { proc } = child
  if (proc.exitCode !== null || proc.signalCode !== null) return
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  proc.kill('SIGTERM')
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(timer)
}

/** utime + stime of a process in seconds, from /proc (Linux); undefined elsewhere. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // clock ticks; USER_HZ is 100 on Linux
  } catch {
    return undefined
  }
}

function countLines(file: string): number {
  const text = readFileSync(file, 'utf8')
  return text === '' ? 0 : text.trimEnd().split('\n').length
}

// ---------------------------------------------------------------------------------------------
// Load

let sequence = 0

/**
 * One autocannon session per server, so the measured window runs on warm connections: Node 20's
 * libuv accepts one connection per event-loop turn (libuv/libuv#3696), so a saturated server takes
 * a while to accept 50 new ones, and a fresh autocannon instance for the measurement would time
 * that ramp instead of the steady state. The warm-up lasts `--warmup` seconds and, beyond that,
 * until every connection has had an answer (reported as `rampSeconds`); then `--seconds` are measured.
 */
async function warmupAndMeasure(
  port: number,
  name: string,
  processes: Record<string, number | undefined>,
): Promise<Pick<VariantResult, 'warmup' | 'measured' | 'cpu' | 'createdAfterWindow'>> {
  const run = `${name}-${stamp}`
  const maxRampSeconds = 120
  const latencies: number[] = []
  const bySecond: number[][] = []
  const byConnection = new Map<unknown, number>()
  const statusCodes: Record<string, number> = {}
  const warm = { requests: 0, created: 0, non2xx: 0, errors: 0, rampSeconds: NaN, seconds: NaN }
  let connectionErrors = 0
  let timeouts = 0
  let createdAfterWindow = 0
  let firstErrorBody: string | undefined
  const answered = new Set<unknown>()
  let phase: 'warm-up' | 'measured' | 'done' = 'warm-up'
  let windowStart = 0
  let windowEnd = 0
  let cpuBefore: Record<string, number | undefined> = {}
  let cpuAfter: Record<string, number | undefined> = {}
  let benchCpuBefore = process.cpuUsage()
  let benchCpu = process.cpuUsage(benchCpuBefore)
  const t0 = performance.now()

  const instance = autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    // An upper bound: the session is stopped when the measured window closes.
    duration: warmupSeconds + maxRampSeconds + seconds + 10,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: PATH,
        setupRequest(req: AutocannonRequest): AutocannonRequest {
          const body = messageBody(run, sequence++)
          return { ...req, body, headers: signedHeaders(SECRET, body) }
        },
        onResponse(status, body) {
          if ((status < 200 || status > 299) && firstErrorBody === undefined) firstErrorBody = `${status} ${body.slice(0, 300)}`
        },
      },
    ],
  })

  const startWindow = () => {
    phase = 'measured'
    windowStart = performance.now()
    warm.seconds = round((windowStart - t0) / 1000, 2)
    cpuBefore = Object.fromEntries(Object.entries(processes).map(([k, pid]) => [k, cpuSeconds(pid)]))
    benchCpuBefore = process.cpuUsage()
    setTimeout(() => {
      phase = 'done'
      windowEnd = performance.now()
      cpuAfter = Object.fromEntries(Object.entries(processes).map(([k, pid]) => [k, cpuSeconds(pid)]))
      benchCpu = process.cpuUsage(benchCpuBefore)
      instance.stop()
    }, seconds * 1000)
  }
  const rampDone = () => answered.size === connections
  setTimeout(() => {
    if (phase === 'warm-up' && rampDone()) startWindow()
  }, warmupSeconds * 1000)
  setTimeout(() => {
    if (phase === 'warm-up') startWindow() // measure anyway; answersPerConnection shows who starved
  }, (warmupSeconds + maxRampSeconds) * 1000)

  instance.on('response', (client: unknown, status: number, _bytes: number, ms: number) => {
    const now = performance.now()
    if (phase === 'warm-up') {
      warm.requests++
      if (status === 201) warm.created++
      if (status < 200 || status > 299) warm.non2xx++
      if (!answered.has(client)) {
        answered.add(client)
        if (rampDone()) {
          warm.rampSeconds = round((now - t0) / 1000, 2)
          if (now - t0 >= warmupSeconds * 1000) startWindow()
        }
      }
      return
    }
    if (phase === 'done') {
      if (status === 201) createdAfterWindow++
      return
    }
    latencies.push(ms)
    statusCodes[status] = (statusCodes[status] ?? 0) + 1
    ;(bySecond[Math.floor((now - windowStart) / 1000)] ??= []).push(ms)
    byConnection.set(client, (byConnection.get(client) ?? 0) + 1)
  })
  instance.on('reqError', (err: Error) => {
    if (phase === 'warm-up') warm.errors++
    else if (phase === 'measured') {
      if (/timed out/.test(err.message)) timeouts++
      else connectionErrors++
    }
  })
  await instance
  const wall = (windowEnd - windowStart) / 1000

  const cpu: Record<string, number> = { 'load generator': round((benchCpu.user + benchCpu.system) / 1e6 / wall, 2) }
  for (const k of Object.keys(processes)) {
    const after = cpuAfter[k]
    const before = cpuBefore[k]
    if (after !== undefined && before !== undefined) cpu[k] = round((after - before) / wall, 2)
  }

  latencies.sort((a, b) => a - b)
  const at = (q: number, sorted = latencies) => round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN, 2)
  const perSecond = bySecond.slice(0, seconds).map((second = []) => {
    const sorted = second.sort((a, b) => a - b)
    return { requests: sorted.length, p50: at(0.5, sorted), p99: at(0.99, sorted), max: round(sorted[sorted.length - 1] ?? NaN, 1) }
  })
  const counts = [...byConnection.values(), ...Array<number>(Math.max(0, connections - byConnection.size)).fill(0)].sort((a, b) => a - b)
  const non2xx = Object.entries(statusCodes).reduce((n, [code, count]) => (code.startsWith('2') ? n : n + count), 0)
  return {
    warmup: warm,
    createdAfterWindow,
    measured: {
      requests: latencies.length,
      seconds: round(wall, 2),
      requestsPerSecond: round(latencies.length / wall, 0),
      latencyMs: {
        mean: round(latencies.reduce((a, b) => a + b, 0) / latencies.length, 2),
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
        p999: at(0.999),
        max: round(latencies[latencies.length - 1] ?? NaN, 1),
      },
      answersPerConnection: { min: counts[0] ?? 0, median: counts[counts.length >> 1] ?? 0, max: counts[counts.length - 1] ?? 0 },
      perSecond,
      statusCodes,
      non2xx,
      connectionErrors,
      timeouts,
      ...(firstErrorBody ? { firstErrorBody } : {}),
    },
    cpu,
  }
}

// ---------------------------------------------------------------------------------------------
// Servers

async function runBaseline(): Promise<VariantResult> {
  const port = await freePort()
  const file = join(workDir, 'baseline.db')
  const child = startChild('baseline', join(HERE, 'baseline-server.ts'), [], { BENCH_PORT: String(port), BENCH_DB: file })
  try {
    await waitHttpOk(`http://127.0.0.1:${port}/healthz`, child)
    const figures = await warmupAndMeasure(port, 'baseline', { server: child.proc.pid })
    const db = new Database(file, { readonly: true })
    const rows = (db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n
    db.close()
    return { name: 'baseline', ...figures, work: { rowsInserted: rows }, logLines: countLines(child.logFile) }
  } finally {
    await stopChild(child)
  }
}

function callbackCount(child: Child): Promise<CallbackCount> {
  return new Promise((resolve) => {
    child.proc.once('message', (msg) => resolve((msg as { count: CallbackCount }).count))
    child.proc.send('count')
  })
}

async function runGateway(name: 'gateway' | 'gateway-no-callback'): Promise<VariantResult> {
  const withCallback = name === 'gateway'
  const dataDir = join(workDir, name)
  const port = await freePort()
  let callback: Child | undefined
  let callbackUrl: string | undefined
  if (withCallback) {
    callback = startChild('callback', join(HERE, 'callback-child.ts'), [], {}, true)
    callbackUrl = await new Promise<string>((resolve, reject) => {
      callback!.proc.once('message', (msg) => resolve((msg as { url: string }).url))
      callback!.proc.once('exit', (code) => reject(new Error(`[bench] callback server exited (${code}): ${readFileSync(callback!.logFile, 'utf8')}`)))
    })
  }
  const gateway = startChild(name, join(ROOT, 'packages/core/src/cli/main.ts'), ['start', '--config', join(ROOT, 'examples/county-hotline/intake.config.ts')], {
    INTAKE_PORT: String(port),
    INTAKE_HOST: '127.0.0.1',
    INTAKE_DATA_DIR: dataDir,
    INTAKE_API_SECRET: SECRET,
    INTAKE_API_KEY: API_KEY,
    INTAKE_API_CALLBACK_URL: callbackUrl,
    INTAKE_LOG_LEVEL: 'warn',
    INTAKE_BANNER: '0',
  })
  try {
    await waitHttpOk(`http://127.0.0.1:${port}/readyz`, gateway)
    // The signature check is live: a body signed with another secret is refused before any work.
    const forged = messageBody(`forged-${stamp}`, 0)
    const refused = await fetch(`http://127.0.0.1:${port}${PATH}`, { method: 'POST', headers: signedHeaders('not-the-bench-secret-0000', forged), body: forged })
    await refused.arrayBuffer()
    const figures = await warmupAndMeasure(port, name, { server: gateway.proc.pid, ...(callback ? { callback: callback.proc.pid } : {}) })

    const db = new Database(join(dataDir, 'intake.db'), { readonly: true, timeout: 5000 })
    const outboxByStatus = () =>
      Object.fromEntries((db.prepare('SELECT status, count(*) AS n FROM outbox GROUP BY status').all() as Array<{ status: string; n: number }>).map((r) => [r.status, r.n]))
    const atEnd = { outbox: outboxByStatus(), callbacksReceived: callback ? (await callbackCount(callback)).received : 0 }

    // Let the outbox finish what the run queued, to see whether it keeps up or falls behind.
    const drainStarted = Date.now()
    let outbox = atEnd.outbox
    while (Date.now() - drainStarted < 120_000 && ((outbox.pending ?? 0) > 0 || (outbox.sending ?? 0) > 0)) {
      await new Promise((r) => setTimeout(r, 250))
      outbox = outboxByStatus()
    }
    const drainSeconds = round((Date.now() - drainStarted) / 1000, 1)
    const finalCallback = callback ? await callbackCount(callback) : undefined

    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n
    // From the case's creation (the ack is queued in the same transaction) to the callback's 200.
    const ackDelays = (db.prepare("SELECT updated_at - created_at AS ms FROM outbox WHERE status = 'sent' ORDER BY ms").all() as Array<{ ms: number }>).map((r) => r.ms)
    const pick = (q: number) => ackDelays[Math.min(ackDelays.length - 1, Math.ceil(q * ackDelays.length) - 1)] ?? null
    const byOffice = db.prepare('SELECT office_id AS office, count(*) AS n FROM cases GROUP BY office_id ORDER BY n DESC').all() as Array<{ office: string; n: number }>
    // Which office each place's messages went to (the place is in every summary), to see routing at work.
    const byPlace: Record<string, Record<string, number>> = {}
    for (const row of db.prepare('SELECT office_id AS office, summary FROM cases').iterate() as IterableIterator<{ office: string; summary: string }>) {
      const place = PLACES.find((p) => row.summary.includes(p)) ?? '(none)'
      const offices = (byPlace[place] ??= {})
      offices[row.office] = (offices[row.office] ?? 0) + 1
    }
    const work: GatewayWork = {
      forgedSignatureStatus: refused.status,
      casesInStore: count('SELECT count(*) AS n FROM cases'),
      // Cases the gateway answered 201 for. The store may hold up to one more per connection:
      // requests in flight when autocannon stopped were persisted but their answers dropped.
      answered201: figures.warmup.created + (figures.measured.statusCodes['201'] ?? 0) + figures.createdAfterWindow,
      inboundMessages: count("SELECT count(*) AS n FROM messages WHERE direction = 'in'"),
      casesByOffice: Object.fromEntries(byOffice.map((r) => [r.office, r.n])),
      officesByPlace: byPlace,
      casesByCategory: Object.fromEntries(
        (db.prepare("SELECT coalesce(category, '(none)') AS c, count(*) AS n FROM cases GROUP BY category ORDER BY n DESC").all() as Array<{ c: string; n: number }>).map((r) => [r.c, r.n]),
      ),
      atEndOfMeasurement: atEnd,
      acknowledgementDelayMs: { p50: pick(0.5), p99: pick(0.99), max: ackDelays.at(-1) ?? null },
      afterDrain: { seconds: drainSeconds, outbox, ...(finalCallback ? { callbacksReceived: finalCallback.received, distinctIdempotencyKeys: finalCallback.distinctKeys } : {}) },
      dbBytes: fileSize(join(dataDir, 'intake.db')) + fileSize(join(dataDir, 'intake.db-wal')),
    }
    db.close()
    return { name, ...figures, work, logLines: countLines(gateway.logFile) }
  } finally {
    await stopChild(gateway)
    if (callback) await stopChild(callback)
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size
  } catch {
    return 0
  }
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits

/**
 * Median time of a one-row commit under WAL + synchronous=FULL in the work dir: how fast this disk
 * syncs right now. Shared machines vary a lot (0.1–4 ms seen), and both servers pay it per commit.
 */
function probeCommitMs(): number {
  const file = join(workDir, `probe-${Date.now()}.db`)
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)')
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
  const times: number[] = []
  for (let i = 0; i < 200; i++) {
    const t = performance.now()
    insert.run('x'.repeat(300))
    times.push(performance.now() - t)
  }
  db.close()
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true })
  return round(times.sort((a, b) => a - b)[100]!, 3)
}

// ---------------------------------------------------------------------------------------------
// Report

function machine() {
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadAverageAtStart: loadavg().map((n) => round(n, 2)),
    sqliteFullCommitMsAtStart: probeCommitMs(),
  }
}

function table(results: VariantResult[]): string {
  const head = ['', 'req/s (mean)', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'requests', 'errors', 'server CPU']
  const rows = results.map((r) => {
    const m = r.measured
    const errors = m.non2xx + m.connectionErrors + m.timeouts
    return [r.name, String(m.requestsPerSecond), String(m.latencyMs.p50), String(m.latencyMs.p99), String(m.latencyMs.p999), String(m.latencyMs.max), String(m.requests), String(errors), `${r.cpu.server ?? '?'} cores`]
  })
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

function verdicts(results: VariantResult[]) {
  const base = results.find((r) => r.name === 'baseline')
  return results
    .filter((r) => r.name !== 'baseline')
    .map((r) => {
      const valid = r.measured.non2xx + r.measured.connectionErrors + r.measured.timeouts === 0
      const ratio = base ? round(r.measured.requestsPerSecond / base.measured.requestsPerSecond, 3) : undefined
      return {
        name: r.name,
        valid,
        ratio,
        throughput: ratio === undefined ? 'n/a' : ratio >= TARGET_RATIO ? 'PASS' : 'MISS',
        p99: r.measured.latencyMs.p99 <= TARGET_P99_MS ? 'PASS' : 'MISS',
      }
    })
}

/** What a variant's run did, in a few readable lines (the JSON file has it all). */
function describe(r: VariantResult): string {
  const m = r.measured
  const out = [`${r.name}:`]
  if (m.non2xx || m.connectionErrors || m.timeouts) {
    out.push(`  ERRORS: status codes ${JSON.stringify(m.statusCodes)}, connection errors ${m.connectionErrors}, timeouts ${m.timeouts}${m.firstErrorBody ? `; first: ${m.firstErrorBody}` : ''}`)
  }
  out.push(
    `  warm-up: ${r.warmup.seconds} s, ${r.warmup.requests} answers (${r.warmup.non2xx} non-2xx, ${r.warmup.errors} errors); every connection had its first answer after ${r.warmup.rampSeconds} s`,
  )
  out.push(`  measured: ${m.requests} answers in ${m.seconds} s, status codes ${JSON.stringify(m.statusCodes)}`)
  out.push(`  answers per connection: min ${m.answersPerConnection.min}, median ${m.answersPerConnection.median}, max ${m.answersPerConnection.max}`)
  out.push(`  p99 by second (ms): ${m.perSecond.map((x) => Math.round(x.p99)).join(' ')}`)
  out.push(`  CPU (cores busy): ${Object.entries(r.cpu).map(([k, v]) => `${k} ${v}`).join(', ')}; server log lines: ${r.logLines}`)
  if ('rowsInserted' in r.work) {
    out.push(`  rows in the baseline's table: ${r.work.rowsInserted}`)
    return out.join('\n')
  }
  const w = r.work
  out.push(`  a request signed with the wrong secret was answered ${w.forgedSignatureStatus}${w.forgedSignatureStatus === 401 ? '' : ' (expected 401!)'}`)
  out.push(`  store: ${w.casesInStore} cases, ${w.inboundMessages} inbound messages (${w.answered201} answered 201; the rest were in flight when autocannon stopped)`)
  out.push(`  categories: ${Object.entries(w.casesByCategory).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  const inPlaceOrder = Object.entries(w.officesByPlace).sort(([a], [b]) => PLACES.indexOf(a as never) - PLACES.indexOf(b as never))
  for (const [place, offices] of inPlaceOrder) {
    out.push(`  ${place} → ${Object.entries(offices).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  }
  const end = w.atEndOfMeasurement
  const drained = w.afterDrain
  out.push(
    `  acknowledgements: at the end of the measured run ${end.callbacksReceived} had reached the callback (outbox ${JSON.stringify(end.outbox)}); ` +
      `${drained.seconds} s later: outbox ${JSON.stringify(drained.outbox)}` +
      (drained.callbacksReceived !== undefined ? `, ${drained.callbacksReceived} received (${drained.distinctIdempotencyKeys} distinct Idempotency-Keys)` : ''),
  )
  if (w.acknowledgementDelayMs.p50 !== null) {
    out.push(`  case created → acknowledgement delivered: p50 ${w.acknowledgementDelayMs.p50} ms, p99 ${w.acknowledgementDelayMs.p99} ms, max ${w.acknowledgementDelayMs.max} ms`)
  }
  return out.join('\n')
}

const info = machine()
console.log(`bench/intake: ${seconds}s at ${connections} connections (warm-up ${warmupSeconds}s), variants: ${variants.join(', ')}`)
console.log(`machine: ${info.nproc} cores (${info.cpu}), node ${info.node}, load average ${info.loadAverageAtStart.join(' ')}`)
console.log(`disk: one-row SQLite commit (WAL, synchronous=FULL) takes ${info.sqliteFullCommitMsAtStart} ms (median of 200)`)
if (info.loadAverageAtStart[0]! > 0.5 * info.nproc) console.log('warning: the machine is already busy; figures will be low and noisy')
console.log(`work dir: ${workDir}\n`)

const results: VariantResult[] = []
let atEnd: { loadAverage: number[]; sqliteFullCommitMs: number }
try {
  for (const v of variants) {
    process.stdout.write(`${v} ... `)
    const r = v === 'baseline' ? await runBaseline() : await runGateway(v as 'gateway' | 'gateway-no-callback')
    results.push(r)
    console.log(`${r.measured.requestsPerSecond} req/s, p99 ${r.measured.latencyMs.p99} ms, cpu ${JSON.stringify(r.cpu)}`)
  }
  atEnd = { loadAverage: loadavg().map((n) => round(n, 2)), sqliteFullCommitMs: probeCommitMs() }
} finally {
  // Keep the servers' logs when something failed or when profiling; otherwise leave nothing behind.
  if (!args['cpu-prof'] && results.length === variants.length) rmSync(workDir, { recursive: true, force: true })
}
console.log('\n' + table(results) + '\n')
console.log(`at the end: load average ${atEnd.loadAverage.join(' ')}, SQLite commit ${atEnd.sqliteFullCommitMs} ms\n`)
const verdictList = verdicts(results)
for (const v of verdictList) {
  console.log(
    `${v.name}: ${v.valid ? '' : 'INVALID (errors) — '}throughput ${v.ratio === undefined ? 'n/a' : `${round(v.ratio * 100, 1)}% of baseline`} (target ≥ ${TARGET_RATIO * 100}%: ${v.throughput}), p99 ${results.find((r) => r.name === v.name)!.measured.latencyMs.p99} ms (target ≤ ${TARGET_P99_MS} ms: ${v.p99})`,
  )
}
for (const r of results) console.log('\n' + describe(r))
if (args['cpu-prof']) console.log(`\ncpu profiles: ${profileDir} (summarise with: npx tsx bench/intake/profile-summary.ts ${profileDir}/<server>/<largest>.cpuprofile)`)

const outFile = args.out ?? join(HERE, '..', 'results', `intake-${stamp}.json`)
mkdirSync(join(outFile, '..'), { recursive: true })
writeFileSync(
  outFile,
  JSON.stringify(
    {
      benchmark: 'bench/intake',
      command: `npx tsx bench/intake/run.ts --seconds ${seconds} --connections ${connections} --warmup ${warmupSeconds} --variants ${variants.join(',')}${args['cpu-prof'] ? ' --cpu-prof' : ''}`,
      at: new Date().toISOString(),
      machine: { ...info, atEnd },
      targets: { throughputRatio: TARGET_RATIO, p99Ms: TARGET_P99_MS },
      results,
      verdicts: verdictList,
    },
    null,
    2,
  ) + '\n',
)
console.log(`\nresults: ${outFile}`)
