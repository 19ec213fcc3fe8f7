/**
 * Douyin's open platform on loopback, for tests and benchmarks (open.douyin.com cannot be reached
 * from here), in its wire format:
 * - webhooks (https://developer.open-douyin.com/docs/resource/zh-CN/dop/develop/webhooks/summarize):
 *   `signedEvent` posts JSON with `X-Douyin-Signature: sha1(client_secret + body)` and `Msg-Id`;
 * - the replies an enterprise account sends, `POST /im/send/msg/?open_id=` (private message) and
 *   `POST /item/comment/reply/?open_id=` (a reply under a video comment), JSON bodies, the
 *   `access-token` header; answers `{ data: { error_code, description, … }, extra: { error_code,
 *   description, logid, now } }` (https://developer.open-douyin.com/docs/resource/zh-CN/dop/develop/openapi/status-code).
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { startProviderStandIn, type ProviderControl } from '../kit/provider-stand-in.ts'
import { douyinSignature, SIGNATURE_HEADER } from './index.ts'

export interface DouyinPrivateMessage {
  conversationId: string
  toUserId: string
  msgId?: string
  text: string
}
export interface DouyinCommentReply {
  itemId: string
  commentId: string
  content: string
}
export type ArrangedDouyinAnswer = { errorCode: number; description?: string; status?: number } | { status: number }

/** Also the kit's `fixtures.provider`: it can refuse, reset or stall connections (built on startProviderStandIn). */
export interface DouyinApiServer extends ProviderControl {
  url: string
  privateMessages: DouyinPrivateMessage[]
  commentReplies: DouyinCommentReply[]
  failNext(...answers: ArrangedDouyinAnswer[]): void
  close(): Promise<void>
}

export async function startDouyinApiServer({ accessToken, accountOpenId, port = 0 }: { accessToken: string; accountOpenId: string; port?: number }): Promise<DouyinApiServer> {
  const privateMessages: DouyinPrivateMessage[] = []
  const commentReplies: DouyinCommentReply[] = []
  const queue: ArrangedDouyinAnswer[] = []
  const answer = (res: ServerResponse, status: number, errorCode: number, description: string, data: Record<string, unknown> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ data: { error_code: errorCode, description, ...data }, extra: { error_code: errorCode, description, sub_error_code: 0, sub_description: '', logid: randomBytes(12).toString('hex'), now: Date.now() } }))
  }
  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const url = new URL(req.url ?? '/', 'http://open.douyin.test')
    if (req.method !== 'POST' || !['/im/send/msg/', '/item/comment/reply/'].includes(url.pathname)) return answer(res, 404, 2100005, '参数不合法')
    if (req.headers['access-token'] !== accessToken) return answer(res, 200, 2190002, 'access_token无效')
    if (url.searchParams.get('open_id') !== accountOpenId) return answer(res, 200, 2190003, '用户未授权该应用')
    const next = queue.shift()
    if (next) return 'errorCode' in next ? answer(res, next.status ?? 200, next.errorCode, next.description ?? 'arranged') : answer(res, next.status, -1, 'arranged HTTP error')
    let m: Record<string, unknown>
    try {
      m = JSON.parse(body)
    } catch {
      return answer(res, 200, 2100005, '参数不合法')
    }
    if (url.pathname === '/im/send/msg/') {
      const text = (m.content as { text?: { text?: unknown } } | undefined)?.text?.text
      if (typeof m.conversation_id !== 'string' || typeof m.to_user_id !== 'string' || typeof text !== 'string') return answer(res, 200, 2100005, '参数不合法')
      privateMessages.push({ conversationId: m.conversation_id, toUserId: m.to_user_id, ...(typeof m.msg_id === 'string' ? { msgId: m.msg_id } : {}), text })
      return answer(res, 200, 0, '', { msg_id: `7${randomBytes(8).readBigUInt64BE() % 10n ** 18n}` })
    }
    if (typeof m.item_id !== 'string' || typeof m.comment_id !== 'string' || typeof m.content !== 'string') return answer(res, 200, 2100005, '参数不合法')
    commentReplies.push({ itemId: m.item_id, commentId: m.comment_id, content: m.content })
    answer(res, 200, 0, '', { reply_id: `@${randomBytes(9).toString('base64url')}` })
  }
  const standIn = await startProviderStandIn({
    port,
    listener(req, res) {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')))
    },
  })
  return {
    url: standIn.url,
    privateMessages,
    commentReplies,
    failNext: (...a) => void queue.push(...a),
    breakNext: standIn.breakNext,
    deliveries: standIn.deliveries,
    reset() {
      queue.length = 0
      return standIn.reset()
    },
    close: standIn.close,
  }
}

/** A webhook event as Douyin posts it: signed over the exact body, with a Msg-Id. */
export function signedEvent(url: string, event: unknown, clientSecret: string, msgId = randomBytes(16).toString('hex')): Request {
  const body = typeof event === 'string' ? event : JSON.stringify(event)
  return new Request(url, { method: 'POST', headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: douyinSignature(clientSecret, body), 'msg-id': msgId }, body })
}

let serial = 7290000000000001000n
/** A private message to the account (im_receive_msg), content as a JSON string as the platform sends it. */
export function imMessage(text: string, { from = '_000citizenOpenId0001', to = '_000accountOpenId0001', clientKey = 'awdouyinclientkey01', at = Date.now(), conversation = '7290000000000000999', id = String(++serial) } = {}) {
  return {
    event: 'im_receive_msg',
    from_user_id: from,
    to_user_id: to,
    client_key: clientKey,
    content: JSON.stringify({ message_type: 'text', text, server_message_id: id, conversation_short_id: conversation, create_time: Math.floor(at / 1000) }),
    log_id: randomBytes(16).toString('hex'),
  }
}

/** A comment under one of the account's videos (item_comment_reply). */
export function videoComment(text: string, { from = '_000commenterOpenId01', to = '_000accountOpenId0001', clientKey = 'awdouyinclientkey01', at = Date.now(), item = '@9VwKzuuES8gmaXS7ZohqQcV9', id = `@${String(++serial)}` } = {}) {
  return {
    event: 'item_comment_reply',
    from_user_id: from,
    to_user_id: to,
    client_key: clientKey,
    content: JSON.stringify({ comment_id: id, comment_user_id: from, content: text, create_time: Math.floor(at / 1000), digg_count: 0, reply_comment_total: 0, reply_to_comment_id: '', reply_to_item_id: item, nick_name: '热心市民' }),
    log_id: randomBytes(16).toString('hex'),
  }
}
