import { createHash, timingSafeEqual } from 'node:crypto'
import { z } from 'zod'
import { httpPost, sendError, type ChannelAdapter, type HandledOutcome, type InboundOutcome, type RawRequest, type RouteContext, type SendResult, type Verification } from '@intake/core'

/** Which video comments become cases. */
export type CommentMode =
  | { mode: 'none' }
  | { mode: 'all' }
  /** Comments that mention the account (`@name`). */
  | { mode: 'mentions'; name: string }
  /** Comments that contain one of these words (the deployment's urgency or category words). */
  | { mode: 'keywords'; keywords: string[] }
  /**
   * Comments the deployment's own rules select, e.g. its urgency signals or category keywords from
   * @intake/routing (the adapter does not import routing: the predicate is handed in).
   */
  | { mode: 'rules'; matches: (text: string) => boolean }

export interface DouyinOptions {
  /** The app's client_key and client_secret: the secret signs every webhook (X-Douyin-Signature). */
  clientKey: string
  clientSecret: string
  /** The enterprise account's open_id: events for other accounts are refused. */
  accountOpenId: string
  /** The account's access token (scopes im.direct_message, item.comment), for replies. */
  accessToken: string
  /** Which comments become cases (default: those that mention the account, `{ mode: 'none' }` when no name is known). */
  comments?: CommentMode
  /** Events older than this (by their create_time) are refused as stale (default 3600 s: Douyin retries within minutes). */
  maxAgeSeconds?: number
  /** Where the open API lives (default https://open.douyin.com); tests point it at the stand-in. */
  apiBaseUrl?: string
  timeoutMs?: number
}

export const MAX_TEXT_CHARS = 2000
/** Longest comment reply the adapter writes (Douyin's comment box takes 100 characters). */
export const MAX_COMMENT_CHARS = 100
export const MAX_IM_CHARS = 500

export const SIGNATURE_HEADER = 'x-douyin-signature'

/** X-Douyin-Signature = sha1(client_secret + raw body), lowercase hex. */
export const douyinSignature = (clientSecret: string, body: Uint8Array | string) => createHash('sha1').update(clientSecret).update(body).digest('hex')

const Envelope = z.object({
  event: z.string().min(1).max(80),
  client_key: z.string().max(100).optional(),
  from_user_id: z.string().max(200).optional(),
  to_user_id: z.string().max(200).optional(),
  // The platform sends content as a JSON string (as object in the URL check).
  content: z.union([z.string().max(512 * 1024), z.record(z.string(), z.unknown())]).optional(),
  log_id: z.string().max(200).optional(),
})

const ImContent = z.object({
  message_type: z.string().min(1).max(40),
  text: z.string().max(MAX_TEXT_CHARS, `the text is over ${MAX_TEXT_CHARS} characters`).optional(),
  server_message_id: z.union([z.string().regex(/^\d{1,30}$/), z.number().int()]).transform(String),
  conversation_short_id: z.union([z.string().regex(/^\d{1,30}$/), z.number().int()]).transform(String),
  create_time: z.number().int().positive(),
})

const CommentContent = z.object({
  comment_id: z.string().min(1).max(200),
  comment_user_id: z.string().min(1).max(200),
  content: z.string().max(MAX_TEXT_CHARS, `the comment is over ${MAX_TEXT_CHARS} characters`),
  create_time: z.number().int().positive(),
  reply_to_item_id: z.string().min(1).max(200),
  nick_name: z.string().max(200).optional(),
})

/**
 * How a Douyin citizen is addressed inside Intake:
 *   private message  `im:${conversation_short_id}:${open_id}`
 *   video comment    `comment:${item_id}:${comment_id}:${open_id}` (answered under the comment)
 */
export function parseDouyinAddress(id: string): { kind: 'im'; conversation: string; openId: string } | { kind: 'comment'; itemId: string; commentId: string; openId: string } | undefined {
  const im = id.match(/^im:(\d{1,30}):(.+)$/)
  if (im) return { kind: 'im', conversation: im[1]!, openId: im[2]! }
  const c = id.match(/^comment:([^:]+):([^:]+):(.+)$/)
  return c ? { kind: 'comment', itemId: c[1]!, commentId: c[2]!, openId: c[3]! } : undefined
}

/** What a public comment reply may say: the tracking code and the status link, nothing of the case. */
export const publicCommentReply = (trackingCode: string, statusUrl: string, acknowledgement: boolean) =>
  [...`${acknowledgement ? '已收到，编号' : '您的诉求有新进展，编号'} ${trackingCode}，进度：${statusUrl}`].slice(0, MAX_COMMENT_CHARS).join('')

/** Douyin open API error codes (https://developer.open-douyin.com/docs/resource/zh-CN/dop/develop/openapi/status-code). */
function classifyDouyinError(status: number, code: number | undefined, description: string): SendResult {
  const text = `[douyin] the open API answered ${status}${code !== undefined ? ` error_code ${code}` : ''}: ${description.slice(0, 200)}`
  if (code === 2190002 || code === 2190008 || code === 28001003 || code === 28001008 || code === 2190004 || code === 2190003) return sendError('config', text)
  if (code === -1 || code === 2100004) return sendError('connection', text)
  if (code === 2100009) return sendError('stopped', text)
  if (code === 2190015 || status === 429) return sendError('throttled', text)
  if (status >= 500) return sendError('connection', text)
  // Parameters, the private-message window, a deleted comment: a retry will not change them.
  return sendError('rejected', text)
}

/**
 * A Douyin enterprise account (抖音企业号) through the open platform's event webhooks.
 *
 * - In: the app's webhook URL points at `/channels/<id>/webhook`. X-Douyin-Signature =
 *   sha1(client_secret + body) is checked first (constant time); the URL check (`verify_webhook`)
 *   is answered with its challenge. Private messages (`im_receive_msg`) open cases; video comments
 *   (`item_comment_reply`) open cases as `comments` says (all, those mentioning the account, those
 *   with one of the keywords, those the deployment's rules select). server_message_id / comment_id are external ids, so Douyin's retries
 *   (same Msg-Id) make no second case. Events older than `maxAgeSeconds` are refused as stale;
 *   events for another account with 403; other events are ignored with their name.
 * - Out: to a private-message citizen, a private message in their conversation (`/im/send/msg/`).
 *   To a commenter — whom an enterprise account may not message first — a reply under their
 *   comment (`/item/comment/reply/`) that reveals only the tracking code and the status link.
 */
export function douyinChannel({ clientKey, clientSecret, accountOpenId, accessToken, comments, maxAgeSeconds = 3600, apiBaseUrl = 'https://open.douyin.com', timeoutMs = 10_000 }: DouyinOptions): ChannelAdapter {
  if (typeof clientKey !== 'string' || !/^[A-Za-z0-9]{8,64}$/.test(clientKey)) throw new Error('[douyin] clientKey: expected the app’s client_key')
  if (typeof clientSecret !== 'string' || clientSecret.length < 16) throw new Error('[douyin] clientSecret: expected the app’s client_secret')
  if (typeof accountOpenId !== 'string' || accountOpenId.length < 8) throw new Error('[douyin] accountOpenId: expected the enterprise account’s open_id')
  if (typeof accessToken !== 'string' || accessToken.length < 16) throw new Error('[douyin] accessToken: expected the account’s access token')
  const mode: CommentMode = comments ?? { mode: 'none' }
  if (mode.mode === 'mentions' && !mode.name) throw new Error('[douyin] comments.name: the account’s name, as commenters mention it')
  if (mode.mode === 'keywords' && !(mode.keywords?.length > 0)) throw new Error('[douyin] comments.keywords: at least one word')
  if (mode.mode === 'rules' && typeof mode.matches !== 'function') throw new Error('[douyin] comments.matches: a function (text) => boolean')
  if (!/^https?:\/\/[^/]+/.test(apiBaseUrl)) throw new Error(`[douyin] apiBaseUrl: expected an http(s) URL, got "${apiBaseUrl}"`)
  const baseUrl = apiBaseUrl.replace(/\/+$/, '')
  const challenges = new WeakMap<RawRequest, unknown>()

  function verify(req: RawRequest): Verification {
    const presented = req.headers.get(SIGNATURE_HEADER)
    if (!presented) return { ok: false, error: { status: 401, code: 'missing_signature', message: `expected the ${SIGNATURE_HEADER} header` } }
    const expected = Buffer.from(douyinSignature(clientSecret, req.body))
    const given = Buffer.from(presented.toLowerCase())
    return expected.length === given.length && timingSafeEqual(expected, given) ? { ok: true } : { ok: false, error: { status: 401, code: 'bad_signature', message: 'the signature does not match the body' } }
  }

  const takesComment = (text: string) =>
    mode.mode === 'all' ||
    (mode.mode === 'mentions' && text.includes(`@${mode.name}`)) ||
    (mode.mode === 'keywords' && mode.keywords.some((k) => text.includes(k))) ||
    (mode.mode === 'rules' && mode.matches(text))

  async function parse(req: RawRequest, ctx: RouteContext): Promise<InboundOutcome> {
    let json: unknown
    try {
      json = JSON.parse(req.text())
    } catch {
      return { rejected: { status: 400, code: 'malformed_json', message: 'the webhook body is not JSON' } }
    }
    const env = Envelope.safeParse(json)
    if (!env.success) return { rejected: { status: 400, code: 'invalid_event', message: env.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ') } }
    const e = env.data
    let content: unknown = e.content
    if (typeof content === 'string') {
      try {
        content = JSON.parse(content)
      } catch {
        return { rejected: { status: 400, code: 'malformed_json', message: 'content is not JSON' } }
      }
    }
    if (e.event === 'verify_webhook') {
      const challenge = (content as { challenge?: unknown } | undefined)?.challenge
      if (typeof challenge !== 'number' && typeof challenge !== 'string') return { rejected: { status: 400, code: 'missing_field', message: 'verify_webhook carries content.challenge' } }
      challenges.set(req, challenge)
      return { ignored: 'webhook URL check' }
    }
    const stale = (createTime: number) => Math.abs(ctx.now() / 1000 - createTime) > maxAgeSeconds
    if (e.event === 'im_receive_msg') {
      if (e.to_user_id !== accountOpenId) return { rejected: { status: 403, code: 'wrong_account', message: 'the message is for another account' } }
      if (!e.from_user_id) return { rejected: { status: 400, code: 'missing_field', message: 'im_receive_msg carries from_user_id' } }
      const m = ImContent.safeParse(content)
      if (!m.success) return { rejected: { status: 400, code: 'invalid_message', message: m.error.issues.map((i) => `content.${i.path.join('.')}: ${i.message}`).join('; ') } }
      if (stale(m.data.create_time)) return { rejected: { status: 401, code: 'stale_timestamp', message: `the message is more than ${maxAgeSeconds}s old` } }
      if (m.data.message_type !== 'text') return { ignored: `private message of type "${m.data.message_type}" is not taken (text only)` }
      if (!m.data.text?.trim()) return { ignored: 'an empty private message' }
      return {
        messages: [
          {
            channelId: ctx.channelId,
            externalId: `im:${m.data.server_message_id}`,
            from: { channelId: ctx.channelId, id: `im:${m.data.conversation_short_id}:${e.from_user_id}` },
            to: accountOpenId,
            text: m.data.text,
            receivedAt: ctx.now(),
            raw: json,
          },
        ],
      }
    }
    if (e.event === 'item_comment_reply') {
      if (e.to_user_id !== undefined && e.to_user_id !== accountOpenId) return { rejected: { status: 403, code: 'wrong_account', message: 'the comment is for another account' } }
      const c = CommentContent.safeParse(content)
      if (!c.success) return { rejected: { status: 400, code: 'invalid_message', message: c.error.issues.map((i) => `content.${i.path.join('.')}: ${i.message}`).join('; ') } }
      if (stale(c.data.create_time)) return { rejected: { status: 401, code: 'stale_timestamp', message: `the comment is more than ${maxAgeSeconds}s old` } }
      if (c.data.comment_user_id === accountOpenId) return { ignored: 'the account’s own comment' }
      if (!takesComment(c.data.content)) return { ignored: `comment ${c.data.comment_id} is not an appeal (comments: ${mode.mode})` }
      const text = mode.mode === 'mentions' ? c.data.content.replaceAll(`@${mode.name}`, '').trim() : c.data.content
      return {
        messages: [
          {
            channelId: ctx.channelId,
            externalId: `comment:${c.data.comment_id}`,
            from: { channelId: ctx.channelId, id: `comment:${c.data.reply_to_item_id}:${c.data.comment_id}:${c.data.comment_user_id}`, ...(c.data.nick_name ? { displayName: c.data.nick_name } : {}) },
            to: accountOpenId,
            text: text || c.data.content,
            receivedAt: ctx.now(),
            raw: json,
          },
        ],
      }
    }
    return { ignored: `event "${e.event}" is not taken on this channel` }
  }

  function respond(_handled: HandledOutcome, req: RawRequest): Response {
    // The URL check wants the challenge back as JSON text; every other event just a 200.
    if (challenges.has(req)) return new Response(JSON.stringify({ challenge: challenges.get(req) }), { status: 200, headers: { 'content-type': 'application/json' } })
    return new Response('success', { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } })
  }

  async function call(path: string, body: unknown): Promise<SendResult> {
    let res
    try {
      res = await httpPost(`${baseUrl}${path}?open_id=${encodeURIComponent(accountOpenId)}`, JSON.stringify(body), {
        headers: { 'content-type': 'application/json', 'access-token': accessToken },
        timeoutMs,
      })
    } catch (err) {
      const e = err as Error & { code?: string }
      return sendError('connection', `[douyin] the open API is unreachable: ${e.code ?? e.name}: ${e.message}`)
    }
    let answer: { data?: { error_code?: number; description?: string; msg_id?: string; reply_id?: string }; extra?: { error_code?: number; description?: string } } = {}
    try {
      answer = JSON.parse(res.text)
    } catch {
      // the status decides
    }
    const code = answer.extra?.error_code ?? answer.data?.error_code
    if (res.status === 200 && code === 0) return { ok: true, providerId: answer.data?.msg_id ?? answer.data?.reply_id ?? 'douyin' }
    return classifyDouyinError(res.status, code, answer.extra?.description ?? answer.data?.description ?? res.text)
  }

  return {
    kind: 'douyin',
    capabilities: { maxText: MAX_IM_CHARS },
    secrets: [clientSecret, accessToken],
    routes: [{ method: 'POST', path: '/webhook', maxBodyBytes: 256 * 1024, verify, parse, respond }],
    async send(msg): Promise<SendResult> {
      const to = parseDouyinAddress(msg.to.id)
      if (!to) return sendError('invalid_recipient', `[douyin] "${msg.to.id}" is not a Douyin conversation or comment address`)
      if (to.kind === 'comment') {
        const content = publicCommentReply(msg.trackingCode, msg.statusUrl, msg.kind === 'acknowledgement')
        const sent = await call('/item/comment/reply/', { item_id: to.itemId, comment_id: to.commentId, content })
        return sent.ok ? { ok: true, providerId: sent.providerId === 'douyin' ? msg.id : sent.providerId } : sent
      }
      const text = [...msg.text].length > MAX_IM_CHARS ? [...msg.text].slice(0, MAX_IM_CHARS - [...msg.statusUrl].length - 1).join('') + '…' + msg.statusUrl : msg.text
      const replyTo = msg.inReplyTo?.startsWith('im:') ? msg.inReplyTo.slice(3) : undefined
      const sent = await call('/im/send/msg/', { ...(replyTo ? { msg_id: replyTo } : {}), conversation_id: to.conversation, to_user_id: to.openId, content: { msg_type: 1, text: { text } } })
      return sent.ok ? { ok: true, providerId: sent.providerId === 'douyin' ? msg.id : sent.providerId } : sent
    },
  }
}
