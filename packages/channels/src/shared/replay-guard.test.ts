import { describe, expect, it } from 'vitest'
import { replayGuard } from './replay-guard.ts'

describe('replayGuard', () => {
  it('refuses a nonce seen within the window and forgets it after twice the window', () => {
    const guard = replayGuard({ windowMs: 1000 })
    expect(guard.fresh('a', 0)).toBe(true)
    expect(guard.fresh('a', 1500)).toBe(false)
    expect(guard.fresh('b', 1500)).toBe(true)
    expect(guard.fresh('a', 2001)).toBe(true) // a's timestamp is long stale by now: the window check refuses it first
    expect(guard.size).toBe(2)
  })

  it('stays bounded: the oldest nonces go first beyond maxEntries', () => {
    const guard = replayGuard({ windowMs: 60_000, maxEntries: 3 })
    for (const n of ['1', '2', '3', '4', '5']) expect(guard.fresh(n, 10)).toBe(true)
    expect(guard.size).toBeLessThanOrEqual(4)
    expect(guard.fresh('5', 11)).toBe(false)
  })

  it('refuses a window that is not positive', () => {
    expect(() => replayGuard({ windowMs: 0 })).toThrow(/\[replay guard\] windowMs/)
  })
})
