/**
 * The baseline of bench/aliyun-sms: the least an SmsUp push receiver must do — read the JSON array,
 * check the push token, validate each item's fields with zod, insert one row per item with
 * better-sqlite3 under the real store's durability (WAL, synchronous=FULL), answer `{ code: 0 }`.
 * No routing, no outbox. Run as its own process by run.ts: BENCH_PORT, BENCH_DB, BENCH_PUSH_TOKEN.
 */
import { timingSafeEqual } from 'node:crypto'
import { baselineSettings, loadHono, openMessagesTable, serveUntilSigterm } from '../support/baseline.ts'
import { importFromWorkspace } from '../support/workspace-deps.ts'

type ZodModule = typeof import('../../packages/core/node_modules/zod/index.d.ts')

const { z } = await importFromWorkspace<ZodModule>('core', 'zod')
const { port, file } = baselineSettings('bench/aliyun-sms baseline')
const token = Buffer.from(process.env.BENCH_PUSH_TOKEN ?? '')

const Up = z.object({ phone_number: z.string().regex(/^\+?\d{5,20}$/), content: z.string().max(2000), sequence_id: z.union([z.number().int(), z.string()]) })

const { db, insert } = await openMessagesTable(file)
const Hono = await loadHono()
const app = new Hono()
app.get('/healthz', (c) => c.json({ ok: true }))
app.post('/channels/aliyun/up', async (c) => {
  const given = Buffer.from(c.req.query('token') ?? '')
  if (given.length !== token.length || !timingSafeEqual(given, token)) return c.json({ error: { code: 'bad_signature' } }, 401)
  let items: unknown
  try {
    items = JSON.parse(await c.req.text())
  } catch {
    return c.json({ error: { code: 'malformed_json' } }, 400)
  }
  const parsed = z.array(Up).min(1).safeParse(items)
  if (!parsed.success) return c.json({ error: { code: 'invalid_message' } }, 400)
  for (const m of parsed.data) {
    try {
      insert.run(`up-${m.sequence_id}`, m.phone_number, m.content, Date.now())
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw err
    }
  }
  return c.json({ code: 0, msg: '接收成功' })
})

await serveUntilSigterm(app.fetch, port, db)
