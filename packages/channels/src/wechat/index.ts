import { createHash, randomInt } from 'node:crypto'
import { nonceMemory, type ChannelAdapter, type ChannelError, type HandledOutcome, type InboundMessageInput, type InboundOutcome, type InboundRoute, type RawRequest, type RouteContext, type SendResult, type Verification } from '@intake/core'
import { accessTokens, downloadMedia, sendCustomText, type AccessTokens, type MediaResult } from './api-client.ts'
import { fitText } from '../shared/fit-text.ts'
import { aesKeyFrom, decryptMessage, DecryptError, encryptMessage, signatureMatches, wechatSignature } from '../shared/wechat-crypto.ts'
import { describeIssues, EventPush, ImagePush, LinkPush, LocationPush, PushHeader, TextPush, VideoPush, VoicePush } from './schema.ts'
import { leafFields, parseXml, writeXml, XmlError, type XmlElement } from './xml.ts'

export { aesKeyFrom, decryptMessage, encryptMessage, wechatSignature } from '../shared/wechat-crypto.ts'
export { fitText } from '../shared/fit-text.ts'
export { cdata, leafFields, parseXml, writeXml, XmlError } from './xml.ts'
export { classifyErrcode } from './api-client.ts'

/**
 * 明文模式 plain: pushes and replies in clear. 兼容模式 compatible: pushes carry both, replies may be
 * either (we encrypt when the push was). 安全模式 safe: ciphertext only, both ways (WeChat's advice).
 */
export type WechatMode = 'plain' | 'compatible' | 'safe'

export interface WechatOptions {
  /** The Token set on the account's server configuration page (3–32 letters and digits). */
  token: string
  /** The account's AppID (wx…): fetches access tokens, and every encrypted message must be sealed for it. */
  appId: string
  /** The AppSecret: access tokens for replies and media downloads. */
  appSecret: string
  /** Message encryption mode (消息加解密方式), as chosen on the account; default plain. */
  mode?: WechatMode
  /**
   * The EncodingAESKey (43 characters), required in compatible and safe mode. Give two while
   * changing it: WeChat's FAQ says to try the current key, then the previous, and to answer with
   * the key that worked.
   */
  encodingAESKey?: string | string[]
  /** Where WeChat's server API lives (default https://api.weixin.qq.com); tests point it at the stand-in. */
  apiBaseUrl?: string
  /** How far a push's timestamp may be from our clock (default 300 s): older captures are replays. */
  toleranceSeconds?: number
  /** Passive reply to a new follower (subscribe event); `false` for none. */
  welcome?: string | false
  /** Passive replies to custom-menu events (CLICK, VIEW), by EventKey. */
  menuReplies?: Record<string, string>
  /**
   * Menu buttons (CLICK EventKeys) that ask for the follower's case status (default `STATUS`):
   * taken as a status query, answered with their open cases (or the status of a code sent before).
   */
  statusMenuKeys?: string[]
  /** Largest push accepted (default 64 KiB; WeChat's XML is a few hundred bytes, about 3× in compatible mode). */
  maxBodyBytes?: number
  /** Give up on a customer-service send after this long (default 10 s); the outbox retries. */
  timeoutMs?: number
  /** Budget for fetching a photo or voice note while WeChat waits (default 3 s of its 5 s window). */
  mediaTimeoutMs?: number
  /** Largest media item downloaded (default 10 MiB, WeChat's image limit). */
  maxMediaBytes?: number
  /** Refresh the access token this long before it expires (default 300 s). */
  tokenRefreshMarginSeconds?: number
  /**
   * Where the access token comes from. `classic` (default): GET /cgi-bin/token, one process per
   * AppID (each fetch retires the token other processes hold). `stable`: WeChat's stable-token API,
   * for several gateway processes sharing one AppID: they all get the same token.
   */
  tokenEndpoint?: 'classic' | 'stable'
  /** The clock for the token cache (default Date.now). */
  now?: () => number
  /** The route under /channels/:id that the account's server URL points at (default /messages). */
  path?: string
}

/** WeChat's limit on a customer-service text message's content, in UTF-8 bytes (errcode 45002 beyond it). */
export const CUSTOM_TEXT_MAX_BYTES = 2048
/** The same bound for the passive text reply. */
export const PASSIVE_TEXT_MAX_BYTES = 2048

export const DEFAULT_WELCOME = '您好，欢迎关注。请直接在这里写下您的诉求（可以发文字、语音、图片或位置），我们会回复受理编号，并在这里告诉您办理进展。'

const TOKEN_RULE = /^[A-Za-z0-9]{3,32}$/

interface RequestState {
  /** The push was encrypted with this key: the passive reply is encrypted with it too. */
  key?: Buffer
  /** The decrypted XML of an encrypted push. */
  plaintext?: string
  /** What to echo to a server URL verification. */
  echo?: string
  header?: PushHeader
  /** A passive reply for a push that makes no case (welcome, menu). */
  reply?: string
}

/**
 * A WeChat Official Account (微信公众号). WeChat pushes each follower message to the server URL
 * as XML and waits five seconds for the answer; the acknowledgement with the tracking code goes
 * back in that answer as a passive reply (被动回复). Staff replies and notices go later through the
 * customer-service message API (客服消息), which WeChat allows within 48 hours of the citizen's
 * last message.
 *
 * @example
 * channels: {
 *   wechat: wechatChannel({ token: env.WECHAT_TOKEN, appId: 'wx…', appSecret: env.WECHAT_SECRET,
 *                           mode: 'safe', encodingAESKey: env.WECHAT_AES_KEY }),
 * }
 * // server URL on the account: https://intake.example.gov.cn/channels/wechat/messages
 */
export function wechatChannel({
  token,
  appId,
  appSecret,
  mode = 'plain',
  encodingAESKey,
  apiBaseUrl = 'https://api.weixin.qq.com',
  toleranceSeconds = 300,
  welcome = DEFAULT_WELCOME,
  menuReplies = {},
  statusMenuKeys = ['STATUS'],
  maxBodyBytes = 64 * 1024,
  timeoutMs = 10_000,
  mediaTimeoutMs = 3_000,
  maxMediaBytes = 10 * 1024 * 1024,
  tokenRefreshMarginSeconds = 300,
  tokenEndpoint = 'classic',
  now = Date.now,
  path = '/messages',
}: WechatOptions): ChannelAdapter {
  if (typeof token !== 'string' || !TOKEN_RULE.test(token)) throw new Error('[wechat channel] token: expected 3–32 letters and digits, as on the account’s server configuration')
  if (typeof appId !== 'string' || !/^[A-Za-z0-9_-]{4,64}$/.test(appId)) throw new Error('[wechat channel] appId: expected the account’s AppID (wx…)')
  if (typeof appSecret !== 'string' || appSecret.length < 16) throw new Error('[wechat channel] appSecret: expected the account’s AppSecret')
  if (!['plain', 'compatible', 'safe'].includes(mode)) throw new Error(`[wechat channel] mode: expected plain, compatible or safe, got "${mode}"`)
  const aesKeys = encodingAESKey === undefined ? [] : Array.isArray(encodingAESKey) ? encodingAESKey : [encodingAESKey]
  if (mode !== 'plain' && aesKeys.length === 0) throw new Error(`[wechat channel] encodingAESKey: required in ${mode} mode`)
  const keys = aesKeys.map((k, i) => {
    try {
      return aesKeyFrom(k)
    } catch (err) {
      throw new Error(`[wechat channel] encodingAESKey${aesKeys.length > 1 ? `[${i}]` : ''}: ${(err as Error).message}`)
    }
  })
  if (tokenEndpoint !== 'classic' && tokenEndpoint !== 'stable') throw new Error(`[wechat channel] tokenEndpoint: expected classic or stable, got "${String(tokenEndpoint)}"`)
  if (!/^https?:\/\/[^/]+/.test(apiBaseUrl)) throw new Error(`[wechat channel] apiBaseUrl: expected an http(s) URL, got "${apiBaseUrl}"`)
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds <= 0) throw new Error('[wechat channel] toleranceSeconds: expected a positive number')
  // A plain-mode signature covers token, timestamp and nonce, not the body: without this memory a
  // captured push could be sent again inside the window with another body and another openid.
  const nonces = nonceMemory({ windowMs: 2 * toleranceSeconds * 1000 })
  if (!path.startsWith('/')) throw new Error('[wechat channel] path: expected a path starting with "/"')
  const baseUrl = apiBaseUrl.replace(/\/+$/, '')
  const tokens: AccessTokens = accessTokens({ baseUrl, appId, appSecret, now, refreshMarginMs: tokenRefreshMarginSeconds * 1000, timeoutMs, endpoint: tokenEndpoint })
  const xmlLimits = { maxLength: maxBodyBytes, maxDepth: 6, maxElements: 256 }
  // What verify learns (the decrypted push) and parse decides (the welcome) is kept for respond,
  // keyed by the request: core hands the same RawRequest to verify, parse and respond.
  const requests = new WeakMap<RawRequest, RequestState>()
  const stateOf = (req: RawRequest) => {
    let s = requests.get(req)
    if (!s) requests.set(req, (s = {}))
    return s
  }

  const deny = (status: ChannelError['status'], code: string, message: string): Verification => ({ ok: false, error: { status, code, message } })
  const xmlRejection = (err: XmlError): ChannelError => ({ status: 400, code: err.code, message: err.message })

  /** Try each key (current, then previous); the message must be sealed for our AppID. */
  function open(encrypted: string): { ok: true; key: Buffer; message: string } | { ok: false; error: ChannelError } {
    let sealedFor: string | undefined
    for (const key of keys) {
      try {
        const { message, appId: target } = decryptMessage(key, encrypted)
        if (target === appId) return { ok: true, key, message }
        sealedFor = target
      } catch (err) {
        if (!(err instanceof DecryptError)) throw err
      }
    }
    return sealedFor !== undefined
      ? { ok: false, error: { status: 401, code: 'appid_mismatch', message: 'the message is sealed for another AppID' } }
      : { ok: false, error: { status: 401, code: 'decrypt_failed', message: 'the message does not decrypt with the EncodingAESKey' } }
  }

  function verify(req: RawRequest, ctx: RouteContext): Verification {
    const q = req.url.searchParams
    const timestamp = q.get('timestamp')
    const nonce = q.get('nonce')
    const signature = q.get('signature')
    const msgSignature = q.get('msg_signature')
    if (!timestamp || !nonce || (!signature && !msgSignature)) return deny(401, 'missing_signature', 'expected signature, timestamp and nonce in the query string')
    // WeChat signs only token, timestamp and nonce (the body is not in the plain signature), so a
    // bounded timestamp is what keeps a captured push from being replayed later.
    if (!/^\d{1,12}$/.test(timestamp) || Math.abs(ctx.now() / 1000 - Number(timestamp)) > toleranceSeconds) {
      return deny(401, 'stale_timestamp', `the timestamp is more than ${toleranceSeconds}s from our clock`)
    }
    if (nonce.length > 64) return deny(401, 'bad_signature', 'the nonce is too long')

    if (req.method === 'GET') {
      const echostr = q.get('echostr') ?? ''
      // An encrypted echostr with msg_signature (WXBizMsgCrypt VerifyURL); the Official Account
      // itself sends a plain echostr with `signature`, whatever the mode.
      if (msgSignature && keys.length > 0) {
        if (!signatureMatches(wechatSignature(token, timestamp, nonce, echostr), msgSignature)) return deny(401, 'bad_signature', 'msg_signature does not match')
        const opened = open(echostr)
        if (!opened.ok) return { ok: false, error: opened.error }
        stateOf(req).echo = opened.message
        return { ok: true }
      }
      return signatureMatches(wechatSignature(token, timestamp, nonce), signature) ? { ok: true } : deny(401, 'bad_signature', 'the signature does not match')
    }

    if (!signatureMatches(wechatSignature(token, timestamp, nonce), signature)) return deny(401, 'bad_signature', 'the signature does not match')
    // WeChat's own retry repeats the push as it was (same nonce, same body): intake answers it from the
    // inbox by MsgId. The same nonce with another body is someone replaying a captured URL.
    const fingerprint = createHash('sha256').update(req.body).digest('hex')
    if (nonces.check(`${timestamp}:${nonce}`, fingerprint, ctx.now()) === 'conflict') {
      return deny(401, 'replayed_nonce', 'this timestamp and nonce were already used for another push')
    }
    // The FAQ: no encrypt_type (or "raw") means a clear body; "aes" means it carries <Encrypt>.
    const encrypted = q.get('encrypt_type') === 'aes'
    if (mode === 'plain') return { ok: true }
    if (!encrypted) {
      return mode === 'safe' ? deny(403, 'encryption_required', 'this channel takes encrypted pushes only (safe mode)') : { ok: true }
    }
    if (!msgSignature) return deny(401, 'missing_signature', 'an encrypted push needs msg_signature')
    let encrypt: string | undefined
    try {
      encrypt = leafFields(parseXml(req.text(), xmlLimits)).Encrypt
    } catch (err) {
      if (err instanceof XmlError) return { ok: false, error: xmlRejection(err) }
      throw err
    }
    if (!encrypt) return deny(400, 'missing_field', 'an encrypted push needs <Encrypt>')
    if (!signatureMatches(wechatSignature(token, timestamp, nonce, encrypt), msgSignature)) return deny(401, 'bad_signature', 'msg_signature does not match')
    const opened = open(encrypt)
    if (!opened.ok) return { ok: false, error: opened.error }
    Object.assign(stateOf(req), { key: opened.key, plaintext: opened.message })
    return { ok: true }
  }

  async function fetchMedia(ctx: RouteContext, mediaId: string, hint: { kind: 'image' | 'voice' | 'video'; format?: string }): Promise<MediaResult> {
    const result = await downloadMedia({ baseUrl, tokens, blobs: ctx.blobs, maxBytes: maxMediaBytes, timeoutMs: mediaTimeoutMs }, mediaId, hint)
    if (!result.ok) ctx.log.warn('wechat media not downloaded', { mediaId, kind: hint.kind, reason: result.reason })
    return result
  }

  async function parse(req: RawRequest, ctx: RouteContext): Promise<InboundOutcome> {
    const state = stateOf(req)
    if (req.method === 'GET') {
      state.echo ??= req.url.searchParams.get('echostr') ?? undefined
      if (!state.echo) return { rejected: { status: 400, code: 'missing_echostr', message: 'a server URL verification carries echostr' } }
      return { ignored: 'server URL verification' }
    }

    let root: XmlElement
    try {
      root = parseXml(state.plaintext ?? req.text(), xmlLimits)
    } catch (err) {
      if (err instanceof XmlError) return { rejected: xmlRejection(err) }
      throw err
    }
    if (root.name !== 'xml') return { rejected: { status: 400, code: 'xml_malformed', message: `expected the <xml> root WeChat sends, got <${root.name}>` } }
    const fields = leafFields(root)
    if (!state.plaintext && fields.Encrypt !== undefined && fields.MsgType === undefined) {
      return { rejected: { status: 400, code: 'encrypted_push', message: 'this push is encrypted (safe mode): configure the channel with mode "safe" and the EncodingAESKey' } }
    }
    const header = PushHeader.safeParse(fields)
    if (!header.success) return { rejected: { status: 400, code: 'missing_field', message: describeIssues(header.error) } }
    state.header = header.data
    const h = header.data
    const base = (externalId: string): InboundMessageInput => ({
      channelId: ctx.channelId,
      externalId,
      from: { channelId: ctx.channelId, id: h.FromUserName },
      to: h.ToUserName,
      text: '',
      receivedAt: ctx.now(),
      raw: fields,
    })
    const invalid = (issues: string): InboundOutcome => ({ rejected: { status: 400, code: 'invalid_message', message: `${h.MsgType}: ${issues}` } })

    switch (h.MsgType) {
      case 'text': {
        const m = TextPush.safeParse(fields)
        if (!m.success) return invalid(describeIssues(m.error))
        return { messages: [{ ...base(m.data.MsgId), text: m.data.Content }] }
      }
      case 'image': {
        const m = ImagePush.safeParse(fields)
        if (!m.success) return invalid(describeIssues(m.error))
        const media = await fetchMedia(ctx, m.data.MediaId, { kind: 'image' })
        // Without the bytes, the picture's URL on WeChat's CDN keeps the photo within staff's reach.
        return media.ok
          ? { messages: [{ ...base(m.data.MsgId), attachments: [media.attachment] }] }
          : { messages: [{ ...base(m.data.MsgId), text: m.data.PicUrl ? `[图片] ${m.data.PicUrl}` : '[图片未能下载]' }] }
      }
      case 'voice': {
        const m = VoicePush.safeParse(fields)
        if (!m.success) return invalid(describeIssues(m.error))
        const recognized = m.data.Recognition?.trim()
        if (recognized) return { messages: [{ ...base(m.data.MsgId), text: recognized }] }
        // No recognition: keep the audio (AMR or Speex); core transcribes audio attachments later.
        const media = await fetchMedia(ctx, m.data.MediaId, { kind: 'voice', format: m.data.Format })
        return media.ok
          ? { messages: [{ ...base(m.data.MsgId), attachments: [media.attachment] }] }
          : { messages: [{ ...base(m.data.MsgId), text: '[语音消息，音频未能下载]' }] }
      }
      case 'video':
      case 'shortvideo': {
        const m = VideoPush.safeParse(fields)
        if (!m.success) return invalid(describeIssues(m.error))
        const media = await fetchMedia(ctx, m.data.MediaId, { kind: 'video' })
        return media.ok
          ? { messages: [{ ...base(m.data.MsgId), attachments: [media.attachment] }] }
          : { messages: [{ ...base(m.data.MsgId), text: '[视频消息，视频未能下载]' }] }
      }
      case 'location': {
        const m = LocationPush.safeParse(fields)
        if (!m.success) return invalid(describeIssues(m.error))
        const { Location_X: lat, Location_Y: lon, Label } = m.data
        const label = Label.trim()
        return {
          messages: [{ ...base(m.data.MsgId), text: label || `[位置] ${lat}, ${lon}`, place: { lat, lon, ...(label ? { text: label } : {}) } }],
        }
      }
      case 'link': {
        const m = LinkPush.safeParse(fields)
        if (!m.success) return invalid(describeIssues(m.error))
        const text = [m.data.Title, m.data.Description, m.data.Url].map((s) => s.trim()).filter((s, i, all) => s && all.indexOf(s) === i).join('\n')
        return { messages: [{ ...base(m.data.MsgId), text }] }
      }
      case 'event':
        return handleEvent(fields, h, state, ctx)
      default:
        // A type WeChat adds later: answer "success" so it does not retry, and say why in the log.
        return { ignored: `message type "${h.MsgType}" is not taken on this channel` }
    }
  }

  async function handleEvent(fields: Record<string, string>, h: PushHeader, state: RequestState, ctx: RouteContext): Promise<InboundOutcome> {
    const m = EventPush.safeParse(fields)
    if (!m.success) return { rejected: { status: 400, code: 'invalid_message', message: `event: ${describeIssues(m.error)}` } }
    const { Event: event, EventKey: key } = m.data
    // Events carry no MsgId; WeChat's advice is to tell them apart by FromUserName + CreateTime.
    const id = `${h.FromUserName}:${h.CreateTime}:${event}`
    switch (event) {
      case 'subscribe':
        // A follower who comes back may be written to again.
        await ctx.setOptOut(h.FromUserName, false)
        if (welcome) state.reply = welcome
        return { ignored: `event subscribe (${id}): a new follower${welcome ? ', welcomed' : ''}` }
      case 'unsubscribe':
        await ctx.setOptOut(h.FromUserName, true)
        return { ignored: `event unsubscribe (${id}): the follower left, no more messages to them` }
      case 'CLICK':
        if (key !== undefined && statusMenuKeys.includes(key)) {
          return {
            messages: [
              { channelId: ctx.channelId, externalId: id, from: { channelId: ctx.channelId, id: h.FromUserName }, to: h.ToUserName, text: '', intent: 'status', receivedAt: ctx.now(), raw: fields },
            ],
          }
        }
      // falls through: another button
      case 'VIEW': {
        const reply = key !== undefined ? menuReplies[key] : undefined
        if (reply) state.reply = reply
        return { ignored: `menu event ${event} (${id})${reply ? ', answered with its configured reply' : ''}` }
      }
      default:
        return { ignored: `event ${event} (${id}) is not a message` }
    }
  }

  function respond(handled: HandledOutcome, req: RawRequest, ctx: RouteContext): Response {
    const state = requests.get(req)
    if (req.method === 'GET') {
      return new Response(state?.echo ?? '', { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' } })
    }
    const text =
      handled.kind === 'messages' ? handled.results.map((r) => r.acknowledgement).find((a) => a) : handled.kind === 'ignored' ? state?.reply : undefined
    // "success" is WeChat's documented empty answer: no reply, no retry.
    if (!text || !state?.header) return new Response('success', { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } })
    const seconds = Math.floor(ctx.now() / 1000)
    const reply = writeXml([
      ['ToUserName', state.header.FromUserName],
      ['FromUserName', state.header.ToUserName],
      ['CreateTime', seconds],
      ['MsgType', 'text'],
      ['Content', fitText(text, PASSIVE_TEXT_MAX_BYTES)],
    ])
    if (!state.key) return new Response(reply, { status: 200, headers: { 'content-type': 'application/xml; charset=utf-8' } })
    // The reply to an encrypted push is encrypted too, with the key that opened the push.
    const encrypt = encryptMessage(state.key, appId, reply)
    const nonce = String(randomInt(1_000_000_000))
    const envelope = writeXml([
      ['Encrypt', encrypt],
      ['MsgSignature', wechatSignature(token, String(seconds), nonce, encrypt)],
      ['TimeStamp', seconds],
      ['Nonce', nonce],
    ])
    return new Response(envelope, { status: 200, headers: { 'content-type': 'application/xml; charset=utf-8' } })
  }

  const route = { path, maxBodyBytes, verify, parse, respond }
  return {
    kind: 'wechat',
    // 682 CJK characters fill WeChat's 2048-byte limit; send() shortens by bytes in any case.
    capabilities: { media: true, maxText: Math.floor(CUSTOM_TEXT_MAX_BYTES / 3) },
    secrets: [token, appSecret, ...aesKeys],
    routes: [
      // The server URL check (GET with echostr) and the pushes (POST) share the account's one URL.
      { method: 'GET', ...route },
      { method: 'POST', ...route, acknowledgesInline: true },
    ] satisfies InboundRoute[],

    async send(msg): Promise<SendResult> {
      const result = await sendCustomText({ baseUrl, tokens, timeoutMs }, msg.to.id, fitText(msg.text, CUSTOM_TEXT_MAX_BYTES, msg.statusUrl))
      // The API answers no message id: our own id stands for the delivery.
      return result.ok ? { ok: true, providerId: msg.id } : result
    },
  }
}
