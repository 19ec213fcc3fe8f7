/**
 * bench/sms: throughput and latency of the SMS webhook path — Twilio's form POST with its
 * X-Twilio-Signature checked by the official SDK, parsed, persisted, routed, the acknowledgement
 * queued and delivered through the SDK to a Twilio stand-in — against bare baselines measured in the
 * same run on the same machine.
 *
 *   npx tsx bench/sms/run.ts [--seconds 10] [--connections 50] [--warmup 2]
 *                            [--variants baseline,baseline-signed,gateway]
 *
 * - baseline (baseline-server.ts): Hono + form parse + zod + one better-sqlite3 insert, empty TwiML.
 * - baseline-signed: the same plus the adapter's signature check (verifyTwilioSignature), alone.
 * - gateway: `intake start` with bench/sms/intake.config.ts (the county-hotline demo + an `sms`
 *   channel), deliveries in their worker thread, the Twilio stand-in in a third process.
 * Every request is a new message from a new number (so each opens a case), with a Chinese text from
 * bench/intake/messages.ts, signed for the public URL (https://hotline.example.gov, as behind a
 * proxy) in autocannon's setupRequest. Figures go to stdout and bench/results/sms-<time>.json.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { incomingSmsParams, signedIncoming } from '@intake/channels/twilio-sms/twilio-api-server'
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
import type { TwilioCount } from './twilio-child.ts'

const HERE = import.meta.dirname
const ACCOUNT_SID = 'AC' + '0b1c2d3e4f5a69788796a5b4c3d2e1f0'
const AUTH_TOKEN = 'bench0auth0token0000000000000000'
const FROM = '+15005550006'
const PUBLIC_URL = 'https://hotline.example.gov'
const PATH = '/channels/sms/messages'
const SIGNED_URL = PUBLIC_URL + PATH

const { values: args } = parseArgs({
  options: {
    ...HTTP_LOAD_ARGS,
    variants: { type: 'string', default: 'baseline,baseline-signed,gateway' },
  },
  strict: true,
})
const variants = parseVariants(args.variants, ['baseline', 'baseline-signed', 'gateway'], 'bench/sms')
const { seconds, connections, warmupSeconds } = readHttpLoadArgs(args, 'bench/sms')

const stamp = resultStamp()
const workDir = mkdtempSync(join(tmpdir(), 'intake-bench-sms-'))
const Database = await loadBetterSqlite3()

// ---------------------------------------------------------------------------------------------
// Load

let sequence = 0

/** The n-th message of a run: a fresh MessageSid and sender, signed for the public URL. */
function incoming(run: string, n: number) {
  const text = (JSON.parse(messageBody(run, n)) as { text: string }).text
  const messageSid = 'SM' + run.replace(/[^0-9a-f]/g, '').slice(-8).padStart(8, '0') + n.toString(16).padStart(24, '0')
  const params = incomingSmsParams(ACCOUNT_SID, { MessageSid: messageSid, From: `+8613${String(n).padStart(9, '0')}`, To: FROM, Body: text })
  return signedIncoming(SIGNED_URL, params, AUTH_TOKEN)
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

async function runBaseline(name: 'baseline' | 'baseline-signed'): Promise<Result> {
  const port = await freePort()
  const file = join(workDir, `${name}.db`)
  const child = startChild({
    name,
    script: join(HERE, 'baseline-server.ts'),
    env: { BENCH_PORT: String(port), BENCH_DB: file, ...(name === 'baseline-signed' ? { BENCH_SIGNED_URL: SIGNED_URL, BENCH_AUTH_TOKEN: AUTH_TOKEN } : {}) },
    logDir: workDir,
  })
  try {
    await waitForHttpOk(`http://127.0.0.1:${port}/healthz`, child, 'bench/sms')
    const figures = await measure(port, name, { server: child.proc.pid })
    const db = new Database(file, { readonly: true })
    const rows = (db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n
    db.close()
    return { name, figures, work: { rowsInserted: rows } }
  } finally {
    await stopChild(child)
  }
}

/** What the Twilio stand-in has received so far. */
async function twilioCount(child: ChildServer): Promise<TwilioCount> {
  return (await askChild<{ count: TwilioCount }>(child, 'count')).count
}

async function runGateway(): Promise<Result> {
  const twilioEnv = { BENCH_TWILIO_ACCOUNT_SID: ACCOUNT_SID, BENCH_TWILIO_AUTH_TOKEN: AUTH_TOKEN }
  const stub = startChild({ name: 'twilio', script: join(HERE, 'twilio-child.ts'), env: twilioEnv, logDir: workDir, ipc: true })
  const apiUrl = (await firstMessageFrom<{ url: string }>(stub, '[bench/sms] the Twilio stand-in')).url
  const dataDir = join(workDir, 'gateway')
  const port = await freePort()
  const gateway = startGateway({
    name: 'gateway',
    config: join(HERE, 'intake.config.ts'),
    env: {
      ...twilioEnv,
      BENCH_TWILIO_FROM: FROM,
      BENCH_TWILIO_API_URL: apiUrl,
      INTAKE_PORT: String(port),
      INTAKE_HOST: '127.0.0.1',
      INTAKE_PUBLIC_URL: PUBLIC_URL,
      INTAKE_DATA_DIR: dataDir,
    },
    logDir: workDir,
  })
  try {
    await waitForHttpOk(`http://127.0.0.1:${port}/readyz`, gateway, 'bench/sms')
    // The signature check is live: the same request signed with another token is refused.
    const forged = incoming(`forged-${stamp}`, 0)
    forged.headers['x-twilio-signature'] = 'AAAAAAAAAAAAAAAAAAAAAAAAAAA='
    const refused = await fetch(`http://127.0.0.1:${port}${PATH}`, { method: 'POST', headers: forged.headers, body: forged.body })
    await refused.arrayBuffer()
    const figures = await measure(port, 'gateway', { server: gateway.proc.pid, twilio: stub.proc.pid })
    const atEnd = await twilioCount(stub)

    const db = new Database(join(dataDir, 'intake.db'), { readonly: true, timeout: 5000 })
    const drained = await waitForOutboxDrain(db)
    const cases = (db.prepare("SELECT count(*) AS n FROM cases WHERE channel_id = 'sms'").get() as { n: number }).n
    const byOffice = db.prepare("SELECT office_id AS office, count(*) AS n FROM cases WHERE channel_id = 'sms' GROUP BY office_id ORDER BY n DESC").all() as Array<{ office: string; n: number }>
    db.close()
    const final = await twilioCount(stub)
    return {
      name: 'gateway',
      figures,
      work: {
        forgedSignatureStatus: refused.status,
        smsCases: cases,
        casesByOffice: Object.fromEntries(byOffice.map((r) => [r.office, r.n])),
        acknowledgementsAtEndOfWindow: atEnd.messages,
        afterDrain: { seconds: drained.seconds, outbox: drained.outbox, acknowledgementsAtTwilio: final.messages },
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
console.log(`bench/sms: ${seconds}s at ${connections} connections (warm-up ${warmupSeconds}s), variants: ${variants.join(', ')}`)
console.log(`machine: ${machine.nproc} cores (${machine.cpu}), node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}\n`)

const results: Result[] = []
try {
  for (const v of variants) {
    process.stdout.write(`${v} ... `)
    const r = v === 'gateway' ? await runGateway() : await runBaseline(v as 'baseline' | 'baseline-signed')
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

const outFile = args.out ?? resultFilePath('sms', stamp)
writeResultFile(outFile, {
  benchmark: 'bench/sms',
  command: `npx tsx bench/sms/run.ts --seconds ${seconds} --connections ${connections} --warmup ${warmupSeconds} --variants ${variants.join(',')}`,
  at: new Date().toISOString(),
  machine: { ...machine, loadAverageAtEnd: loadAverage() },
  results,
})
console.log(`\nresults: ${outFile}`)
