/**
 * bench/intake phases: what each step of the intake path costs on its own, one message at a time in
 * one process (no HTTP, no concurrency), so the load run's figures can be explained. Every phase is
 * the real code of the demo deployment (examples/county-hotline): its routing chain, its offices,
 * the api channel, the SQLite store — with synchronous=FULL (the default) and NORMAL, which isolates
 * the cost of syncing the WAL on each commit. Figures are mean µs per message (and p99).
 *
 *   npx tsx bench/intake/phases.ts [--messages 2000]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  createIntake,
  createLogger,
  deadlineFor,
  InboundMessage,
  memoryBlobStore,
  runRoutingChain,
  silentLogger,
  type ChannelAdapter,
  type Intake,
  type IntakeConfig,
} from '@intake/core'
import { ApiInboundMessage, apiChannel, verifySignature } from '@intake/channels/api'
import { startCallbackServer } from '@intake/channels/api/callback-server'
import { sqliteStore } from '@intake/storage/sqlite'
import demo from '../../examples/county-hotline/intake.config.ts'
import { messageBody, signedHeaders } from './messages.ts'
import { traceSqlite, type TracedStatement } from './sqlite-trace.ts'
import { loadBetterSqlite3 } from '../support/workspace-deps.ts'

const { values } = parseArgs({ options: { messages: { type: 'string', default: '2000' } } })
const N = Number(values.messages)
const WARMUP = 200
const SECRET = 'bench-api-secret-0123456789'
const API_KEY = 'bench-api-key-0123456789'
const BASE = 'http://intake.bench'
const workDir = mkdtempSync(join(tmpdir(), 'intake-phases-'))
const Database = await loadBetterSqlite3()
let sequence = 0

const round = (n: number) => Math.round(n * 10) / 10
const line = (us: number, what: string, p99?: number) =>
  console.log(`  ${String(round(us)).padStart(8)} µs  ${p99 === undefined ? ' '.repeat(13) : `(p99 ${String(round(p99)).padStart(6)})`}  ${what}`)

/** Mean and p99 of `n` calls of `fn` after a warm-up, in µs (divided by `itemsPerCall`); every call gets a new index. */
async function time(what: string, n: number, fn: (i: number) => unknown, itemsPerCall = 1): Promise<number> {
  let k = 0
  for (let i = 0; i < WARMUP; i++) await fn(k++)
  const each: number[] = []
  const started = performance.now()
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await fn(k++)
    each.push(performance.now() - t)
  }
  const mean = ((performance.now() - started) / n / itemsPerCall) * 1000
  each.sort((a, b) => a - b)
  line(mean, what, (each[Math.ceil(0.99 * n) - 1]! / itemsPerCall) * 1000)
  return mean
}

function gateway(name: string, synchronous: 'full' | 'normal', api: ChannelAdapter): Intake {
  const config: IntakeConfig = {
    ...demo,
    store: sqliteStore({ file: join(workDir, name, 'intake.db'), synchronous }),
    channels: { api },
    apiKeys: [API_KEY],
    dataDir: join(workDir, name),
    blobs: memoryBlobStore(),
    server: { publicUrl: BASE },
    // Phases drain the outbox themselves; no timer may deliver behind their back.
    outbox: { pollMs: 3_600_000 },
  }
  return createIntake(config, { env: {}, log: silentLogger })
}

async function started(g: Intake): Promise<Intake> {
  await g.start()
  await g.outbox.stop()
  return g
}

function inboundInput(n: number) {
  const m = JSON.parse(messageBody('phases', n)) as { id: string; from: { id: string }; text: string; place?: string }
  return { externalId: m.id, from: { channelId: 'api', id: m.from.id }, text: m.text, place: m.place ? { text: m.place } : undefined, receivedAt: Date.now(), threadRefs: [] }
}

/** Deliver everything queued; µs per acknowledgement. */
async function drainCost(g: Intake): Promise<{ us: number; acks: number }> {
  const t = performance.now()
  const acks = await g.outbox.drain()
  return { us: ((performance.now() - t) / Math.max(1, acks)) * 1000, acks }
}

// An api channel whose send does nothing: the outbox then costs only its store side.
const noSend = (): ChannelAdapter => ({ ...apiChannel({ secret: SECRET }), send: async (msg) => ({ ok: true, providerId: msg.id }) })

console.log(`bench/intake phases: ${N} messages per phase, one at a time (node ${process.version})\n`)

console.log('The api channel and the pipeline, CPU only:')
const bodies = Array.from({ length: N + WARMUP }, (_, i) => messageBody('phases-cpu', i))
const signed = bodies.map((b) => ({ bytes: new TextEncoder().encode(b), headers: new Headers(signedHeaders(SECRET, b)) }))
await time('verify signature (HMAC-SHA256 over timestamp + body, constant-time compare)', N, (i) => verifySignature([SECRET], signed[i]!.headers, signed[i]!.bytes, Date.now(), 300))
await time('JSON.parse + ApiInboundMessage (zod)', N, (i) => ApiInboundMessage.safeParse(JSON.parse(bodies[i]!)))
await time('InboundMessage (zod; the pipeline validates again)', N, (i) => InboundMessage.safeParse({ ...inboundInput(i), channelId: 'api' }))
const probe = await started(gateway('probe', 'full', apiChannel({ secret: SECRET })))
const routingCtx = { offices: probe.offices, log: silentLogger, now: Date.now, cases: { byTrackingCode: (code: string) => probe.store.getCaseByTrackingCode(code) } }
await time('routing chain (tracking code → keywords → jurisdiction → intake desk)', N, (i) => {
  const m = inboundInput(i)
  return runRoutingChain(probe.config.routing, { text: m.text, place: m.place, channelId: 'api', from: m.from }, routingCtx)
})
await time("deadlineFor('normal' = 5 working days, Asia/Shanghai)", N, (i) => deadlineFor('normal', Date.now() + i * 60_000, probe.config.deadlines, probe.config.calendar))
// The same walk with one Intl.DateTimeFormat per zone instead of one per day looked at: what caching it would save.
const formatters = new Map<string, Intl.DateTimeFormat>()
await time('  the same walk with a cached Intl.DateTimeFormat (bench-local sketch of the fix)', N, (i) => {
  const timeZone = probe.config.calendar.timeZone
  let format = formatters.get(timeZone)
  if (!format) formatters.set(timeZone, (format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short' })))
  let at = Date.now() + i * 60_000
  for (let left = 5; left > 0; ) {
    at += 86_400_000
    const weekday = format.formatToParts(new Date(at)).find((p) => p.type === 'weekday')!.value
    if (weekday !== 'Sat' && weekday !== 'Sun') left--
  }
  return at
})
const infoLog = createLogger({ level: 'info', secrets: [API_KEY, SECRET], sink: () => {} })
await time('one log line at info (JSON + secret scrubbing); at warn, as benched, it is skipped', N, () =>
  infoLog.info('request', { requestId: '01hzzzzzzzzzzzzzzzzzzzzzzz', method: 'POST', path: '/channels/api/messages', status: 201, ms: 3.2 }),
)
await time('store.findOpenCaseBySender (a new sender: no match)', N, (i) => probe.store.findOpenCaseBySender('api', `nobody-${i}`, 0))
await probe.store.close()

console.log('\nPersisting:')
for (const sync of ['FULL', 'NORMAL'] as const) {
  const db = new Database(join(workDir, `raw-${sync}.db`))
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${sync}`)
  db.exec('CREATE TABLE messages (id TEXT PRIMARY KEY, sender TEXT NOT NULL, text TEXT NOT NULL, received_at INTEGER NOT NULL)')
  const insert = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?)')
  await time(`the baseline's work: one INSERT in its own commit, synchronous=${sync}`, N, (i) => insert.run(`raw-${i}`, `s-${i}`, bodies[i]!, Date.now()))
  db.close()
}
for (const sync of ['full', 'normal'] as const) {
  const g = await started(gateway(`ingest-${sync}`, sync, noSend()))
  await time(`pipeline.ingest, synchronous=${sync.toUpperCase()}: checks, routing, deadline, one transaction`, N, () => g.ingest('api', inboundInput(sequence++)))
  const { us, acks } = await drainCost(g)
  line(us, `outbox, store side only (claim 16 per transaction + 1 transaction per complete), synchronous=${sync.toUpperCase()}; ${acks} acks`)
  await g.stop()
  await g.store.close()
}

console.log('\nOne pipeline.ingest, statement by statement (synchronous=FULL; per message):')
{
  const g = await started(gateway('traced', 'full', noSend()))
  for (let i = 0; i < WARMUP; i++) await g.ingest('api', inboundInput(sequence++))
  const trace = traceSqlite(Database)
  const t = performance.now()
  for (let i = 0; i < N; i++) await g.ingest('api', inboundInput(sequence++))
  const totalUs = ((performance.now() - t) / N) * 1000
  trace.stop()
  for (const [key, s] of [...trace.stats].sort((a, b) => b[1].ms - a[1].ms)) line((s.ms / N) * 1000, `${(s.calls / N).toFixed(1)}× ${key}`)
  line(totalUs, 'the whole ingest')
  const replay = trace.lastTransaction
  await g.stop()
  await g.store.close()

  // The same statements with the same kinds of values, prepared once: the floor for this transaction.
  const db = new Database(join(workDir, 'traced', 'intake.db'))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = ON')
  const prepared = replay.map((s) => ({ ...s, statement: db.prepare(s.sql) }))
  const identifiers = identifiersOf(replay)
  const writeOne = db.transaction((k: number) => {
    for (const s of prepared) s.statement[s.method](...s.params.map((p) => (typeof p === 'string' && identifiers.has(p) ? `${p}~${k}` : p)))
  })
  await time(`  the same ${replay.length} statements prepared once, in one BEGIN IMMEDIATE … COMMIT (what statement caching leaves)`, N, (k) => writeOne.immediate(k))
  db.close()
}

console.log('\nThe whole path without a socket, then the outbox delivering for real (synchronous=FULL):')
{
  const callback = await startCallbackServer()
  const g = await started(gateway('app', 'full', apiChannel({ secret: SECRET, callbackUrl: callback.url })))
  await time('app.request(POST /channels/api/messages) → 201: Hono, body read, verify, parse, ingest', N, async () => {
    const body = messageBody('phases-app', sequence++)
    const res = await g.app.request(`${BASE}/channels/api/messages`, { method: 'POST', headers: signedHeaders(SECRET, body), body })
    if (res.status !== 201) throw new Error(`[bench/phases] expected 201, got ${res.status}: ${await res.text()}`)
  })
  await time('app.request signed with the wrong secret → 401: everything before the pipeline (Hono, body read, verify)', N, async () => {
    const body = messageBody('phases-forged', sequence++)
    const res = await g.app.request(`${BASE}/channels/api/messages`, { method: 'POST', headers: signedHeaders('not-the-bench-secret-0000', body), body })
    if (res.status !== 401) throw new Error(`[bench/phases] expected 401, got ${res.status}`)
  })
  const { us, acks } = await drainCost(g)
  line(us, `outbox with the api channel POSTing each ack (fetch) to a loopback callback in this process; ${acks} acks, ${callback.received.length} received`)
  await g.stop()
  await g.store.close()

  // The HTTP client alone, 16 at a time like the outbox's batches: fetch as the api channel calls it,
  // then node:http with a keep-alive agent, to see what the client costs per acknowledgement.
  const ack = JSON.stringify({ type: 'message', id: '01j0000000000000000000000', kind: 'acknowledgement', to: 'citizen-1', text: '您好，您的诉求已收到'.repeat(4) })
  const url = new URL(callback.url)
  const agent = new Agent({ keepAlive: true, maxSockets: 16 })
  const viaHttp = () =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', ...signedHeaders(SECRET, ack) } }, (res) => {
        res.resume()
        res.on('end', resolve)
      })
      req.on('error', reject)
      req.end(ack)
    })
  const viaFetch = async () => {
    const res = await fetch(callback.url, { method: 'POST', headers: { 'content-type': 'application/json', ...signedHeaders(SECRET, ack) }, body: ack, signal: AbortSignal.timeout(10_000) })
    await res.text()
  }
  for (const [what, post] of [['fetch + AbortSignal.timeout (as the api channel sends)', viaFetch], ['node:http request, keep-alive agent', viaHttp]] as const) {
    await time(`  one callback POST, 16 at a time: ${what}; the callback server runs in this process too`, Math.ceil(N / 16), () => Promise.all(Array.from({ length: 16 }, post)), 16)
  }
  agent.destroy()
  await callback.close()
}
rmSync(workDir, { recursive: true, force: true })

/**
 * The values of a traced transaction that must differ on every replay: ids, tracking codes, external
 * ids and idempotency keys. Each gets the same suffix wherever it recurs, so foreign keys still hold.
 */
function identifiersOf(statements: TracedStatement[]): Set<string> {
  const found = new Set<string>()
  for (const s of statements) {
    for (const p of s.params) {
      if (typeof p === 'string' && (/^[0-9a-z]{26}$/.test(p) || /^[2-9A-Z]{4}-[2-9A-Z]{4}$/.test(p) || /^(intake-|phases-)/.test(p))) found.add(p)
    }
  }
  return found
}
