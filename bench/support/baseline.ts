/**
 * What the bare baselines (bench/intake, bench/sms, bench/email baseline-server.ts) share: their
 * settings from the environment, one better-sqlite3 table under the real store's durability, and
 * for the HTTP ones a Hono app served on loopback until SIGTERM.
 */
import type BetterSqlite3 from 'better-sqlite3'
import { importFromWorkspace, loadBetterSqlite3 } from './workspace-deps.ts'

type HonoModule = typeof import('../../packages/core/node_modules/hono/dist/types/index.d.ts')
type NodeServerModule = typeof import('../../packages/core/node_modules/@hono/node-server/dist/index.d.ts')

/** BENCH_PORT and BENCH_DB, which run.ts sets; throws `[component] set BENCH_PORT and BENCH_DB` without them. */
export function baselineSettings(component: string): { port: number; file: string } {
  const port = Number(process.env.BENCH_PORT)
  const file = process.env.BENCH_DB
  if (!Number.isInteger(port) || port <= 0 || !file) throw new Error(`[${component}] set BENCH_PORT and BENCH_DB`)
  return { port, file }
}

/**
 * Opens the baseline's database with the pragmas sqliteStore() applies by default
 * (packages/storage/src/sqlite/index.ts: WAL, synchronous=FULL, foreign keys) and creates its table.
 */
export async function openBaselineStore(file: string, createTableSql: string): Promise<BetterSqlite3.Database> {
  const Database = await loadBetterSqlite3()
  const db = new Database(file, { timeout: 5000 })
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = ON')
  db.exec(createTableSql)
  return db
}

/** The HTTP baselines' table, one row per message (id, sender, text, received_at), and its prepared INSERT. */
export async function openMessagesTable(file: string): Promise<{ db: BetterSqlite3.Database; insert: BetterSqlite3.Statement<[string, string, string, number]> }> {
  const db = await openBaselineStore(file, 'CREATE TABLE IF NOT EXISTS messages (id TEXT PRIMARY KEY, sender TEXT NOT NULL, text TEXT NOT NULL, received_at INTEGER NOT NULL)')
  return { db, insert: db.prepare<[string, string, string, number]>('INSERT INTO messages (id, sender, text, received_at) VALUES (?, ?, ?, ?)') }
}

/** Hono's app class, from the core package (the version the gateway runs). */
export async function loadHono(): Promise<HonoModule['Hono']> {
  return (await importFromWorkspace<HonoModule>('core', 'hono')).Hono
}

/** Serves `fetch` on 127.0.0.1:`port` with @hono/node-server; on SIGTERM closes the server and `db` and exits 0. */
export async function serveUntilSigterm(fetch: Parameters<NodeServerModule['serve']>[0]['fetch'], port: number, db: BetterSqlite3.Database): Promise<void> {
  const { serve } = await importFromWorkspace<NodeServerModule>('core', '@hono/node-server')
  const server = serve({ fetch, port, hostname: '127.0.0.1' })
  process.once('SIGTERM', () => {
    server.close()
    db.close()
    process.exit(0)
  })
}
