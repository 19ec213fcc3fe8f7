import { describe, expect, it } from 'vitest'
import { createLookupThrottle, memoryLimiters, ThrottleConfigError } from './index.ts'

describe('memoryLimiters', () => {
  it('allows the budget, then refuses with a retry time, and forgets a reset key', async () => {
    const store = memoryLimiters('t1', { points: 3, durationMs: 60_000 })
    for (const left of [2, 1, 0]) expect(await store.consume('a')).toEqual({ allowed: true, remaining: left })
    const refused = await store.consume('a')
    expect(refused.allowed).toBe(false)
    if (!refused.allowed) expect(refused.retryAfterMs).toBeGreaterThan(0)
    expect((await store.peek('a')).allowed).toBe(false)
    expect(await store.consume('b')).toEqual({ allowed: true, remaining: 2 })
    await store.reset('a')
    expect(await store.peek('a')).toEqual({ allowed: true, remaining: 3 })
  })

  it('names the limit and the field of a bad policy', () => {
    expect(() => memoryLimiters('sign-in', { points: 0, durationMs: 60_000 })).toThrow(ThrottleConfigError)
    expect(() => memoryLimiters('sign-in', { points: 1, durationMs: 5 })).toThrow(/sign-in.*durationMs/)
  })
})

describe('createLookupThrottle', () => {
  it('blocks a key after too many misses, even though lookups remain, and leaves other keys alone', async () => {
    const throttle = createLookupThrottle({ lookups: { points: 100, durationMs: 60_000 }, misses: { points: 3, durationMs: 60_000, blockMs: 3_600_000 } })
    const keys = ['sender:sms:+1555', 'client:10.0.0.1']
    for (let i = 0; i < 4; i++) {
      expect((await throttle.attempt(keys)).allowed).toBe(true)
      await throttle.miss(keys)
    }
    const refused = await throttle.attempt(keys)
    expect(refused.allowed).toBe(false)
    if (!refused.allowed) expect(refused.retryAfterMs).toBeGreaterThan(60_000)
    expect((await throttle.attempt(['sender:sms:+1666'])).allowed).toBe(true)
    // the same client address from another sender is still blocked
    expect((await throttle.attempt(['sender:sms:+1666', 'client:10.0.0.1'])).allowed).toBe(false)
  })

  it('refuses once the lookups budget is spent, found or not', async () => {
    const throttle = createLookupThrottle({ lookups: { points: 2, durationMs: 60_000 } })
    expect((await throttle.attempt(['k'])).allowed).toBe(true)
    expect((await throttle.attempt(['k'])).allowed).toBe(true)
    expect((await throttle.attempt(['k'])).allowed).toBe(false)
  })
})
