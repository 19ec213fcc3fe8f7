/**
 * A local stand-in for the parts of Twilio's REST API a voice line uses, speaking its wire format,
 * for tests (api.twilio.com cannot be reached from here). The twilio-sms stand-in plays Messages and
 * MMS media but not Calls or Recordings, and one adapter talks to one API base, so this one plays
 * all three. Sources:
 * - Call resource, create: https://www.twilio.com/docs/voice/api/call-resource#create-a-call-resource
 *   `POST /2010-04-01/Accounts/{AccountSid}/Calls.json`, form-encoded: To, From, and one of Url, Twiml
 *   or ApplicationSid; StatusCallback, StatusCallbackEvent (repeated), StatusCallbackMethod. 201 with
 *   the Call resource in snake_case JSON, `status: "queued"`. Inline Twiml is limited to 4000
 *   characters (error 32018).
 * - Message resource, create: as in the twilio-sms stand-in (To, From, Body, StatusCallback).
 * - Recording media: `GET /2010-04-01/Accounts/{AccountSid}/Recordings/{RecordingSid}` + `.wav` or
 *   `.mp3` (https://www.twilio.com/docs/voice/api/recording#fetch-a-recording-media-file), behind HTTP
 *   Basic auth when the account enforces it; a missing one answers 404 with error 20404.
 * - Errors: `{ "code", "message", "more_info", "status" }` (https://www.twilio.com/docs/usage/twilios-response).
 * - Webhooks and status callbacks: form POSTs signed with X-Twilio-Signature, computed here by the
 *   official SDK (https://www.twilio.com/docs/usage/security#validating-requests).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import twilio from 'twilio'
import { startProviderStandIn, type ProviderControl } from '../kit/provider-stand-in.ts'
import { incomingMessageRequest, messageResource, newSid, rfc2822 } from '../twilio-sms/twilio-api-server.ts'

export interface VoiceApiServerOptions {
  accountSid: string
  authToken: string
  port?: number
  /** Require Basic auth on recording media ("Enforce HTTP Auth on Media URLs"; default true). */
  mediaAuth?: boolean
  /** How status callbacks reach the gateway (default fetch; in-process tests pass `(req) => intake.app.fetch(req)`). */
  fetch?: (req: Request) => Promise<Response>
}

export interface ReceivedCall {
  sid: string
  to: string
  from: string
  twiml?: string
  url?: string
  statusCallback?: string
  statusCallbackEvent: string[]
  params: Record<string, string>
}

export interface ReceivedMessage {
  sid: string
  to: string
  from?: string
  body: string
  statusCallback?: string
  params: Record<string, string>
}

export type ScriptedAnswer = { code: number; status?: number; message?: string } | { status: number; message?: string } | { drop: true }

/** Also the kit's `fixtures.provider`: it can refuse, reset or stall connections (built on startProviderStandIn). */
export interface VoiceApiServer extends ProviderControl {
  url: string
  calls: ReceivedCall[]
  messages: ReceivedMessage[]
  /** Recording downloads: which one, and whether they carried the account's credentials. */
  downloads: Array<{ sid: string; authorized: boolean; status: number }>
  /** Answer the next Calls.json or Messages.json requests like this, in order. */
  failNext(...answers: ScriptedAnswer[]): void
  /** Host a recording; returns its SID and the RecordingUrl Twilio would post (on api.twilio.com, no extension). */
  addRecording(wav: Uint8Array): { sid: string; recordingUrl: string }
  /** A RecordingUrl of this account that answers 404. */
  missingRecording(): { sid: string; recordingUrl: string }
  /** Post a signed status callback for a reply call or message, as Twilio does. */
  sendStatus(sid: string, status: string, extra?: { errorCode?: number }): Promise<Response>
  close(): Promise<void>
}

const ERROR_TEXT: Record<number, { status: number; message: string }> = {
  20003: { status: 401, message: 'Authenticate' },
  20404: { status: 404, message: 'The requested resource was not found' },
  20429: { status: 429, message: 'Too Many Requests' },
  21201: { status: 400, message: "No 'To' number is specified" },
  21205: { status: 400, message: 'Url is not a valid URL' },
  21211: { status: 400, message: "Invalid 'To' Phone Number" },
  21213: { status: 400, message: "No 'From' number is specified" },
  21215: { status: 400, message: 'Account not authorized to call this number. Check your Geo Permissions settings.' },
  21217: { status: 400, message: 'Phone number does not appear to be valid' },
  21602: { status: 400, message: 'Message body is required.' },
  21604: { status: 400, message: "A 'To' phone number is required." },
  21610: { status: 400, message: 'Attempt to send to unsubscribed recipient' },
  32018: { status: 400, message: 'Twiml size exceeded maximum allowed value of 4000 characters' },
}

/** A form POST signed the way Twilio signs every webhook (the SDK computes the signature). */
export { incomingMessageRequest as twilioWebhook }

/** The parameters of the "A call comes in" webhook (https://www.twilio.com/docs/voice/twiml#request-parameters). */
export function incomingCallParams(accountSid: string, over: Record<string, string> & { From: string; To: string }): Record<string, string> {
  return {
    AccountSid: accountSid,
    ApiVersion: '2010-04-01',
    CallSid: over.CallSid ?? newSid('CA'),
    CallStatus: 'ringing',
    Direction: 'inbound',
    Caller: over.From,
    Called: over.To,
    FromCountry: 'CN',
    ToCountry: 'CN',
    ...over,
  }
}

/** The parameters Twilio posts to `<Record action>` when the caller has finished. */
export function recordingParams(
  accountSid: string,
  over: { CallSid: string; From: string; To: string; RecordingSid: string; RecordingUrl: string; RecordingDuration: number | string; Digits?: string },
): Record<string, string> {
  return {
    ...incomingCallParams(accountSid, { CallSid: over.CallSid, From: over.From, To: over.To, CallStatus: 'in-progress' }),
    RecordingSid: over.RecordingSid,
    RecordingUrl: over.RecordingUrl,
    RecordingDuration: String(over.RecordingDuration),
    Digits: over.Digits ?? '#',
  }
}

export async function startVoiceApiServer({ accountSid, authToken, port = 0, mediaAuth = true, fetch: post = fetch }: VoiceApiServerOptions): Promise<VoiceApiServer> {
  const calls: ReceivedCall[] = []
  const messages: ReceivedMessage[] = []
  const downloads: VoiceApiServer['downloads'] = []
  const queue: ScriptedAnswer[] = []
  const recordings = new Map<string, Uint8Array>()
  const base = `/2010-04-01/Accounts/${accountSid}`
  const expectedAuth = Buffer.from('Basic ' + Buffer.from(`${accountSid}:${authToken}`).toString('base64'))
  const authorized = (req: IncomingMessage) => {
    const given = Buffer.from(req.headers.authorization ?? '')
    return given.length === expectedAuth.length && timingSafeEqual(given, expectedAuth)
  }
  const sendJson = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
    res.end(JSON.stringify(body))
  }
  const sendError = (res: ServerResponse, code: number, over: { status?: number; message?: string } = {}) => {
    const known = ERROR_TEXT[code]
    const status = over.status ?? known?.status ?? 400
    sendJson(res, status, { code, message: over.message ?? known?.message ?? `Error ${code}`, more_info: `https://www.twilio.com/docs/errors/${code}`, status })
  }
  /** Shared by Calls and Messages: a scripted answer, auth, and the form. */
  const accept = (req: IncomingMessage, res: ServerResponse, body: string): URLSearchParams | undefined => {
    const scripted = queue.shift()
    if (scripted) {
      if ('drop' in scripted) {
        req.socket.destroy()
        return undefined
      }
      if ('code' in scripted) {
        sendError(res, scripted.code, scripted)
        return undefined
      }
      sendJson(res, scripted.status, { code: scripted.status === 429 ? 20429 : 20500, message: scripted.message ?? 'Internal Server Error', more_info: 'https://www.twilio.com/docs/errors/20500', status: scripted.status })
      return undefined
    }
    if (!authorized(req)) {
      sendError(res, 20003)
      return undefined
    }
    return new URLSearchParams(body)
  }

  function createCall(req: IncomingMessage, res: ServerResponse, body: string) {
    const form = accept(req, res, body)
    if (!form) return
    const to = form.get('To')
    const from = form.get('From')
    const twiml = form.get('Twiml') ?? undefined
    const url = form.get('Url') ?? undefined
    if (!to) return sendError(res, 21201)
    if (!from) return sendError(res, 21213)
    if (!twiml && !url && !form.get('ApplicationSid')) return sendError(res, 21205)
    if (!/^\+[1-9]\d{1,14}$/.test(to)) return sendError(res, 21217)
    if (twiml && twiml.length > 4000) return sendError(res, 32018)
    const call: ReceivedCall = {
      sid: newSid('CA'),
      to,
      from,
      twiml,
      url,
      statusCallback: form.get('StatusCallback') ?? undefined,
      statusCallbackEvent: form.getAll('StatusCallbackEvent'),
      params: Object.fromEntries(form),
    }
    calls.push(call)
    const now = rfc2822(new Date())
    sendJson(res, 201, {
      account_sid: accountSid,
      annotation: null,
      answered_by: null,
      api_version: '2010-04-01',
      caller_name: null,
      date_created: now,
      date_updated: now,
      direction: 'outbound-api',
      duration: null,
      end_time: null,
      forwarded_from: null,
      from,
      from_formatted: from,
      group_sid: null,
      parent_call_sid: null,
      phone_number_sid: newSid('PN'),
      price: null,
      price_unit: 'USD',
      sid: call.sid,
      start_time: null,
      status: 'queued',
      subresource_uris: { recordings: `${base}/Calls/${call.sid}/Recordings.json` },
      to,
      to_formatted: to,
      trunk_sid: null,
      uri: `${base}/Calls/${call.sid}.json`,
      queue_time: '0',
    })
  }

  function createMessage(req: IncomingMessage, res: ServerResponse, body: string) {
    const form = accept(req, res, body)
    if (!form) return
    const to = form.get('To')
    const text = form.get('Body') ?? ''
    if (!to) return sendError(res, 21604)
    if (!text) return sendError(res, 21602)
    const message: ReceivedMessage = { sid: newSid('SM'), to, from: form.get('From') ?? undefined, body: text, statusCallback: form.get('StatusCallback') ?? undefined, params: Object.fromEntries(form) }
    messages.push(message)
    sendJson(res, 201, messageResource(accountSid, message))
  }

  function recordingMedia(req: IncomingMessage, res: ServerResponse, sid: string, extension: string | undefined) {
    const ok = authorized(req)
    const bytes = recordings.get(sid)
    const status = mediaAuth && !ok ? 401 : !bytes ? 404 : 200
    downloads.push({ sid, authorized: ok, status })
    if (status === 401) return sendError(res, 20003)
    if (status === 404) return sendError(res, 20404)
    if (extension === 'mp3') return sendError(res, 20404, { message: 'this stand-in keeps recordings as WAV only' })
    res.writeHead(200, { 'content-type': 'audio/x-wav', 'content-length': String(bytes!.byteLength) })
    res.end(bytes)
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!
      const body = Buffer.concat(chunks).toString('utf8')
      if (req.method === 'POST' && path === `${base}/Calls.json`) return createCall(req, res, body)
      if (req.method === 'POST' && path === `${base}/Messages.json`) return createMessage(req, res, body)
      const media = new RegExp(`^${base}/Recordings/(RE[0-9a-f]{32})(?:\\.(wav|mp3))?$`).exec(path)
      if (req.method === 'GET' && media) return recordingMedia(req, res, media[1]!, media[2])
      sendError(res, 20404)
    })
  }
  const standIn = await startProviderStandIn({ port, listener })
  const url = standIn.url
  const twilioUrl = (sid: string) => `https://api.twilio.com${base}/Recordings/${sid}`

  return {
    url,
    calls,
    messages,
    downloads,
    failNext: (...answers) => void queue.push(...answers),
    addRecording(wav) {
      const sid = newSid('RE')
      recordings.set(sid, wav)
      return { sid, recordingUrl: twilioUrl(sid) }
    },
    missingRecording() {
      const sid = newSid('RE')
      return { sid, recordingUrl: twilioUrl(sid) }
    },
    async sendStatus(sid, status, { errorCode } = {}) {
      const call = calls.find((c) => c.sid === sid)
      const message = messages.find((m) => m.sid === sid)
      const target = call?.statusCallback ?? message?.statusCallback
      if (!target) throw new Error(`[voice-api-server] no accepted call or message ${sid} with a StatusCallback`)
      const params: Record<string, string> = call
        ? { AccountSid: accountSid, ApiVersion: '2010-04-01', CallSid: sid, CallStatus: status, Direction: 'outbound-api', From: call.from, To: call.to, ...(status === 'completed' ? { CallDuration: '14' } : {}) }
        : { AccountSid: accountSid, ApiVersion: '2010-04-01', MessageSid: sid, SmsSid: sid, MessageStatus: status, SmsStatus: status, From: message!.from ?? '', To: message!.to }
      if (errorCode !== undefined) params.ErrorCode = String(errorCode)
      return post(incomingMessageRequest(target, params, authToken))
    },
    breakNext: standIn.breakNext,
    deliveries: standIn.deliveries,
    reset() {
      queue.length = 0
      return standIn.reset()
    },
    close: standIn.close,
  }
}
