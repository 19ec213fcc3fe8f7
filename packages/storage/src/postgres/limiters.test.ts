import { afterAll, describe, expect, it } from 'vitest'
import { createTestDatabase, dropTestDatabases, postgresSuite } from './test-database.ts'
import { postgresLimiters } from './limiters.ts'

afterAll(async () => {
  await dropTestDatabases()
}, 60_000)

await postgresSuite(describe, it, 'postgresLimiters: throttling counters shared across processes', () => {
  it('two processes\' limiters on one database spend one budget per key', async () => {
    const url = await createTestDatabase()
    // Two backends, as two gateway processes would have.
    const [a, b] = [postgresLimiters({ url }), postgresLimiters({ url })]
    try {
      const policy = { points: 3, durationMs: 60_000 }
      const [onA, onB] = [a('status-lookups', policy), b('status-lookups', policy)]
      expect(await onA.consume('sender:sms:+8613800000001')).toEqual({ allowed: true, remaining: 2 })
      expect(await onB.consume('sender:sms:+8613800000001')).toEqual({ allowed: true, remaining: 1 })
      expect(await onA.consume('sender:sms:+8613800000001')).toEqual({ allowed: true, remaining: 0 })
      const refused = await onB.consume('sender:sms:+8613800000001')
      expect(refused.allowed).toBe(false)
      expect(await onA.peek('sender:sms:+8613800000001')).toMatchObject({ allowed: false })
      // Another key, and another budget's name, count on their own.
      expect(await onB.consume('sender:sms:+8613800000002')).toEqual({ allowed: true, remaining: 2 })
      expect(await b('status-misses', policy).consume('sender:sms:+8613800000001')).toEqual({ allowed: true, remaining: 2 })
      await onB.reset('sender:sms:+8613800000001')
      expect(await onA.consume('sender:sms:+8613800000001')).toEqual({ allowed: true, remaining: 2 })
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('refuses a policy it cannot keep, naming the budget', () => {
    const limiters = postgresLimiters({ url: 'postgres://127.0.0.1/x' })
    expect(() => limiters('status-lookups', { points: 0, durationMs: 60_000 })).toThrow(/status-lookups/)
    expect(() => postgresLimiters({ url: 'redis://x' })).toThrow(/'url'/)
  })
})
