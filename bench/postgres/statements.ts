/**
 * bench/postgres statements: what one message costs the PostgreSQL store, statement by statement.
 * The demo gateway (examples/county-hotline) on a fresh PostgreSQL database, in one process: N
 * signed api-channel messages through `app.request` with C in flight, then the outbox drained
 * (the api channel's send replaced by a no-op, so only its store side counts). Every statement
 * node-postgres sends is counted by its text (the first 90 characters), with its round trip time,
 * and the CPU this process spent is divided by the messages.
 *
 *   npx tsx bench/postgres/statements.ts [--messages 1000] [--concurrency 16]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createIntake, memoryBlobStore, silentLogger, type ChannelAdapter } from '@intake/core'
import { apiChannel } from '@intake/channels/api'
import { postgresStore } from '@intake/storage/postgres'
import { createTestDatabase, dropTestDatabases } from '@intake/storage/postgres/test-database'
import demo from '../../examples/county-hotline/intake.config.ts'
import { messageBody, signedHeaders } from '../intake/messages.ts'
import { importFromWorkspace } from '../support/workspace-deps.ts'

type Pg = typeof import('../../packages/storage/node_modules/@types/pg/index.d.ts')
const pg = (await importFromWorkspace<{ default: Pg }>('storage', 'pg')).default

const { values } = parseArgs({ options: { messages: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '16' } } })
const N = Number(values.messages)
const C = Number(values.concurrency)
const SECRET = 'bench-api-secret-0123456789'
const API_KEY = 'bench-api-key-0123456789'
const workDir = mkdtempSync(join(tmpdir(), 'intake-pg-statements-'))

interface Tally {
  calls: number
  ms: number
}
const tallies = new Map<string, Tally>()
let counting = false
const originalQuery = pg.Client.prototype.query as (...args: unknown[]) => unknown
pg.Client.prototype.query = function countedQuery(this: unknown, ...args: unknown[]) {
  const first = args[0] as string | { text?: string; name?: string }
  const text = typeof first === 'string' ? first : (first?.text ?? '')
  const key = (typeof first === 'object' && first?.name ? `[${first.name}] ` : '') + text.replace(/\s+/g, ' ').replace(/E?'(?:[^']|'')*'/g, "'…'").slice(0, 90)
  const started = performance.now()
  if (!counting) return originalQuery.apply(this, args)
  const tally = tallies.get(key) ?? { calls: 0, ms: 0 }
  tallies.set(key, tally)
  tally.calls++
  const done = () => (tally.ms += performance.now() - started)
  // The pool's own query() passes a callback; drizzle on a checked-out client awaits a promise.
  const last = args.at(-1)
  if (typeof last === 'function') {
    args[args.length - 1] = (...results: unknown[]) => {
      done()
      return (last as (...a: unknown[]) => unknown)(...results)
    }
    return originalQuery.apply(this, args)
  }
  const result = originalQuery.apply(this, args) as Promise<unknown> | undefined
  void result?.then(done, done)
  return result
} as typeof pg.Client.prototype.query

const noSend = (): ChannelAdapter => ({ ...apiChannel({ secret: SECRET }), send: async (msg) => ({ ok: true, providerId: msg.id }) })
const url = await createTestDatabase()
const intake = createIntake(
  { ...demo, store: postgresStore({ url }), channels: { api: noSend() }, apiKeys: [API_KEY], dataDir: workDir, blobs: memoryBlobStore(), server: { publicUrl: 'http://intake.bench' }, outbox: { pollMs: 3_600_000 } },
  { env: {}, log: silentLogger },
)
await intake.start()
await intake.outbox.stop()

let sequence = 0
async function post(run: string): Promise<void> {
  const body = messageBody(run, sequence++)
  const res = await intake.app.request('http://intake.bench/channels/api/messages', { method: 'POST', headers: signedHeaders(SECRET, body), body })
  if (res.status !== 201) throw new Error(`[bench] expected 201, got ${res.status}: ${await res.text()}`)
}
async function many(run: string, n: number): Promise<void> {
  let left = n
  await Promise.all(Array.from({ length: C }, async () => {
    while (left-- > 0) await post(run)
  }))
}

try {
  await many('warm', 200)
  await intake.outbox.drain()
  counting = true
  const cpu = process.cpuUsage()
  const t = performance.now()
  await many('measured', N)
  const ingestMs = performance.now() - t
  const ingestCpu = process.cpuUsage(cpu)
  const t2 = performance.now()
  const acks = await intake.outbox.drain()
  const drainMs = performance.now() - t2
  const allCpu = process.cpuUsage(cpu)
  counting = false
  const rows = [...tallies].sort((a, b) => b[1].calls - a[1].calls)
  console.log(`bench/postgres statements: ${N} messages, ${C} in flight, then the outbox (${acks} acks)\n`)
  console.log('per message   round trip ms (mean)   statement')
  for (const [key, t] of rows) console.log(`${(t.calls / N).toFixed(2).padStart(11)}   ${(t.ms / t.calls).toFixed(2).padStart(20)}   ${key}`)
  const total = rows.reduce((n, [, t]) => n + t.calls, 0)
  console.log(`\n${(total / N).toFixed(1)} statements per message`)
  console.log(`intake: ${Math.round(N / (ingestMs / 1000))} messages/s; CPU ${((ingestCpu.user + ingestCpu.system) / 1000 / N).toFixed(2)} ms per message`)
  console.log(`outbox drain: ${Math.round(acks / (drainMs / 1000))} acks/s; CPU intake + outbox ${((allCpu.user + allCpu.system) / 1000 / N).toFixed(2)} ms per message`)
} finally {
  await intake.stop()
  await intake.store.close()
  await dropTestDatabases()
  rmSync(workDir, { recursive: true, force: true })
}
