/**
 * The baseline of bench/intake: the least a gateway must do per message — read the JSON body,
 * validate it against the api channel's message shape with zod, insert one row with better-sqlite3
 * under the real store's durability (WAL, synchronous=FULL), answer 201. No signature, no routing,
 * no outbox. Run as its own process by run.ts: BENCH_PORT, BENCH_DB.
 */
import { ApiInboundMessage } from '@intake/channels/api'
import { baselineSettings, loadHono, openMessagesTable, serveUntilSigterm } from '../support/baseline.ts'

const { port, file } = baselineSettings('bench/baseline')

// The api channel's own schema, so the baseline validates exactly what the gateway does.
const Message = ApiInboundMessage

const { db, insert } = await openMessagesTable(file)

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

await serveUntilSigterm(app.fetch, port, db)
