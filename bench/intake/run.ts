/**
 * bench/intake: throughput and latency of the full intake path (api channel: verify, parse,
 * persist, route, queue the acknowledgement, and the outbox delivering it) against a bare baseline
 * (Hono + zod + one better-sqlite3 insert), measured in the same run on the same machine.
 *
 *   npx tsx bench/intake/run.ts [--seconds 10] [--connections 50] [--warmup 2] [--rounds 1]
 *                               [--variants baseline,gateway[,gateway-paced][,gateway-no-callback]] [--cpu-prof]
 *   npx tsx bench/intake/run.ts --store postgres [...]     # PostgreSQL, 1 and 2 gateway processes: postgres.ts
 *
 * --rounds N runs the variants N times in turn (baseline, gateway, baseline, gateway, …) and reports
 * each round's ratio against that round's baseline, and their median: a shared machine drifts, and
 * one pair of runs does not tell whether a target is met reliably. gateway-paced offers the gateway
 * half the round's baseline throughput (the throughput target), evenly spaced over up to the same 50
 * connections (bench/support/paced-load.ts), to show its latency at that load rather than at saturation.
 *
 * Each server is its own child process; the load generator (autocannon) runs here, the integrator's
 * callback endpoint in a third process (callback-child.ts). Every request is distinct (unique id and
 * sender) and signed just before it is sent. Figures go to stdout and bench/results/.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  askChild,
  type ChildServer,
  describeMachine,
  firstMessageFrom,
  formatTable,
  freePort,
  loadAverage,
  type OutboxCounts,
  outboxByStatus,
  parseVariants,
  percentile,
  REPO_ROOT,
  resultFilePath,
  resultStamp,
  round,
  startChild,
  startGateway,
  stopChild,
  waitForHttpOk,
  waitForOutboxDrain,
  writeResultFile,
} from '../support/harness.ts'
import { pacedLoad } from '../support/paced-load.ts'
import { HTTP_LOAD_ARGS, type HttpLoadOptions, type LoadFigures, readHttpLoadArgs, warmUpAndMeasure, type WarmupFigures } from '../support/http-load.ts'
import { loadBetterSqlite3 } from '../support/workspace-deps.ts'
import type { CallbackCount } from './callback-child.ts'
import { messageBody, PLACES, signedHeaders } from './messages.ts'

// --store postgres is its own script (its baseline, databases and process counts differ).
if (process.argv.includes('--store')) {
  const store = process.argv[process.argv.indexOf('--store') + 1]
  if (store !== 'postgres' && store !== 'sqlite') throw new Error(`[bench] --store must be sqlite or postgres; got ${store}`)
  if (store === 'postgres') {
    await import('./postgres.ts')
    process.exit(0)
  }
  process.argv.splice(process.argv.indexOf('--store'), 2)
}

const HERE = import.meta.dirname
const SECRET = 'bench-api-secret-0123456789'
const API_KEY = 'bench-api-key-0123456789'
const PATH = '/channels/api/messages'
const TARGET_RATIO = 0.5
const TARGET_P99_MS = 30

const { values: args } = parseArgs({
  options: {
    ...HTTP_LOAD_ARGS,
    variants: { type: 'string', default: 'baseline,gateway' },
    rounds: { type: 'string', default: '1' },
    'cpu-prof': { type: 'boolean', default: false },
  },
  strict: true,
})
const variants = parseVariants(args.variants, ['baseline', 'gateway', 'gateway-paced', 'gateway-no-callback'], 'bench')
const { seconds, connections, warmupSeconds } = readHttpLoadArgs(args, 'bench')
const rounds = Number(args.rounds)
if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error('[bench] --rounds must be a whole number ≥ 1')
if (variants.includes('gateway-paced') && variants.indexOf('baseline') !== 0) throw new Error('[bench] gateway-paced needs baseline first: it is paced at half its throughput')
type GatewayVariant = 'gateway' | 'gateway-paced' | 'gateway-no-callback'

const stamp = resultStamp()
const workDir = mkdtempSync(join(tmpdir(), 'intake-bench-'))
const profileDir = join(HERE, '..', '.tmp', 'profiles', stamp)
const Database = await loadBetterSqlite3()

interface VariantResult {
  name: string
  round: number
  /** gateway-paced: the requests per second offered in all. */
  offeredRate?: number
  /** `rampSeconds`: until every connection had its first answer; `seconds`: the whole warm-up. */
  warmup: WarmupFigures
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

function countLines(file: string): number {
  const text = readFileSync(file, 'utf8')
  return text === '' ? 0 : text.trimEnd().split('\n').length
}

// ---------------------------------------------------------------------------------------------
// Load

let sequence = 0

/** A server's run through warmUpAndMeasure (bench/support/http-load.ts): every request a new message, signed as it is built. */
async function measureServer(port: number, name: string, processes: Record<string, number | undefined>, overallRate?: number): Promise<Pick<VariantResult, 'warmup' | 'measured' | 'cpu' | 'createdAfterWindow'>> {
  const run = `${name}-${stamp}-${sequence}`
  const measure = overallRate ? (o: HttpLoadOptions) => pacedLoad({ ...o, rate: overallRate }) : warmUpAndMeasure
  const load = await measure({
    port,
    path: PATH,
    connections,
    warmupSeconds,
    seconds,
    processes,
    keepFirstErrorBody: true,
    nextRequest() {
      const body = messageBody(run, sequence++)
      return { body, headers: signedHeaders(SECRET, body) }
    },
  })
  return { warmup: load.warmup, createdAfterWindow: load.createdAfterWindow, measured: load.measured, cpu: { 'load generator': load.loadGeneratorCpu, ...load.cpu } }
}

/** Where the server called `name` writes its CPU profiles with --cpu-prof (one folder per server). */
const cpuProfileDirFor = (name: string) => (args['cpu-prof'] ? join(profileDir, name) : undefined)

// ---------------------------------------------------------------------------------------------
// Servers

async function runBaseline(round: number): Promise<VariantResult> {
  const port = await freePort()
  const file = join(workDir, `baseline-${round}.db`)
  const child = startChild({
    name: 'baseline',
    script: join(HERE, 'baseline-server.ts'),
    env: { BENCH_PORT: String(port), BENCH_DB: file },
    logDir: workDir,
    cpuProfileDir: cpuProfileDirFor('baseline'),
  })
  try {
    await waitForHttpOk(`http://127.0.0.1:${port}/healthz`, child, 'bench')
    const figures = await measureServer(port, 'baseline', { server: child.proc.pid })
    const db = new Database(file, { readonly: true })
    const rows = (db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n
    db.close()
    return { name: 'baseline', round, ...figures, work: { rowsInserted: rows }, logLines: countLines(child.logFile) }
  } finally {
    await stopChild(child)
  }
}

/** What the callback process has received so far. */
async function callbackCount(child: ChildServer): Promise<CallbackCount> {
  return (await askChild<{ count: CallbackCount }>(child, 'count')).count
}

async function runGateway(name: GatewayVariant, round: number, offeredRate?: number): Promise<VariantResult> {
  const withCallback = name !== 'gateway-no-callback'
  const dataDir = join(workDir, `${name}-${round}`)
  const port = await freePort()
  let callback: ChildServer | undefined
  let callbackUrl: string | undefined
  if (withCallback) {
    callback = startChild({ name: 'callback', script: join(HERE, 'callback-child.ts'), logDir: workDir, ipc: true })
    callbackUrl = (await firstMessageFrom<{ url: string }>(callback, '[bench] callback server')).url
  }
  const gateway = startGateway({
    name,
    config: join(REPO_ROOT, 'examples/county-hotline/intake.config.ts'),
    env: {
      INTAKE_PORT: String(port),
      INTAKE_HOST: '127.0.0.1',
      INTAKE_DATA_DIR: dataDir,
      INTAKE_API_SECRET: SECRET,
      INTAKE_API_KEY: API_KEY,
      INTAKE_API_CALLBACK_URL: callbackUrl,
    },
    logDir: workDir,
    cpuProfileDir: cpuProfileDirFor(name),
  })
  try {
    await waitForHttpOk(`http://127.0.0.1:${port}/readyz`, gateway, 'bench')
    // The signature check is live: a body signed with another secret is refused before any work.
    const forged = messageBody(`forged-${stamp}`, 0)
    const refused = await fetch(`http://127.0.0.1:${port}${PATH}`, { method: 'POST', headers: signedHeaders('not-the-bench-secret-0000', forged), body: forged })
    await refused.arrayBuffer()
    const figures = await measureServer(port, name, { server: gateway.proc.pid, ...(callback ? { callback: callback.proc.pid } : {}) }, offeredRate)

    const db = new Database(join(dataDir, 'intake.db'), { readonly: true, timeout: 5000 })
    const atEnd = { outbox: outboxByStatus(db), callbacksReceived: callback ? (await callbackCount(callback)).received : 0 }

    // Let the outbox finish what the run queued, to see whether it keeps up or falls behind.
    const { outbox, seconds: drainSeconds } = await waitForOutboxDrain(db, atEnd.outbox)
    const finalCallback = callback ? await callbackCount(callback) : undefined

    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n
    // From the case's creation (the ack is queued in the same transaction) to the callback's 200.
    const ackDelays = (db.prepare("SELECT updated_at - created_at AS ms FROM outbox WHERE status = 'sent' ORDER BY ms").all() as Array<{ ms: number }>).map((r) => r.ms)
    const pick = (q: number) => percentile(ackDelays, q) ?? null
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
    return { name, round, ...(offeredRate ? { offeredRate } : {}), ...figures, work, logLines: countLines(gateway.logFile) }
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
  return { ...describeMachine(), sqliteFullCommitMsAtStart: probeCommitMs() }
}

function table(results: VariantResult[]): string {
  const head = ['', 'round', 'req/s (mean)', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'requests', 'errors', 'server CPU']
  const rows = results.map((r) => {
    const m = r.measured
    const errors = m.non2xx + m.connectionErrors + m.timeouts
    return [r.offeredRate ? `${r.name} (${r.offeredRate}/s offered)` : r.name, String(r.round), String(m.requestsPerSecond), String(m.latencyMs.p50), String(m.latencyMs.p99), String(m.latencyMs.p999), String(m.latencyMs.max), String(m.requests), String(errors), `${r.cpu.server ?? '?'} cores`]
  })
  return formatTable(head, rows)
}

function verdicts(results: VariantResult[]) {
  return results
    .filter((r) => r.name !== 'baseline')
    .map((r) => {
      const base = results.find((b) => b.name === 'baseline' && b.round === r.round)
      const valid = r.measured.non2xx + r.measured.connectionErrors + r.measured.timeouts === 0
      const ratio = base ? round(r.measured.requestsPerSecond / base.measured.requestsPerSecond, 3) : undefined
      const paced = r.name === 'gateway-paced'
      return {
        name: r.name,
        round: r.round,
        valid,
        ratio,
        // A paced run answers what it is offered: its throughput says nothing about the target.
        throughput: paced || ratio === undefined ? 'n/a' : ratio >= TARGET_RATIO ? 'PASS' : 'MISS',
        p99: r.measured.latencyMs.p99 <= TARGET_P99_MS ? 'PASS' : 'MISS',
      }
    })
}

/** Over the rounds, per variant: each round's ratio, their median, and how many rounds met the targets. */
function summary(list: ReturnType<typeof verdicts>, results: VariantResult[]) {
  const names = [...new Set(list.map((v) => v.name))]
  return names.map((name) => {
    const mine = list.filter((v) => v.name === name)
    const ratios = mine.map((v) => v.ratio).filter((x): x is number => x !== undefined)
    const p99s = results.filter((r) => r.name === name).map((r) => r.measured.latencyMs.p99)
    const median = (xs: number[]) => round(percentile([...xs].sort((a, b) => a - b), 0.5) ?? NaN, 3)
    return {
      name,
      rounds: mine.length,
      ratios,
      medianRatio: ratios.length ? median(ratios) : undefined,
      throughputMetIn: mine.filter((v) => v.throughput === 'PASS').length,
      p99s,
      medianP99: median(p99s),
      p99MetIn: mine.filter((v) => v.p99 === 'PASS').length,
    }
  })
}

/** What a variant's run did, in a few readable lines (the JSON file has it all). */
function describe(r: VariantResult): string {
  const m = r.measured
  const out = [`round ${r.round}, ${r.name}${r.offeredRate ? ` (${r.offeredRate} requests/s offered)` : ""}:`]
  if (m.non2xx || m.connectionErrors || m.timeouts) {
    out.push(`  ERRORS: status codes ${JSON.stringify(m.statusCodes)}, connection errors ${m.connectionErrors}, timeouts ${m.timeouts}${m.firstErrorBody ? `; first: ${m.firstErrorBody}` : ''}`)
  }
  out.push(
    `  warm-up: ${r.warmup.seconds} s, ${r.warmup.requests} answers (${r.warmup.non2xx} non-2xx, ${r.warmup.errors} errors); ${Number.isNaN(r.warmup.rampSeconds) ? 'paced: until the cold start\'s backlog was gone' : `every connection had its first answer after ${r.warmup.rampSeconds} s`}`,
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
console.log(`bench/intake: ${seconds}s at ${connections} connections (warm-up ${warmupSeconds}s), variants: ${variants.join(', ')}, rounds: ${rounds}`)
console.log(`machine: ${info.nproc} cores (${info.cpu}), node ${info.node}, load average ${info.loadAverageAtStart.join(' ')}`)
console.log(`disk: one-row SQLite commit (WAL, synchronous=FULL) takes ${info.sqliteFullCommitMsAtStart} ms (median of 200)`)
if (info.loadAverageAtStart[0]! > 0.5 * info.nproc) console.log('warning: the machine is already busy; figures will be low and noisy')
console.log(`work dir: ${workDir}\n`)

const results: VariantResult[] = []
let atEnd: { loadAverage: number[]; sqliteFullCommitMs: number }
try {
  for (let round = 1; round <= rounds; round++) {
    for (const v of variants) {
      process.stdout.write(`round ${round}: ${v} ... `)
      const base = results.find((r) => r.name === 'baseline' && r.round === round)
      const r =
        v === 'baseline'
          ? await runBaseline(round)
          : await runGateway(v as GatewayVariant, round, v === 'gateway-paced' ? Math.round(base!.measured.requestsPerSecond * TARGET_RATIO) : undefined)
      results.push(r)
      console.log(`${r.measured.requestsPerSecond} req/s, p99 ${r.measured.latencyMs.p99} ms, cpu ${JSON.stringify(r.cpu)}`)
    }
  }
  atEnd = { loadAverage: loadAverage(), sqliteFullCommitMs: probeCommitMs() }
} finally {
  // Keep the servers' logs when something failed or when profiling; otherwise leave nothing behind.
  if (!args['cpu-prof'] && results.length === variants.length * rounds) rmSync(workDir, { recursive: true, force: true })
}
console.log('\n' + table(results) + '\n')
console.log(`at the end: load average ${atEnd.loadAverage.join(' ')}, SQLite commit ${atEnd.sqliteFullCommitMs} ms\n`)
const verdictList = verdicts(results)
for (const v of verdictList) {
  const r = results.find((x) => x.name === v.name && x.round === v.round)!
  console.log(
    `round ${v.round}, ${v.name}: ${v.valid ? '' : 'INVALID (errors) — '}throughput ${v.ratio === undefined ? 'n/a' : `${round(v.ratio * 100, 1)}% of baseline`} (target ≥ ${TARGET_RATIO * 100}%: ${v.throughput}), p99 ${r.measured.latencyMs.p99} ms (target ≤ ${TARGET_P99_MS} ms: ${v.p99})`,
  )
}
const summaryList = summary(verdictList, results)
if (rounds > 1) {
  for (const s of summaryList) {
    console.log(
      `${s.name} over ${s.rounds} rounds: ratio ${s.ratios.join(', ')} → median ${s.medianRatio} (throughput target met in ${s.throughputMetIn} of ${s.rounds}); p99 ${s.p99s.join(', ')} ms → median ${s.medianP99} (p99 target met in ${s.p99MetIn} of ${s.rounds})`,
    )
  }
}
for (const r of results) console.log('\n' + describe(r))
if (args['cpu-prof']) console.log(`\ncpu profiles: ${profileDir} (summarise with: npx tsx bench/intake/profile-summary.ts ${profileDir}/<server>/<largest>.cpuprofile)`)

const outFile = args.out ?? resultFilePath('intake', stamp)
writeResultFile(outFile, {
  benchmark: 'bench/intake',
  command: `npx tsx bench/intake/run.ts --seconds ${seconds} --connections ${connections} --warmup ${warmupSeconds} --rounds ${rounds} --variants ${variants.join(',')}${args['cpu-prof'] ? ' --cpu-prof' : ''}`,
  at: new Date().toISOString(),
  machine: { ...info, atEnd },
  targets: { throughputRatio: TARGET_RATIO, p99Ms: TARGET_P99_MS },
  results,
  verdicts: verdictList,
  summary: summaryList,
})
console.log(`\nresults: ${outFile}`)
