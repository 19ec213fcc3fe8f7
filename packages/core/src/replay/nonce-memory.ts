/**
 * Remembers the nonces a provider's signed requests carried within a window, with a fingerprint of
 * what each one signed for. For providers whose signature does not cover the body (WeChat's plain
 * mode signs only token, timestamp and nonce), this is what stops a captured request from being
 * sent again with another body: the same nonce with the same body is the provider's own retry (let
 * it through: intake is idempotent on the message id), the same nonce with another body is a forgery.
 *
 * The memory is this process's. With several gateway processes behind one address, a replay that
 * lands on another process than the original is not caught here — the timestamp window still bounds
 * it, and a provider mode that signs the body (WeChat's safe mode) closes it.
 *
 * @example
 * const nonces = nonceMemory({ windowMs: 300_000 })
 * if (nonces.check(`${timestamp}:${nonce}`, sha256(body), now) === 'conflict') return deny(401, 'replayed_nonce')
 */
export interface NonceMemory {
  /** `new` the first time; `same` when seen with this fingerprint inside the window; `conflict` with another. */
  check(nonce: string, fingerprint: string, at: number): 'new' | 'same' | 'conflict'
  readonly size: number
}

export function nonceMemory({ windowMs, maxEntries = 100_000 }: { windowMs: number; maxEntries?: number }): NonceMemory {
  // Insertion order is time order, so the oldest entries are always at the front.
  const seen = new Map<string, { fingerprint: string; at: number }>()
  const forgetBefore = (cutoff: number) => {
    for (const [nonce, entry] of seen) {
      if (entry.at >= cutoff) break
      seen.delete(nonce)
    }
  }
  return {
    get size() {
      return seen.size
    },
    check(nonce, fingerprint, at) {
      forgetBefore(at - windowMs)
      const before = seen.get(nonce)
      if (before) return before.fingerprint === fingerprint ? 'same' : 'conflict'
      seen.set(nonce, { fingerprint, at })
      // Past the cap (a flood of distinct nonces), the oldest go first.
      if (seen.size > maxEntries) seen.delete(seen.keys().next().value!)
      return 'new'
    },
  }
}
