import { createHash } from 'node:crypto'
import { httpPost, nonceMemory, sendError, type ChannelAdapter, type HandledOutcome, type InboundOutcome, type RawRequest, type RouteContext, type SendResult, type Verification } from '@intake/core'
import { signatureMatches, wechatSignature } from '../shared/wechat-crypto.ts'
import { EventData, MAX_REPLY_CHARS, PositionData, Push } from './schema.ts'

export interface WeiboOptions {
  /** The AppSecret of the developer app the account authorised: it signs every push. */
  appSecret: string
  /** The account's fans-service access token (粉丝服务平台 → 高级功能 → 开发模式). */
  accessToken: string
  /** The account's uid: a push for another account (a push URL typed into the wrong account) is refused. */
  accountUid: string
  /** Where the reply API lives (default https://m.api.weibo.com); tests point it at the stand-in. */
  apiBaseUrl?: string
  /** How far a push's timestamp may be from our clock (default 300 s). */
  toleranceSeconds?: number
  timeoutMs?: number
  now?: () => number
}

/** "Developers can send messages without limitation within 48 hours" of the citizen's message. */
export const REPLY_WINDOW_MS = 48 * 3600_000

export { MAX_REPLY_CHARS } from './schema.ts'

/** Weibo pushes carry no message id: sender, time and a digest of the content name one, so a re-push is the same message. */
export function pushId(push: Push, createdAtMs: number): string {
  const digest = createHash('sha1').update(`${push.type}\n${push.text}\n${JSON.stringify(push.data)}`).digest('hex').slice(0, 16)
  return `${push.sender_id}:${Math.floor(createdAtMs / 1000)}:${digest}`
}

/** The time a message id of ours names (`pushId`), for the reply window. */
export const pushIdTime = (id: string | undefined) => {
  const m = id?.match(/^\d+:(\d{1,12}):[0-9a-f]{16}$/)
  return m ? Number(m[1]) * 1000 : undefined
}

/** Cut to `max` characters, ending with "…" and the link. */
export function fitChars(text: string, max: number, link: string): string {
  const chars = [...text]
  if (chars.length <= max) return text
  const tail = `…${link}`
  return chars.slice(0, Math.max(0, max - [...tail].length)).join('') + tail
}

/** Weibo's error codes (https://open.weibo.com/wiki/Error_code) as the reply API answers them. */
function classifyWeiboError(status: number, errorCode: number | undefined, error: string): SendResult {
  const text = `[weibo] the reply API answered ${status}${errorCode ? ` error_code ${errorCode}` : ''}: ${error.slice(0, 200)}`
  switch (errorCode) {
    case 10001: // system error
    case 10002: // service unavailable
    case 10003: // remote service error
    case 10009: // too many pending tasks
    case 10010: // job expired
    case 10011: // RPC error
      return sendError('connection', text)
    case 10022: // IP requests out of rate limit
    case 10023: // user requests out of rate limit
    case 10024: // user requests for this API out of rate limit
      return sendError('throttled', text, { retryAfterMs: 60 * 60_000 })
    case 10004: // IP limit
    case 10005: // permission denied, need a high level appkey
    case 10006: // source (appkey) missing
    case 10014: // insufficient app permissions
    case 21314: // token used
    case 21315: // token expired
    case 21316: // token revoked
    case 21317: // token rejected
    case 21327: // expired_token
    case 21332: // invalid_access_token
      return sendError('config', text)
    case 10013: // invalid weibo user
    case 20003: // user does not exist
      return sendError('invalid_recipient', text)
    default:
      if (status >= 500) return sendError('connection', text)
      if (status === 429) return sendError('throttled', text)
      // Anything else (parameter errors, no quota for this receiver) will not change on a retry.
      return sendError('rejected', text)
  }
}

/**
 * A Weibo account's private messages (微博私信) through the fans-service platform (粉丝服务平台).
 *
 * - In: the push URL of the account points at `/channels/<id>/push`. Every request carries
 *   signature = sha1(sort(appSecret, timestamp, nonce)) in its query — checked first, in constant
 *   time — then the timestamp window and the nonce (the signature does not cover the body: the same
 *   nonce with another body is refused, Weibo's own retry with the same body is taken once). The URL check (GET with echostr)
 *   is answered with echostr. text, position, image and voice pushes open cases; follow /
 *   subscribe and unfollow / unsubscribe events switch messages to the citizen on and off; other
 *   events, mentions and unknown types are ignored with their name. A push for another account
 *   (receiver_id) is refused: every account of a matrix is its own channel, routed to its office by
 *   `byChannelOwner({ channels: { '<channel id>': '<office>' } })`.
 * - Out: the acknowledgement as the passive reply (in the push's answer); staff answers through the
 *   reply API (messages/reply.json), within Weibo's 48-hour window after the citizen's last message.
 *   Past the window the send fails as `rejected` without calling Weibo (not retried); the citizen's
 *   next message opens it again.
 *
 * @example
 * channels: {
 *   'weibo-jiashi': weiboChannel({ appSecret: env.WEIBO_APP_SECRET, accessToken: env.WEIBO_TOKEN_JIASHI, accountUid: '1902538057' }),
 * }
 */
export function weiboChannel({ appSecret, accessToken, accountUid, apiBaseUrl = 'https://m.api.weibo.com', toleranceSeconds = 300, timeoutMs = 10_000, now = Date.now }: WeiboOptions): ChannelAdapter {
  if (typeof appSecret !== 'string' || appSecret.length < 8) throw new Error('[weibo] appSecret: expected the developer app’s AppSecret')
  if (typeof accessToken !== 'string' || accessToken.length < 16) throw new Error('[weibo] accessToken: expected the account’s fans-service access token')
  if (typeof accountUid !== 'string' || !/^\d{5,20}$/.test(accountUid)) throw new Error('[weibo] accountUid: expected the account’s numeric uid')
  if (!/^https?:\/\/[^/]+/.test(apiBaseUrl)) throw new Error(`[weibo] apiBaseUrl: expected an http(s) URL, got "${apiBaseUrl}"`)
  const baseUrl = apiBaseUrl.replace(/\/+$/, '')
  const nonces = nonceMemory({ windowMs: 2 * toleranceSeconds * 1000 })
  const pushes = new WeakMap<RawRequest, Push>()
  const deny = (status: 400 | 401, code: string, message: string): Verification => ({ ok: false, error: { status, code, message } })

  function verify(req: RawRequest, ctx: RouteContext): Verification {
    const q = req.url.searchParams
    const signature = q.get('signature')
    const timestamp = q.get('timestamp')
    const nonce = q.get('nonce')
    if (!signature || !timestamp || !nonce) return deny(401, 'missing_signature', 'expected signature, timestamp and nonce in the query string')
    if (nonce.length > 64 || !/^\d{1,13}$/.test(timestamp)) return deny(401, 'bad_signature', 'malformed timestamp or nonce')
    if (!signatureMatches(wechatSignature(appSecret, timestamp, nonce), signature)) return deny(401, 'bad_signature', 'the signature does not match')
    // Weibo's own example signs a millisecond timestamp; seconds are taken too.
    const atMs = timestamp.length >= 13 ? Number(timestamp) : Number(timestamp) * 1000
    if (Math.abs(ctx.now() - atMs) > toleranceSeconds * 1000) return deny(401, 'stale_timestamp', `the timestamp is more than ${toleranceSeconds}s from our clock`)
    // The signature does not cover the body: the same timestamp and nonce with another body is a
    // captured URL replayed; with the same body it is Weibo's own retry (idempotent by push id).
    const fingerprint = createHash('sha256').update(req.body).digest('hex')
    if (nonces.check(`${timestamp}:${nonce}`, fingerprint, ctx.now()) === 'conflict') {
      return deny(401, 'replayed_nonce', 'this timestamp and nonce were already used for another push')
    }
    return { ok: true }
  }

  async function parse(req: RawRequest, ctx: RouteContext): Promise<InboundOutcome> {
    if (req.method === 'GET') {
      return req.url.searchParams.get('echostr') ? { ignored: 'push URL check' } : { rejected: { status: 400, code: 'missing_echostr', message: 'a URL check carries echostr' } }
    }
    let json: unknown
    try {
      json = JSON.parse(req.text())
    } catch {
      return { rejected: { status: 400, code: 'malformed_json', message: 'the push is not JSON (choose the JSON format on the platform)' } }
    }
    const parsed = Push.safeParse(json)
    if (!parsed.success) return { rejected: { status: 400, code: 'invalid_message', message: parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ') } }
    const p = parsed.data
    if (p.receiver_id !== accountUid) return { rejected: { status: 403, code: 'wrong_account', message: `this channel is account ${accountUid}; the push is for ${p.receiver_id}` } }
    pushes.set(req, p)
    const createdAt = Date.parse(p.created_at)
    const at = Number.isFinite(createdAt) ? createdAt : ctx.now()
    const data = p.data as Record<string, unknown>
    const message = (text: string, extra: object = {}): InboundOutcome => ({
      messages: [{ channelId: ctx.channelId, externalId: pushId(p, at), from: { channelId: ctx.channelId, id: p.sender_id }, to: p.receiver_id, text, receivedAt: ctx.now(), raw: json, ...extra }],
    })
    switch (p.type) {
      case 'text':
        return p.text.trim() ? message(p.text) : { ignored: 'an empty text push' }
      case 'position': {
        const pos = PositionData.safeParse(data)
        if (!pos.success) return { rejected: { status: 400, code: 'invalid_message', message: 'position: expected data.longitude and data.latitude' } }
        const { latitude: lat, longitude: lon } = pos.data
        return message(p.text.trim() || `[位置] ${lat}, ${lon}`, { place: { lat, lon } })
      }
      case 'image':
      case 'voice':
        // The bytes sit behind Weibo's upload API (vfid); the case says what the citizen sent.
        return message([p.text.trim(), p.type === 'image' ? '[图片，请在微博私信中查看]' : '[语音，请在微博私信中查看]'].filter(Boolean).join('\n'))
      case 'event': {
        const ev = EventData.safeParse(data)
        const subtype = ev.success ? ev.data.subtype : '(no subtype)'
        if (subtype === 'follow' || subtype === 'subscribe') await ctx.setOptOut(p.sender_id, false)
        if (subtype === 'unfollow' || subtype === 'unsubscribe') await ctx.setOptOut(p.sender_id, true)
        return { ignored: `event ${subtype} from ${p.sender_id}` }
      }
      default:
        // The doc: "当出现未知类型时可忽略此消息" — mention included (an @ in a post is not a private message).
        return { ignored: `push type "${p.type}" is not taken on this channel` }
    }
  }

  function respond(handled: HandledOutcome, req: RawRequest): Response {
    if (req.method === 'GET') {
      return new Response(req.url.searchParams.get('echostr') ?? '', { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' } })
    }
    const push = pushes.get(req)
    const text = handled.kind === 'messages' ? handled.results.map((r) => r.acknowledgement).find(Boolean) : undefined
    if (!push || !text) return new Response('', { status: 200 })
    // The passive reply (发送被动响应): data is the URL-encoded JSON of the message.
    const reply = { result: true, sender_id: Number(push.receiver_id), receiver_id: Number(push.sender_id), type: 'text', data: encodeURIComponent(JSON.stringify({ text: [...text].slice(0, MAX_REPLY_CHARS).join('') })) }
    return new Response(JSON.stringify(reply), { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' } })
  }

  const route = { path: '/push', maxBodyBytes: 64 * 1024, verify, parse, respond }
  return {
    kind: 'weibo',
    capabilities: { maxText: MAX_REPLY_CHARS },
    secrets: [appSecret, accessToken],
    routes: [
      { method: 'GET', ...route },
      { method: 'POST', ...route, acknowledgesInline: true },
    ],
    async send(msg): Promise<SendResult> {
      const last = pushIdTime(msg.inReplyTo)
      if (last !== undefined && now() - last > REPLY_WINDOW_MS) {
        return sendError('rejected', `[weibo] outside the 48-hour reply window: the citizen last wrote ${Math.floor((now() - last) / 3600_000)} hours ago; their next message opens it again`)
      }
      const form = new URLSearchParams({ receiver_id: msg.to.id, type: 'text', data: JSON.stringify({ text: fitChars(msg.text, MAX_REPLY_CHARS, msg.statusUrl) }), save_sender_box: '1' })
      let res
      try {
        res = await httpPost(`${baseUrl}/2/messages/reply.json?access_token=${encodeURIComponent(accessToken)}`, form.toString(), {
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          timeoutMs,
        })
      } catch (err) {
        const e = err as Error & { code?: string }
        return sendError('connection', `[weibo] the reply API is unreachable: ${e.code ?? e.name}: ${e.message}`)
      }
      let body: { error_code?: unknown; error?: unknown; result?: unknown; id?: unknown } = {}
      try {
        body = JSON.parse(res.text)
      } catch {
        // not JSON: the status decides
      }
      if (res.status === 200 && body.error_code === undefined) return { ok: true, providerId: typeof body.id === 'string' || typeof body.id === 'number' ? String(body.id) : msg.id }
      const code = body.error_code === undefined ? undefined : Number(body.error_code)
      return classifyWeiboError(res.status, Number.isFinite(code) ? code : undefined, typeof body.error === 'string' ? body.error : res.text.slice(0, 200))
    },
  }
}
