/**
 * The outbox records a batch's verdicts before it claims the next batch: a provider slow enough that
 * the row's lease runs out during the send must not get the message twice.
 */
import { describe, expect, it } from 'vitest'
import { createOutboxWorker, memoryBlobStore, silentLogger, type ChannelAdapter } from '@intake/core'
import { sqliteStore } from '@intake/storage/sqlite'
import { FIXTURE_TIME, makeInboundWrite } from '../packages/storage/src/kit/index.ts'

describe('outbox leases', () => {
  it('a send that outlasts its lease is recorded before the next claim, so nothing is sent twice', async () => {
    const store = sqliteStore({ file: ':memory:' })
    await store.migrate()
    let clock = FIXTURE_TIME
    const LEASE = 30_000
    const sends: string[] = []
    const sms: ChannelAdapter = {
      id: 'sms',
      verify: async () => ({ ok: false, status: 401 }),
      parse: async () => [],
      send: async (msg: { id: string }) => {
        sends.push(msg.id)
        // The provider answers after the lease has run out.
        clock += 2 * LEASE
        return { ok: true, providerId: `SM-${sends.length}` }
      },
    } as unknown as ChannelAdapter
    for (let i = 0; i < 3; i++) await store.recordInbound(makeInboundWrite({ channelId: 'sms', citizenId: `+1555000${i}`, at: clock }))
    const outbox = createOutboxWorker(
      { store, channels: { sms }, log: silentLogger, blobs: memoryBlobStore(), publicUrl: 'http://intake.test', now: () => clock },
      { leaseMs: LEASE, batchSize: 2 },
    )
    expect(await outbox.drain()).toBe(3)
    expect(sends).toHaveLength(3)
    expect(new Set(sends).size).toBe(3)
    const rows = await store.listOutbox({ limit: 10 })
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([
      ['sent', 1],
      ['sent', 1],
      ['sent', 1],
    ])
    await store.close()
  })
})
