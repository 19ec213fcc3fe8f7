import { memoryLimiters, type LimitPolicy, type LimitVerdict, type LimiterBackend } from './limiter-store.ts'

export interface LookupThrottleOptions {
  backend?: LimiterBackend
  /** Status lookups per key. Default 30 per 10 minutes. */
  lookups?: LimitPolicy
  /** Codes that name no case (or fail their check) per key; past it the key is refused for `blockMs`. Default 10 per hour, then an hour's block. */
  misses?: LimitPolicy
}

export const LOOKUP_LIMITS = {
  lookups: { points: 30, durationMs: 10 * 60_000 },
  misses: { points: 10, durationMs: 60 * 60_000, blockMs: 60 * 60_000 },
} as const satisfies Record<string, LimitPolicy>

/**
 * Throttles tracking-code lookups on every channel and the status page. Keys are a sender
 * (`sender:<channel>:<address>`) and, on HTTP, a client address (`client:<ip>`): each is counted on
 * its own and the strictest wins. Wrong codes cost from a second, much smaller budget, so guessing
 * (2.75e10 codes, one check character) gets about ten tries an hour per key.
 */
export interface LookupThrottle {
  /** Before a lookup: refused when any key is out of lookups or blocked for misses; otherwise spends one lookup per key. */
  attempt(keys: readonly string[]): Promise<LimitVerdict>
  /** After a lookup that found no case (or a mistyped code): spends one miss per key. */
  miss(keys: readonly string[]): Promise<void>
}

export const senderKey = (channelId: string, address: string) => `sender:${channelId}:${address}`
export const clientKey = (ip: string) => `client:${ip}`

export function createLookupThrottle(options: LookupThrottleOptions = {}): LookupThrottle {
  const backend = options.backend ?? memoryLimiters
  const lookups = backend('status-lookups', options.lookups ?? LOOKUP_LIMITS.lookups)
  const misses = backend('status-misses', options.misses ?? LOOKUP_LIMITS.misses)
  const strictest = (verdicts: LimitVerdict[]): LimitVerdict => {
    const refused = verdicts.filter((v) => !v.allowed)
    if (refused.length) return { allowed: false, retryAfterMs: Math.max(...refused.map((v) => v.retryAfterMs)) }
    return { allowed: true, remaining: Math.min(...verdicts.map((v) => (v.allowed ? v.remaining : 0)), Number.MAX_SAFE_INTEGER) }
  }
  return {
    async attempt(keys) {
      const blocked = strictest(await Promise.all(keys.map((k) => misses.peek(k))))
      if (!blocked.allowed) return blocked
      return strictest(await Promise.all(keys.map((k) => lookups.consume(k))))
    },
    async miss(keys) {
      await Promise.all(keys.map((k) => misses.consume(k)))
    },
  }
}
