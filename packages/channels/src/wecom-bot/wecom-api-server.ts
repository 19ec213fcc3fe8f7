/**
 * WeCom on loopback, for tests and benchmarks (qyapi.weixin.qq.com cannot be reached from here), in
 * its wire format — every answer HTTP 200 with `{ errcode, errmsg }`:
 *   POST /cgi-bin/webhook/send?key            message push (消息推送, formerly 群机器人):
 *        { msgtype: 'text', text: { content, mentioned_list } }   https://developer.work.weixin.qq.com/document/path/91770
 *        → { errcode: 0, errmsg: 'ok' } | 93000 invalid webhook url | 45009 api freq out of limit | 45002 content size out of limit
 *   GET  /cgi-bin/gettoken?corpid&corpsecret  → { errcode: 0, access_token, expires_in }   https://developer.work.weixin.qq.com/document/path/91039
 *   POST /cgi-bin/message/send?access_token   app message → { errcode: 0, invaliduser, msgid }   https://developer.work.weixin.qq.com/document/path/90236
 * and the intelligent bot's side of the callback: `botCallback` seals a message as WeCom does
 * (https://developer.work.weixin.qq.com/document/path/101033) and signs it.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { startProviderStandIn, type ProviderControl } from '../kit/provider-stand-in.ts'
import { aesKeyFrom, encryptMessage, wechatSignature } from '../shared/wechat-crypto.ts'

export interface GroupPost {
  key: string
  content: string
  mentioned: string[]
}
export interface AppMessage {
  touser: string
  agentid: number
  content: string
}
export type ArrangedWecomAnswer = { errcode: number; errmsg?: string } | { status: number }

/** Also the kit's `fixtures.provider`: it can refuse, reset or stall connections (built on startProviderStandIn). */
export interface WecomApiServer extends ProviderControl {
  url: string
  groupPosts: GroupPost[]
  appMessages: AppMessage[]
  issuedTokens: string[]
  failNextWebhook(...answers: ArrangedWecomAnswer[]): void
  failNextAppMessage(...answers: ArrangedWecomAnswer[]): void
  close(): Promise<void>
}

const ERRMSG: Record<number, string> = {
  40013: 'invalid corpid',
  40001: 'invalid secret',
  40014: 'invalid access_token',
  42001: 'access_token expired',
  45002: 'content size out of limit',
  45009: 'api freq out of limit',
  81013: 'user & party & tag all invalid',
  93000: 'invalid webhook url',
}

export async function startWecomApiServer({ corpId = 'ww0123456789abcdef', corpSecret = 'stand-in-corp-secret-0123456789', keys = [] as string[], members = [] as string[], port = 0 } = {}): Promise<WecomApiServer> {
  const groupPosts: GroupPost[] = []
  const appMessages: AppMessage[] = []
  const issuedTokens: string[] = []
  const webhookQueue: ArrangedWecomAnswer[] = []
  const appQueue: ArrangedWecomAnswer[] = []
  const json = (res: ServerResponse, body: unknown, status = 200) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' })
    res.end(JSON.stringify(body))
  }
  const error = (res: ServerResponse, errcode: number, errmsg?: string) =>
    json(res, { errcode, errmsg: `${errmsg ?? ERRMSG[errcode] ?? 'error'}, hint: [${randomBytes(6).toString('hex')}], from ip: 127.0.0.1` })
  const arranged = (res: ServerResponse, a: ArrangedWecomAnswer) => ('status' in a ? json(res, { error: 'arranged' }, a.status) : error(res, a.errcode, a.errmsg))

  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const url = new URL(req.url ?? '/', 'http://qyapi.test')
    const q = url.searchParams
    if (req.method === 'POST' && url.pathname === '/cgi-bin/webhook/send') {
      const next = webhookQueue.shift()
      if (next) return arranged(res, next)
      const key = q.get('key') ?? ''
      if (!keys.includes(key)) return error(res, 93000)
      let m: { msgtype?: string; text?: { content?: unknown; mentioned_list?: unknown } }
      try {
        m = JSON.parse(body)
      } catch {
        return error(res, 40035, 'invalid args')
      }
      const content = m.text?.content
      if (m.msgtype !== 'text' || typeof content !== 'string') return error(res, 40008, 'invalid message type')
      if (Buffer.byteLength(content) > 2048) return error(res, 45002)
      groupPosts.push({ key, content, mentioned: Array.isArray(m.text?.mentioned_list) ? (m.text!.mentioned_list as string[]) : [] })
      return json(res, { errcode: 0, errmsg: 'ok' })
    }
    if (req.method === 'GET' && url.pathname === '/cgi-bin/gettoken') {
      if (q.get('corpid') !== corpId) return error(res, 40013)
      if (q.get('corpsecret') !== corpSecret) return error(res, 40001)
      const token = randomBytes(32).toString('base64url')
      issuedTokens.push(token)
      return json(res, { errcode: 0, errmsg: 'ok', access_token: token, expires_in: 7200 })
    }
    if (req.method === 'POST' && url.pathname === '/cgi-bin/message/send') {
      if (!issuedTokens.includes(q.get('access_token') ?? '')) return error(res, 40014)
      const next = appQueue.shift()
      if (next) return arranged(res, next)
      const m = JSON.parse(body) as { touser: string; agentid: number; text?: { content: string } }
      if (!members.includes(m.touser)) return json(res, { errcode: 81013, errmsg: ERRMSG[81013], invaliduser: m.touser })
      appMessages.push({ touser: m.touser, agentid: m.agentid, content: m.text?.content ?? '' })
      return json(res, { errcode: 0, errmsg: 'ok', invaliduser: '', msgid: randomBytes(16).toString('base64url') })
    }
    json(res, { errcode: 404, errmsg: `no such api ${url.pathname}` }, 404)
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
    groupPosts,
    appMessages,
    issuedTokens,
    failNextWebhook: (...a) => void webhookQueue.push(...a),
    failNextAppMessage: (...a) => void appQueue.push(...a),
    breakNext: standIn.breakNext,
    deliveries: standIn.deliveries,
    reset() {
      webhookQueue.length = 0
      appQueue.length = 0
      return standIn.reset()
    },
    close: standIn.close,
  }
}

export interface BotCallbackOptions {
  token: string
  encodingAESKey: string
  /** Unix ms of the callback (default now). */
  at?: number
  nonce?: string
  /** Sign with another token (a forgery). */
  signWith?: string
  /** Seal for another receive id (an intelligent bot's is ""). */
  receiveId?: string
}

/** A group message to the bot, as WeCom's callback carries it (decrypted form). */
export const botText = (content: string, { msgid = randomBytes(12).toString('base64'), chatid = 'wrkSFfCgAAtestgroup01', userid = 'zhangsan', chattype = 'group' } = {}) => ({
  msgid,
  aibotid: 'aib-intake-village',
  chatid,
  chattype,
  from: { userid },
  response_url: 'https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=stand-in',
  msgtype: 'text',
  text: { content },
})

/** The callback request WeCom posts: `{ encrypt }`, msg_signature/timestamp/nonce in the query. */
export function botCallback(url: string, payload: unknown, { token, encodingAESKey, at = Date.now(), nonce = String(Math.floor(Math.random() * 1e10)), signWith = token, receiveId = '' }: BotCallbackOptions): Request {
  const encrypt = encryptMessage(aesKeyFrom(encodingAESKey), receiveId, typeof payload === 'string' ? payload : JSON.stringify(payload))
  const timestamp = String(Math.floor(at / 1000))
  const q = new URLSearchParams({ msg_signature: wechatSignature(signWith, timestamp, nonce, encrypt), timestamp, nonce })
  return new Request(`${url}?${q}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ encrypt }) })
}

/** The URL check WeCom sends when the bot's API settings are saved. */
export function botUrlCheck(url: string, echo: string, { token, encodingAESKey, at = Date.now(), nonce = '1372623149' }: BotCallbackOptions): Request {
  const echostr = encryptMessage(aesKeyFrom(encodingAESKey), '', echo)
  const timestamp = String(Math.floor(at / 1000))
  const q = new URLSearchParams({ msg_signature: wechatSignature(token, timestamp, nonce, echostr), timestamp, nonce, echostr })
  return new Request(`${url}?${q}`)
}
