/**
 * Refuses a nonce seen before within the timestamp window. Platforms that sign (timestamp, nonce)
 * but not the body (Weibo, WeCom) leave a captured push replayable until its timestamp expires; a
 * nonce is kept exactly that long, so memory is bounded by the push rate × the window.
 *
 * This is a second line only: idempotency on the provider's message id (in the store) is what keeps
 * a replay from making a second case, across processes and restarts. Each process refuses the
 * replays it sees.
 *
 * @example
 * const guard = replayGuard({ windowMs: 300_000 })
 * if (!guard.fresh(nonce, ctx.now())) return deny(401, 'replayed_nonce', '...')
 */
export interface ReplayGuard {
  /** True the first time a nonce is seen within the window (and remembers it); false for a replay. */
  fresh(nonce: string, nowMs: number): boolean
  readonly size: number
}

export function replayGuard({ windowMs, maxEntries = 100_000 }: { windowMs: number; maxEntries?: number }): ReplayGuard {
  if (!(windowMs > 0)) throw new Error('[replay guard] windowMs: expected a positive number of milliseconds')
  // Insertion order is expiry order (one window for all), so pruning stops at the first live entry.
  const seen = new Map<string, number>()
  const prune = (nowMs: number) => {
    for (const [nonce, expires] of seen) {
      if (expires > nowMs && seen.size <= maxEntries) break
      seen.delete(nonce)
    }
  }
  return {
    fresh(nonce, nowMs) {
      prune(nowMs)
      const expires = seen.get(nonce)
      if (expires !== undefined && expires > nowMs) return false
      seen.set(nonce, nowMs + 2 * windowMs) // a timestamp may be early or late by the window
      return true
    },
    get size() {
      return seen.size
    },
  }
}
