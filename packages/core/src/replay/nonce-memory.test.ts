import { describe, expect, it } from 'vitest'
import { nonceMemory } from './nonce-memory.ts'

describe('nonceMemory', () => {
  it('tells a first use, a retry of the same request and a replay with another body apart, inside the window', () => {
    const nonces = nonceMemory({ windowMs: 300_000 })
    expect(nonces.check('1700000000:4711', 'body-a', 0)).toBe('new')
    expect(nonces.check('1700000000:4711', 'body-a', 5_000)).toBe('same')
    expect(nonces.check('1700000000:4711', 'body-b', 10_000)).toBe('conflict')
    expect(nonces.check('1700000000:4712', 'body-b', 10_000)).toBe('new')
  })

  it('forgets nonces once they are older than the window, and never holds more than maxEntries', () => {
    const nonces = nonceMemory({ windowMs: 1_000, maxEntries: 3 })
    nonces.check('a', 'x', 0)
    expect(nonces.check('a', 'y', 1_001)).toBe('new')
    for (const n of ['b', 'c', 'd', 'e']) nonces.check(n, 'x', 1_002)
    expect(nonces.size).toBeLessThanOrEqual(3)
  })
})
