/**
 * Pollers that want one reader among the gateway processes sharing a PostgreSQL database — the
 * read-back of cases forwarded to an Open311 system and the webhook feed — run in the holder of a
 * lease ('pollers'), as the channel listeners do (test/postgres-listeners.test.ts): one process asks
 * the other system about its forwarded cases and reads the audit trail for webhooks, not each of
 * them. The outbox and the webhook deliveries (leased row by row) run in every process. When the
 * holder stops, another takes the pollers over. Two gateways in this test process, each with its
 * own store, stand for two processes (a lease is a session of its own). Skipped, naming what to
 * install, where PostgreSQL is absent.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createIntake, createLogger, memoryBlobStore, type Intake, type OfficeInput } from '@intake/core'
import { apiChannel } from '@intake/channels/api'
import { open311Sender } from '@intake/channels/open311-sender'
import { toIntakeDesk } from '@intake/routing'
import { postgresStore } from '@intake/storage/postgres'
import { createTestDatabase, dropTestDatabases, postgresSuite } from '@intake/storage/postgres/test-database'

afterAll(async () => {
  await dropTestDatabases()
}, 60_000)

const OFFICES: OfficeInput[] = [
  { id: 'county', name: 'County', names: { en: 'County' } },
  { id: 'desk', name: 'Hotline Desk', parentId: 'county', intakeDesk: true },
  { id: 'roads', name: 'Roads (city-run)', names: { en: 'Roads (city-run)' }, parentId: 'county', remit: ['potholes'], forwardTo: 'city-311' },
]

function gateway(url: string): Intake {
  return createIntake(
    {
      store: postgresStore({ url, poolSize: 2 }),
      offices: OFFICES,
      channels: {
        kiosk: apiChannel({ secret: 'pollers-kiosk-secret-0123456789' }),
        // Never reached: the read-back polls once a minute, and no case is forwarded here.
        'city-311': open311Sender({ endpoint: 'http://127.0.0.1:9/open311/v2', apiKey: 'city-key-0123456789', serviceCodes: { potholes: 'potholes' } }),
      },
      routing: [toIntakeDesk()],
      apiKeys: ['pollers-api-key-0123456789'],
      blobs: memoryBlobStore(),
      server: { publicUrl: 'http://county.test' },
      locale: 'en',
    },
    { env: {}, log: createLogger({ level: 'error', sink: () => {} }) },
  )
}

/** Polls `check` until it is true or 30 s pass; returns its last answer. */
async function eventually(check: () => boolean): Promise<boolean> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (check()) return true
    await new Promise((r) => setTimeout(r, 50))
  }
  return check()
}

const pollsHere = (g: Intake) => Boolean(g.forwarding?.running) && g.webhooks.feed.running

await postgresSuite(describe, it, 'pollers that want one reader, across gateway processes on one PostgreSQL database', () => {
  const gateways: Intake[] = []

  afterEach(async () => {
    for (const g of gateways.splice(0)) {
      await g.stop()
      await g.store.close()
    }
  })

  it('the forwarding read-back and the webhook feed run in one gateway; the outbox and webhook deliveries in both; stopped, the other takes the pollers over', async () => {
    const url = await createTestDatabase()
    const [a, b] = [gateway(url), gateway(url)]
    gateways.push(a, b)
    await a.start()
    await b.start()

    expect([a, b].map(pollsHere)).toEqual([true, false])
    // Neither poller half-runs in the other gateway.
    expect([b.forwarding?.running, b.webhooks.feed.running]).toEqual([false, false])
    for (const g of [a, b]) expect([g.outbox.running, g.webhooks.deliveries.running]).toEqual([true, true])

    await a.stop()
    expect(pollsHere(a)).toBe(false)
    expect(await eventually(() => pollsHere(b)), 'b took the pollers over').toBe(true)
  }, 60_000)
})
