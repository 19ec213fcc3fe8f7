import { z } from 'zod'
import { classifyHttpStatus, httpPost, sendError, signRequest, verifySignature, type ChannelAdapter, type HttpAnswer, type InboundOutcome, type OutboundMessage, type SendResult } from '@intake/core'

// The signing scheme lives in core (the event webhooks sign the same way); integrators keep importing it from here.
export { computeSignature, signRequest, verifySignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '@intake/core'

export interface ApiChannelOptions {
  /** Shared secret(s), 16+ characters; several while rotating. */
  secret: string | string[]
  /** Where replies are POSTed, signed the same way. Without it, replies dead-letter with a config error. */
  callbackUrl?: string
  /** How far a request's timestamp may be from our clock (default 300 s). */
  toleranceSeconds?: number
  /** Give up on a callback after this long (default 10 s); the outbox retries. */
  timeoutMs?: number
  maxBodyBytes?: number
}

/** What an integrator POSTs to /channels/:id/messages. */
export const ApiInboundMessage = z
  .object({
    /** The integrator's id for the message; a retry with the same id makes no second case. */
    id: z.string().min(1).max(200),
    from: z.object({ id: z.string().min(1).max(200), name: z.string().max(200).optional() }),
    text: z.string().max(20_000).default(''),
    subject: z.string().max(1000).optional(),
    place: z
      .union([z.string().max(500), z.object({ text: z.string().max(500).optional(), lat: z.number().min(-90).max(90).optional(), lon: z.number().min(-180).max(180).optional() })])
      .optional(),
    contact: z.object({ email: z.string().email().optional(), phone: z.string().max(40).optional(), name: z.string().max(200).optional() }).optional(),
    language: z.string().max(20).optional(),
    /** Earlier message ids this one answers, so it joins the same case. */
    inReplyTo: z.string().max(200).optional(),
  })
  .strict()
  .refine((m) => m.text.trim().length > 0, { path: ['text'], message: 'text is required' })
export type ApiInboundMessage = z.infer<typeof ApiInboundMessage>

/** What Intake POSTs to the integrator's callback URL. */
export interface ApiCallbackBody {
  type: 'message'
  id: string
  /** `alert` goes to an office's alert address (an urgent case), the others to the citizen. */
  kind: OutboundMessage['kind']
  to: string
  caseId: string
  trackingCode: string
  statusUrl: string
  text: string
  language: string
}

/**
 * A JSON channel for integrators (an app, a kiosk, another system). Requests are signed with
 * HMAC-SHA256 over timestamp + raw body; replies go to the configured callback, signed the same
 * way and carrying an Idempotency-Key that stays the same across retries.
 */
export function apiChannel({ secret, callbackUrl, toleranceSeconds = 300, timeoutMs = 10_000, maxBodyBytes = 256 * 1024 }: ApiChannelOptions): ChannelAdapter {
  const secrets = Array.isArray(secret) ? secret : [secret]
  if (secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s.length < 16)) {
    throw new Error('[api channel] secret: give one or more shared secrets of at least 16 characters')
  }
  if (callbackUrl !== undefined && !/^https?:\/\//.test(callbackUrl)) {
    throw new Error(`[api channel] callbackUrl: expected an http(s) URL, got "${callbackUrl}"`)
  }
  const signingSecret = secrets[0]!

  return {
    kind: 'api',
    capabilities: { threading: true, maxText: 20_000 },
    secrets,

    async start(ctx) {
      if (!callbackUrl) {
        // Not an error (an integrator may only send), but every acknowledgement would be a dead letter.
        ctx.log.warn('api channel has no callbackUrl: its acknowledgements and replies cannot be delivered and become dead letters (set callbackUrl)', { channelId: ctx.channelId })
      }
    },
    routes: [
      {
        method: 'POST',
        path: '/messages',
        maxBodyBytes,
        verify(req, ctx) {
          const check = verifySignature(secrets, req.headers, req.body, ctx.now(), toleranceSeconds)
          return check.ok ? check : { ok: false, error: { status: 401, code: check.code, message: check.message } }
        },
        async parse(req, ctx): Promise<InboundOutcome> {
          if (!/^application\/json\b/i.test(req.headers.get('content-type') ?? '')) {
            return { rejected: { status: 415, code: 'unsupported_media_type', message: 'send application/json' } }
          }
          let json: unknown
          try {
            json = JSON.parse(req.text())
          } catch {
            return { rejected: { status: 400, code: 'malformed_json', message: 'the body is not valid JSON' } }
          }
          const parsed = ApiInboundMessage.safeParse(json)
          if (!parsed.success) {
            const message = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')
            return { rejected: { status: 400, code: 'invalid_message', message } }
          }
          const m = parsed.data
          return {
            messages: [
              {
                channelId: ctx.channelId,
                externalId: m.id,
                from: { channelId: ctx.channelId, id: m.from.id, displayName: m.from.name },
                text: m.text,
                subject: m.subject,
                place: typeof m.place === 'string' ? { text: m.place } : m.place,
                contact: m.contact,
                language: m.language,
                threadRefs: m.inReplyTo ? [m.inReplyTo] : [],
                receivedAt: ctx.now(),
                raw: json,
              },
            ],
          }
        },
      },
    ],

    async send(msg, ctx): Promise<SendResult> {
      if (!callbackUrl) return sendError('config', 'no callbackUrl is configured for this api channel')
      const body: ApiCallbackBody = {
        type: 'message',
        id: msg.id,
        kind: msg.kind,
        to: msg.to.id,
        caseId: msg.caseId,
        trackingCode: msg.trackingCode,
        statusUrl: msg.statusUrl,
        text: msg.text,
        language: msg.language,
      }
      const text = JSON.stringify(body)
      let res: HttpAnswer
      try {
        res = await httpPost(callbackUrl, text, {
          headers: { 'content-type': 'application/json', 'idempotency-key': ctx.idempotencyKey, ...signRequest(signingSecret, text) },
          timeoutMs,
        })
      } catch (err) {
        const e = err as Error & { code?: string }
        return sendError('connection', `callback unreachable: ${e.code ?? e.name}: ${e.message}`)
      }
      const answer = res.text
      if (res.status < 200 || res.status >= 300) {
        const error = classifyHttpStatus(res.status, answer)
        const retryAfter = Number(res.headers['retry-after'])
        return { ok: false, error: Number.isFinite(retryAfter) && retryAfter > 0 ? { ...error, retryAfterMs: retryAfter * 1000 } : error }
      }
      let providerId = msg.id
      try {
        const parsed = JSON.parse(answer) as { id?: unknown }
        if (typeof parsed.id === 'string' && parsed.id) providerId = parsed.id
      } catch {
        // A callback may answer 2xx with an empty body; our own message id identifies the delivery then.
      }
      return { ok: true, providerId }
    },
  }
}
