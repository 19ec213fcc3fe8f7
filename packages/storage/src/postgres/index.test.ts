import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { Store } from '@intake/core'
import { FIXTURE_TIME, makeInboundWrite, testStore } from '../kit/index.ts'
import { postgresStore } from './index.ts'
import { createTestDatabase, dropTestDatabases, emptyTestDatabase, postgresSuite } from './test-database.ts'

afterAll(async () => {
  await dropTestDatabases()
}, 60_000)

await postgresSuite(describe, it, 'postgresStore', () => {
  // Each of the kit's cases starts on an empty database (one database, emptied between cases).
  testStore('postgres', async () => postgresStore({ url: await emptyTestDatabase() }))

  describe('postgresStore', () => {
    const open: Store[] = []
    const track = (store: Store) => {
      open.push(store)
      return store
    }

    afterEach(async () => {
      await Promise.all(open.splice(0).map((store) => store.close()))
    })

    it('keeps what it wrote across close and reopen', async () => {
      const url = await createTestDatabase()
      const write = makeInboundWrite()
      const first = postgresStore({ url })
      await first.migrate()
      await first.recordInbound(write)
      await first.close()

      const reopened = track(postgresStore({ url }))
      await reopened.migrate()
      expect(await reopened.getCase(write.newCase.id)).toEqual(write.newCase)
      expect(await reopened.listMessages(write.newCase.id)).toHaveLength(2)
      expect(await reopened.recordInbound(write)).toMatchObject({ duplicate: true })
    })

    it('five processes\' stores migrating at once migrate once, under the advisory lock', async () => {
      const url = await createTestDatabase()
      const stores = Array.from({ length: 5 }, () => track(postgresStore({ url, poolSize: 2 })))
      await Promise.all(stores.map((store) => store.migrate()))
      const write = makeInboundWrite()
      await stores[0]!.recordInbound(write)
      expect(await stores[4]!.getCase(write.newCase.id)).toEqual(write.newCase)
    })

    it('two stores on one database never lease the same outbox row', async () => {
      const url = await createTestDatabase()
      const a = track(postgresStore({ url }))
      const b = track(postgresStore({ url }))
      await a.migrate()
      for (let i = 0; i < 30; i++) await a.recordInbound(makeInboundWrite({ at: FIXTURE_TIME + i }))

      const now = FIXTURE_TIME + 60_000
      const claims = await Promise.all([a, b, a, b].map((store) => store.claimOutbox(now, 8, 30_000)))
      const rest = await b.claimOutbox(now, 30, 30_000)
      const leased = [...claims.flat(), ...rest].map((item) => item.id)
      expect(leased).toHaveLength(30)
      expect(new Set(leased).size).toBe(30)
    })

    it('the same provider message reaching two stores at once makes one case', async () => {
      const url = await createTestDatabase()
      const a = track(postgresStore({ url }))
      const b = track(postgresStore({ url }))
      await a.migrate()
      const first = makeInboundWrite()
      const retry = { ...makeInboundWrite(), inbox: { ...first.inbox, id: 'inbox-retry' } }
      const results = await Promise.all([a.recordInbound(first), b.recordInbound(retry)])
      expect(results.filter((r) => r.duplicate)).toHaveLength(1)
      expect((await a.listCases()).cases).toHaveLength(1)
      expect(await a.listOutbox({})).toHaveLength(1)
    })

    it('enforces foreign keys: a message for a case that does not exist is refused', async () => {
      const store = track(postgresStore({ url: await createTestDatabase() }))
      await store.migrate()
      const { newCase: _unsaved, ...orphan } = makeInboundWrite()
      await expect(store.recordInbound(orphan)).rejects.toThrow(/violates foreign key constraint/)
      expect(await store.listMessages(orphan.message.caseId)).toEqual([])
    })

    it('rejects misconfiguration when called, naming the option and never echoing a password', () => {
      expect(() => postgresStore({ url: '' })).toThrow(/'url'/)
      expect(() => postgresStore({ url: 'mysql://root:hunter2@db/x' })).toThrow(/'url'/)
      expect(() => postgresStore({ url: 'mysql://root:hunter2@db/x' })).not.toThrow(/hunter2/)
      expect(() => postgresStore({ url: 'postgres://db/x', poolSize: 0 })).toThrow(/'poolSize'/)
    })

    it('refuses to work once closed', async () => {
      const store = postgresStore({ url: await createTestDatabase() })
      await store.migrate()
      await store.close()
      await expect(store.ping()).rejects.toMatchObject({ code: 'store_closed' })
      await expect(store.close()).resolves.toBeUndefined()
    })

    it('rejects a cursor it did not issue', async () => {
      const store = track(postgresStore({ url: await createTestDatabase() }))
      await store.migrate()
      await expect(store.listCases({ cursor: 'not-a-cursor' })).rejects.toThrow(/\[store\/postgres\] invalid cursor/)
    })
  })
})
