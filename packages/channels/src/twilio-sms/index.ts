import twilio from 'twilio'
import type RequestClient from 'twilio/lib/base/RequestClient'
import { z } from 'zod'
import type {
  Attachment,
  ChannelAdapter,
  DeliveryReport,
  HandledOutcome,
  InboundOutcome,
  RawRequest,
  RouteContext,
  SendResult,
} from '@intake/core'
import { classifyTwilioError, describeTwilioCode } from './errors.ts'
import { fetchMedia, type MediaItem } from './media.ts'
import { countSegments, fitToLength, fitToSegments } from './segments.ts'
import { formParams, isForm, signedUrl, verifyTwilioSignature, type FormParams } from './signature.ts'

export { countSegments, fitToLength, fitToSegments, isGsm7, type SegmentCount, type SmsEncoding } from './segments.ts'
export { formParams, signedUrl, verifyTwilioSignature, SIGNATURE_HEADER } from './signature.ts'
export { classifyTwilioError, describeTwilioCode } from './errors.ts'

export interface TwilioSmsOptions {
  /** The account SID (AC + 32 hex digits). */
  accountSid: string
  /** The account's auth token: signs webhooks, authenticates API calls and media downloads. */
  authToken: string
  /** The sender for SMS, in E.164 (`+14155550100`). Give this or `messagingServiceSid`. */
  from?: string
  /** Send through a Messaging Service (MG…) instead of one number: Twilio picks the sender. */
  messagingServiceSid?: string
  /** The sender for WhatsApp recipients (default `whatsapp:` + `from`). */
  whatsappFrom?: string
  /**
   * The public URL of this channel as typed into the Twilio console, without the route, e.g.
   * `https://hotline.example.gov/channels/sms` (Twilio signs the URL it calls, so behind a proxy that
   * changes host or scheme the signature only checks against the public one). Default: the
   * gateway's `server.publicUrl` + `/channels/<channel id>`. The routes below it are `/messages`
   * (the "A message comes in" webhook) and `/status` (the status callback Intake asks for).
   */
  webhookBaseUrl?: string
  /**
   * Where the SDK sends REST calls, instead of `https://api.twilio.com` (a local stand-in in tests,
   * an egress proxy in production). Media URLs under api.twilio.com are rewritten the same way.
   */
  apiBaseUrl?: string
  /** Longest SMS reply, in segments (1–10, default 5); longer ones end with a link to the status page. */
  maxSegments?: number
  /** The answer to HELP / INFO, sent in the webhook's TwiML; '' answers nothing (Twilio's own HELP reply is on). */
  helpText?: string
  /** Ask Twilio for status callbacks on every reply (default true): delivered / failed on the case. */
  statusCallbacks?: boolean
  /** Largest media item downloaded, in bytes (default 5 MiB, Twilio's MMS limit). */
  maxMediaBytes?: number
  /** Give up on one API call or media download after this long (default 10 s); the outbox retries sends. */
  timeoutMs?: number
}

export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
/** Twilio's Messages API refuses bodies over 1600 characters (error 21617); WhatsApp is held to it too. */
const MAX_BODY_CHARS = 1600
/** Twilio allows up to 10 media items per message (MediaUrl0..MediaUrl9). */
const MAX_MEDIA = 10
const TWILIO_API = 'https://api.twilio.com'

const DEFAULT_HELP =
  'Send your message here and you will get a tracking code. Reply STOP to receive no more messages. ' +
  '直接回复短信即可提交诉求，回复“退订”不再接收短信。'

/**
 * Keywords (whole message, any case) per Twilio's default opt-out handling for long codes
 * (https://help.twilio.com/articles/223134027) plus Chinese 退订 / TD, the customary unsubscribe reply
 * on Chinese SMS. With Advanced Opt-Out, Twilio names the match itself in `OptOutType`.
 */
type Keyword = 'STOP' | 'START' | 'HELP'
const KEYWORDS = new Map<string, Keyword>([
  ...['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT', '退订', 'TD'].map((k) => [k, 'STOP'] as const),
  ...['START', 'YES', 'UNSTOP'].map((k) => [k, 'START'] as const),
  ...['HELP', 'INFO'].map((k) => [k, 'HELP'] as const),
])

const OPT_OUT_TYPES = new Map<string, Keyword>([['STOP', 'STOP'], ['START', 'START'], ['HELP', 'HELP']])

const SID = /^[A-Z]{2}[0-9a-f]{32}$/i

/** The incoming-message webhook (https://www.twilio.com/docs/messaging/guides/webhook-request). */
const IncomingMessage = z.object({
  MessageSid: z.string().regex(SID, 'expected a Twilio message SID (SM/MM + 32 hex digits)'),
  From: z.string().min(1).max(100),
  To: z.string().max(100).optional(),
  Body: z.string().max(MAX_BODY_CHARS * 4).default(''),
  NumMedia: z.coerce.number().int().min(0).max(MAX_MEDIA).default(0),
  ProfileName: z.string().max(200).optional(),
  OptOutType: z.string().max(20).optional(),
  /** WhatsApp: the message this one answers (a swipe-reply). */
  OriginalRepliedMessageSid: z.string().max(64).optional(),
  /** WhatsApp location messages. */
  Latitude: z.coerce.number().min(-90).max(90).optional(),
  Longitude: z.coerce.number().min(-180).max(180).optional(),
  Address: z.string().max(500).optional(),
  Label: z.string().max(500).optional(),
})

/** The status callback (https://www.twilio.com/docs/messaging/guides/track-outbound-message-status). */
const StatusCallback = z.object({
  MessageSid: z.string().regex(SID, 'expected a Twilio message SID'),
  MessageStatus: z.string().min(1).max(40),
  ErrorCode: z.string().max(10).optional(),
})

const xmlEscape = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)
const twiml = (body = EMPTY_TWIML) => new Response(body, { status: 200, headers: { 'content-type': 'text/xml; charset=utf-8' } })

/** The first value of each parameter, for the schema; the signature and the raw record keep them all. */
const firstValues = (params: FormParams) =>
  Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]))

const issues = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')

/**
 * SMS and WhatsApp through Twilio.
 *
 * - In: the number's "A message comes in" webhook points at `/channels/<id>/messages` (HTTP POST).
 *   X-Twilio-Signature is checked first, against `webhookBaseUrl`; a forged request gets 403 and
 *   stores nothing. MessageSid is the message's external id, so a Twilio retry makes no second case.
 *   The answer is empty TwiML: acknowledgements and replies go through the outbox.
 * - Media (MMS, WhatsApp): each MediaUrlN is downloaded with the account's credentials into the
 *   blob store. One that cannot be fetched (404, timeout, too large) does not lose the message: the
 *   case is opened and its text ends with a line staff see, e.g.
 *   `[1 attachment could not be downloaded: HTTP 404]`.
 * - STOP / START (Twilio's standard keywords, 退订, TD; or Twilio's `OptOutType`) record the opt-out
 *   and open no case; the outbox then sends nothing to that number until START. HELP / INFO is
 *   answered in the webhook's TwiML with `helpText`.
 * - Out: `client.messages.create` of the official SDK, from `from` (or `whatsapp:`+from for a
 *   WhatsApp citizen, or a Messaging Service), shortened to `maxSegments` SMS segments (WhatsApp:
 *   1600 characters) with the status page link at the end, and a status callback to
 *   `/channels/<id>/status`, whose delivered / undelivered / failed become delivery reports.
 *   Twilio's error codes map to the send-error taxonomy in errors.ts.
 *
 * @example
 * channels: {
 *   sms: twilioSms({ accountSid: env.TWILIO_ACCOUNT_SID, authToken: env.TWILIO_AUTH_TOKEN, from: '+14155550100',
 *                    webhookBaseUrl: 'https://hotline.example.gov/channels/sms' }),
 * }
 * // tests: twilioSms({ ..., apiBaseUrl: stub.url }) with `startTwilioApiServer` from './twilio-api-server.ts'
 */
export function twilioSms({
  accountSid,
  authToken,
  from,
  messagingServiceSid,
  whatsappFrom = from ? `whatsapp:${from}` : undefined,
  webhookBaseUrl,
  apiBaseUrl,
  maxSegments = 5,
  helpText = DEFAULT_HELP,
  statusCallbacks = true,
  maxMediaBytes = 5 * 1024 * 1024,
  timeoutMs = 10_000,
}: TwilioSmsOptions): ChannelAdapter {
  if (typeof accountSid !== 'string' || !/^AC[0-9a-f]{32}$/i.test(accountSid)) {
    throw new Error('[twilio-sms] accountSid: expected AC followed by 32 hex digits (Twilio console → Account info)')
  }
  if (typeof authToken !== 'string' || authToken.length < 16) {
    throw new Error('[twilio-sms] authToken: expected the account auth token (32 characters)')
  }
  if (!from && !messagingServiceSid) throw new Error('[twilio-sms] from: give a sender number (E.164) or a messagingServiceSid')
  if (from !== undefined && !/^\+[1-9]\d{1,14}$/.test(from)) throw new Error(`[twilio-sms] from: expected an E.164 number like +14155550100, got "${from}"`)
  if (messagingServiceSid !== undefined && !/^MG[0-9a-f]{32}$/i.test(messagingServiceSid)) {
    throw new Error('[twilio-sms] messagingServiceSid: expected MG followed by 32 hex digits')
  }
  if (whatsappFrom !== undefined && !/^whatsapp:\+[1-9]\d{1,14}$/.test(whatsappFrom)) {
    throw new Error(`[twilio-sms] whatsappFrom: expected whatsapp:+<E.164 number>, got "${whatsappFrom}"`)
  }
  for (const [key, value] of [['webhookBaseUrl', webhookBaseUrl], ['apiBaseUrl', apiBaseUrl]] as const) {
    if (value !== undefined && !/^https?:\/\/[^/]/.test(value)) throw new Error(`[twilio-sms] ${key}: expected an http(s) URL, got "${value}"`)
  }
  if (!Number.isInteger(maxSegments) || maxSegments < 1 || maxSegments > 10) {
    // Twilio advises at most 10 segments, and 10 × 153 is about its 1600-character cap anyway.
    throw new Error(`[twilio-sms] maxSegments: expected a whole number from 1 to 10, got ${maxSegments}`)
  }
  if (typeof helpText !== 'string' || helpText.length > MAX_BODY_CHARS) throw new Error('[twilio-sms] helpText: expected a text of at most 1600 characters')
  if (!Number.isInteger(maxMediaBytes) || maxMediaBytes < 1024) throw new Error(`[twilio-sms] maxMediaBytes: expected a whole number of bytes ≥ 1024, got ${maxMediaBytes}`)
  if (!(timeoutMs > 0)) throw new Error(`[twilio-sms] timeoutMs: expected a positive number of milliseconds, got ${timeoutMs}`)

  const apiBase = (apiBaseUrl ?? TWILIO_API).replace(/\/+$/, '')
  /** A URL Twilio gave us (the SDK's, a media item's) as it must be reached from here. */
  const reach = (url: string) => (apiBaseUrl && url.startsWith(TWILIO_API) ? apiBase + url.slice(TWILIO_API.length) : url)
  const trustedOrigins = [new URL(TWILIO_API).origin, new URL(apiBase).origin]
  const client = twilio(accountSid, authToken, { httpClient: new RedirectingRequestClient(reach, timeoutMs) })
  const channelBase = (ctx: { publicUrl: string; channelId: string }) => webhookBaseUrl ?? `${ctx.publicUrl.replace(/\/+$/, '')}/channels/${ctx.channelId}`
  // respond() only sees what the pipeline did; HELP answers are remembered per request here.
  const helpAsked = new WeakSet<RawRequest>()

  const verifyOn = (path: string) =>
    function verify(req: RawRequest, ctx: RouteContext) {
      return verifyTwilioSignature(authToken, req, signedUrl(webhookBaseUrl ?? ctx.publicUrl.replace(/\/+$/, '') + ctx.basePath, path, req.url))
    }

  async function parseIncoming(req: RawRequest, ctx: RouteContext): Promise<InboundOutcome> {
    if (!isForm(req)) {
      return { rejected: { status: 415, code: 'unsupported_media_type', message: 'Twilio posts application/x-www-form-urlencoded' } }
    }
    const params = formParams(req.text())
    const flat = firstValues(params)
    const parsed = IncomingMessage.safeParse(flat)
    if (!parsed.success) return { rejected: { status: 400, code: 'invalid_message', message: issues(parsed.error) } }
    const m = parsed.data

    // NFKC: a Chinese input method may type full-width ＳＴＯＰ.
    const keyword = OPT_OUT_TYPES.get(m.OptOutType?.toUpperCase() ?? '') ?? KEYWORDS.get(m.Body.normalize('NFKC').trim().toUpperCase())
    if (keyword === 'STOP' || keyword === 'START') {
      await ctx.setOptOut(m.From, keyword === 'STOP')
      return { ignored: `opt-${keyword === 'STOP' ? 'out' : 'in'}: ${keyword}` }
    }
    if (keyword === 'HELP') {
      helpAsked.add(req)
      return { ignored: 'help requested' }
    }

    const media: MediaItem[] = []
    for (let i = 0; i < m.NumMedia; i++) {
      const url = flat[`MediaUrl${i}`]
      if (!url) return { rejected: { status: 400, code: 'invalid_message', message: `NumMedia is ${m.NumMedia} but MediaUrl${i} is missing` } }
      media.push({ url: reach(url), contentType: flat[`MediaContentType${i}`] ?? 'application/octet-stream' })
    }
    const results = await Promise.all(
      media.map((item, i) => fetchMedia(item, i, { accountSid, authToken, trustedOrigins, maxBytes: maxMediaBytes, timeoutMs, blobs: ctx.blobs })),
    )
    const attachments: Attachment[] = []
    const failures: string[] = []
    for (const r of results) {
      if (r.ok) attachments.push(r.attachment)
      else failures.push(r.reason)
    }
    if (failures.length) ctx.log.warn('twilio media not downloaded', { messageSid: m.MessageSid, reasons: failures })
    // What staff must know even though the bytes are missing: the citizen sent more than we have.
    const note = failures.length ? `[${failures.length} attachment${failures.length > 1 ? 's' : ''} could not be downloaded: ${[...new Set(failures)].join(', ')}]` : ''
    const located = m.Latitude !== undefined && m.Longitude !== undefined
    // A shared WhatsApp location has no body: the place is the message.
    const body = m.Body || (located ? `[location: ${m.Address ?? m.Label ?? `${m.Latitude}, ${m.Longitude}`}]` : '')
    const text = [body, note].filter(Boolean).join('\n\n')

    return {
      messages: [
        {
          channelId: ctx.channelId,
          externalId: m.MessageSid,
          // The address keeps Twilio's `whatsapp:` prefix: replies must go back on the same network.
          from: { channelId: ctx.channelId, id: m.From, ...(m.ProfileName ? { displayName: m.ProfileName } : {}) },
          to: m.To,
          text,
          attachments,
          ...(located ? { place: { lat: m.Latitude, lon: m.Longitude, text: m.Address ?? m.Label } } : {}),
          threadRefs: m.OriginalRepliedMessageSid ? [m.OriginalRepliedMessageSid] : [],
          receivedAt: ctx.now(),
          raw: params,
        },
      ],
    }
  }

  async function parseStatus(req: RawRequest): Promise<InboundOutcome> {
    if (!isForm(req)) {
      return { rejected: { status: 415, code: 'unsupported_media_type', message: 'Twilio posts application/x-www-form-urlencoded' } }
    }
    const parsed = StatusCallback.safeParse(firstValues(formParams(req.text())))
    if (!parsed.success) return { rejected: { status: 400, code: 'invalid_status', message: issues(parsed.error) } }
    const { MessageSid, MessageStatus, ErrorCode } = parsed.data
    const report = (status: DeliveryReport['status'], error?: string): InboundOutcome => ({
      reports: [{ providerId: MessageSid, status, ...(error ? { error } : {}) }],
    })
    switch (MessageStatus) {
      case 'sent':
        return report('sent')
      case 'delivered':
      case 'read': // WhatsApp: read implies delivered
        return report('delivered')
      case 'undelivered':
      case 'failed':
        return report('failed', ErrorCode ? `Twilio error ${describeTwilioCode(ErrorCode)}` : `Twilio status ${MessageStatus}`)
      default:
        // queued, accepted, scheduled, sending, canceled…: steps on the way, not an outcome.
        return { ignored: `status ${MessageStatus}: not a delivery outcome` }
    }
  }

  function respondIncoming(_handled: HandledOutcome, req: RawRequest): Response {
    // Replies go through the outbox; the webhook answer stays empty, except the stateless HELP text.
    if (helpAsked.has(req) && helpText) return twiml(`<?xml version="1.0" encoding="UTF-8"?><Response><Message>${xmlEscape(helpText)}</Message></Response>`)
    return twiml()
  }

  const capacity = maxSegments === 1 ? 160 : 153 * maxSegments
  return {
    kind: 'twilio-sms',
    // maxText is the GSM-7 room; a Chinese reply gets 70, or 67 per segment (see segments.ts).
    capabilities: { media: true, maxText: Math.min(capacity, MAX_BODY_CHARS) },
    secrets: [authToken],
    routes: [
      { method: 'POST', path: '/messages', maxBodyBytes: 64 * 1024, verify: verifyOn('/messages'), parse: parseIncoming, respond: respondIncoming },
      { method: 'POST', path: '/status', maxBodyBytes: 16 * 1024, verify: verifyOn('/status'), parse: parseStatus, respond: () => twiml() },
    ],

    async send(msg, ctx): Promise<SendResult> {
      const to = msg.to.id
      const whatsapp = to.startsWith('whatsapp:')
      if (whatsapp && !whatsappFrom) return { ok: false, error: { code: 'config', retryable: false, message: 'a WhatsApp recipient needs from or whatsappFrom' } }
      const body = whatsapp ? fitToLength(msg.text, MAX_BODY_CHARS, msg.statusUrl) : fitToSegments(msg.text, maxSegments, msg.statusUrl)
      const sender = whatsapp ? { from: whatsappFrom! } : messagingServiceSid ? { messagingServiceSid } : { from: from! }
      try {
        const created = await client.messages.create({
          to,
          body,
          ...sender,
          ...(statusCallbacks ? { statusCallback: `${channelBase(ctx)}/status` } : {}),
        })
        ctx.log.debug('twilio message queued', { sid: created.sid, segments: whatsapp ? undefined : countSegments(body).segments })
        return { ok: true, providerId: created.sid }
      } catch (err) {
        return { ok: false, error: classifyTwilioError(err) }
      }
    },
  }
}

/**
 * The SDK's own HTTP client, with requests for https://api.twilio.com sent to `apiBaseUrl` instead
 * (the SDK accepts a custom `httpClient`; see twilio-node's RequestClient). Shared with twilio-voice.
 */
export class RedirectingRequestClient extends twilio.RequestClient {
  constructor(
    private readonly reach: (url: string) => string,
    timeoutMs: number,
  ) {
    super({ timeout: timeoutMs, keepAlive: true })
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request<TData>({ ...opts, uri: this.reach(opts.uri) })
  }
}
