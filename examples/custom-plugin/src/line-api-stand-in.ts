/**
 * The LINE Platform on loopback, for this adapter's tests and the demo: the push endpoint in LINE's
 * wire format, and webhooks signed the way LINE signs them. Built on the channel kit's
 * `startProviderStandIn`, which records requests, scripts answers and breaks connections; only what
 * is LINE's is written here. Sources (developers.line.biz/en/reference/messaging-api/):
 * - `POST /v2/bot/message/push`, `Authorization: Bearer {channel access token}`, JSON
 *   `{ to, messages: [{ type: 'text', text }] }` (1–5 messages, text up to 5000 characters);
 *   200 `{ sentMessages: [{ id, quoteToken }] }` with an `X-Line-Request-Id` header.
 * - Errors: JSON `{ message, details? }` — 400 (bad request body), 401 (bad token), 429 (rate limit).
 * - `X-Line-Retry-Key`: a key already accepted is answered 409 with `X-Line-Accepted-Request-Id`
 *   (/en/docs/messaging-api/retrying-api-request/).
 * - Webhooks: JSON `{ destination, events: [...] }` signed with `X-Line-Signature`.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { startProviderStandIn, type ProviderStandIn, type StandInAnswer, type StandInRequest } from '@intake/channels/kit'
import { lineSignature, SIGNATURE_HEADER } from './signature.ts'

export interface LineApiStandInOptions {
  channelSecret: string
  channelAccessToken: string
  /** How signed webhooks reach the gateway (default: fetch); an in-process test passes the gateway's fetch. */
  fetch?: (req: Request) => Promise<Response>
  /** Default: any free port. */
  port?: number
}

export interface PushedMessage {
  to: string
  text: string
  retryKey?: string
  requestId: string
}

export interface LineApiStandIn extends ProviderStandIn {
  /** Text messages accepted by the push endpoint, oldest first. */
  readonly pushed: PushedMessage[]
  /** A webhook as LINE posts it, signed with the channel secret (or `secret`, to forge one). */
  webhookRequest(url: string, body: LineWebhookPayload | string, secret?: string): Request
}

export type LineWebhookPayload = { destination: string; events: unknown[] }

/** The bot's own user id, as LINE puts it in every webhook's `destination`. */
export const BOT_USER_ID = 'U' + 'b'.repeat(32)

/** A user's text message event (https://developers.line.biz/en/reference/messaging-api/#message-event). */
export function textEvent(text: string, { userId = 'U' + 'a'.repeat(32), messageId = '468789577898262530', groupId }: { userId?: string; messageId?: string; groupId?: string } = {}) {
  return {
    type: 'message',
    message: { type: 'text', id: messageId, quoteToken: randomBytes(16).toString('base64url'), text },
    webhookEventId: '01H810YECXQQZ37VAXPF6H9E6T',
    deliveryContext: { isRedelivery: false },
    timestamp: 1692251666727,
    source: groupId ? { type: 'group', groupId, userId } : { type: 'user', userId },
    replyToken: randomBytes(16).toString('hex'),
    mode: 'active',
  }
}

export const webhookBody = (...events: unknown[]): LineWebhookPayload => ({ destination: BOT_USER_ID, events })

const error = (status: number, message: string, headers: Record<string, string> = {}): StandInAnswer => ({ status, headers, body: { message } })

export async function startLineApiStandIn({ channelSecret, channelAccessToken, fetch, port }: LineApiStandInOptions): Promise<LineApiStandIn> {
  const pushed: PushedMessage[] = []
  const accepted = new Map<string, string>()

  function push(req: StandInRequest): StandInAnswer {
    if (req.headers.authorization !== `Bearer ${channelAccessToken}`) {
      return error(401, 'Authentication failed. Confirm that the access token in the authorization header is valid.')
    }
    const retryKey = typeof req.headers['x-line-retry-key'] === 'string' ? req.headers['x-line-retry-key'] : undefined
    const earlier = retryKey && accepted.get(retryKey)
    if (earlier) return error(409, 'The retry key is already accepted', { 'x-line-accepted-request-id': earlier })
    let body: { to?: unknown; messages?: Array<{ type?: unknown; text?: unknown }> }
    try {
      body = JSON.parse(req.text) as typeof body
    } catch {
      return error(400, 'The request body has 1 error(s)')
    }
    if (typeof body.to !== 'string' || !/^[UCR][0-9a-f]{32}$/.test(body.to)) return error(400, "The property, 'to', in the request body is invalid (line: -, column: -)")
    const messages = body.messages ?? []
    if (messages.length < 1 || messages.length > 5) return error(400, 'Size must be between 1 and 5')
    for (const m of messages) {
      if (m.type !== 'text' || typeof m.text !== 'string' || m.text.length === 0 || Array.from(m.text).length > 5000) return error(400, 'The request body has 1 error(s)')
    }
    const requestId = randomUUID()
    if (retryKey) accepted.set(retryKey, requestId)
    for (const m of messages) pushed.push({ to: body.to, text: m.text as string, retryKey, requestId })
    return {
      status: 200,
      headers: { 'x-line-request-id': requestId },
      body: { sentMessages: messages.map(() => ({ id: String(480000000000000000n + BigInt(pushed.length)), quoteToken: randomBytes(16).toString('base64url') })) },
    }
  }

  const provider = await startProviderStandIn({
    handle: (req) => (req.method === 'POST' && req.url.pathname === '/v2/bot/message/push' ? push(req) : error(404, 'Not found')),
    sign: ({ body }) => ({ 'content-type': 'application/json', [SIGNATURE_HEADER]: lineSignature(channelSecret, body) }),
    fetch,
    port,
    onReset() {
      pushed.length = 0
      accepted.clear()
    },
  })
  return Object.assign(provider, {
    pushed,
    webhookRequest(url: string, body: LineWebhookPayload | string, secret = channelSecret) {
      const text = typeof body === 'string' ? body : JSON.stringify(body)
      return new Request(url, { method: 'POST', headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: lineSignature(secret, text) }, body: text })
    },
  })
}
