/**
 * The Twilio REST stand-in during a gateway run, in its own process (like bench/intake's
 * callback-child.ts), so the acknowledgements the gateway sends through the SDK do not compete with
 * the load generator. IPC: sends `{ url }` once listening; answers `'count'` with `{ count }`.
 */
import { startTwilioApiServer } from '@intake/channels/twilio-sms/twilio-api-server'

const accountSid = process.env.BENCH_TWILIO_ACCOUNT_SID
const authToken = process.env.BENCH_TWILIO_AUTH_TOKEN
if (!accountSid || !authToken) throw new Error('[bench/sms] set BENCH_TWILIO_ACCOUNT_SID and BENCH_TWILIO_AUTH_TOKEN')

export interface TwilioCount {
  messages: number
  requests: number
}

const api = await startTwilioApiServer({ accountSid, authToken })
process.send!({ url: api.url })
process.on('message', (msg) => {
  if (msg === 'count') process.send!({ count: { messages: api.messages.length, requests: api.requests } satisfies TwilioCount })
})
process.on('disconnect', () => void api.close().then(() => process.exit(0)))
