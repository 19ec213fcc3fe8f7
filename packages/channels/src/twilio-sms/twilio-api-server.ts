/**
 * A local stand-in for the part of Twilio's REST API that Intake uses, speaking its wire format, for
 * tests and benchmarks (api.twilio.com cannot be reached from here). Sources:
 * - Message resource, create: https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
 *   `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded (To, From or
 *   MessagingServiceSid, Body, StatusCallback), HTTP Basic auth AccountSid:AuthToken; 201 with the
 *   Message resource in snake_case JSON, `status: "queued"` (`"accepted"` through a Messaging Service).
 * - Errors: https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions
 *   `{ "code": 21211, "message": "...", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400 }`.
 * - Media: `GET /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid}` behind Basic
 *   auth, answered with a redirect to a short-lived CDN copy (here `/cdn/{MediaSid}`, no auth).
 * - Status callbacks: https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
 *   form POST to the message's StatusCallback URL with MessageSid, MessageStatus, ErrorCode…,
 *   signed with X-Twilio-Signature like every Twilio webhook.
 * Twilio also posts incoming messages to a number's webhook: `incomingMessageRequest` builds that
 * request the same way.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import twilio from 'twilio'
import { startProviderStandIn, type ProviderControl } from '../kit/provider-stand-in.ts'
import { countSegments } from './segments.ts'

export interface TwilioApiServerOptions {
  accountSid: string
  authToken: string
  port?: number
  /**
   * How the stand-in reaches the gateway for status callbacks (default: fetch). A test that drives
   * the gateway in-process passes `(req) => intake.app.fetch(req)`.
   */
  fetch?: (req: Request) => Promise<Response>
}

/** A message the stand-in accepted, as the SDK sent it. */
export interface ReceivedMessage {
  sid: string
  to: string
  from?: string
  messagingServiceSid?: string
  body: string
  statusCallback?: string
  /** Every form parameter, as received. */
  params: Record<string, string>
}

/**
 * What to answer instead of 201, once: a Twilio error (`{ code }`, with its usual HTTP status unless
 * `status` is given, and Twilio's JSON error body), or a bare HTTP status with a plain-text body.
 */
export type ScriptedAnswer =
  | { code: number; status?: number; message?: string; headers?: Record<string, string> }
  | { status: number; code?: undefined; message?: string; headers?: Record<string, string> }
  /** Close the connection without answering (a reset, as from a crashed proxy). */
  | { drop: true }

/** Also the kit's `fixtures.provider`: it can refuse, reset or stall connections (built on startProviderStandIn). */
export interface TwilioApiServer extends ProviderControl {
  /** Base URL to give the adapter as `apiBaseUrl`. */
  url: string
  /** Messages accepted (201), oldest first. */
  messages: ReceivedMessage[]
  /** Every request to the Messages endpoint, including refused ones. */
  requests: number
  /** Answer the next requests to the Messages endpoint like this, in order; then 201 again. */
  failNext(...answers: ScriptedAnswer[]): void
  /** Host a media item; returns its Twilio-style URL (Basic auth required). */
  addMedia(bytes: Uint8Array, contentType: string): string
  /** A media URL of this account that answers 404. */
  missingMediaUrl(): string
  /** Post a signed status callback for an accepted message, as Twilio does; resolves with the gateway's answer. */
  sendStatus(sid: string, status: 'queued' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'read', extra?: { errorCode?: number }): Promise<Response>
  reset(): Promise<void>
  close(): Promise<void>
}

/** Standard messages for the codes the stand-in answers with (from twilio.com/docs/api/errors). */
const ERROR_TEXT: Record<number, { status: number; message: string }> = {
  20003: { status: 401, message: 'Authenticate' },
  20404: { status: 404, message: 'The requested resource was not found' },
  20429: { status: 429, message: 'Too Many Requests' },
  21211: { status: 400, message: "The 'To' number is not a valid phone number." },
  21408: { status: 400, message: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number" },
  21602: { status: 400, message: 'Message body is required.' },
  21603: { status: 400, message: "A 'From' phone number is required." },
  21604: { status: 400, message: "A 'To' phone number is required." },
  21610: { status: 400, message: 'Attempt to send to unsubscribed recipient' },
  21614: { status: 400, message: "'To' number is not a valid mobile number" },
  21617: { status: 400, message: 'The concatenated message body exceeds the 1600 character limit.' },
}

/** A fresh Twilio SID: two letters and 32 hex digits (SM…, CA…, RE…). */
export const newSid = (prefix: string) => prefix + randomBytes(16).toString('hex')
/** Twilio's date format in JSON resources ("Sat, 22 Nov 2026 06:00:00 +0000"). */
export const rfc2822 = (d: Date) => d.toUTCString().replace('GMT', '+0000')

/** The Message resource as the REST API answers POST …/Messages.json (https://www.twilio.com/docs/messaging/api/message-resource). */
export function messageResource(
  accountSid: string,
  message: { sid: string; to: string; from?: string; messagingServiceSid?: string; body: string },
  { segments = 1, status = 'queued' }: { segments?: number; status?: string } = {},
) {
  const base = `/2010-04-01/Accounts/${accountSid}`
  const now = rfc2822(new Date())
  return {
    account_sid: accountSid,
    api_version: '2010-04-01',
    body: message.body,
    date_created: now,
    date_sent: null,
    date_updated: now,
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: message.from ?? null,
    messaging_service_sid: message.messagingServiceSid ?? null,
    num_media: '0',
    num_segments: String(segments),
    price: null,
    price_unit: 'USD',
    sid: message.sid,
    status,
    subresource_uris: { media: `${base}/Messages/${message.sid}/Media.json` },
    to: message.to,
    uri: `${base}/Messages/${message.sid}.json`,
  }
}

/**
 * What Twilio sends to a number's "A message comes in" webhook: a form-encoded body, signed with the
 * account's auth token over the URL as configured in the console (computed by the official SDK).
 */
export function signedIncoming(url: string, params: Record<string, string | string[]>, authToken: string): { headers: Record<string, string>; body: string } {
  const body = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) for (const value of Array.isArray(v) ? v : [v]) body.append(k, value)
  return {
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, url, params),
      'i-twilio-idempotency-token': randomBytes(16).toString('hex'),
    },
    body: body.toString(),
  }
}

/** The same as a Request (a test can put in another signature, e.g. one made for a different URL). */
export function incomingMessageRequest(url: string, params: Record<string, string | string[]>, authToken: string, init: { signature?: string } = {}): Request {
  const { headers, body } = signedIncoming(url, params, authToken)
  if (init.signature) headers['x-twilio-signature'] = init.signature
  return new Request(url, { method: 'POST', headers, body })
}

/** The parameters of an incoming SMS as Twilio names them (a fresh MessageSid unless given). */
export function incomingSmsParams(accountSid: string, over: Record<string, string> & { From: string; To: string; Body: string }): Record<string, string> {
  const messageSid = over.MessageSid ?? newSid('SM')
  return {
    ToCountry: 'CN',
    ToState: '',
    SmsMessageSid: messageSid,
    NumMedia: '0',
    ToCity: '',
    FromZip: '',
    SmsSid: messageSid,
    FromState: '',
    SmsStatus: 'received',
    FromCity: '',
    FromCountry: 'CN',
    ToZip: '',
    NumSegments: String(Math.max(1, countSegments(over.Body).segments)),
    MessageSid: messageSid,
    AccountSid: accountSid,
    ApiVersion: '2010-04-01',
    ...over,
  }
}

export async function startTwilioApiServer({ accountSid, authToken, port = 0, fetch: post = fetch }: TwilioApiServerOptions): Promise<TwilioApiServer> {
  const messages: ReceivedMessage[] = []
  const queue: ScriptedAnswer[] = []
  const media = new Map<string, { bytes: Uint8Array; contentType: string }>()
  let requests = 0
  const expectedAuth = Buffer.from('Basic ' + Buffer.from(`${accountSid}:${authToken}`).toString('base64'))
  const authorized = (req: IncomingMessage) => {
    const given = Buffer.from(req.headers.authorization ?? '')
    return given.length === expectedAuth.length && timingSafeEqual(given, expectedAuth)
  }
  const base = `/2010-04-01/Accounts/${accountSid}`

  const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
    res.end(JSON.stringify(body))
  }
  const sendError = (res: ServerResponse, code: number, over: { status?: number; message?: string; headers?: Record<string, string> } = {}) => {
    const known = ERROR_TEXT[code]
    const status = over.status ?? known?.status ?? 400
    sendJson(res, status, { code, message: over.message ?? known?.message ?? `Error ${code}`, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, over.headers)
  }

  function createMessage(req: IncomingMessage, res: ServerResponse, body: string) {
    requests++
    const scripted = queue.shift()
    if (scripted) {
      if ('drop' in scripted) {
        req.socket.destroy()
        return
      }
      if (scripted.code !== undefined || scripted.status === undefined) return sendError(res, scripted.code ?? 20500, scripted)
      // A bare HTTP status with a plain-text body, as a load balancer or proxy in front of the API answers.
      res.writeHead(scripted.status, { 'content-type': 'text/plain', ...scripted.headers })
      return res.end(scripted.message ?? `HTTP ${scripted.status}`)
    }
    if (!authorized(req)) return sendError(res, 20003)
    const form = new URLSearchParams(body)
    const params = Object.fromEntries(form)
    const to = form.get('To')
    const from = form.get('From') ?? undefined
    const messagingServiceSid = form.get('MessagingServiceSid') ?? undefined
    const text = form.get('Body') ?? ''
    if (!to) return sendError(res, 21604)
    if (!from && !messagingServiceSid) return sendError(res, 21603)
    if (!text && !form.get('MediaUrl')) return sendError(res, 21602)
    if (Array.from(text).length > 1600) return sendError(res, 21617)
    const message: ReceivedMessage = {
      sid: newSid('SM'),
      to,
      from,
      messagingServiceSid,
      body: text,
      statusCallback: form.get('StatusCallback') ?? undefined,
      params,
    }
    messages.push(message)
    sendJson(res, 201, messageResource(accountSid, message, { segments: Math.max(1, countSegments(text).segments), status: messagingServiceSid ? 'accepted' : 'queued' }))
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!
      const body = Buffer.concat(chunks).toString('utf8')
      if (req.method === 'POST' && path === `${base}/Messages.json`) return createMessage(req, res, body)
      const mediaPath = new RegExp(`^${base}/Messages/(MM|SM)[0-9a-f]{32}/Media/(ME[0-9a-f]{32})$`).exec(path)
      if (req.method === 'GET' && mediaPath) {
        if (!authorized(req)) return sendError(res, 20003)
        if (!media.has(mediaPath[2]!)) return sendError(res, 20404)
        res.writeHead(307, { location: `/cdn/${mediaPath[2]}` })
        return res.end()
      }
      const cdn = /^\/cdn\/(ME[0-9a-f]{32})$/.exec(path)
      if (req.method === 'GET' && cdn && media.has(cdn[1]!)) {
        const item = media.get(cdn[1]!)!
        res.writeHead(200, { 'content-type': item.contentType, 'content-length': String(item.bytes.byteLength) })
        return res.end(item.bytes)
      }
      sendError(res, 20404)
    })
  }
  const standIn = await startProviderStandIn({ port, listener })
  const url = standIn.url

  return {
    url,
    messages,
    get requests() {
      return requests
    },
    failNext: (...answers) => void queue.push(...answers),
    addMedia(bytes, contentType) {
      const mediaSid = newSid('ME')
      media.set(mediaSid, { bytes, contentType })
      return `${url}${base}/Messages/${newSid('MM')}/Media/${mediaSid}`
    },
    missingMediaUrl: () => `${url}${base}/Messages/${newSid('MM')}/Media/${newSid('ME')}`,
    async sendStatus(messageSid, status, { errorCode } = {}) {
      const message = messages.find((m) => m.sid === messageSid)
      if (!message?.statusCallback) throw new Error(`[twilio-api-server] no accepted message ${messageSid} with a StatusCallback`)
      const params: Record<string, string> = {
        AccountSid: accountSid,
        ApiVersion: '2010-04-01',
        From: message.from ?? '',
        To: message.to,
        MessageSid: messageSid,
        SmsSid: messageSid,
        MessageStatus: status,
        SmsStatus: status,
        ...(errorCode !== undefined ? { ErrorCode: String(errorCode) } : {}),
      }
      const req = new Request(message.statusCallback, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, message.statusCallback, params),
        },
        body: new URLSearchParams(params).toString(),
      })
      return post(req)
    },
    breakNext: standIn.breakNext,
    deliveries: standIn.deliveries,
    reset() {
      messages.length = 0
      queue.length = 0
      requests = 0
      return standIn.reset()
    },
    close: standIn.close,
  }
}
