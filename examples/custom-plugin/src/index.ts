/**
 * A LINE Official Account as an Intake channel, through the Messaging API:
 * - inbound: LINE posts webhook events to `/channels/:id/webhook`, signed with the channel secret
 *   (see signature.ts); each text message becomes a citizen message, `unfollow`/`follow` stop and
 *   restart replies, and the webhook is answered 200 as LINE requires
 *   (https://developers.line.biz/en/reference/messaging-api/#response).
 * - outbound: replies go out with the push API (`POST /v2/bot/message/push`,
 *   https://developers.line.biz/en/reference/messaging-api/#send-push-message) carrying an
 *   `X-Line-Retry-Key` made from the outbox's idempotency key, so a retry never sends twice
 *   (https://developers.line.biz/en/docs/messaging-api/retrying-api-request/). The reply API is not
 *   used: its token expires within minutes, and the outbox may deliver later than that.
 *
 * Built on Intake's public exports only (`@intake/core`); a third party's adapter looks like this.
 */
import { createHash } from 'node:crypto'
import { classifyHttpStatus, httpPost, sendError, type ChannelAdapter, type HttpAnswer, type InboundMessageInput, type InboundOutcome, type SendResult } from '@intake/core'
import { addressOf, LineFollowEvent, LineMessageEvent, LineWebhookBody } from './schema.ts'
import { SIGNATURE_HEADER, verifyLineSignature } from './signature.ts'

export { lineSignature, verifyLineSignature, SIGNATURE_HEADER } from './signature.ts'
export type { LineWebhookBody } from './schema.ts'

export interface LineChannelOptions {
  /** The channel secret (LINE Developers Console → Basic settings): verifies webhooks. */
  channelSecret: string
  /** A channel access token (Messaging API tab): authorises the push API. */
  channelAccessToken: string
  /** Default `https://api.line.me`; tests point it at the stand-in. */
  apiBaseUrl?: string
  /** Give up on a push after this long (default 10 s); the outbox retries with the same retry key. */
  timeoutMs?: number
}

/** LINE's limit for one text message object (https://developers.line.biz/en/reference/messaging-api/#text-message). */
export const LINE_MAX_TEXT = 5000

/** LINE wants the retry key as a UUID: the same outbox delivery always maps to the same one. */
export function retryKeyFor(idempotencyKey: string): string {
  const h = createHash('sha256').update(idempotencyKey).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

export function lineChannel({ channelSecret, channelAccessToken, apiBaseUrl = 'https://api.line.me', timeoutMs = 10_000 }: LineChannelOptions): ChannelAdapter {
  // Misconfiguration fails when the config is loaded, not on the first message.
  if (!/^[0-9a-f]{32}$/i.test(channelSecret)) throw new Error('[line channel] channelSecret: expected the 32 hex digits shown in the LINE Developers Console')
  if (channelAccessToken.length < 20) throw new Error('[line channel] channelAccessToken: expected a channel access token')
  if (!/^https?:\/\//.test(apiBaseUrl)) throw new Error(`[line channel] apiBaseUrl: expected an http(s) URL, got "${apiBaseUrl}"`)
  const pushUrl = `${apiBaseUrl.replace(/\/$/, '')}/v2/bot/message/push`

  return {
    kind: 'line',
    capabilities: { groups: true, maxText: LINE_MAX_TEXT },
    secrets: [channelSecret, channelAccessToken],
    routes: [
      {
        method: 'POST',
        path: '/webhook',
        maxBodyBytes: 256 * 1024,
        verify(req) {
          if (verifyLineSignature(channelSecret, req.body, req.headers.get(SIGNATURE_HEADER))) return { ok: true }
          return { ok: false, error: { status: 401, code: 'bad_signature', message: `${SIGNATURE_HEADER} does not match the body` } }
        },
        async parse(req, ctx): Promise<InboundOutcome> {
          let json: unknown
          try {
            json = JSON.parse(req.text())
          } catch {
            return { rejected: { status: 400, code: 'malformed_json', message: 'the body is not valid JSON' } }
          }
          const body = LineWebhookBody.safeParse(json)
          if (!body.success) return { rejected: { status: 400, code: 'invalid_webhook', message: body.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ') } }
          if (body.data.events.length === 0) return { ignored: 'webhook verification (no events)' }

          const messages: InboundMessageInput[] = []
          for (const raw of body.data.events) {
            const follow = LineFollowEvent.safeParse(raw)
            if (follow.success && follow.data.source.userId) {
              // Blocking the account is LINE's STOP: the outbox sends nothing more until they add it again.
              await ctx.setOptOut(follow.data.source.userId, follow.data.type === 'unfollow')
              continue
            }
            if (raw.type !== 'message') continue
            const event = LineMessageEvent.safeParse(raw)
            if (!event.success) return { rejected: { status: 400, code: 'invalid_event', message: event.error.issues.map((i) => `events.${i.path.join('.')}: ${i.message}`).join('; ') } }
            const { message, source } = event.data
            const address = addressOf(source)
            if (!address || message.type !== 'text' || typeof message.text !== 'string') continue
            messages.push({
              channelId: ctx.channelId,
              // LINE redelivers with the same message id: the pipeline keeps one case.
              externalId: message.id,
              from: { channelId: ctx.channelId, id: address },
              text: message.text,
              receivedAt: event.data.timestamp,
              raw,
            })
          }
          return messages.length > 0 ? { messages } : { ignored: 'no text messages in these events' }
        },
        // LINE counts anything but 200 as a failed delivery and redelivers.
        respond: () => new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } }),
      },
    ],

    async send(msg, ctx): Promise<SendResult> {
      const text = msg.text.length > LINE_MAX_TEXT ? `${msg.text.slice(0, LINE_MAX_TEXT - msg.statusUrl.length - 2)}… ${msg.statusUrl}` : msg.text
      let answer: HttpAnswer
      try {
        answer = await httpPost(pushUrl, JSON.stringify({ to: msg.to.id, messages: [{ type: 'text', text }] }), {
          headers: { 'content-type': 'application/json', authorization: `Bearer ${channelAccessToken}`, 'x-line-retry-key': retryKeyFor(ctx.idempotencyKey) },
          timeoutMs,
        })
      } catch (err) {
        // Refused, reset or timed out: a retry with the same key is safe.
        return sendError('connection', `LINE unreachable: ${(err as Error).message}`)
      }
      if (answer.status === 200) {
        const sent = (JSON.parse(answer.text) as { sentMessages?: Array<{ id?: string }> }).sentMessages?.[0]?.id
        return { ok: true, providerId: sent ?? String(answer.headers['x-line-request-id'] ?? msg.id) }
      }
      // 409 with our retry key: an earlier attempt was accepted (its answer was lost). It is sent.
      const accepted = answer.headers['x-line-accepted-request-id']
      if (answer.status === 409 && typeof accepted === 'string') return { ok: true, providerId: accepted }
      const error = classifyHttpStatus(answer.status, answer.text)
      const retryAfter = Number(answer.headers['retry-after'])
      return { ok: false, error: Number.isFinite(retryAfter) && retryAfter > 0 ? { ...error, retryAfterMs: retryAfter * 1000 } : error }
    },
  }
}
