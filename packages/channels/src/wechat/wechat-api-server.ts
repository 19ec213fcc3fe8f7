import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { startProviderStandIn, type ProviderControl } from '../kit/provider-stand-in.ts'

/**
 * WeChat's server API on loopback, for tests and benchmarks: the three calls the adapter makes, in
 * WeChat's wire format — every answer HTTP 200 with JSON `{ errcode, errmsg }` on failure, as the
 * real API does (https://developers.weixin.qq.com/doc/service/api/):
 *   GET  /cgi-bin/token?grant_type=client_credential&appid&secret → { access_token, expires_in } | { errcode: 40013 | 40125 | 40002 }
 *   POST /cgi-bin/stable_token { grant_type, appid, secret, force_refresh } → the same, from a separate token
 *        (https://developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken): normal mode
 *        answers the current stable token to every caller while it is valid; force_refresh retires it
 *        (40001 from then on) and issues a new one
 *   POST /cgi-bin/message/custom/send?access_token                 → { errcode: 0, errmsg: 'ok' } | 40001 / 42001 / 41001 / 47001 / 45002
 *   GET  /cgi-bin/media/get?access_token&media_id                  → the bytes, with Content-Type and Content-disposition,
 *                                                                    or { errcode: 40007, errmsg: 'invalid media_id' }
 * errmsg texts are WeChat's, with its "rid" suffix. Scriptable: expire the tokens, make the next
 * sends or token fetches fail with an errcode or an HTTP status.
 */
export interface ReceivedCustomMessage {
  touser: string
  msgtype: string
  text?: { content: string }
  /** The access token the request carried. */
  accessToken: string
}

export type ArrangedAnswer = { errcode: number; errmsg?: string } | { status: number }

/** Also the kit's `fixtures.provider`: it can refuse, reset or stall connections (built on startProviderStandIn). */
export interface WechatApiServer extends ProviderControl {
  /** Base URL to give the adapter as `apiBaseUrl`. */
  url: string
  readonly appId: string
  readonly appSecret: string
  /** Customer-service messages accepted, in order. */
  sent: ReceivedCustomMessage[]
  /** Every access token handed out, so a test can check none reached a log line. */
  issuedTokens: string[]
  /** How many times /cgi-bin/token or /cgi-bin/stable_token was called (successful or not). */
  tokenRequests(): number
  /** How many stable_token calls asked for force_refresh. */
  forceRefreshes(): number
  /** Serve these bytes for a media id. */
  addMedia(mediaId: string, bytes: Uint8Array, contentType: string, filename?: string): void
  /** Every token issued so far is now expired: the next call with one answers 42001. */
  expireTokens(): void
  /** Answer the next customer-service sends with these, in order (then accept again). */
  failNextSend(...answers: ArrangedAnswer[]): void
  /** Answer the next token fetches with these, in order. */
  failNextToken(...answers: ArrangedAnswer[]): void
  close(): Promise<void>
}

const ERRMSG: Record<number, string> = {
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40003: 'invalid openid',
  40007: 'invalid media_id',
  40013: 'invalid appid',
  40125: 'invalid appsecret',
  40164: 'invalid ip, not in whitelist',
  41001: 'access_token missing',
  42001: 'access_token expired',
  43004: 'require subscribe',
  45002: 'content size out of limit',
  45009: 'reach max api daily quota limit',
  45015: 'response out of time limit or subscription is canceled',
  45047: 'out of response count limit',
  47001: 'data format error',
}

const rid = () => `${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`

export async function startWechatApiServer({ appId = 'wx1234567890abcdef', appSecret = 'stand-in-app-secret-0123456789ab', port = 0 } = {}): Promise<WechatApiServer> {
  const sent: ReceivedCustomMessage[] = []
  const issuedTokens: string[] = []
  const valid = new Set<string>()
  const expired = new Set<string>()
  const media = new Map<string, { bytes: Uint8Array; contentType: string; filename: string }>()
  const sendQueue: ArrangedAnswer[] = []
  const tokenQueue: ArrangedAnswer[] = []
  let tokenCalls = 0
  let stable: string | undefined
  let forced = 0

  const json = (res: ServerResponse, body: unknown, status = 200) => {
    res.writeHead(status, { 'content-type': 'application/json; encoding=utf-8' })
    res.end(JSON.stringify(body))
  }
  const error = (res: ServerResponse, errcode: number, errmsg?: string) => json(res, { errcode, errmsg: `${errmsg ?? ERRMSG[errcode] ?? 'error'} rid: ${rid()}` })
  const arranged = (res: ServerResponse, answer: ArrangedAnswer) =>
    'status' in answer ? json(res, { error: `arranged HTTP ${answer.status}` }, answer.status) : error(res, answer.errcode, answer.errmsg)

  /** The token check every API call makes before anything else. */
  const tokenProblem = (token: string | null): number | undefined => {
    if (!token) return 41001
    if (expired.has(token)) return 42001
    if (!valid.has(token)) return 40001
    return undefined
  }

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://wechat.test')
    const q = url.searchParams
    if (req.method === 'GET' && url.pathname === '/cgi-bin/token') {
      tokenCalls++
      const next = tokenQueue.shift()
      if (next) return arranged(res, next)
      if (q.get('grant_type') !== 'client_credential') return error(res, 40002)
      if (q.get('appid') !== appId) return error(res, 40013)
      if (q.get('secret') !== appSecret) return error(res, 40125)
      const token = `${tokenCalls}_${randomBytes(24).toString('base64url')}`
      valid.add(token)
      issuedTokens.push(token)
      return json(res, { access_token: token, expires_in: 7200 })
    }
    if (req.method === 'POST' && url.pathname === '/cgi-bin/stable_token') {
      tokenCalls++
      const next = tokenQueue.shift()
      if (next) return arranged(res, next)
      let ask: { grant_type?: unknown; appid?: unknown; secret?: unknown; force_refresh?: unknown }
      try {
        ask = JSON.parse(body.toString('utf8'))
      } catch {
        return error(res, 47001)
      }
      if (ask.grant_type !== 'client_credential') return error(res, 40002)
      if (ask.appid !== appId) return error(res, 40013)
      if (ask.secret !== appSecret) return error(res, 40125)
      if (ask.force_refresh === true) {
        forced++
        if (stable) valid.delete(stable)
        stable = undefined
      }
      if (!stable || !valid.has(stable)) {
        stable = `stable_${tokenCalls}_${randomBytes(24).toString('base64url')}`
        valid.add(stable)
        issuedTokens.push(stable)
      }
      return json(res, { access_token: stable, expires_in: 7200 })
    }
    if (req.method === 'POST' && url.pathname === '/cgi-bin/message/custom/send') {
      const problem = tokenProblem(q.get('access_token'))
      if (problem) return error(res, problem)
      const next = sendQueue.shift()
      if (next) return arranged(res, next)
      let message: { touser?: unknown; msgtype?: unknown; text?: { content?: unknown } }
      try {
        message = JSON.parse(body.toString('utf8'))
      } catch {
        return error(res, 47001)
      }
      if (typeof message.touser !== 'string' || !message.touser) return error(res, 40003)
      if (message.msgtype === 'text') {
        const content = message.text?.content
        if (typeof content !== 'string') return error(res, 47001)
        if (Buffer.byteLength(content) > 2048) return error(res, 45002)
      }
      sent.push({ touser: message.touser, msgtype: String(message.msgtype), text: message.text as { content: string }, accessToken: q.get('access_token')! })
      return json(res, { errcode: 0, errmsg: 'ok' })
    }
    if (req.method === 'GET' && url.pathname === '/cgi-bin/media/get') {
      const problem = tokenProblem(q.get('access_token'))
      if (problem) return error(res, problem)
      const item = media.get(q.get('media_id') ?? '')
      if (!item) return error(res, 40007)
      res.writeHead(200, {
        'content-type': item.contentType,
        'content-disposition': `attachment; filename="${item.filename}"`,
        'content-length': String(item.bytes.byteLength),
      })
      res.end(item.bytes)
      return
    }
    json(res, { errcode: 404, errmsg: `no such api ${url.pathname}` }, 404)
  }

  const standIn = await startProviderStandIn({
    port,
    listener(req, res) {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => handle(req, res, Buffer.concat(chunks)))
    },
  })
  return {
    url: standIn.url,
    appId,
    appSecret,
    sent,
    issuedTokens,
    tokenRequests: () => tokenCalls,
    forceRefreshes: () => forced,
    addMedia(mediaId, bytes, contentType, filename) {
      const ext = contentType.split('/')[1] ?? 'bin'
      media.set(mediaId, { bytes, contentType, filename: filename ?? `${mediaId}.${ext}` })
    },
    expireTokens() {
      for (const t of valid) expired.add(t)
      valid.clear()
    },
    failNextSend: (...answers) => void sendQueue.push(...answers),
    failNextToken: (...answers) => void tokenQueue.push(...answers),
    breakNext: standIn.breakNext,
    deliveries: standIn.deliveries,
    reset() {
      sendQueue.length = 0
      tokenQueue.length = 0
      return standIn.reset()
    },
    close: standIn.close,
  }
}
