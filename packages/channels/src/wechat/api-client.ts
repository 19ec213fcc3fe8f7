import { z } from 'zod'
import { httpGet, httpPost, sendError, storeAttachment, type HttpGetAnswer, type Attachment, type BlobStore, type SendError, type SendErrorCode } from '@intake/core'

/**
 * The few WeChat server APIs the adapter calls (https://developers.weixin.qq.com/doc/service/api/):
 *   GET  /cgi-bin/token?grant_type=client_credential&appid&secret     → { access_token, expires_in }
 *   POST /cgi-bin/message/custom/send?access_token                     → { errcode, errmsg }
 *   GET  /cgi-bin/media/get?access_token&media_id                      → the bytes, or JSON with errcode
 * Every answer is HTTP 200; a failure is `{ errcode, errmsg }` in the body (global return codes:
 * https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html).
 *
 * URLs carry the appsecret or the access token in their query string, so no URL is ever put in a
 * log line or an error message here.
 */

const ErrorBody = z.object({ errcode: z.number().int(), errmsg: z.string().default('') }).passthrough()
const TokenBody = z.object({ access_token: z.string().min(1), expires_in: z.number().int().positive() })

interface ErrcodeMeaning {
  code: SendErrorCode
  meaning: string
  retryAfterMs?: number
}

/** WeChat's return codes, mapped to the send-error taxonomy. */
const ERRCODES: Record<number, ErrcodeMeaning> = {
  [-1]: { code: 'connection', meaning: 'WeChat is busy (system error), try again later' },
  40001: { code: 'unknown', meaning: 'the access token was refused even after a refresh: another process may be fetching tokens for the same appid, or the appsecret is wrong' },
  40002: { code: 'config', meaning: 'invalid grant_type' },
  40003: { code: 'invalid_recipient', meaning: 'invalid openid: not a follower of this account' },
  40013: { code: 'config', meaning: 'invalid appid' },
  40014: { code: 'unknown', meaning: 'the access token is not valid even after a refresh' },
  40125: { code: 'config', meaning: 'invalid appsecret' },
  40164: { code: 'config', meaning: "this server's IP address is not on the account's API whitelist" },
  41001: { code: 'config', meaning: 'access_token missing' },
  41002: { code: 'config', meaning: 'appid missing' },
  41004: { code: 'config', meaning: 'appsecret missing' },
  42001: { code: 'unknown', meaning: 'the access token expired again right after a refresh' },
  43004: { code: 'stopped', meaning: 'the citizen no longer follows the account (require subscribe)' },
  45002: { code: 'rejected', meaning: 'content size out of limit' },
  45009: { code: 'throttled', meaning: "the account's daily API quota is used up", retryAfterMs: 60 * 60_000 },
  // Customer-service messages may only answer within 48 hours of the citizen's last message
  // (https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage).
  45015: {
    code: 'rejected',
    meaning:
      "outside WeChat's 48-hour reply window (response out of time limit): the citizen has not written for more than 48 hours, so the account may not message them; the status page link reaches them with the acknowledgement of their next message",
  },
  // Per follower, at most a handful of customer-service messages per message they send.
  45047: { code: 'throttled', meaning: 'out of response count limit: too many messages since the citizen last wrote', retryAfterMs: 10 * 60_000 },
  47001: { code: 'rejected', meaning: 'data format error' },
  48001: { code: 'config', meaning: 'api unauthorized: the account may not use the customer-service API' },
}

/** WeChat may answer `access_token expired` (42001), `invalid credential` (40001) or `invalid access_token` (40014). */
export const TOKEN_REFUSED = new Set([40001, 40014, 42001])

export function classifyErrcode(errcode: number, errmsg: string, api: string): SendError {
  const known = ERRCODES[errcode]
  const code = known?.code ?? 'unknown'
  const message = `[wechat] ${api} answered errcode ${errcode}: ${known?.meaning ?? errmsg.slice(0, 200)}`
  const retryable = code === 'throttled' || code === 'connection' || code === 'unknown'
  return { code, retryable, message, ...(known?.retryAfterMs ? { retryAfterMs: known.retryAfterMs } : {}) }
}

/** A token fetch that failed, already classified for the outbox. */
export class TokenError extends Error {
  constructor(readonly sendError: SendError) {
    super(sendError.message)
  }
}

export interface AccessTokensOptions {
  baseUrl: string
  appId: string
  appSecret: string
  now: () => number
  /** Refresh this long before WeChat's expiry (default 300 s, WeChat's overlap of old and new tokens). */
  refreshMarginMs: number
  timeoutMs: number
  /** The token URL, when not WeChat's (WeCom: `/cgi-bin/gettoken?corpid&corpsecret`). */
  tokenUrl?: string
  /**
   * `classic` (default): GET /cgi-bin/token, for one process per AppID. `stable`: POST
   * /cgi-bin/stable_token, for several processes sharing an AppID — see accessTokens.
   */
  endpoint?: 'classic' | 'stable'
}

export interface AccessTokens {
  /** A valid token, fetched once and cached until shortly before it expires. Throws TokenError. */
  get(timeoutMs?: number): Promise<string>
  /** WeChat refused this token (40001/42001): the next `get` fetches a new one. */
  invalidate(token: string): void
}

/**
 * The access token cache. It uses GET /cgi-bin/token (https://developers.weixin.qq.com/doc/service/api/base/api_getaccesstoken):
 * a token lives `expires_in` seconds (7200 today) and fetching a new one retires the old after a
 * five-minute overlap, so the cache refreshes `refreshMarginMs` ahead and concurrent callers share
 * one fetch. One process should hold an appid's token: several processes fetching in turn retire
 * each other's tokens (WeChat's own advice is one central token holder, 中控服务器).
 */
export function accessTokens({ baseUrl, appId, appSecret, now, refreshMarginMs, timeoutMs, tokenUrl, endpoint = 'classic' }: AccessTokensOptions): AccessTokens {
  let cached: { token: string; refreshAt: number } | undefined
  let inFlight: Promise<string> | undefined
  /** stable: the token WeChat refused last; if normal mode hands it out again, force a new one. */
  let refused: string | undefined

  /**
   * The stable-token call (https://developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken):
   * in normal mode every caller within the token's life gets the same token, so processes sharing
   * an AppID no longer retire each other's (WeChat holds it for them, and renews it 5 minutes
   * ahead). force_refresh retires the current token for everyone and is limited to 20 a day, 30 s
   * apart: it is used only when normal mode answers with the very token just refused — never on a
   * refusal alone, or two processes would take turns retiring each other's token.
   */
  async function fetchStable(timeout: number): Promise<{ status: number; text: string }> {
    const post = async (forceRefresh: boolean) => {
      const body = JSON.stringify({ grant_type: 'client_credential', appid: appId, secret: appSecret, force_refresh: forceRefresh })
      return httpPost(`${baseUrl}/cgi-bin/stable_token`, body, { headers: { 'content-type': 'application/json' }, timeoutMs: timeout, maxAnswerBytes: 16 * 1024 })
    }
    const first = await post(false)
    if (refused === undefined || first.status !== 200) return first
    const token = TokenBody.safeParse(safeJson(first.text))
    if (!token.success || token.data.access_token !== refused) return first
    return post(true)
  }

  async function fetchToken(timeout: number): Promise<string> {
    let answer: { status: number; text: string }
    try {
      if (endpoint === 'stable') answer = await fetchStable(timeout)
      else {
        const url = tokenUrl ?? `${baseUrl}/cgi-bin/token?grant_type=client_credential&appid=${encodeURIComponent(appId)}&secret=${encodeURIComponent(appSecret)}`
        const got = await httpGet(url, { timeoutMs: timeout, maxBytes: 16 * 1024 })
        answer = { status: got.status, text: got.body.toString('utf8') }
      }
    } catch (err) {
      throw new TokenError({ code: 'connection', retryable: true, message: `[wechat] token endpoint unreachable: ${(err as Error).message}` })
    }
    if (answer.status >= 500) throw new TokenError({ code: 'connection', retryable: true, message: `[wechat] token endpoint answered HTTP ${answer.status}` })
    let json: unknown
    try {
      json = JSON.parse(answer.text)
    } catch {
      throw new TokenError({ code: 'connection', retryable: true, message: `[wechat] token endpoint answered HTTP ${answer.status} without JSON` })
    }
    const token = TokenBody.safeParse(json)
    if (token.success) {
      refused = undefined
      const lifeMs = token.data.expires_in * 1000
      cached = { token: token.data.access_token, refreshAt: now() + lifeMs - Math.min(refreshMarginMs, lifeMs / 2) }
      return token.data.access_token
    }
    const error = ErrorBody.safeParse(json)
    if (error.success) throw new TokenError(classifyErrcode(error.data.errcode, error.data.errmsg, 'the token endpoint'))
    throw new TokenError({ code: 'unknown', retryable: true, message: '[wechat] token endpoint answered neither a token nor an errcode' })
  }

  return {
    async get(timeout = timeoutMs) {
      if (cached && now() < cached.refreshAt) return cached.token
      inFlight ??= fetchToken(timeout).finally(() => {
        inFlight = undefined
      })
      return inFlight
    },
    invalidate(token) {
      if (cached?.token === token) cached = undefined
      refused = token
    },
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

export type CallResult = { ok: true } | { ok: false; error: SendError }

export interface CustomSendOptions {
  baseUrl: string
  tokens: AccessTokens
  timeoutMs: number
}

/**
 * POST one customer-service text message (客服消息). A refused token (40001/42001/40014) is
 * refreshed once and the message sent again within the same call. WeChat's answer carries no
 * message id, so the caller's own id stands for it. There is no idempotency key in this API: a
 * retry after a lost answer can show the citizen the message twice.
 */
export async function sendCustomText({ baseUrl, tokens, timeoutMs }: CustomSendOptions, openid: string, content: string): Promise<CallResult> {
  const body = JSON.stringify({ touser: openid, msgtype: 'text', text: { content } })
  for (let attempt = 0; ; attempt++) {
    let token: string
    try {
      token = await tokens.get()
    } catch (err) {
      if (err instanceof TokenError) return { ok: false, error: err.sendError }
      throw err
    }
    let res
    try {
      res = await httpPost(`${baseUrl}/cgi-bin/message/custom/send?access_token=${encodeURIComponent(token)}`, body, {
        headers: { 'content-type': 'application/json; charset=utf-8' },
        timeoutMs,
      })
    } catch (err) {
      const e = err as Error & { code?: string }
      return sendError('connection', `[wechat] customer-service API unreachable: ${e.code ?? e.name}: ${e.message}`)
    }
    if (res.status >= 500) return sendError('connection', `[wechat] customer-service API answered HTTP ${res.status}`)
    if (res.status !== 200) return sendError('unknown', `[wechat] customer-service API answered HTTP ${res.status}`)
    let json: unknown
    try {
      json = JSON.parse(res.text)
    } catch {
      return sendError('unknown', '[wechat] customer-service API answered without JSON')
    }
    const answer = ErrorBody.safeParse(json)
    if (!answer.success) return sendError('unknown', '[wechat] customer-service API answered without an errcode')
    if (answer.data.errcode === 0) return { ok: true }
    if (TOKEN_REFUSED.has(answer.data.errcode) && attempt === 0) {
      tokens.invalidate(token)
      continue
    }
    return { ok: false, error: classifyErrcode(answer.data.errcode, answer.data.errmsg, 'the customer-service API') }
  }
}

export interface MediaDownloadOptions {
  baseUrl: string
  tokens: AccessTokens
  blobs: BlobStore
  maxBytes: number
  /** Whole budget for the token and the download: the passive reply must leave within WeChat's 5 s. */
  timeoutMs: number
}

export type MediaResult = { ok: true; attachment: Attachment } | { ok: false; reason: string }

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'audio/amr': 'amr',
  'audio/speex': 'speex',
  'audio/mpeg': 'mp3',
  'video/mp4': 'mp4',
}

/** What a voice message's `Format` says the bytes are, when the download's Content-Type does not. */
const FORMAT_TYPES: Record<string, string> = { amr: 'audio/amr', speex: 'audio/speex', mp3: 'audio/mpeg' }

/**
 * Download a temporary media item (图片, 语音, 视频 sent by the citizen; kept by WeChat for 3 days)
 * into the blob store: GET /cgi-bin/media/get (https://developers.weixin.qq.com/doc/service/api/material/temporary/api_getmedia).
 * The API answers errors as JSON with HTTP 200 ({"errcode":40007,"errmsg":"invalid media_id"}),
 * and video as JSON `{ video_url }` to fetch from. Failures are values: the message still becomes a case.
 */
export async function downloadMedia(opts: MediaDownloadOptions, mediaId: string, hint: { kind: 'image' | 'voice' | 'video'; format?: string }): Promise<MediaResult> {
  const clock = Date.now
  const deadline = clock() + opts.timeoutMs
  const left = () => Math.max(1, deadline - clock())
  for (let attempt = 0; ; attempt++) {
    let token: string
    try {
      token = await opts.tokens.get(left())
    } catch (err) {
      if (err instanceof TokenError) return { ok: false, reason: err.message }
      throw err
    }
    let answer: HttpGetAnswer
    try {
      answer = await httpGet(`${opts.baseUrl}/cgi-bin/media/get?access_token=${encodeURIComponent(token)}&media_id=${encodeURIComponent(mediaId)}`, {
        timeoutMs: left(),
        maxBytes: opts.maxBytes,
      })
    } catch (err) {
      return { ok: false, reason: `media download failed: ${(err as Error).message}` }
    }
    if (answer.status !== 200) return { ok: false, reason: `media API answered HTTP ${answer.status}` }
    const contentType = String(answer.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    if (contentType === 'application/json' || contentType === 'text/plain') {
      let json: unknown
      try {
        json = JSON.parse(answer.body.toString('utf8'))
      } catch {
        return { ok: false, reason: 'media API answered text that is not JSON' }
      }
      const video = z.object({ video_url: z.string().url() }).safeParse(json)
      if (video.success) return fetchVideo(opts, video.data.video_url, left())
      const error = ErrorBody.safeParse(json)
      if (!error.success) return { ok: false, reason: 'media API answered JSON without media' }
      if (TOKEN_REFUSED.has(error.data.errcode) && attempt === 0) {
        opts.tokens.invalidate(token)
        continue
      }
      return { ok: false, reason: `media API answered errcode ${error.data.errcode}: ${error.data.errmsg.slice(0, 200)}` }
    }
    const type = contentType && contentType !== 'application/octet-stream' ? contentType : (FORMAT_TYPES[hint.format?.toLowerCase() ?? ''] ?? (hint.kind === 'image' ? 'image/jpeg' : 'application/octet-stream'))
    return store(opts.blobs, answer.body, type, dispositionName(answer.headers['content-disposition']) ?? `${hint.kind}.${EXTENSIONS[type] ?? 'bin'}`)
  }
}

async function fetchVideo(opts: MediaDownloadOptions, url: string, timeoutMs: number): Promise<MediaResult> {
  // The video URL points at WeChat's CDN and carries its own signature: no token goes with it.
  if (!/^https?:\/\//.test(url)) return { ok: false, reason: 'the video URL is not http(s)' }
  try {
    const answer = await httpGet(url, { timeoutMs, maxBytes: opts.maxBytes })
    if (answer.status !== 200) return { ok: false, reason: `video download answered HTTP ${answer.status}` }
    const type = String(answer.headers['content-type'] ?? 'video/mp4').split(';')[0]!.trim() || 'video/mp4'
    return store(opts.blobs, answer.body, type, `video.${EXTENSIONS[type] ?? 'mp4'}`)
  } catch (err) {
    return { ok: false, reason: `video download failed: ${(err as Error).message}` }
  }
}

async function store(blobs: BlobStore, bytes: Buffer, contentType: string, filename: string): Promise<MediaResult> {
  return { ok: true, attachment: await storeAttachment(blobs, { bytes: new Uint8Array(bytes), contentType, filename }) }
}

/** `attachment; filename="MEDIA_ID.jpg"` → a safe base name, or undefined. */
function dispositionName(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header
  const m = value ? /filename="?([^";]+)"?/i.exec(value) : null
  const name = m?.[1]?.split(/[\\/]/).pop()?.replace(/[^\w.\-]/g, '_').slice(-100)
  return name && /[A-Za-z0-9]/.test(name) ? name : undefined
}
