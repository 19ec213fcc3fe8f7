/**
 * The baseline of bench/intake: the least a gateway must do per message — read the JSON body,
 * validate it against the api channel's message shape with zod, insert one row with better-sqlite3
 * under the real store's durability (WAL, synchronous=FULL), answer 201. No signature, no routing,
 * no outbox. Run as its own process by run.ts: BENCH_PORT, BENCH_DB.
 */
import { ApiInboundMessage } from '@intake/channels/api'
import { importFromWorkspace, loadBetterSqlite3 } from './workspace-deps.ts'

type HonoModule = typeof import('../../packages/core/node_modules/hono/dist/types/index.d.ts')
type NodeServerModule = typeof import('../../packages/core/node_modules/@hono/node-server/dist/index.d.ts')

const { Hono } = await importFromWorkspace<HonoModule>('core', 'hono')
const { serve } = await importFromWorkspace<NodeServerModule>('core', '@hono/node-server')
const Database = await loadBetterSqlite3()

const port = Number(process.env.BENCH_PORT)
const file = process.env.BENCH_DB
if (!Number.isInteger(port) || port <= 0 || !file) throw new Error('[bench/baseline] set BENCH_PORT and BENCH_DB')

// The api channel's own schema, so the baseline validates exactly what the gateway does.
const Message = ApiInboundMessage

// The pragmas sqliteStore() applies by default (packages/storage/src/sqlite/index.ts).
const db = new Database(file, { timeout: 5000 })
db.pragma('journal_mode = WAL')
db.pragma('synchronous = FULL')
db.pragma('foreign_keys = ON')
db.exec('CREATE TABLE IF NOT EXISTS messages (id TEXT PRIMARY KEY, sender TEXT NOT NULL, text TEXT NOT NULL, received_at INTEGER NOT NULL)')
const insert = db.prepare('INSERT INTO messages (id, sender, text, received_at) VALUES (?, ?, ?, ?)')

const app = new Hono()
app.get('/healthz', (c) => c.json({ ok: true }))
app.post('/channels/api/messages', async (c) => {
  let json: unknown
  try {
    json = await c.req.json()
  } catch {
    return c.json({ error: { code: 'malformed_json' } }, 400)
  }
  const parsed = Message.safeParse(json)
  if (!parsed.success) return c.json({ error: { code: 'invalid_message', message: parsed.error.message } }, 400)
  const m = parsed.data
  try {
    insert.run(m.id, m.from.id, m.text, Date.now())
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return c.json({ error: { code: 'duplicate' } }, 409)
    throw err
  }
  return c.json({ results: [{ id: m.id }] }, 201)
})

const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' })
process.once('SIGTERM', () => {
  server.close()
  db.close()
  process.exit(0)
})
