/**
 * The PostgreSQL baseline of bench/intake (--store postgres): read the JSON body, validate it with
 * the api channel's zod schema, insert one row (id, sender, text, received_at) into PostgreSQL
 * through a node-postgres pool of the store's default size (10) with the server's default
 * durability (synchronous_commit on), answer 201. Run as its own process: BENCH_PORT, BENCH_DATABASE_URL.
 */
import { ApiInboundMessage } from '@intake/channels/api'
import { loadHono } from '../support/baseline.ts'
import { importFromWorkspace } from '../support/workspace-deps.ts'

type NodeServerModule = typeof import('../../packages/core/node_modules/@hono/node-server/dist/index.d.ts')
type Pg = typeof import('../../packages/storage/node_modules/@types/pg/index.d.ts')

const port = Number(process.env.BENCH_PORT)
const url = process.env.BENCH_DATABASE_URL
if (!Number.isInteger(port) || port <= 0 || !url) throw new Error('[bench/baseline-postgres] set BENCH_PORT and BENCH_DATABASE_URL')

const pg = (await importFromWorkspace<{ default: Pg }>('storage', 'pg')).default
const pool = new pg.Pool({ connectionString: url, max: 10 })
await pool.query('CREATE TABLE IF NOT EXISTS messages (id TEXT PRIMARY KEY, sender TEXT NOT NULL, text TEXT NOT NULL, received_at BIGINT NOT NULL)')

const Hono = await loadHono()
const app = new Hono()
app.get('/healthz', (c) => c.json({ ok: true }))
app.post('/channels/api/messages', async (c) => {
  let json: unknown
  try {
    json = await c.req.json()
  } catch {
    return c.json({ error: { code: 'malformed_json' } }, 400)
  }
  const parsed = ApiInboundMessage.safeParse(json)
  if (!parsed.success) return c.json({ error: { code: 'invalid_message', message: parsed.error.message } }, 400)
  const m = parsed.data
  try {
    // A named statement, parsed once per connection: the least a driver would do.
    await pool.query({ name: 'insert-message', text: 'INSERT INTO messages (id, sender, text, received_at) VALUES ($1, $2, $3, $4)', values: [m.id, m.from.id, m.text, Date.now()] })
  } catch (err) {
    if ((err as { code?: string }).code === '23505') return c.json({ error: { code: 'duplicate' } }, 409)
    throw err
  }
  return c.json({ results: [{ id: m.id }] }, 201)
})

const { serve } = await importFromWorkspace<NodeServerModule>('core', '@hono/node-server')
const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' })
process.once('SIGTERM', () => {
  server.close()
  void pool.end().then(() => process.exit(0))
})
