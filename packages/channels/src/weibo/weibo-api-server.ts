/**
 * Weibo's fans-service platform on loopback, for tests and benchmarks (m.api.weibo.com cannot be
 * reached from here), in its wire format:
 * - the reply API, `POST /2/messages/reply.json?access_token=…`, form-encoded receiver_id, type,
 *   data (the message's JSON), save_sender_box (https://open.weibo.com/wiki/Send_Customer_Service_Message);
 *   errors as Weibo's V2 API answers them: HTTP 4xx/5xx with `{ request, error_code, error }`
 *   (https://open.weibo.com/wiki/Error_code);
 * - the push side: `signedPush` signs a push as the platform does, signature =
 *   sha1(sort(appSecret, timestamp, nonce)) in the query (https://open.weibo.com/wiki/Messages_api_start).
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { startProviderStandIn, type ProviderControl } from '../kit/provider-stand-in.ts'
import { wechatSignature } from '../shared/wechat-crypto.ts'

export interface WeiboReply {
  /** The account (uid) whose token sent it. */
  from: string
  to: string
  type: string
  text: string
}
export type ArrangedWeiboAnswer = { errorCode: number; error?: string; status?: number } | { status: number }

/** Also the kit's `fixtures.provider`: it can refuse, reset or stall connections (built on startProviderStandIn). */
export interface WeiboApiServer extends ProviderControl {
  url: string
  replies: WeiboReply[]
  failNext(...answers: ArrangedWeiboAnswer[]): void
  close(): Promise<void>
}

/** `accounts`: access token → account uid. */
export async function startWeiboApiServer({ accounts, port = 0 }: { accounts: Record<string, string>; port?: number }): Promise<WeiboApiServer> {
  const replies: WeiboReply[] = []
  const queue: ArrangedWeiboAnswer[] = []
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' })
    res.end(JSON.stringify(body))
  }
  const error = (res: ServerResponse, status: number, errorCode: number, message: string) => json(res, status, { request: '/2/messages/reply.json', error_code: errorCode, error: message })
  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const url = new URL(req.url ?? '/', 'http://m.api.weibo.test')
    if (req.method !== 'POST' || url.pathname !== '/2/messages/reply.json') return error(res, 404, 10021, 'HTTP method is not suported for this request')
    const from = accounts[url.searchParams.get('access_token') ?? '']
    if (!from) return error(res, 401, 21332, 'invalid_access_token')
    const next = queue.shift()
    if (next) return 'errorCode' in next ? error(res, next.status ?? 400, next.errorCode, next.error ?? 'arranged error') : json(res, next.status, { error: 'arranged' })
    const form = new URLSearchParams(body)
    const to = form.get('receiver_id') ?? ''
    if (!/^\d{5,20}$/.test(to)) return error(res, 400, 10017, `Parameter (receiver_id)'s value invalid, expect (int64), but get (${to}), see doc for more info.`)
    let data: { text?: unknown }
    try {
      data = JSON.parse(form.get('data') ?? '')
    } catch {
      return error(res, 400, 10008, 'Param error, see doc for more info.')
    }
    if (form.get('type') !== 'text' || typeof data.text !== 'string') return error(res, 400, 10008, 'Param error, see doc for more info.')
    if ([...data.text].length >= 300) return error(res, 400, 20012, 'Text too long, please input text less than 300 characters!')
    replies.push({ from, to, type: 'text', text: data.text })
    json(res, 200, { result: true, sender_id: Number(from), receiver_id: Number(to), type: 'text', data: encodeURIComponent(JSON.stringify(data)) })
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
    replies,
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

/** A private message as the fans-service push carries it. */
export const weiboText = (text: string, { sender = '2489518277', receiver = '1902538057', at = Date.now() } = {}) => ({
  type: 'text',
  receiver_id: Number(receiver),
  sender_id: Number(sender),
  created_at: weiboDate(at),
  text,
  data: {},
})

/** Weibo's date format: "Mon Jul 16 18:09:20 +0800 2012" (Beijing time). */
export function weiboDate(ms: number): string {
  const d = new Date(ms + 8 * 3600_000)
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()]
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()]
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${day} ${month} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0800 ${d.getUTCFullYear()}`
}

export interface SignOptions {
  appSecret: string
  /** Unix ms (default now); signed in milliseconds, as Weibo's example does. */
  at?: number
  nonce?: string
}

/** The push request: signature, timestamp, nonce in the query, the JSON in the body. */
export function signedPush(url: string, payload: unknown, { appSecret, at = Date.now(), nonce = randomBytes(4).readUInt32BE(0).toString() }: SignOptions): Request {
  const timestamp = String(at)
  const q = new URLSearchParams({ signature: wechatSignature(appSecret, timestamp, nonce), timestamp, nonce })
  return new Request(`${url}?${q}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof payload === 'string' ? payload : JSON.stringify(payload) })
}

/** The URL check the platform sends when the push URL is saved. */
export function urlCheck(url: string, echostr: string, { appSecret, at = Date.now(), nonce = '57155157' }: SignOptions): Request {
  const timestamp = String(at)
  return new Request(`${url}?${new URLSearchParams({ signature: wechatSignature(appSecret, timestamp, nonce), timestamp, nonce, echostr })}`)
}
