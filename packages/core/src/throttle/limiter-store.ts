import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible'

/** A budget: `points` per window of `durationMs`; once spent, the key waits out the window, or `blockMs` when given. */
export interface LimitPolicy {
  points: number
  durationMs: number
  blockMs?: number
}

export type LimitVerdict = { allowed: true; remaining: number } | { allowed: false; retryAfterMs: number }

/**
 * One budget kept per key (a sender, a client address, an account). Small on purpose: the memory
 * backend below serves one process; a PostgreSQL or Redis backend (rate-limiter-flexible ships both)
 * implements the same three methods so that several gateways share one count.
 */
export interface LimiterStore {
  /** Spend `points` (default 1). Refused once the budget is gone; a refused call spends nothing more. */
  consume(key: string, points?: number): Promise<LimitVerdict>
  /** Whether the key could act now, without spending. */
  peek(key: string): Promise<LimitVerdict>
  /** Forget the key (a successful sign-in clears its failures). */
  reset(key: string): Promise<void>
}

/** Makes the store for one named budget; `name` keeps budgets apart in a shared backend. */
export type LimiterBackend = (name: string, policy: LimitPolicy) => LimiterStore

export class ThrottleConfigError extends Error {
  readonly code = 'invalid_limit'
  constructor(name: string, detail: string) {
    super(`[throttle] limit '${name}': ${detail}`)
  }
}

function checkPolicy(name: string, policy: LimitPolicy): void {
  if (!Number.isSafeInteger(policy.points) || policy.points < 1) throw new ThrottleConfigError(name, `points must be a positive integer; got ${policy.points}`)
  if (!(policy.durationMs >= 1000)) throw new ThrottleConfigError(name, `durationMs must be at least 1000; got ${policy.durationMs}`)
  if (policy.blockMs !== undefined && !(policy.blockMs >= 1000)) throw new ThrottleConfigError(name, `blockMs must be at least 1000; got ${policy.blockMs}`)
}

/** rate-limiter-flexible counts whole seconds. */
const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000))

/**
 * The in-process backend (rate-limiter-flexible's RateLimiterMemory). It reads the wall clock, not
 * the injected one: a budget is about real request rates, and tests never wait for a window to pass.
 */
export const memoryLimiters: LimiterBackend = (name, policy) => {
  checkPolicy(name, policy)
  const limiter = new RateLimiterMemory({
    keyPrefix: name,
    points: policy.points,
    duration: seconds(policy.durationMs),
    ...(policy.blockMs ? { blockDuration: seconds(policy.blockMs) } : {}),
  })
  return {
    async consume(key, points = 1) {
      try {
        const res = await limiter.consume(key, points)
        return { allowed: true, remaining: res.remainingPoints }
      } catch (refusal) {
        if (refusal instanceof RateLimiterRes) return { allowed: false, retryAfterMs: Math.max(1000, refusal.msBeforeNext) }
        throw refusal
      }
    },
    async peek(key) {
      const res = await limiter.get(key)
      if (!res || res.consumedPoints <= policy.points) return { allowed: true, remaining: res ? res.remainingPoints : policy.points }
      return { allowed: false, retryAfterMs: Math.max(1000, res.msBeforeNext) }
    },
    async reset(key) {
      await limiter.delete(key)
    },
  }
}
