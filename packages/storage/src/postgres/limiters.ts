/**
 * Throttling counters shared by every gateway process on one PostgreSQL database: core's
 * LimiterBackend on rate-limiter-flexible's RateLimiterPostgres (one row per key, updated
 * atomically by the database), so a sender who spreads lookups over several processes spends one
 * budget. The memory backend counts per process.
 */
import pg from 'pg'
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible'
import { ThrottleConfigError, type LimiterBackend, type LimitPolicy } from '@intake/core'

export interface PostgresLimitersOptions {
  /** The store's database URL (a table `rate_limits` is created there on first use). */
  url: string
  /** Connections for the counters (default 2). */
  poolSize?: number
}

/** rate-limiter-flexible counts whole seconds. */
const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000))

/**
 * @example
 * const limiters = postgresLimiters({ url: process.env.INTAKE_DATABASE_URL! })
 * createLookupThrottle({ backend: limiters })
 */
export function postgresLimiters({ url, poolSize = 2 }: PostgresLimitersOptions): LimiterBackend & { close(): Promise<void> } {
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\/./.test(url)) {
    throw Object.assign(new Error("[throttle/postgres] option 'url' must be a 'postgres://' URL"), { code: 'invalid_option' })
  }
  let pool: pg.Pool | undefined
  const backend: LimiterBackend = (name: string, policy: LimitPolicy) => {
    if (!Number.isSafeInteger(policy.points) || policy.points < 1) throw new ThrottleConfigError(name, `points must be a positive integer; got ${policy.points}`)
    if (!(policy.durationMs >= 1000)) throw new ThrottleConfigError(name, `durationMs must be at least 1000; got ${policy.durationMs}`)
    if (policy.blockMs !== undefined && !(policy.blockMs >= 1000)) throw new ThrottleConfigError(name, `blockMs must be at least 1000; got ${policy.blockMs}`)
    if (!pool) {
      pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: 'intake-throttle' })
      // An idle connection the server dropped must not take the process down: the pool replaces it.
      pool.on('error', () => {})
    }
    let limiter!: RateLimiterPostgres
    // The table is created (if missing) before the first count: two processes creating it at once is handled by the library.
    const ready = new Promise<void>((resolve, reject) => {
      limiter = new RateLimiterPostgres(
        {
          storeClient: pool,
          storeType: 'pool',
          tableName: 'rate_limits',
          keyPrefix: name,
          points: policy.points,
          duration: seconds(policy.durationMs),
          ...(policy.blockMs ? { blockDuration: seconds(policy.blockMs) } : {}),
        },
        (error?: Error) => (error ? reject(error) : resolve()),
      )
    })
    ready.catch(() => {})
    return {
      async consume(key, points = 1) {
        await ready
        try {
          const res = await limiter.consume(key, points)
          return { allowed: true, remaining: res.remainingPoints }
        } catch (refusal) {
          if (refusal instanceof RateLimiterRes) return { allowed: false, retryAfterMs: Math.max(1000, refusal.msBeforeNext) }
          throw refusal
        }
      },
      async peek(key) {
        await ready
        const res = await limiter.get(key)
        if (!res || res.consumedPoints <= policy.points) return { allowed: true, remaining: res ? res.remainingPoints : policy.points }
        return { allowed: false, retryAfterMs: Math.max(1000, res.msBeforeNext) }
      },
      async reset(key) {
        await ready
        await limiter.delete(key)
      },
    }
  }
  return Object.assign(backend, {
    async close() {
      await pool?.end()
      pool = undefined
    },
  })
}
