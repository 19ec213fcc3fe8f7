import type { Branding } from '../config/branding.ts'
import type { Readable } from 'node:stream'
import type { Context } from 'hono'
import type { InboundMessageInput, OutboundMessage } from '../model/index.ts'
import type { BlobStore } from './blob-store.ts'
import type { Logger } from '../log/index.ts'
import type { CaseRecords } from '../records/index.ts'

/**
 * A channel adapter: how citizens reach Intake on one provider, and how replies go back. A complete
 * third-party adapter, its provider stand-in and its kit test: examples/custom-plugin/ (LINE).
 *
 * Threads: under `intake start` the config (and so every adapter factory) is evaluated twice — in
 * the main thread, which serves the routes and calls `start`/`stop`, and in the delivery thread,
 * which only calls `send`. Open listeners in `start`, never in the factory; `intakeThread()` tells
 * a config which thread it is in.
 *
 * @example
 * import type { ChannelAdapter } from '@intake/core'
 *
 * // Citizens POST `{ "id": "...", "from": "...", "text": "..." }` to /channels/:channelId/in.
 * export const echo: ChannelAdapter = {
 *   kind: 'echo',
 *   capabilities: { maxText: 1000 },
 *   routes: [
 *     {
 *       method: 'POST',
 *       path: '/in',
 *       async parse(req, ctx) {
 *         const { id, from, text } = JSON.parse(req.text()) as { id: string; from: string; text: string }
 *         return { messages: [{ channelId: ctx.channelId, externalId: id, from: { channelId: ctx.channelId, id: from }, text, receivedAt: ctx.now() }] }
 *       },
 *     },
 *   ],
 *   send: async (msg) => ({ ok: true, providerId: msg.id }),
 * }
 */
export interface ChannelAdapter {
  /** Provider kind: `web-form`, `api`, `twilio-sms`, `smtp-email`... */
  readonly kind: string
  readonly capabilities: ChannelCapabilities
  /** Webhooks the adapter needs, mounted under `/channels/:channelId` (or `mountPath`). */
  readonly routes?: readonly InboundRoute[]
  /**
   * Where its routes and pages are mounted instead of `/channels/:channelId`: for a protocol whose
   * clients expect a fixed address of its own (Open311's `/open311/v2`). Starts with `/`.
   */
  readonly mountPath?: string
  /** Public pages the adapter serves (a form, a verification echo), mounted beside its routes. */
  readonly pages?: readonly PageRoute[]
  /** Values that must never reach a log line (tokens, shared secrets). */
  readonly secrets?: readonly string[]
  /** Listeners and pollers (an SMTP server, a long-poll loop). */
  start?(ctx: ChannelContext): Promise<void>
  stop?(): Promise<void>
  /** Deliver one outbound message. Errors are values, classified for the outbox. */
  send(msg: OutboundMessage, ctx: SendContext): Promise<SendResult>
  /**
   * For a channel that sends through several providers (`failover(...)`): each provider's circuit
   * breaker and counts, for /metrics and the console. A single-provider adapter leaves it out.
   */
  providerHealth?(): ProviderHealth[]
  /**
   * For an adapter that hands cases to another system (an office's `forwardTo`): `send` takes the
   * `forward` messages (the provider id it returns is the other system's id for the case), and
   * `forwarding.poll` reads back what that system did since.
   */
  readonly forwarding?: CaseForwarding
}

/** One provider of a channel, as its circuit breaker sees it (in this process). */
export interface ProviderHealth {
  /** The provider's name in the channel, e.g. `twilio-sms`. */
  provider: string
  /** `open`: skipped until its cool-down ends; `half-open`: the next send is the probe. */
  state: 'closed' | 'open' | 'half-open'
  /** Sends it accepted, since start. */
  successes: number
  /** Sends that failed in a way a retry may cure (5xx, 429, timeouts, unreachable), since start. */
  failures: number
  /** Sends it refused for this message (bad number, content): the provider is up, the message went on to the next. */
  refusals: number
  /** Sends that skipped it because its breaker was open. */
  skipped: number
  /** Times its breaker opened. */
  opened: number
}

/**
 * Reading back cases handed to another system. The gateway polls every `pollMs` with the ids of the
 * forwarded cases still open; what changed becomes events on the case, the other system's notes a
 * reply to the citizen on their own channel, and `closed` resolves the case.
 *
 * @example
 * import type { CaseForwarding } from '@intake/core'
 *
 * // A system that only ever says "open": nothing changes on the cases.
 * export const forwarding: CaseForwarding = {
 *   pollMs: 60_000,
 *   poll: async (ids) => ids.map((externalId) => ({ externalId, status: 'open' })),
 * }
 */
export interface CaseForwarding {
  /** How often to ask (default 60 s). */
  readonly pollMs?: number
  /** What the other system says now about these cases. An id it does not mention is left as it was; a failure throws and is retried at the next poll. */
  poll(externalIds: readonly string[], ctx: { log: Logger; now: () => number }): Promise<ExternalStatus[]>
}

/** One forwarded case as the other system reports it. */
export interface ExternalStatus {
  externalId: string
  status: 'open' | 'closed'
  /** Its latest public note (Open311's status_notes): sent to the citizen when it changes. */
  notes?: string
  /** Who works on it there (Open311's agency_responsible). */
  agency?: string
  updatedAt?: number
}

export interface ChannelCapabilities {
  media?: boolean
  groups?: boolean
  threading?: boolean
  /** Longest text one message may carry; longer replies are shortened with a status link. */
  maxText?: number
}

/**
 * A request as the adapter sees it: the raw bytes, so signatures are checked over exactly what arrived.
 * One request is one object through verify, parse and respond, so an adapter may key per-request
 * state on it (a WeChat push decrypted in verify, answered encrypted in respond).
 */
export interface RawRequest {
  readonly method: string
  readonly url: URL
  readonly headers: Headers
  /** The whole body; empty on a route that `streamsBody` (read `stream` there). */
  readonly body: Uint8Array
  /** The body decoded as UTF-8. */
  text(): string
  /**
   * On a route that `streamsBody`: the body as it arrives, read once. Core counts its bytes: past
   * the route's `maxBodyBytes` it fails with `BodyTooLargeError`, and a client that hangs up makes
   * it fail with `ClientGoneError`; `parse` may let either propagate (core answers 413, or nobody).
   */
  readonly stream?: Readable
}

export interface ChannelError {
  status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503
  /** Seconds after which the client may try again (sent as Retry-After), for a 429 or 503. */
  retryAfterSeconds?: number
  /** snake_case, e.g. `bad_signature`, `malformed_json`, `missing_field`. */
  code: string
  message: string
}

/**
 * A provider's report on a message it accepted earlier (a Twilio status callback, a read receipt).
 * `providerId` is the id the adapter's `send` returned.
 */
export interface DeliveryReport {
  providerId: string
  status: 'sent' | 'delivered' | 'failed'
  /** The provider's error code or text when the status is `failed` (Twilio's ErrorCode). */
  error?: string
}

/** Every inbound request ends in exactly one of these. */
export type InboundOutcome =
  | { messages: InboundMessageInput[] }
  | { reports: DeliveryReport[] }
  | { ignored: string }
  | { rejected: ChannelError }

export type Verification = { ok: true } | { ok: false; error: ChannelError }

/** What the pipeline did with the outcome, handed to `respond` to render the provider's answer. */
export type HandledOutcome =
  | { kind: 'messages'; results: IntakeResult[] }
  | { kind: 'reports'; updated: number }
  | { kind: 'ignored'; reason: string }

export interface IntakeResult {
  caseId: string
  trackingCode: string
  messageId: string
  /** True when this provider message id was seen before: nothing new was written. */
  duplicate: boolean
  /** True when the message was added to an existing case. */
  followUp: boolean
  officeId: string
  /**
   * For routes that acknowledge inline: the acknowledgement's text, to put in the webhook's answer.
   * It is recorded as delivered there and never queued (the same text again on a duplicate).
   */
  acknowledgement?: string
}

export interface InboundRoute {
  readonly method: 'GET' | 'POST' | 'PUT'
  /** Relative to the channel's mount point, e.g. `/messages`. */
  readonly path: string
  /**
   * Largest body accepted, in bytes. Default: 1 MiB (`DEFAULT_MAX_BODY_BYTES`). A larger request is
   * answered 413 (through `reject`) before `verify` or `parse` see it, and stores nothing.
   *
   * @example
   * import type { InboundRoute } from '@intake/core'
   * export const route: InboundRoute = { method: 'POST', path: '/webhook', maxBodyBytes: 256 * 1024, parse: async () => ({ ignored: 'example' }) }
   */
  readonly maxBodyBytes?: number
  /**
   * Requests of this route handled at once (default: no limit). Past it, a request waits for a turn
   * with its body still unread — up to 10 s — and then gets 503 with Retry-After. For routes that
   * take large bodies (uploads), so the memory they hold stays under `maxConcurrent × maxBodyBytes`.
   */
  readonly maxConcurrent?: number
  /**
   * A public route anyone may post to without a provider's signature (a web form): its requests are
   * budgeted per client address (config `submissions`, default 20 per 10 minutes); past it, 429
   * with Retry-After through `reject`, before the body is read.
   */
  readonly perAddress?: boolean
  /**
   * Hand the body to `parse` unread, as `req.stream`, instead of reading it whole first (uploads):
   * the adapter applies its own limits as the bytes arrive and may refuse before the client has
   * finished sending. A declared Content-Length over `maxBodyBytes` is still 413 before `parse`.
   * When the answer goes out with the body not read to its end, core closes the connection
   * (`Connection: close`) instead of reading the rest. Such a route cannot have `verify`: a
   * signature covers bytes that have not arrived yet.
   *
   * @example
   * import type { InboundRoute } from '@intake/core'
   * export const upload: InboundRoute = {
   *   method: 'POST', path: '/upload', streamsBody: true, maxBodyBytes: 20 * 1024 * 1024,
   *   async parse(req) {
   *     let bytes = 0
   *     for await (const chunk of req.stream!) if ((bytes += chunk.byteLength) > 5 * 1024 * 1024) return { rejected: { status: 413, code: 'too_large', message: 'at most 5 MiB' } }
   *     return { ignored: `read ${bytes} bytes` }
   *   },
   * }
   */
  readonly streamsBody?: boolean
  /**
   * The provider expects the acknowledgement in the answer to its webhook (WeChat's passive reply,
   * TwiML that speaks the tracking code): the pipeline records it as delivered inline instead of
   * queueing it, and `respond` finds its text in each result's `acknowledgement`.
   */
  readonly acknowledgesInline?: boolean
  /** Check the provider's signature over the raw request. Runs before parsing; a failure stores nothing. */
  verify?(req: RawRequest, ctx: RouteContext): Promise<Verification> | Verification
  parse(req: RawRequest, ctx: RouteContext): Promise<InboundOutcome>
  /**
   * The provider's expected answer (TwiML, XML, JSON, a page), once the outcome is handled — for
   * messages, after they are committed, so any status is safe for what was stored: a non-2xx only
   * makes the provider deliver again, and the retry is a duplicate that stores nothing new.
   * It may return any `Response` (or a promise of one). Without it, the answer is JSON:
   * - messages: 201 `{ results: [{ trackingCode, caseId, duplicate, followUp }] }` when something new
   *   was stored, 200 with the same body when every message was a duplicate;
   * - ignored: 200 `{ ignored: reason }`;  delivery reports: 200 `{ updated: n }`.
   * Providers that count anything but 200 as a failure (LINE, Telegram, WeChat) need `respond`.
   *
   * @example
   * import type { InboundRoute } from '@intake/core'
   * // LINE redelivers unless the answer is exactly 200.
   * export const respond: InboundRoute['respond'] = () => new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } })
   */
  respond?(handled: HandledOutcome, req: RawRequest, ctx: RouteContext): Response | Promise<Response>
  /**
   * Render a rejection (a failed `verify`, a `rejected` outcome, 413) the provider's way. Default:
   * JSON `{ error: { code, message } }` with the error's status.
   *
   * @example
   * import type { InboundRoute } from '@intake/core'
   * export const reject: InboundRoute['reject'] = (error) => new Response(error.message, { status: error.status })
   */
  reject?(error: ChannelError, req: RawRequest, ctx: RouteContext): Response
}

export interface PageRoute {
  readonly method: 'GET' | 'POST'
  readonly path: string
  handle(c: Context, ctx: RouteContext): Response | Promise<Response>
}

export interface RouteContext {
  readonly channelId: string
  readonly publicUrl: string
  readonly blobs: BlobStore
  readonly log: Logger
  readonly now: () => number
  /** Where this channel is mounted, e.g. `/channels/web`. */
  readonly basePath: string
  /**
   * The channel's cases as it may publish them, the offices, and the API's key check: for protocols
   * that answer lookups (Open311's GET requests). Every gateway gives it; a context built by hand may not.
   */
  readonly records?: CaseRecords
  /** The agency's name, hotline and privacy notice, for pages a channel serves (renderPage's `branding`). */
  readonly branding?: Branding
  /**
   * Record that a citizen asked for no more messages on this channel (STOP, 退订) or asked to
   * receive them again (START). The outbox sends nothing to a stopped address.
   */
  setOptOut(citizenId: string, optedOut: boolean): Promise<void>
}

export interface ChannelContext extends RouteContext {
  /** Hand a message to the pipeline (for listeners and pollers that are not HTTP routes). */
  ingest(msg: InboundMessageInput): Promise<IntakeResult>
  /**
   * The gateway's counters, for what a listener refuses or ignores without the HTTP routes'
   * bookkeeping (`inbound_rejected` with a code, `inbound_ignored` with a reason).
   */
  readonly metrics: { count(name: string, labels?: Record<string, string>, by?: number): void }
}

export interface SendContext {
  readonly channelId: string
  /** Stable across retries of one delivery: a provider or receiver that honours it never double-sends. */
  readonly idempotencyKey: string
  readonly attempt: number
  readonly log: Logger
  readonly publicUrl: string
  readonly blobs: BlobStore
}

export type SendErrorCode =
  | 'throttled' // slow down, retry later
  | 'connection' // network or provider 5xx, retry
  | 'stopped' // the citizen unsubscribed or blocked us: never retry
  | 'invalid_recipient' // the address cannot receive: never retry
  | 'config' // our credentials or settings are wrong: never retry until fixed
  | 'rejected' // the provider refused this message (content, size)
  | 'unknown'

export interface SendError {
  code: SendErrorCode
  retryable: boolean
  message: string
  /** Provider's hint (Retry-After, retry_after). */
  retryAfterMs?: number
}

export type SendResult = { ok: true; providerId: string } | { ok: false; error: SendError }

export const sendError = (code: SendErrorCode, message: string, extra: Partial<SendError> = {}): SendResult => ({
  ok: false,
  error: { code, message, retryable: code === 'throttled' || code === 'connection' || code === 'unknown', ...extra },
})

/** Classify an HTTP status from a provider into the send-error taxonomy. */
export function classifyHttpStatus(status: number, body = ''): SendError {
  const message = `provider answered ${status}${body ? `: ${body.slice(0, 200)}` : ''}`
  if (status === 429) return { code: 'throttled', retryable: true, message }
  if (status >= 500) return { code: 'connection', retryable: true, message }
  if (status === 401 || status === 403) return { code: 'config', retryable: false, message }
  if (status === 404 || status === 410) return { code: 'invalid_recipient', retryable: false, message }
  return { code: 'rejected', retryable: false, message }
}
