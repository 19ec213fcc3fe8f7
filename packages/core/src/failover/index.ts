import type { ChannelAdapter, ChannelCapabilities, SendError, SendResult } from '../contracts/channel.ts'
import { providerBreaker, type BreakerOptions, type ProviderBreaker } from './breaker.ts'
import { checkDistinctPaths, providerRef, providerRoutes } from './routes.ts'

export { type BreakerOptions } from './breaker.ts'
export { providerRef } from './routes.ts'
export { providerHealthOf, renderProviderHealth, type ChannelProviderHealth } from './health.ts'

/** A provider of a failover channel: an adapter, named (default: its `kind`). */
export interface FailoverProvider {
  /** Kebab-case, unique in the channel; it prefixes the provider ids this channel records. */
  name?: string
  adapter: ChannelAdapter
}

export interface FailoverOptions {
  /** Each provider's circuit breaker (the same settings for every provider). */
  breaker?: BreakerOptions
}

/**
 * One channel, several providers in order: each send goes to the first provider whose circuit
 * breaker is closed (or whose half-open breaker lets this send through as its probe). A provider
 * that fails in a way a retry may cure (5xx, 429, a timeout, unreachable) counts against its
 * breaker and the same message, with the same idempotency key, goes on to the next provider in the
 * same attempt. Enough failures open the breaker: the provider is skipped until its cool-down ends,
 * then one send probes it and, if it goes through, traffic returns to it.
 *
 * - A provider that refuses the message itself (a number it cannot reach, content) is healthy; the
 *   message still goes on to the next, which may reach it. `stopped` (the citizen unsubscribed)
 *   ends there: no other provider sends to someone who said STOP.
 * - When no provider sends, the outbox gets a retryable error if any provider failed retryably
 *   (or was skipped), else the first refusal: it retries later or dead-letters as usual.
 * - The provider id recorded on the delivery is `name:id` (`twilio-sms:SM…`, `aliyun-sms:…^0`),
 *   and every provider's delivery reports are re-keyed the same way, so a report from either
 *   provider updates the same delivery.
 * - Every provider's webhooks are mounted on the channel as they are (`/channels/sms/status` for
 *   Twilio, `/channels/sms/report` for Alibaba Cloud); two providers may not share a path.
 * - Breaker state lives in the process that sends (the delivery thread under `intake start`), one
 *   per process with several gateway processes.
 *
 * @example
 * channels: {
 *   sms: failover([twilioSms({ ... }), aliyunSms({ ... })], { breaker: { minimumSends: 5, coolDownMs: 30_000 } }),
 * }
 */
export function failover(providers: ReadonlyArray<ChannelAdapter | FailoverProvider>, options: FailoverOptions = {}): ChannelAdapter {
  if (!Array.isArray(providers) || providers.length < 2) throw new Error('[failover] providers: list two providers or more, in the order they are tried')
  const named = providers.map((p) => ('adapter' in p ? { name: p.name ?? p.adapter.kind, adapter: p.adapter } : { name: p.kind, adapter: p }))
  const seen = new Set<string>()
  for (const [i, { name, adapter }] of named.entries()) {
    if (typeof adapter?.send !== 'function') throw new Error(`[failover] providers[${i}]: expected a channel adapter, e.g. twilioSms({ ... })`)
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`[failover] providers[${i}].name: expected kebab-case (a-z, 0-9, -), got "${name}"`)
    if (seen.has(name)) throw new Error(`[failover] providers[${i}].name: "${name}" is listed twice; name each provider ({ name, adapter })`)
    seen.add(name)
  }
  const { breaker: breakerOptions = {} } = options
  for (const [key, value] of Object.entries(breakerOptions)) {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new Error(`[failover] breaker.${key}: expected a positive number, got ${String(value)}`)
  }
  if ((breakerOptions.failurePercent ?? 50) >= 100) throw new Error('[failover] breaker.failurePercent: expected less than 100 (the breaker opens above it)')
  for (const key of ['minimumSends', 'windowSends'] as const) {
    if (breakerOptions[key] !== undefined && !Number.isInteger(breakerOptions[key])) throw new Error(`[failover] breaker.${key}: expected a whole number of sends`)
  }
  if ((breakerOptions.minimumSends ?? 5) > (breakerOptions.windowSends ?? Math.max(20, breakerOptions.minimumSends ?? 5))) {
    throw new Error('[failover] breaker.minimumSends: expected at most windowSends (the sends counted)')
  }
  checkDistinctPaths(named.map(({ name, adapter }) => ({ name, routes: adapter.routes ?? [] })))
  checkDistinctPaths(named.map(({ name, adapter }) => ({ name, routes: adapter.pages ?? [] })))

  const breakers: ProviderBreaker[] = named.map(({ name, adapter }) => providerBreaker(name, adapter, breakerOptions))

  return {
    kind: 'failover',
    capabilities: sharedCapabilities(named.map((p) => p.adapter.capabilities)),
    routes: named.flatMap(({ name, adapter }) => providerRoutes(name, adapter.routes ?? [])),
    pages: named.flatMap(({ adapter }) => adapter.pages ?? []),
    secrets: named.flatMap(({ adapter }) => adapter.secrets ?? []),
    async start(ctx) {
      for (const { adapter } of named) await adapter.start?.(ctx)
    },
    async stop() {
      for (const { adapter } of named) await adapter.stop?.()
    },
    async send(msg, ctx): Promise<SendResult> {
      const failed: Array<{ provider: string; error: SendError }> = []
      const refused: Array<{ provider: string; error: SendError }> = []
      const skipped: string[] = []
      for (const breaker of breakers) {
        const log = ctx.log.child({ provider: breaker.name })
        const outcome = await breaker.send(msg, { ...ctx, log })
        if (outcome.kind === 'sent') {
          if (failed.length || skipped.length) log.info('sent by a later provider', { failed: failed.map((f) => f.provider), skipped })
          return { ok: true, providerId: providerRef(breaker.name, outcome.providerId) }
        }
        if (outcome.kind === 'skipped') {
          skipped.push(breaker.name)
          continue
        }
        const error = { ...outcome.error, message: `${breaker.name}: ${outcome.error.message}` }
        if (outcome.kind === 'refused' && error.code === 'stopped') return { ok: false, error }
        log.warn(outcome.kind === 'failed' ? 'provider failed; trying the next' : 'provider refused the message; trying the next', { error: error.message })
        ;(outcome.kind === 'failed' ? failed : refused).push({ provider: breaker.name, error })
      }
      const message = [...failed, ...refused].map((f) => f.error.message).concat(skipped.map((s) => `${s}: breaker open`)).join('; ')
      if (failed.length || skipped.length) {
        const retryAfterMs = Math.max(0, ...failed.map((f) => f.error.retryAfterMs ?? 0))
        return { ok: false, error: { code: failed[0]?.error.code ?? 'connection', retryable: true, message, ...(retryAfterMs ? { retryAfterMs } : {}) } }
      }
      return { ok: false, error: { ...refused[0]!.error, message } }
    },
    providerHealth: () => breakers.map((b) => b.health()),
  }
}

/** What every provider can carry: the same text may go out through any of them. */
function sharedCapabilities(all: ChannelCapabilities[]): ChannelCapabilities {
  const limits = all.map((c) => c.maxText).filter((n): n is number => n !== undefined)
  return {
    media: all.every((c) => c.media === true),
    groups: all.every((c) => c.groups === true),
    threading: all.every((c) => c.threading === true),
    ...(limits.length ? { maxText: Math.min(...limits) } : {}),
  }
}
