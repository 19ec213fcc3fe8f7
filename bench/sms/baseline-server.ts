/**
 * The baseline of bench/sms: the least an SMS webhook must do — read the form body, validate the
 * fields an incoming message needs with zod, insert one row with better-sqlite3 under the real
 * store's durability (WAL, synchronous=FULL), answer empty TwiML. No routing, no outbox, and no
 * signature check unless BENCH_SIGNED_URL is set (the `baseline-signed` variant: the adapter's own
 * X-Twilio-Signature check, to see what it costs alone). Run as its own process by run.ts:
 * BENCH_PORT, BENCH_DB, BENCH_AUTH_TOKEN, BENCH_SIGNED_URL.
 */
import { EMPTY_TWIML, verifyTwilioSignature } from '@intake/channels/twilio-sms'
import { baselineSettings, loadHono, openMessagesTable, serveUntilSigterm } from '../support/baseline.ts'
import { importFromWorkspace } from '../support/workspace-deps.ts'

type ZodModule = typeof import('../../packages/core/node_modules/zod/index.d.ts')

const { z } = await importFromWorkspace<ZodModule>('core', 'zod')
const { port, file } = baselineSettings('bench/sms baseline')

const Incoming = z.object({ MessageSid: z.string().regex(/^[A-Z]{2}[0-9a-f]{32}$/i), From: z.string().min(1).max(100), Body: z.string().max(6400).default('') })

const { db, insert } = await openMessagesTable(file)

const Hono = await loadHono()
const app = new Hono()
app.get('/healthz', (c) => c.json({ ok: true }))
const signedUrl = process.env.BENCH_SIGNED_URL
const authToken = process.env.BENCH_AUTH_TOKEN ?? ''

app.post('/channels/sms/messages', async (c) => {
  const text = await c.req.text()
  if (signedUrl) {
    const body = new TextEncoder().encode(text)
    const raw = { method: 'POST', url: new URL(c.req.url), headers: c.req.raw.headers, body, text: () => text }
    if (!verifyTwilioSignature(authToken, raw, signedUrl).ok) return c.json({ error: { code: 'bad_signature' } }, 403)
  }
  const parsed = Incoming.safeParse(Object.fromEntries(new URLSearchParams(text)))
  if (!parsed.success) return c.json({ error: { code: 'invalid_message' } }, 400)
  const m = parsed.data
  try {
    insert.run(m.MessageSid, m.From, m.Body, Date.now())
  } catch (err) {
    if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw err
  }
  return c.body(EMPTY_TWIML, 200, { 'content-type': 'text/xml; charset=utf-8' })
})

await serveUntilSigterm(app.fetch, port, db)
