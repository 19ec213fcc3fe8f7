/**
 * bench/aliyun-sms: throughput and latency of Alibaba Cloud SMS intake — the SmsUp HTTP push (a JSON
 * array behind the push token), parsed, persisted, routed, the acknowledgement queued and sent
 * through SendSms (RPC-signed) to the stand-in — against a bare baseline measured in the same run.
 *
 *   npx tsx bench/aliyun-sms/run.ts [--seconds 10] [--connections 50] [--warmup 2] [--variants baseline,gateway]
 *
 * - baseline (baseline-server.ts): Hono + token check + JSON + zod + one better-sqlite3 insert.
 * - gateway: `intake start` with bench/aliyun-sms/intake.config.ts (the county-hotline demo + an
 *   `aliyun` channel), deliveries in their worker thread, the SendSms stand-in in a third process.
 * Every request is one reply (上行短信) from a new number (so each opens a case), with a Chinese text
 * from bench/intake/messages.ts. Figures go to stdout and bench/results/aliyun-sms-<time>.json.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { messageBody } from '../intake/messages.ts'
import {
  askChild,
  type ChildServer,
  describeMachine,
  firstMessageFrom,
  formatTable,
  freePort,
  loadAverage,
  parseVariants,
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
import { HTTP_LOAD_ARGS, readHttpLoadArgs, warmUpAndMeasure } from '../support/http-load.ts'
import { loadBetterSqlite3 } from '../support/workspace-deps.ts'
import type { AliyunCount } from './aliyun-child.ts'

const HERE = import.meta.dirname
const KEY_ID = 'LTAI5tBenchAccessKey001'
const KEY_SECRET = 'benchAccessKeySecret0123456789'
const PUSH_TOKEN = 'bench-push-token-0123456789'
const PATH = `/channels/aliyun/up?token=${PUSH_TOKEN}`

const { values: args } = parseArgs({
  options: {
    ...HTTP_LOAD_ARGS,
    variants: { type: 'string', default: 'baseline,gateway' },
  },
  strict: true,
})
const variants = parseVariants(args.variants, ['baseline', 'gateway'], 'bench/aliyun-sms')
const { seconds, connections, warmupSeconds } = readHttpLoadArgs(args, 'bench/aliyun-sms')

const stamp = resultStamp()
const workDir = mkdtempSync(join(tmpdir(), 'intake-bench-aliyun-sms-'))
const Database = await loadBetterSqlite3()

// ---------------------------------------------------------------------------------------------
// Load

let sequence = 0

const runBase = Date.now() % 1_000_000_000

/** The n-th reply of a run, as SmsUp pushes it: a fresh sequence_id and number. */
function incoming(run: string, n: number) {
  const text = (JSON.parse(messageBody(run, n)) as { text: string }).text
  const item = { phone_number: `13${String(n).padStart(9, '0')}`, send_time: '2026-12-03 10:00:00', content: text, sign_name: '伽师县人民检察院', dest_code: '1234', sequence_id: runBase * 1000 + n }
  return { headers: { 'content-type': 'application/json' }, body: JSON.stringify([item]) }
}

interface Figures {
  /** Seconds until every connection had its first answer (the window starts after it and the warm-up). */
  rampSeconds: number
  requests: number
  seconds: number
  messagesPerSecond: number
  latencyMs: { p50: number; p90: number; p99: number; max: number }
  statusCodes: Record<string, number>
  errors: number
  cpu: Record<string, number>
}

/**
 * Warm-up (answers not counted), then `seconds` measured on the same connections, with exact
 * latencies: bench/support/http-load.ts, as for bench/intake, reduced to this benchmark's figures.
 */
async function measure(port: number, name: string, processes: Record<string, number | undefined>): Promise<Figures> {
  const run = `${name}-${stamp}`
  const load = await warmUpAndMeasure({ port, path: PATH, connections, warmupSeconds, seconds, processes, nextRequest: () => incoming(run, sequence++) })
  const m = load.measured
  return {
    // The window starts once the warm-up is over and every connection has had an answer.
    rampSeconds: load.warmup.seconds,
    requests: m.requests,
    seconds: m.seconds,
    messagesPerSecond: m.requestsPerSecond,
    latencyMs: { p50: m.latencyMs.p50, p90: m.latencyMs.p90, p99: m.latencyMs.p99, max: m.latencyMs.max },
    statusCodes: m.statusCodes,
    errors: m.connectionErrors + m.timeouts + m.non2xx,
    cpu: load.cpu,
  }
}

// ---------------------------------------------------------------------------------------------
// Variants

interface Result {
  name: string
  figures: Figures
  work: Record<string, unknown>
}

async function runBaseline(name: 'baseline'): Promise<Result> {
  const port = await freePort()
  const file = join(workDir, `${name}.db`)
  const child = startChild({
    name,
    script: join(HERE, 'baseline-server.ts'),
    env: { BENCH_PORT: String(port), BENCH_DB: file, BENCH_PUSH_TOKEN: PUSH_TOKEN },
    logDir: workDir,
  })
  try {
    await waitForHttpOk(`http://127.0.0.1:${port}/healthz`, child, 'bench/aliyun-sms')
    const figures = await measure(port, name, { server: child.proc.pid })
    const db = new Database(file, { readonly: true })
    const rows = (db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n
    db.close()
    return { name, figures, work: { rowsInserted: rows } }
  } finally {
    await stopChild(child)
  }
}

/** What the SendSms stand-in has received so far. */
async function aliyunCount(child: ChildServer): Promise<AliyunCount> {
  return (await askChild<{ count: AliyunCount }>(child, 'count')).count
}

async function runGateway(): Promise<Result> {
  const keys = { BENCH_ALIYUN_KEY_ID: KEY_ID, BENCH_ALIYUN_KEY_SECRET: KEY_SECRET }
  const stub = startChild({ name: 'aliyun', script: join(HERE, 'aliyun-child.ts'), env: keys, logDir: workDir, ipc: true })
  const apiUrl = (await firstMessageFrom<{ url: string }>(stub, '[bench/aliyun-sms] the SendSms stand-in')).url
  const dataDir = join(workDir, 'gateway')
  const port = await freePort()
  const gateway = startGateway({
    name: 'gateway',
    config: join(HERE, 'intake.config.ts'),
    env: {
      ...keys,
      BENCH_ALIYUN_PUSH_TOKEN: PUSH_TOKEN,
      BENCH_ALIYUN_API_URL: apiUrl,
      INTAKE_PORT: String(port),
      INTAKE_HOST: '127.0.0.1',
      INTAKE_DATA_DIR: dataDir,
    },
    logDir: workDir,
  })
  try {
    await waitForHttpOk(`http://127.0.0.1:${port}/readyz`, gateway, 'bench/aliyun-sms')
    // The token check is live: the same push with another token is refused.
    const forged = incoming(`forged-${stamp}`, 0)
    const refused = await fetch(`http://127.0.0.1:${port}/channels/aliyun/up?token=not-the-push-token-000`, { method: 'POST', headers: forged.headers, body: forged.body })
    await refused.arrayBuffer()
    const figures = await measure(port, 'gateway', { server: gateway.proc.pid, aliyun: stub.proc.pid })
    const atEnd = await aliyunCount(stub)

    const db = new Database(join(dataDir, 'intake.db'), { readonly: true, timeout: 5000 })
    const drained = await waitForOutboxDrain(db)
    const cases = (db.prepare("SELECT count(*) AS n FROM cases WHERE channel_id = 'aliyun'").get() as { n: number }).n
    const byOffice = db.prepare("SELECT office_id AS office, count(*) AS n FROM cases WHERE channel_id = 'aliyun' GROUP BY office_id ORDER BY n DESC").all() as Array<{ office: string; n: number }>
    db.close()
    const final = await aliyunCount(stub)
    return {
      name: 'gateway',
      figures,
      work: {
        forgedSignatureStatus: refused.status,
        aliyunSmsCases: cases,
        casesByOffice: Object.fromEntries(byOffice.map((r) => [r.office, r.n])),
        acknowledgementsAtEndOfWindow: atEnd.messages,
        afterDrain: { seconds: drained.seconds, outbox: drained.outbox, acknowledgementsAtSendSms: final.messages, sendSmsCalls: final.calls },
      },
    }
  } finally {
    await stopChild(gateway)
    await stopChild(stub)
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const machine = describeMachine()
console.log(`bench/aliyun-sms: ${seconds}s at ${connections} connections (warm-up ${warmupSeconds}s), variants: ${variants.join(', ')}`)
console.log(`machine: ${machine.nproc} cores (${machine.cpu}), node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}\n`)

const results: Result[] = []
try {
  for (const v of variants) {
    process.stdout.write(`${v} ... `)
    const r = v === 'gateway' ? await runGateway() : await runBaseline('baseline')
    results.push(r)
    console.log(`${r.figures.messagesPerSecond} msg/s, p99 ${r.figures.latencyMs.p99} ms, cpu ${JSON.stringify(r.figures.cpu)}, all connections answered after ${r.figures.rampSeconds} s`)
  }
} finally {
  if (results.length === variants.length) rmSync(workDir, { recursive: true, force: true })
  else console.log(`\nlogs kept in ${workDir}`)
}

const base = results.find((r) => r.name === 'baseline')
const head = ['', 'msg/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'requests', 'errors', 'vs baseline']
const rows = results.map((r) => {
  const f = r.figures
  const ratio = base ? `${round((f.messagesPerSecond / base.figures.messagesPerSecond) * 100, 1)}%` : 'n/a'
  return [r.name, String(f.messagesPerSecond), String(f.latencyMs.p50), String(f.latencyMs.p90), String(f.latencyMs.p99), String(f.latencyMs.max), String(f.requests), String(f.errors), ratio]
})
console.log('\n' + formatTable(head, rows) + '\n')
for (const r of results) console.log(`${r.name}: ${r.figures.errors ? `INVALID (${r.figures.errors} errors, ${JSON.stringify(r.figures.statusCodes)}) ` : ''}${JSON.stringify(r.work)}`)

const outFile = args.out ?? resultFilePath('aliyun-sms', stamp)
writeResultFile(outFile, {
  benchmark: 'bench/aliyun-sms',
  command: `npx tsx bench/aliyun-sms/run.ts --seconds ${seconds} --connections ${connections} --warmup ${warmupSeconds} --variants ${variants.join(',')}`,
  at: new Date().toISOString(),
  machine: { ...machine, loadAverageAtEnd: loadAverage() },
  results,
})
console.log(`\nresults: ${outFile}`)
