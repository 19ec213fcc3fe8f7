import { createHash } from 'node:crypto'
import { httpPost, nonceMemory, sendError, type ChannelAdapter, type HandledOutcome, type InboundOutcome, type RawRequest, type RouteContext, type SendResult, type Verification } from '@intake/core'
import { fitText } from '../shared/fit-text.ts'
import { aesKeyFrom, decryptMessage, DecryptError, signatureMatches, wechatSignature } from '../shared/wechat-crypto.ts'
import { accessTokens, classifyErrcode, TOKEN_REFUSED, TokenError, type AccessTokens } from '../wechat/api-client.ts'
import { BotCallback, Envelope } from './schema.ts'

export interface WecomBotOptions {
  /** The Token of the bot's API settings (3–32 letters and digits). */
  token: string
  /** The EncodingAESKey of the bot's API settings (43 characters). */
  encodingAESKey: string
  /**
   * Each village group's message-push webhook key (消息推送, formerly 群机器人), by chatid: answers go
   * to the group with the resident mentioned. A group without a key gets nothing (a config error).
   */
  groups: Record<string, string>
  /**
   * Answer privately instead, through the WeCom app (`/cgi-bin/message/send`): only members of the
   * corp can be reached this way; external residents are answered in their group.
   */
  replyPrivately?: { corpId: string; corpSecret: string; agentId: number }
  /** Where WeCom's server API lives (default https://qyapi.weixin.qq.com); tests point it at the stand-in. */
  apiBaseUrl?: string
  /** How far a callback's timestamp may be from our clock (default 300 s). */
  toleranceSeconds?: number
  timeoutMs?: number
  now?: () => number
}

/** The message-push webhook's limit on a text message, in UTF-8 bytes (errcode 45002 beyond it). */
export const WEBHOOK_TEXT_MAX_BYTES = 2048

/** A resident in a group is `${chatid}:${userid}` (one case per resident per group); in a single chat `${userid}`. */
export const residentAddress = (chatid: string | undefined, userid: string) => (chatid ? `${chatid}:${userid}` : userid)
export function parseResident(id: string): { chatid?: string; userid: string } {
  const at = id.lastIndexOf(':')
  return at > 0 ? { chatid: id.slice(0, at), userid: id.slice(at + 1) } : { userid: id }
}

/** Internal members have plain userids; external contacts' ids start with wo / wm (客户联系). */
const isExternal = (userid: string) => /^w[om][A-Za-z0-9_-]{10,}$/.test(userid)

/** "@村务助手 路灯坏了" → "路灯坏了": the mention that brought the message to the bot is not part of it. */
const withoutMentions = (text: string) => text.replace(/^(\s*@\S+)+\s*/u, '').trim()

/**
 * A WeCom intelligent bot (企业微信智能机器人, API mode) in village groups.
 *
 * - In: WeCom posts each message that mentions the bot in a group (or is written to it in a single
 *   chat) to `/channels/<id>/callback` as `{ encrypt }`; msg_signature = sha1(sort(token, timestamp,
 *   nonce, encrypt)) is checked first, then the timestamp window and the nonce (the same nonce with
 *   another body is refused; WeCom's own retry, same body, is taken once),
 *   then the message is decrypted with the EncodingAESKey — the WeChat scheme (shared/wechat-crypto.ts)
 *   with "" as the receive id. The URL check (GET, encrypted echostr) is answered with the plaintext.
 *   Each resident in each group has their own case (`${chatid}:${userid}`); msgid is the external id.
 *   Events and message types that carry no appeal are ignored with their name.
 * - Out: to the group through its message-push webhook, mentioning the resident; or, with
 *   `replyPrivately`, to a corp member through the WeCom app.
 *
 * @example
 * channels: {
 *   village: wecomBot({ token: env.WECOM_BOT_TOKEN, encodingAESKey: env.WECOM_BOT_AES_KEY,
 *                       groups: { wrkSFfCgAAxxxx: env.WECOM_GROUP_KEY_XIAOCUN } }),
 * }
 */
export function wecomBot({
  token,
  encodingAESKey,
  groups,
  replyPrivately,
  apiBaseUrl = 'https://qyapi.weixin.qq.com',
  toleranceSeconds = 300,
  timeoutMs = 10_000,
  now = Date.now,
}: WecomBotOptions): ChannelAdapter {
  if (typeof token !== 'string' || !/^[A-Za-z0-9]{3,32}$/.test(token)) throw new Error('[wecom-bot] token: expected 3–32 letters and digits, as in the bot’s API settings')
  let key: Buffer
  try {
    key = aesKeyFrom(encodingAESKey)
  } catch (err) {
    throw new Error(`[wecom-bot] encodingAESKey: ${(err as Error).message}`)
  }
  if (!groups || typeof groups !== 'object') throw new Error('[wecom-bot] groups: expected { chatid: webhook key }')
  for (const [chat, k] of Object.entries(groups)) {
    if (!/^[A-Za-z0-9-]{8,64}$/.test(k)) throw new Error(`[wecom-bot] groups.${chat}: expected the webhook key (the key= of the group's push URL)`)
  }
  if (replyPrivately && (!/^ww[0-9a-f]{8,32}$/i.test(replyPrivately.corpId) || !(replyPrivately.corpSecret?.length >= 16) || !Number.isInteger(replyPrivately.agentId))) {
    throw new Error('[wecom-bot] replyPrivately: expected { corpId: "ww…", corpSecret, agentId }')
  }
  if (!/^https?:\/\/[^/]+/.test(apiBaseUrl)) throw new Error(`[wecom-bot] apiBaseUrl: expected an http(s) URL, got "${apiBaseUrl}"`)
  const baseUrl = apiBaseUrl.replace(/\/+$/, '')
  const nonces = nonceMemory({ windowMs: 2 * toleranceSeconds * 1000 })
  const tokens: AccessTokens | undefined = replyPrivately
    ? accessTokens({
        baseUrl,
        appId: replyPrivately.corpId,
        appSecret: replyPrivately.corpSecret,
        now,
        refreshMarginMs: 300_000,
        timeoutMs,
        tokenUrl: `${baseUrl}/cgi-bin/gettoken?corpid=${encodeURIComponent(replyPrivately.corpId)}&corpsecret=${encodeURIComponent(replyPrivately.corpSecret)}`,
      })
    : undefined
  const plaintexts = new WeakMap<RawRequest, string>()
  const deny = (status: 400 | 401, code: string, message: string): Verification => ({ ok: false, error: { status, code, message } })

  function open(encrypted: string): { ok: true; message: string } | { ok: false; error: Verification } {
    try {
      const { message, appId } = decryptMessage(key, encrypted)
      // An intelligent bot's messages are sealed for the receive id "" (the docs: ReceiveId 为 "").
      if (appId !== '') return { ok: false, error: deny(401, 'receiver_mismatch', 'the message is sealed for another receiver') }
      return { ok: true, message }
    } catch (err) {
      if (err instanceof DecryptError) return { ok: false, error: deny(401, 'decrypt_failed', 'the message does not decrypt with the EncodingAESKey') }
      throw err
    }
  }

  function verify(req: RawRequest, ctx: RouteContext): Verification {
    const q = req.url.searchParams
    const timestamp = q.get('timestamp')
    const nonce = q.get('nonce')
    const signature = q.get('msg_signature')
    if (!timestamp || !nonce || !signature) return deny(401, 'missing_signature', 'expected msg_signature, timestamp and nonce in the query string')
    if (nonce.length > 64) return deny(401, 'bad_signature', 'the nonce is too long')
    let encrypted: string
    if (req.method === 'GET') {
      encrypted = q.get('echostr') ?? ''
      if (!encrypted) return deny(400, 'missing_echostr', 'a URL check carries echostr')
    } else {
      let body: unknown
      try {
        body = JSON.parse(req.text())
      } catch {
        return deny(400, 'malformed_json', 'the callback body is not JSON')
      }
      const envelope = Envelope.safeParse(body)
      if (!envelope.success) return deny(400, 'missing_field', 'expected { "encrypt": "…" }')
      encrypted = envelope.data.encrypt
    }
    if (!signatureMatches(wechatSignature(token, timestamp, nonce, encrypted), signature)) return deny(401, 'bad_signature', 'msg_signature does not match')
    if (!/^\d{1,12}$/.test(timestamp) || Math.abs(ctx.now() / 1000 - Number(timestamp)) > toleranceSeconds) {
      return deny(401, 'stale_timestamp', `the timestamp is more than ${toleranceSeconds}s from our clock`)
    }
    // WeCom: "nonce 两个小时内保证不重复". The same nonce with the same body is WeCom's own retry
    // (intake is idempotent on msgid); with another body it is a replay, refused.
    const fingerprint = createHash('sha256').update(req.body).digest('hex')
    if (nonces.check(`${timestamp}:${nonce}`, fingerprint, ctx.now()) === 'conflict') {
      return deny(401, 'replayed_nonce', 'this timestamp and nonce were already used for another callback')
    }
    const opened = open(encrypted)
    if (!opened.ok) return opened.error
    plaintexts.set(req, opened.message)
    return { ok: true }
  }

  async function parse(req: RawRequest, ctx: RouteContext): Promise<InboundOutcome> {
    const plaintext = plaintexts.get(req)!
    if (req.method === 'GET') return { ignored: 'URL check' }
    let json: unknown
    try {
      json = JSON.parse(plaintext)
    } catch {
      return { rejected: { status: 400, code: 'malformed_json', message: 'the decrypted callback is not JSON' } }
    }
    const parsed = BotCallback.safeParse(json)
    if (!parsed.success) return { rejected: { status: 400, code: 'invalid_message', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } }
    const m = parsed.data
    if (m.msgtype === 'event') return { ignored: `event ${m.event?.eventtype ?? '(unnamed)'} is not a message` }
    let text: string | undefined
    if (m.msgtype === 'text') text = m.text?.content
    else if (m.msgtype === 'voice') text = m.voice?.content // WeCom transcribes voice to text itself
    else if (m.msgtype === 'mixed') text = m.mixed?.msg_item.map((i) => i.text?.content ?? (i.msgtype === 'image' ? '[图片]' : '')).filter(Boolean).join('\n')
    else return { ignored: `message type "${m.msgtype}" is not taken on this channel` }
    if (!m.msgid || !m.from) return { rejected: { status: 400, code: 'missing_field', message: `a ${m.msgtype} message carries msgid and from.userid` } }
    if (m.chattype === 'group' && !m.chatid) return { rejected: { status: 400, code: 'missing_field', message: 'a group message carries chatid' } }
    const body = withoutMentions(text ?? '')
    if (!body) return { ignored: `message ${m.msgid} only mentions the bot` }
    const chat = m.chattype === 'group' ? m.chatid : undefined
    return {
      messages: [
        {
          channelId: ctx.channelId,
          externalId: m.msgid,
          from: { channelId: ctx.channelId, id: residentAddress(chat, m.from.userid) },
          ...(chat ? { to: chat } : {}),
          text: body,
          receivedAt: ctx.now(),
          raw: json,
        },
      ],
    }
  }

  // WeCom's documented answer to a callback we do not reply to inline: an empty 200 (回复空包).
  const respond = (_handled: HandledOutcome, req: RawRequest) =>
    req.method === 'GET'
      ? new Response(plaintexts.get(req) ?? '', { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' } })
      : new Response('', { status: 200 })

  async function postJson(path: string, body: unknown, api: string): Promise<{ ok: true; json: { errcode: number; errmsg?: string; msgid?: string; invaliduser?: string } } | { ok: false; result: SendResult }> {
    let res
    try {
      res = await httpPost(`${baseUrl}${path}`, JSON.stringify(body), { headers: { 'content-type': 'application/json; charset=utf-8' }, timeoutMs })
    } catch (err) {
      const e = err as Error & { code?: string }
      return { ok: false, result: sendError('connection', `[wecom-bot] ${api} unreachable: ${e.code ?? e.name}: ${e.message}`) }
    }
    if (res.status >= 500) return { ok: false, result: sendError('connection', `[wecom-bot] ${api} answered HTTP ${res.status}`) }
    try {
      const json = JSON.parse(res.text)
      if (typeof json?.errcode === 'number') return { ok: true, json }
    } catch {
      // fall through
    }
    return { ok: false, result: sendError('unknown', `[wecom-bot] ${api} answered HTTP ${res.status} without an errcode`) }
  }

  const classify = (errcode: number, errmsg: string, api: string): SendResult => {
    // 93000: the webhook key is not valid (the robot was removed from the group, or the key is wrong).
    if (errcode === 93000) return { ok: false, error: { code: 'config', retryable: false, message: `[wecom-bot] ${api} answered errcode 93000: invalid webhook key (was the robot removed from the group?)` } }
    // 81013: none of the recipients is reachable by this app (UserID not in the app's visible range).
    if (errcode === 81013) return { ok: false, error: { code: 'invalid_recipient', retryable: false, message: `[wecom-bot] ${api} answered errcode 81013: the user is outside the app's visible range` } }
    const error = classifyErrcode(errcode, errmsg, api)
    return { ok: false, error: { ...error, message: error.message.replace('[wechat]', '[wecom-bot]') } }
  }

  async function sendToGroup(chatid: string, userid: string, text: string, id: string): Promise<SendResult> {
    const webhook = groups[chatid]
    if (!webhook) return { ok: false, error: { code: 'config', retryable: false, message: `[wecom-bot] no webhook key configured for group ${chatid}` } }
    const sent = await postJson(`/cgi-bin/webhook/send?key=${encodeURIComponent(webhook)}`, { msgtype: 'text', text: { content: text, mentioned_list: [userid] } }, 'the group webhook')
    if (!sent.ok) return sent.result
    // The webhook answers no message id: our own id stands for the delivery.
    return sent.json.errcode === 0 ? { ok: true, providerId: id } : classify(sent.json.errcode, sent.json.errmsg ?? '', 'the group webhook')
  }

  async function sendPrivately(userid: string, text: string, id: string): Promise<SendResult> {
    for (let attempt = 0; ; attempt++) {
      let accessToken: string
      try {
        accessToken = await tokens!.get()
      } catch (err) {
        if (err instanceof TokenError) return { ok: false, error: { ...err.sendError, message: err.sendError.message.replace('[wechat]', '[wecom-bot]') } }
        throw err
      }
      const sent = await postJson(
        `/cgi-bin/message/send?access_token=${encodeURIComponent(accessToken)}`,
        { touser: userid, msgtype: 'text', agentid: replyPrivately!.agentId, text: { content: text } },
        'the app message API',
      )
      if (!sent.ok) return sent.result
      if (sent.json.errcode === 0) return sent.json.invaliduser ? classify(81013, '', 'the app message API') : { ok: true, providerId: sent.json.msgid ?? id }
      if (TOKEN_REFUSED.has(sent.json.errcode) && attempt === 0) {
        tokens!.invalidate(accessToken)
        continue
      }
      return classify(sent.json.errcode, sent.json.errmsg ?? '', 'the app message API')
    }
  }

  const route = { path: '/callback', maxBodyBytes: 256 * 1024, verify, parse, respond }
  return {
    kind: 'wecom-bot',
    capabilities: { groups: true, maxText: Math.floor(WEBHOOK_TEXT_MAX_BYTES / 3) },
    secrets: [token, encodingAESKey, ...Object.values(groups), ...(replyPrivately ? [replyPrivately.corpSecret] : [])],
    routes: [
      { method: 'GET', ...route },
      { method: 'POST', ...route },
    ],
    async send(msg): Promise<SendResult> {
      const { chatid, userid } = parseResident(msg.to.id)
      const text = fitText(msg.text, WEBHOOK_TEXT_MAX_BYTES, msg.statusUrl)
      if (replyPrivately && !isExternal(userid)) return sendPrivately(userid, text, msg.id)
      if (!chatid) {
        return { ok: false, error: { code: 'config', retryable: false, message: '[wecom-bot] a single-chat resident can be answered only with replyPrivately (the bot cannot start a single chat)' } }
      }
      return sendToGroup(chatid, userid, text, msg.id)
    },
  }
}
