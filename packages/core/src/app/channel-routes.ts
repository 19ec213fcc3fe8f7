import type { Branding } from '../config/branding.ts'
import type { IncomingMessage } from 'node:http'
import type { Context, Hono } from 'hono'
import type {
  ChannelAdapter,
  ChannelError,
  HandledOutcome,
  InboundRoute,
  IntakeResult,
  RawRequest,
  RouteContext,
} from '../contracts/channel.ts'
import type { BlobStore } from '../contracts/blob-store.ts'
import type { Store } from '../contracts/store.ts'
import type { CaseRecords } from '../records/index.ts'
import type { Logger } from '../log/index.ts'
import { InboundValidationError, type Pipeline } from '../pipeline/index.ts'
import { readBodyLimited, streamBodyLimited, BodyTooLargeError, ClientGoneError, type StreamedBody } from './body.ts'
import { turns, type Turns } from './turns.ts'
import { clientAddress } from './client-address.ts'
import type { LimiterStore } from '../throttle/limiter-store.ts'
import type { Metrics } from './metrics.ts'

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024
/** How long a request waits for a turn on a route with `maxConcurrent` before it gets 503. */
export const TURN_WAIT_MS = 10_000

export interface ChannelMountDeps {
  channels: Record<string, ChannelAdapter>
  pipeline: Pipeline
  store: Store
  blobs: BlobStore
  publicUrl: string
  log: Logger
  now: () => number
  metrics: Metrics
  branding?: Branding
  records?: CaseRecords
  /** The budget of routes marked `perAddress`, per client address (X-Forwarded-For only when `trustProxy`). */
  perAddress?: { limiter: LimiterStore; trustProxy: boolean }
}

export function routeContext(
  channelId: string,
  deps: Pick<ChannelMountDeps, 'store' | 'blobs' | 'publicUrl' | 'log' | 'now' | 'branding' | 'records'>,
  mountPath?: string,
): RouteContext {
  const log = deps.log.child({ channelId })
  return {
    channelId,
    branding: deps.branding,
    publicUrl: deps.publicUrl,
    blobs: deps.blobs,
    log,
    now: deps.now,
    basePath: mountPath ?? `/channels/${channelId}`,
    records: deps.records,
    async setOptOut(citizenId, optedOut) {
      await deps.store.setOptOut(channelId, citizenId, optedOut, deps.now())
      // No address in the log: for SMS it is a phone number.
      log.info(optedOut ? 'citizen opted out' : 'citizen opted in again')
    },
  }
}

const jsonError = (c: Context, error: ChannelError) => c.json({ error: { code: error.code, message: error.message } }, error.status)

/** The rejection as rendered, with Retry-After when the error says when to come back. */
function withRetryAfter(res: Response, error: ChannelError): Response {
  if (error.retryAfterSeconds === undefined) return res
  const headers = new Headers(res.headers)
  headers.set('retry-after', String(error.retryAfterSeconds))
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers })
}

/**
 * Mount every adapter's pages and inbound routes under /channels/:channelId. Each inbound request
 * goes: size limit → verify (before any parsing) → parse → pipeline (persisted before we answer) →
 * the provider's expected response. Anything else under /channels is a 404 naming the channel.
 */
export function mountChannels(app: Hono, deps: ChannelMountDeps): void {
  for (const [channelId, adapter] of Object.entries(deps.channels)) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(channelId)) {
      throw new Error(`[config] channels.${channelId}: channel ids are kebab-case (a-z, 0-9, -)`)
    }
    if (adapter.mountPath !== undefined && !/^(\/[A-Za-z0-9._~-]+)+$/.test(adapter.mountPath)) {
      throw new Error(`[config] channels.${channelId}.mountPath: expected a path such as /open311/v2, got "${adapter.mountPath}"`)
    }
    if (adapter.mountPath !== undefined && /^\/(api|channels|console|status)(\/|$)/.test(adapter.mountPath)) {
      throw new Error(`[config] channels.${channelId}.mountPath: "${adapter.mountPath}" is a path of the gateway's own`)
    }
    const ctx = routeContext(channelId, deps, adapter.mountPath)
    const base = ctx.basePath
    for (const page of adapter.pages ?? []) {
      app.on(page.method, base + page.path, (c) => page.handle(c, ctx))
    }
    for (const route of adapter.routes ?? []) {
      if (route.streamsBody && route.verify) {
        throw new Error(`[config] channels.${channelId}: route ${route.method} ${route.path} streams its body and cannot also verify a signature over it`)
      }
      const limit = route.maxConcurrent !== undefined ? turns(route.maxConcurrent) : undefined
      const budget = route.perAddress ? deps.perAddress : undefined
      app.on(route.method, base + route.path, async (c) => {
        if (budget) {
          const verdict = await budget.limiter.consume(`${channelId}:${clientAddress(c, budget.trustProxy)}`)
          if (!verdict.allowed) return refuse(c, route, ctx, deps, channelId, { status: 429, code: 'rate_limited', message: 'too many submissions from this address; try again after Retry-After seconds', retryAfterSeconds: Math.ceil(verdict.retryAfterMs / 1000) })
        }
        return limit ? handleInTurn(c, limit, route, channelId, adapter, ctx, deps) : handleInbound(c, route, channelId, adapter, ctx, deps)
      })
    }
  }
  app.all('/channels/:channelId/*', (c) => {
    const channelId = c.req.param('channelId')
    if (!deps.channels[channelId]) {
      return c.json({ error: { code: 'unknown_channel', message: `no channel "${channelId}" is configured` } }, 404)
    }
    return c.json({ error: { code: 'unknown_route', message: `channel "${channelId}" has no route ${c.req.method} ${c.req.path}` } }, 404)
  })
}

/** Refused before the body is read (busy, over the address's budget): counted, answered through the route's `reject`, with Retry-After. */
function refuse(c: Context, route: InboundRoute, ctx: RouteContext, deps: ChannelMountDeps, channelId: string, error: ChannelError): Response {
  deps.metrics.count('inbound_rejected', { channelId, code: error.code })
  const raw: RawRequest = { method: c.req.method, url: new URL(c.req.url), headers: c.req.raw.headers, body: new Uint8Array(), text: () => '' }
  return withRetryAfter(route.reject ? route.reject(error, raw, ctx) : jsonError(c, error), error)
}

/** Wait for a turn before the body is read; no turn within TURN_WAIT_MS is a 503 the client can retry. */
async function handleInTurn(
  c: Context,
  limit: Turns,
  route: InboundRoute,
  channelId: string,
  adapter: ChannelAdapter,
  ctx: RouteContext,
  deps: ChannelMountDeps,
): Promise<Response> {
  const done = await limit.take(TURN_WAIT_MS)
  if (!done) {
    ctx.log.warn('inbound request refused: the route is at its limit of requests at once', { active: limit.active, waiting: limit.waiting })
    return refuse(c, route, ctx, deps, channelId, { status: 503, code: 'busy', message: 'too many requests are being handled at once; try again shortly', retryAfterSeconds: 5 })
  }
  try {
    return await handleInbound(c, route, channelId, adapter, ctx, deps)
  } finally {
    done()
  }
}

async function handleInbound(
  c: Context,
  route: InboundRoute,
  channelId: string,
  adapter: ChannelAdapter,
  ctx: RouteContext,
  deps: ChannelMountDeps,
): Promise<Response> {
  const limit = route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const url = new URL(c.req.url)
  const rawRequest = (body: Uint8Array, stream?: StreamedBody): RawRequest => ({
    method: c.req.method,
    url,
    headers: c.req.raw.headers,
    body,
    text: () => new TextDecoder().decode(body),
    ...(stream ? { stream: stream.stream } : {}),
  })
  let raw = rawRequest(new Uint8Array())
  const reject = (error: ChannelError) => (route.reject ? route.reject(error, raw, ctx) : jsonError(c, error))
  /** The answer to a body that was too large or whose client went away, whether core or `parse` found it. */
  const bodyRefusal = (err: unknown): Response | undefined => {
    if (err instanceof BodyTooLargeError) {
      deps.metrics.count('inbound_rejected', { channelId, code: 'body_too_large' })
      return reject({ status: 413, code: 'body_too_large', message: `the body is larger than ${limit} bytes` })
    }
    if (err instanceof ClientGoneError) {
      // Not an error of ours: nothing was stored, and the answer reaches no one.
      deps.metrics.count('inbound_rejected', { channelId, code: err.code })
      ctx.log.info('client went away before its body ended')
      return jsonError(c, { status: 400, code: err.code, message: err.message })
    }
    return undefined
  }
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
  if (!route.streamsBody) {
    try {
      raw = rawRequest(await readBodyLimited(c.req.raw, limit, incoming))
    } catch (err) {
      const refused = bodyRefusal(err)
      if (refused) return refused
      throw err
    }
    return handleRequest(c, raw, reject, route, channelId, ctx, deps)
  }

  const declared = Number(c.req.header('content-length') ?? NaN)
  let res: Response
  if (Number.isFinite(declared) && declared > limit) res = bodyRefusal(new BodyTooLargeError())!
  else {
    const streamed = streamBodyLimited(c.req.raw, limit, incoming)
    raw = rawRequest(new Uint8Array(), streamed)
    try {
      res = await handleRequest(c, raw, reject, route, channelId, ctx, deps)
    } catch (err) {
      const refused = bodyRefusal(err)
      if (!refused) throw err
      res = refused
    } finally {
      if (!streamed.ended) streamed.stop()
    }
    if (streamed.ended) return res
  }
  // The rest of the body stays unread: close the connection after the answer instead of reading it
  // to find the next request (RFC 9112 §9.6).
  const headers = new Headers(res.headers)
  headers.set('connection', 'close')
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers })
}

/** Verify, parse, hand to the pipeline and render the answer, for a request whose body is at hand (or streaming). */
async function handleRequest(
  c: Context,
  raw: RawRequest,
  reject: (error: ChannelError) => Response,
  route: InboundRoute,
  channelId: string,
  ctx: RouteContext,
  deps: ChannelMountDeps,
): Promise<Response> {
  if (route.verify) {
    const verdict = await route.verify(raw, ctx)
    if (!verdict.ok) {
      // Forged requests leave no trace but a counter and a log line without the payload.
      deps.metrics.count('inbound_rejected', { channelId, code: verdict.error.code })
      ctx.log.warn('inbound request rejected', { code: verdict.error.code, status: verdict.error.status })
      return reject(verdict.error)
    }
  }
  const outcome = await route.parse(raw, ctx)
  let handled: HandledOutcome
  if ('rejected' in outcome) {
    deps.metrics.count('inbound_rejected', { channelId, code: outcome.rejected.code })
    ctx.log.info('inbound request rejected', { code: outcome.rejected.code, status: outcome.rejected.status })
    return reject(outcome.rejected)
  } else if ('reports' in outcome) {
    let updated = 0
    for (const report of outcome.reports) {
      if (await deps.store.updateDeliveryStatus(channelId, report.providerId, report.status, deps.now())) updated++
      if (report.status === 'failed') ctx.log.warn('delivery failed at the provider', { providerId: report.providerId, error: report.error })
    }
    deps.metrics.count('delivery_reports', { channelId }, outcome.reports.length)
    handled = { kind: 'reports', updated }
  } else if ('ignored' in outcome) {
    deps.metrics.count('inbound_ignored', { channelId })
    ctx.log.info('inbound request ignored', { reason: outcome.ignored })
    handled = { kind: 'ignored', reason: outcome.ignored }
  } else {
    const results: IntakeResult[] = []
    for (const message of outcome.messages) {
      try {
        results.push(await deps.pipeline.ingest({ ...message, channelId }, { inlineAck: route.acknowledgesInline === true }))
      } catch (err) {
        if (err instanceof InboundValidationError) {
          deps.metrics.count('inbound_rejected', { channelId, code: err.code })
          return reject({ status: 400, code: err.code, message: err.message.replace('[pipeline] ', '') })
        }
        throw err
      }
    }
    deps.metrics.count('inbound_messages', { channelId }, results.filter((r) => !r.duplicate).length)
    handled = { kind: 'messages', results }
  }
  if (route.respond) return route.respond(handled, raw, ctx)
  if (handled.kind === 'reports') return c.json({ updated: handled.updated }, 200)
  return handled.kind === 'ignored'
    ? c.json({ ignored: handled.reason }, 200)
    : c.json({ results: handled.results.map(publicResult) }, handled.results.some((r) => !r.duplicate) ? 201 : 200)
}

function publicResult(r: IntakeResult) {
  return { trackingCode: r.trackingCode, caseId: r.caseId, duplicate: r.duplicate, followUp: r.followUp }
}
