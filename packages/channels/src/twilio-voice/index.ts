import twilio from 'twilio'
import { z } from 'zod'
import type { ChannelAdapter, DeliveryReport, HandledOutcome, InboundOutcome, RawRequest, RouteContext, SendResult } from '@intake/core'
import { describeTwilioCode, fitToSegments, formParams, signedUrl, verifyTwilioSignature } from '../twilio-sms/index.ts'
import { fetchMedia } from '../twilio-sms/media.ts'
import { isForm } from '../twilio-sms/signature.ts'
import { RedirectingRequestClient } from '../twilio-sms/index.ts'
import { classifyVoiceError, TWILIO_API } from './rest.ts'
import { acknowledgementTwiml, DEFAULT_SAY, DEFAULT_WORDS, greetingTwiml, nothingHeardTwiml, replyCallTwiml, type LineLanguage, type SayOptions } from './speech.ts'

export { forSpeech, spellCode, DEFAULT_SAY, type LineLanguage, type SayOptions } from './speech.ts'
export { classifyVoiceError } from './rest.ts'

export type ReplyMode = 'sms' | 'call'

export interface TwilioVoiceOptions {
  /** The account SID (AC + 32 hex digits). */
  accountSid: string
  /** The account's auth token: signs webhooks, authenticates API calls and recording downloads. */
  authToken: string
  /** The hotline number callers dial (E.164): the caller ID of reply calls, and the SMS sender unless `smsFrom` is given. */
  from: string
  /** An SMS-capable number for replies by SMS (default `from`). */
  smsFrom?: string
  /** What callers hear and the case's language: `zh-CN` (default) or `en-US`. Also the transcription hint. */
  language?: LineLanguage
  /** The `<Say>` voice and locale (default per language, see DEFAULT_SAY: Polly.Zhiyu / cmn-CN, Polly.Joanna / en-US). */
  say?: Partial<SayOptions>
  /** The greeting, instead of the default one for the language. */
  greeting?: string
  /** Longest message a caller may leave, in seconds (Twilio's `<Record maxLength>`; default 120). */
  maxLength?: number
  /** Largest recording downloaded, in bytes (default 16 MiB: over 15 minutes of Twilio's 8 kHz 16-bit WAV). */
  maxRecordingBytes?: number
  /** How replies reach a caller: `sms` (default) or `call` (an outbound call that speaks the reply). */
  replyBy?: ReplyMode
  /** Per office id, overriding `replyBy` (an office whose callers often cannot read takes `call`). */
  replyByOffice?: Record<string, ReplyMode>
  /** Longest SMS reply, in segments (1–10, default 5). */
  maxSegments?: number
  /**
   * The public URL of this channel as typed into the Twilio console, without the route, e.g.
   * `https://hotline.example.gov/channels/voice`. Default: `server.publicUrl` + `/channels/<id>`.
   * Routes: `/calls` (the number's "A call comes in" webhook), `/recorded` (`<Record action>`),
   * `/recording-status` and `/status` (callbacks Intake asks for).
   */
  webhookBaseUrl?: string
  /** Where the SDK sends REST calls instead of `https://api.twilio.com` (a stand-in in tests, an egress proxy). */
  apiBaseUrl?: string
  /** Ask Twilio for status callbacks on replies (default true): delivered / failed on the case. */
  statusCallbacks?: boolean
  /** Give up on one API call or recording download after this long (default 10 s). */
  timeoutMs?: number
}

const SID = (prefix: string) => new RegExp(`^${prefix}[0-9a-f]{32}$`, 'i')
const E164 = /^\+[1-9]\d{1,14}$/

/** The voice webhook (https://www.twilio.com/docs/voice/twiml#request-parameters). */
const IncomingCall = z.object({
  CallSid: z.string().regex(SID('CA'), 'expected a Twilio call SID (CA + 32 hex digits)'),
  From: z.string().min(1).max(100),
  To: z.string().max(100).optional(),
  CallStatus: z.string().max(40).optional(),
})

/** `<Record action>` (https://www.twilio.com/docs/voice/twiml/record#attributes-action-parameters). */
const RecordingAction = z.object({
  CallSid: z.string().regex(SID('CA'), 'expected a Twilio call SID'),
  RecordingSid: z.string().regex(SID('RE'), 'expected a Twilio recording SID (RE + 32 hex digits)'),
  RecordingUrl: z.url({ protocol: /^https?$/ }),
  // Seconds; Twilio sends -1 when it could not tell.
  RecordingDuration: z.coerce.number().int().min(-1).max(86_400),
  From: z.string().min(1).max(100),
  To: z.string().max(100).optional(),
  /** The key that ended the recording, or `hangup`. */
  Digits: z.string().max(40).optional(),
})

/** `recordingStatusCallback` (https://www.twilio.com/docs/voice/twiml/record#attributes-recording-status-callback). */
const RecordingStatus = z.object({
  RecordingSid: z.string().regex(SID('RE'), 'expected a Twilio recording SID'),
  RecordingStatus: z.string().min(1).max(40),
  CallSid: z.string().max(64).optional(),
  ErrorCode: z.string().max(10).optional(),
})

/** Status callbacks of replies: a message's (MessageStatus) or a call's (CallStatus, https://www.twilio.com/docs/voice/api/call-resource#statuscallback). */
const ReplyStatus = z.union([
  z.object({ MessageSid: z.string().regex(SID('(SM|MM)')), MessageStatus: z.string().min(1).max(40), ErrorCode: z.string().max(10).optional() }),
  z.object({ CallSid: z.string().regex(SID('CA')), CallStatus: z.string().min(1).max(40), ErrorCode: z.string().max(10).optional() }),
])

const NOTES: Record<LineLanguage, { tooLong: (limit: number, seconds: number) => string; notDownloaded: (seconds: number, reason: string, url: string) => string }> = {
  'zh-CN': {
    tooLong: (limit, s) => `【录音超过${limit}秒上限（${s}秒），可能不完整，请听录音】`,
    notDownloaded: (s, reason, url) => `【语音留言${s >= 0 ? `（${s}秒）` : ''}未能下载：${reason}。录音仍在 Twilio：${url}】`,
  },
  'en-US': {
    tooLong: (limit, s) => `[Recording longer than the ${limit} s limit (${s} s): it may be cut short, listen to the audio]`,
    notDownloaded: (s, reason, url) => `[Voice message${s >= 0 ? ` (${s} s)` : ''} could not be downloaded: ${reason}. The recording is still at Twilio: ${url}]`,
  },
}

const twimlResponse = (body: string) => new Response(body, { status: 200, headers: { 'content-type': 'text/xml; charset=utf-8' } })
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
const firstValues = (params: ReturnType<typeof formParams>) => Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]))
const issues = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')
const notForm = { rejected: { status: 415 as const, code: 'unsupported_media_type', message: 'Twilio posts application/x-www-form-urlencoded' } }

/**
 * Phone calls through Twilio Programmable Voice: a caller hears a greeting, leaves a message after
 * the beep, and hears their tracking code spelled out before the call ends. The recording is
 * downloaded into the blob store and handed to the pipeline as a voice message (empty text, one
 * audio attachment), which core transcribes with the configured transcriber within its timeout,
 * or later. Replies reach the caller by SMS, or by a call that speaks them.
 *
 * Twilio waits 15 s for the answer to `/recorded` (then the caller hears an application error):
 * the route acknowledges inline, so core gives the transcription at intake only
 * `transcription.inlineTimeoutMs` (2.5 s by default); a slower engine finishes in the worker.
 *
 * @example
 * channels: {
 *   voice: twilioVoice({ accountSid: env.TWILIO_ACCOUNT_SID, authToken: env.TWILIO_AUTH_TOKEN, from: '+14155550100',
 *                        language: 'zh-CN', replyBy: 'sms', replyByOffice: { 'village-office': 'call' } }),
 * },
 * transcriber: openAiTranscriber({ apiKey: env.OPENAI_API_KEY }),
 */
export function twilioVoice({
  accountSid,
  authToken,
  from,
  smsFrom = from,
  language = 'zh-CN',
  say: sayOverride = {},
  greeting,
  maxLength = 120,
  maxRecordingBytes = 16 * 1024 * 1024,
  replyBy = 'sms',
  replyByOffice = {},
  maxSegments = 5,
  webhookBaseUrl,
  apiBaseUrl,
  statusCallbacks = true,
  timeoutMs = 10_000,
}: TwilioVoiceOptions): ChannelAdapter {
  if (typeof accountSid !== 'string' || !SID('AC').test(accountSid)) {
    throw new Error('[twilio-voice] accountSid: expected AC followed by 32 hex digits (Twilio console → Account info)')
  }
  if (typeof authToken !== 'string' || authToken.length < 16) throw new Error('[twilio-voice] authToken: expected the account auth token (32 characters)')
  if (typeof from !== 'string' || !E164.test(from)) throw new Error(`[twilio-voice] from: expected the hotline number in E.164, like +14155550100, got "${from}"`)
  if (!E164.test(smsFrom)) throw new Error(`[twilio-voice] smsFrom: expected an E.164 number, got "${smsFrom}"`)
  if (language !== 'zh-CN' && language !== 'en-US') throw new Error(`[twilio-voice] language: expected zh-CN or en-US, got "${language}"`)
  // Twilio's own bounds for <Record maxLength> are 1 s to 4 hours (14400 s).
  if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > 14_400) throw new Error(`[twilio-voice] maxLength: expected whole seconds from 1 to 14400, got ${maxLength}`)
  if (!Number.isInteger(maxRecordingBytes) || maxRecordingBytes < 1024) throw new Error(`[twilio-voice] maxRecordingBytes: expected a whole number of bytes ≥ 1024, got ${maxRecordingBytes}`)
  for (const [where, mode] of [['replyBy', replyBy], ...Object.entries(replyByOffice).map(([office, m]) => [`replyByOffice.${office}`, m])] as const) {
    if (mode !== 'sms' && mode !== 'call') throw new Error(`[twilio-voice] ${where}: expected 'sms' or 'call', got "${String(mode)}"`)
  }
  if (!Number.isInteger(maxSegments) || maxSegments < 1 || maxSegments > 10) throw new Error(`[twilio-voice] maxSegments: expected a whole number from 1 to 10, got ${maxSegments}`)
  for (const [key, value] of [['webhookBaseUrl', webhookBaseUrl], ['apiBaseUrl', apiBaseUrl]] as const) {
    if (value !== undefined && !/^https?:\/\/[^/]/.test(value)) throw new Error(`[twilio-voice] ${key}: expected an http(s) URL, got "${value}"`)
  }
  if (!(timeoutMs > 0)) throw new Error(`[twilio-voice] timeoutMs: expected a positive number of milliseconds, got ${timeoutMs}`)

  const sayOptions: SayOptions = { ...DEFAULT_SAY[language], ...sayOverride }
  const words = DEFAULT_WORDS[language]
  const notes = NOTES[language]
  const apiBase = (apiBaseUrl ?? TWILIO_API).replace(/\/+$/, '')
  /** A URL Twilio gave us (the SDK's, a recording's) as it must be reached from here. */
  const reach = (url: string) => (apiBaseUrl && url.startsWith(TWILIO_API) ? apiBase + url.slice(TWILIO_API.length) : url)
  const trustedOrigins = [new URL(TWILIO_API).origin, new URL(apiBase).origin]
  const client = twilio(accountSid, authToken, { httpClient: new RedirectingRequestClient(reach, timeoutMs) })
  const channelBase = (ctx: { publicUrl: string; basePath: string }) => webhookBaseUrl?.replace(/\/+$/, '') ?? ctx.publicUrl.replace(/\/+$/, '') + ctx.basePath

  const verifyOn = (path: string) =>
    function verify(req: RawRequest, ctx: RouteContext) {
      return verifyTwilioSignature(authToken, req, signedUrl(channelBase(ctx), path, req.url))
    }

  const formOf = <T extends z.ZodType>(req: RawRequest, schema: T, code: string): { ok: true; data: z.infer<T>; params: ReturnType<typeof formParams> } | { ok: false; outcome: InboundOutcome } => {
    if (!isForm(req)) return { ok: false, outcome: notForm }
    const params = formParams(req.text())
    const parsed = schema.safeParse(firstValues(params))
    if (!parsed.success) return { ok: false, outcome: { rejected: { status: 400, code, message: issues(parsed.error) } } }
    return { ok: true, data: parsed.data, params }
  }

  async function parseIncomingCall(req: RawRequest): Promise<InboundOutcome> {
    const form = formOf(req, IncomingCall, 'invalid_call')
    if (!form.ok) return form.outcome
    // Nothing to store yet: the case begins with the recording. The answer is the greeting.
    return { ignored: `call ${form.data.CallSid} answered: greeting and recording` }
  }

  function respondIncomingCall(_handled: HandledOutcome, _req: RawRequest, ctx: RouteContext): Response {
    const base = channelBase(ctx)
    return twimlResponse(
      greetingTwiml({
        say: sayOptions,
        greeting: greeting ?? words.greeting(maxLength),
        nothingHeard: words.nothingHeard,
        maxLength,
        action: `${base}/recorded`,
        recordingStatusCallback: `${base}/recording-status`,
      }),
    )
  }

  async function parseRecording(req: RawRequest, ctx: RouteContext): Promise<InboundOutcome> {
    const form = formOf(req, RecordingAction, 'invalid_recording')
    if (!form.ok) return form.outcome
    const r = form.data
    if (r.RecordingDuration === 0) return { ignored: `recording ${r.RecordingSid} is empty` }
    // The recording's URL has no extension; `.wav` asks for the WAV Twilio keeps (8 kHz, 16-bit, mono)
    // (https://www.twilio.com/docs/voice/api/recording#fetch-a-recording-media-file).
    const mediaUrl = /\.(wav|mp3)$/i.test(r.RecordingUrl) ? r.RecordingUrl : `${r.RecordingUrl}.wav`
    const fetched = await fetchMedia({ url: reach(mediaUrl), contentType: 'audio/x-wav' }, 0, { accountSid, authToken, trustedOrigins, maxBytes: maxRecordingBytes, timeoutMs, blobs: ctx.blobs })
    if (r.Digits === 'hangup') {
      // Twilio still posts the recording, but nobody hears the answer: the code reaches this caller
      // only by the next reply or the status page, since an inline acknowledgement is never queued.
      ctx.log.info('caller hung up before hearing the tracking code', { recordingSid: r.RecordingSid })
    }
    const tooLong = r.RecordingDuration > maxLength
    let text = ''
    const attachments = []
    if (fetched.ok) {
      attachments.push({ ...fetched.attachment, filename: `${r.RecordingSid}.${/\.mp3$/i.test(mediaUrl) ? 'mp3' : 'wav'}` })
    } else {
      // No audio, but a caller did leave a message: the case is opened all the same, with a note, so
      // they keep their tracking code and staff know to fetch the recording.
      ctx.log.warn('twilio recording not downloaded', { recordingSid: r.RecordingSid, reason: fetched.reason })
      text = notes.notDownloaded(r.RecordingDuration, fetched.reason, r.RecordingUrl)
    }
    return {
      messages: [
        {
          channelId: ctx.channelId,
          // Twilio retries the action when our answer is late: the same RecordingSid, one case.
          externalId: r.RecordingSid,
          from: { channelId: ctx.channelId, id: r.From },
          to: r.To,
          // The note goes in the subject: the text must stay empty for core to transcribe the audio.
          ...(tooLong ? { subject: notes.tooLong(maxLength, r.RecordingDuration) } : {}),
          text,
          attachments,
          language,
          receivedAt: ctx.now(),
          raw: form.params,
        },
      ],
    }
  }

  function respondRecording(handled: HandledOutcome): Response {
    const result = handled.kind === 'messages' ? handled.results[0] : undefined
    if (!result?.acknowledgement) return twimlResponse(nothingHeardTwiml(sayOptions, words.nothingHeard))
    return twimlResponse(acknowledgementTwiml(result.acknowledgement, result.trackingCode, sayOptions, language, words))
  }

  async function parseRecordingStatus(req: RawRequest, ctx: RouteContext): Promise<InboundOutcome> {
    const form = formOf(req, RecordingStatus, 'invalid_recording_status')
    if (!form.ok) return form.outcome
    const { RecordingSid, RecordingStatus: status, ErrorCode } = form.data
    if (status === 'absent' || status === 'failed') {
      // `absent`: Twilio kept no audio (silence, or the caller hung up at once); nothing reaches /recorded.
      ctx.log.warn('twilio recording has no audio', { recordingSid: RecordingSid, status, error: ErrorCode ? describeTwilioCode(ErrorCode) : undefined })
    }
    return { ignored: `recording ${RecordingSid} ${status}: the record action carries the audio` }
  }

  async function parseReplyStatus(req: RawRequest): Promise<InboundOutcome> {
    const form = formOf(req, ReplyStatus, 'invalid_status')
    if (!form.ok) return form.outcome
    const s = form.data
    const report = (providerId: string, status: DeliveryReport['status'], error?: string): InboundOutcome => ({ reports: [{ providerId, status, ...(error ? { error } : {}) }] })
    const failure = (status: string) => (s.ErrorCode ? `Twilio error ${describeTwilioCode(s.ErrorCode)}` : `Twilio status ${status}`)
    if ('MessageSid' in s) {
      if (s.MessageStatus === 'sent') return report(s.MessageSid, 'sent')
      if (s.MessageStatus === 'delivered') return report(s.MessageSid, 'delivered')
      if (s.MessageStatus === 'undelivered' || s.MessageStatus === 'failed') return report(s.MessageSid, 'failed', failure(s.MessageStatus))
      return { ignored: `message status ${s.MessageStatus}: not a delivery outcome` }
    }
    // A completed call was answered and ran its TwiML to the end (an answering machine counts too).
    if (s.CallStatus === 'completed') return report(s.CallSid, 'delivered')
    if (['busy', 'no-answer', 'failed', 'canceled'].includes(s.CallStatus)) return report(s.CallSid, 'failed', failure(s.CallStatus))
    return { ignored: `call status ${s.CallStatus}: not a delivery outcome` }
  }

  return {
    kind: 'twilio-voice',
    // maxText: an SMS reply's room in GSM-7; a spoken reply fits Twilio's 4000-character inline TwiML.
    capabilities: { media: true, maxText: maxSegments === 1 ? 160 : 153 * maxSegments },
    secrets: [authToken],
    routes: [
      { method: 'POST', path: '/calls', maxBodyBytes: 64 * 1024, verify: verifyOn('/calls'), parse: parseIncomingCall, respond: respondIncomingCall },
      {
        method: 'POST',
        path: '/recorded',
        maxBodyBytes: 64 * 1024,
        acknowledgesInline: true,
        verify: verifyOn('/recorded'),
        parse: parseRecording,
        respond: respondRecording,
      },
      { method: 'POST', path: '/recording-status', maxBodyBytes: 16 * 1024, verify: verifyOn('/recording-status'), parse: parseRecordingStatus, respond: () => twimlResponse(EMPTY_TWIML) },
      { method: 'POST', path: '/status', maxBodyBytes: 16 * 1024, verify: verifyOn('/status'), parse: parseReplyStatus, respond: () => twimlResponse(EMPTY_TWIML) },
    ],

    async send(msg, ctx): Promise<SendResult> {
      const to = msg.to.id
      if (!E164.test(to)) {
        // Withheld numbers arrive as "+266696687" or "anonymous"; a SIP or client caller has no phone number.
        return { ok: false, error: { code: 'invalid_recipient', retryable: false, message: `the caller's number "${to}" cannot receive an SMS or a call` } }
      }
      const mode = (msg.office && replyByOffice[msg.office.id]) ?? replyBy
      const statusCallback = statusCallbacks ? { statusCallback: `${channelBase({ publicUrl: ctx.publicUrl, basePath: `/channels/${ctx.channelId}` })}/status` } : {}
      try {
        if (mode === 'call') {
          const call = await client.calls.create({
            to,
            from,
            twiml: replyCallTwiml(msg.text, msg.trackingCode, sayOptions, language, words),
            ...statusCallback,
            ...(statusCallbacks ? { statusCallbackEvent: ['completed'], statusCallbackMethod: 'POST' } : {}),
          })
          ctx.log.debug('twilio reply call queued', { sid: call.sid })
          return { ok: true, providerId: call.sid }
        }
        const message = await client.messages.create({ to, from: smsFrom, body: fitToSegments(msg.text, maxSegments, msg.statusUrl), ...statusCallback })
        ctx.log.debug('twilio reply sms queued', { sid: message.sid })
        return { ok: true, providerId: message.sid }
      } catch (err) {
        return { ok: false, error: classifyVoiceError(err) }
      }
    },
  }
}
