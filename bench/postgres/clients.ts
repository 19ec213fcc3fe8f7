/**
 * node-postgres (`pg`) against postgres.js on the intake path's shape: one transaction per message
 * with eight INSERTs (inbox on conflict, case, message, three events, reply message, outbox row),
 * `--concurrency` transactions in flight on a pool of `--pool` connections, for `--seconds`.
 * Also one INSERT per call outside a transaction (the baseline's write).
 *
 *   npx tsx bench/postgres/clients.ts [--seconds 5] [--concurrency 32] [--pool 10]
 */
import { randomUUID } from 'node:crypto'
import { importFromWorkspace } from '../support/workspace-deps.ts'

// pnpm keeps both clients with packages/storage (the driver's home); borrow them from there.
const pg = (await importFromWorkspace<{ default: typeof import('../../packages/storage/node_modules/@types/pg/index.d.ts') }>('storage', 'pg')).default
const postgres = (await importFromWorkspace<{ default: typeof import('../../packages/storage/node_modules/postgres/types/index.d.ts') }>('storage', 'postgres')).default

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const SECONDS = arg('seconds', 5)
const CONCURRENCY = arg('concurrency', 32)
const POOL = arg('pool', 10)
const URL = process.env.INTAKE_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const SCHEMA = `bench_clients_${process.pid}`

const DDL = [
  `create schema ${SCHEMA}`,
  `create table ${SCHEMA}.inbox (id text primary key, channel_id text not null, external_id text not null, payload jsonb, unique (channel_id, external_id))`,
  `create table ${SCHEMA}.cases (id text primary key, tracking_code text unique not null, summary text not null, created_at bigint not null)`,
  `create table ${SCHEMA}.messages (id text primary key, case_id text not null references ${SCHEMA}.cases(id), text text not null, created_at bigint not null)`,
  `create table ${SCHEMA}.events (id bigserial primary key, case_id text not null references ${SCHEMA}.cases(id), type text not null, data jsonb not null)`,
  `create table ${SCHEMA}.outbox (id text primary key, message_id text not null references ${SCHEMA}.messages(id), payload jsonb not null)`,
  `create table ${SCHEMA}.plain (id text primary key, sender text not null, text text not null, received_at bigint not null)`,
]
const TEXT = '喀什市东湖街道的路灯已经坏了一个星期，晚上很黑，老人和孩子走路很不安全，请尽快派人来修理。'.repeat(2)

type Tx = (sql: string, params: unknown[]) => Promise<unknown>
async function intake(q: Tx) {
  const c = randomUUID()
  const m = randomUUID()
  const r = randomUUID()
  await q(`insert into ${SCHEMA}.inbox values ($1, 'api', $2, $3) on conflict do nothing returning id`, [randomUUID(), randomUUID(), JSON.stringify({ text: TEXT })])
  await q(`insert into ${SCHEMA}.cases values ($1, $2, $3, $4)`, [c, c.slice(0, 12), TEXT, Date.now()])
  await q(`insert into ${SCHEMA}.messages values ($1, $2, $3, $4)`, [m, c, TEXT, Date.now()])
  for (const type of ['received', 'routed', 'acknowledged']) await q(`insert into ${SCHEMA}.events (case_id, type, data) values ($1, $2, $3)`, [c, type, '{}'])
  await q(`insert into ${SCHEMA}.messages values ($1, $2, $3, $4)`, [r, c, 'received', Date.now()])
  await q(`insert into ${SCHEMA}.outbox values ($1, $2, $3)`, [randomUUID(), r, '{"text":"received"}'])
}

async function measure(name: string, one: () => Promise<void>) {
  const deadline = Date.now() + SECONDS * 1000
  const latencies: number[] = []
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < deadline) {
        const t = performance.now()
        await one()
        latencies.push(performance.now() - t)
      }
    }),
  )
  latencies.sort((a, b) => a - b)
  const p = (q: number) => latencies[Math.floor(q * (latencies.length - 1))]!.toFixed(1)
  console.log(`${name.padEnd(34)} ${(latencies.length / SECONDS).toFixed(0).padStart(6)}/s  p50 ${p(0.5)} ms  p99 ${p(0.99)} ms`)
}

const admin = new pg.Client({ connectionString: URL })
await admin.connect()
for (const ddl of DDL) await admin.query(ddl)
try {
  console.log(`${SECONDS}s each, ${CONCURRENCY} in flight, pool ${POOL}, ${URL.replace(/\/\/.*@/, '//')}`)
  const pool = new pg.Pool({ connectionString: URL, max: POOL })
  const js = postgres(URL, { max: POOL, onnotice: () => {} })
  for (let round = 0; round < 2; round++) {
    await measure('pg: intake transaction', async () => {
      const client = await pool.connect()
      try {
        await client.query('begin')
        await intake((s, p) => client.query(s, p))
        await client.query('commit')
      } finally {
        client.release()
      }
    })
    await measure('postgres.js: intake transaction', async () => {
      await js.begin((tx) => intake((s, p) => tx.unsafe(s, p as never[], { prepare: true })))
    })
    await measure('postgres.js: intake, pipelined', async () => {
      await js.begin(async (tx) => {
        const c = randomUUID()
        const m = randomUUID()
        const r = randomUUID()
        const q = (s: string, p: unknown[]) => tx.unsafe(s, p as never[], { prepare: true })
        await q(`insert into ${SCHEMA}.inbox values ($1, 'api', $2, $3) on conflict do nothing returning id`, [randomUUID(), randomUUID(), JSON.stringify({ text: TEXT })])
        await Promise.all([
          q(`insert into ${SCHEMA}.cases values ($1, $2, $3, $4)`, [c, c.slice(0, 12), TEXT, Date.now()]),
          q(`insert into ${SCHEMA}.messages values ($1, $2, $3, $4)`, [m, c, TEXT, Date.now()]),
          ...['received', 'routed', 'acknowledged'].map((type) => q(`insert into ${SCHEMA}.events (case_id, type, data) values ($1, $2, $3)`, [c, type, '{}'])),
          q(`insert into ${SCHEMA}.messages values ($1, $2, $3, $4)`, [r, c, 'received', Date.now()]),
          q(`insert into ${SCHEMA}.outbox values ($1, $2, $3)`, [randomUUID(), r, '{"text":"received"}']),
        ])
      })
    })
    await measure('pg: one insert', async () => {
      await pool.query(`insert into ${SCHEMA}.plain values ($1, $2, $3, $4)`, [randomUUID(), '+86138', TEXT, Date.now()])
    })
    await measure('postgres.js: one insert', async () => {
      await js.unsafe(`insert into ${SCHEMA}.plain values ($1, $2, $3, $4)`, [randomUUID(), '+86138', TEXT, Date.now()], { prepare: true })
    })
  }
  await pool.end()
  await js.end()
} finally {
  await admin.query(`drop schema ${SCHEMA} cascade`)
  await admin.end()
}
