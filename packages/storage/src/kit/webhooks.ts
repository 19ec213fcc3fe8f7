/**
 * The conformance cases of event webhooks (Store.listEventsAfter, webhookCursor,
 * enqueueWebhookDeliveries, claimWebhookDeliveries, recordWebhookAttempt, listWebhookDeliveries,
 * retryWebhookDelivery and the subscriptions), run by `testStore` for every driver.
 */
import { expect } from 'vitest'
import type { Store, WebhookDelivery, WebhookSubscription } from '@intake/core'
import { FIXTURE_TIME, fixtureId, makeInboundWrite } from './fixtures.ts'

const T = FIXTURE_TIME
const MINUTE = 60_000

export function webhookSubscription(over: Partial<WebhookSubscription> = {}): WebhookSubscription {
  return {
    id: fixtureId('sub'),
    url: 'https://crm.example.gov/intake-events',
    secret: 'a-receivers-secret-of-32-chars!!',
    events: ['case.created', 'case.resolved'],
    officeId: null,
    includeContact: false,
    source: 'api',
    createdAt: T,
    createdBy: 'api-key-1',
    ...over,
  }
}

export function webhookCases(test: (title: string, fn: () => Promise<void>) => void, store: () => Store): void {
  /** A new case: its events (received, routed, acknowledged) are on the trail; returns their ids. */
  async function caseWithEvents(at = T) {
    const write = makeInboundWrite({ at })
    await store().recordInbound(write)
    const events = await store().listEvents(write.newCase.id)
    return { caseId: write.newCase.id, eventIds: events.map((e) => e.id!) }
  }
  const delivery = (subscriptionId: string, caseId: string, eventId: number, over: Partial<WebhookDelivery> = {}): WebhookDelivery => ({
    id: fixtureId('whd'),
    subscriptionId,
    eventId,
    caseId,
    eventType: 'case.created',
    idempotencyKey: `whk_${subscriptionId}_${eventId}`,
    payload: JSON.stringify({ id: `whk_${subscriptionId}_${eventId}`, eventId }),
    status: 'pending',
    attempts: 0,
    nextAttemptAt: T,
    lastError: null,
    responseStatus: null,
    createdAt: T,
    updatedAt: T,
    ...over,
  })
  async function enqueue(deliveries: WebhookDelivery[]) {
    const from = await store().webhookCursor()
    const to = Math.max(from, ...deliveries.map((d) => d.eventId))
    await expect(store().enqueueWebhookDeliveries({ from, to }, deliveries)).resolves.toBe(true)
  }

  test('webhooks: the feed reads the case events after an id, in id order, and its cursor starts at the newest event', async () => {
    expect(await store().webhookCursor()).toBe(0)
    const a = await caseWithEvents(T)
    const b = await caseWithEvents(T + MINUTE)
    const all = await store().listEventsAfter(0, 100)
    expect(all.map((e) => e.id)).toEqual([...a.eventIds, ...b.eventIds])
    expect(all.map((e) => e.type).slice(0, 2)).toEqual(['received', 'routed'])
    const after = await store().listEventsAfter(a.eventIds.at(-1)!, 2)
    expect(after.map((e) => e.id)).toEqual(b.eventIds.slice(0, 2))
    expect(await store().newestEventId()).toBe(b.eventIds.at(-1))
  })

  test('webhooks: the cursor moves only from where it is, and an event is queued once per subscription', async () => {
    const sub = webhookSubscription()
    const { caseId, eventIds } = await caseWithEvents()
    const first = delivery(sub.id, caseId, eventIds[0]!)
    await expect(store().enqueueWebhookDeliveries({ from: 0, to: eventIds[1]! }, [first])).resolves.toBe(true)
    expect(await store().webhookCursor()).toBe(eventIds[1])
    // A second process read from 0 too: its cycle writes nothing.
    await expect(store().enqueueWebhookDeliveries({ from: 0, to: eventIds[2]! }, [delivery(sub.id, caseId, eventIds[1]!)])).resolves.toBe(false)
    expect(await store().webhookCursor()).toBe(eventIds[1])
    // The same (subscription, event) queued again, under another delivery id: still one delivery.
    await expect(store().enqueueWebhookDeliveries({ from: eventIds[1]!, to: eventIds[2]! }, [delivery(sub.id, caseId, eventIds[0]!)])).resolves.toBe(true)
    const listed = await store().listWebhookDeliveries({ subscriptionId: sub.id })
    expect(listed.map((d) => d.id)).toEqual([first.id])
    expect(listed[0]).toMatchObject({ status: 'pending', attempts: 0, payload: first.payload, idempotencyKey: first.idempotencyKey })
  })

  test('webhooks: a claim leases the earliest event of a case first and holds its later events back until it is delivered or dead', async () => {
    const sub = webhookSubscription()
    const other = webhookSubscription()
    const a = await caseWithEvents()
    const b = await caseWithEvents()
    const a1 = delivery(sub.id, a.caseId, a.eventIds[0]!)
    const a2 = delivery(sub.id, a.caseId, a.eventIds[1]!)
    const a3 = delivery(sub.id, a.caseId, a.eventIds[2]!)
    const b1 = delivery(sub.id, b.caseId, b.eventIds[0]!)
    const otherA2 = delivery(other.id, a.caseId, a.eventIds[1]!)
    await enqueue([a3, a2, a1, b1, otherA2])

    const first = await store().claimWebhookDeliveries(T, 10, MINUTE)
    expect(first.map((d) => d.id).sort()).toEqual([a1.id, b1.id, otherA2.id].sort())
    expect(first.every((d) => d.status === 'sending' && d.attempts === 1)).toBe(true)
    // a1 is on its way: a2 waits even though it is due.
    expect(await store().claimWebhookDeliveries(T, 10, MINUTE)).toEqual([])
    for (const done of [b1, otherA2]) await store().recordWebhookAttempt(done.id, { delivered: true, responseStatus: 200 }, T)

    await store().recordWebhookAttempt(a1.id, { retryAt: T + MINUTE, error: 'http: answered 500', responseStatus: 500 }, T)
    // a1 waits for its retry; a2 still may not overtake it.
    expect(await store().claimWebhookDeliveries(T + 1, 10, MINUTE)).toEqual([])
    const again = await store().claimWebhookDeliveries(T + MINUTE, 10, MINUTE)
    expect(again.map((d) => [d.id, d.attempts])).toEqual([[a1.id, 2]])
    await store().recordWebhookAttempt(a1.id, { dead: true, error: 'http: answered 500', responseStatus: 500 }, T + MINUTE)
    // Dead-lettered: the case's next event goes.
    expect((await store().claimWebhookDeliveries(T + MINUTE, 10, MINUTE)).map((d) => d.id)).toEqual([a2.id])
    await store().recordWebhookAttempt(a2.id, { delivered: true, responseStatus: 204 }, T + MINUTE)
    expect((await store().claimWebhookDeliveries(T + MINUTE, 10, MINUTE)).map((d) => d.id)).toEqual([a3.id])

    const listed = await store().listWebhookDeliveries({ subscriptionId: sub.id })
    expect(listed.map((d) => d.eventId)).toEqual([...listed.map((d) => d.eventId)].sort((x, y) => y - x))
    expect(listed.find((d) => d.id === a1.id)).toMatchObject({ status: 'dead', attempts: 2, lastError: 'http: answered 500', responseStatus: 500 })
    expect(listed.find((d) => d.id === a2.id)).toMatchObject({ status: 'delivered', responseStatus: 204, lastError: null })
    expect((await store().listWebhookDeliveries({ subscriptionId: sub.id, status: 'dead' })).map((d) => d.id)).toEqual([a1.id])
  })

  test('webhooks: two claims never lease the same delivery; an expired lease is claimed again, and a stale verdict changes nothing', async () => {
    const sub = webhookSubscription()
    const cases = await Promise.all([0, 1, 2, 3, 4, 5].map(() => caseWithEvents()))
    await enqueue(cases.map((c) => delivery(sub.id, c.caseId, c.eventIds[0]!)))
    const [x, y] = await Promise.all([store().claimWebhookDeliveries(T, 4, MINUTE), store().claimWebhookDeliveries(T, 4, MINUTE)])
    const ids = [...x!, ...y!].map((d) => d.id)
    expect(ids).toHaveLength(6)
    expect(new Set(ids).size).toBe(6)

    const stale = x![0]!
    const reclaimed = await store().claimWebhookDeliveries(T + 2 * MINUTE, 10, MINUTE)
    expect(reclaimed).toHaveLength(6)
    expect(reclaimed.find((d) => d.id === stale.id)?.attempts).toBe(2)
    await store().recordWebhookAttempt(stale.id, { delivered: true, responseStatus: 200 }, T + 2 * MINUTE)
    // The first worker wakes up late with its verdict: the delivery stays delivered.
    await store().recordWebhookAttempt(stale.id, { retryAt: T + 3 * MINUTE, error: 'connection: timeout', responseStatus: null }, T + 2 * MINUTE)
    expect((await store().listWebhookDeliveries({ subscriptionId: sub.id, status: 'delivered' })).map((d) => d.id)).toEqual([stale.id])
  })

  test('webhooks: a dead delivery is retried by its subscription only, due at once with its attempts reset', async () => {
    const sub = webhookSubscription()
    const { caseId, eventIds } = await caseWithEvents()
    const d = delivery(sub.id, caseId, eventIds[0]!)
    await enqueue([d])
    expect(await store().retryWebhookDelivery(sub.id, d.id, T)).toBeUndefined()
    await store().claimWebhookDeliveries(T, 10, MINUTE)
    await store().recordWebhookAttempt(d.id, { dead: true, error: 'redirect: answered 301', responseStatus: 301 }, T)
    expect(await store().retryWebhookDelivery('another-subscription', d.id, T + MINUTE)).toBeUndefined()
    const retried = await store().retryWebhookDelivery(sub.id, d.id, T + MINUTE)
    expect(retried).toMatchObject({ id: d.id, status: 'pending', attempts: 0, nextAttemptAt: T + MINUTE, idempotencyKey: d.idempotencyKey, payload: d.payload })
    expect((await store().claimWebhookDeliveries(T + MINUTE, 10, MINUTE)).map((x) => x.id)).toEqual([d.id])
  })

  test('webhooks: subscriptions are stored, listed oldest first, and removed with their deliveries', async () => {
    const older = webhookSubscription({ events: ['case.created'], officeId: 'roads', includeContact: true, createdAt: T })
    const newer = webhookSubscription({ createdAt: T + MINUTE })
    await store().saveWebhookSubscription(newer)
    await store().saveWebhookSubscription(older)
    expect(await store().listWebhookSubscriptions()).toEqual([older, newer])
    const { caseId, eventIds } = await caseWithEvents()
    await enqueue([delivery(older.id, caseId, eventIds[0]!), delivery(newer.id, caseId, eventIds[0]!)])
    await expect(store().deleteWebhookSubscription(older.id)).resolves.toBe(true)
    await expect(store().deleteWebhookSubscription(older.id)).resolves.toBe(false)
    expect(await store().listWebhookSubscriptions()).toEqual([newer])
    expect(await store().listWebhookDeliveries({ subscriptionId: older.id })).toEqual([])
    expect(await store().listWebhookDeliveries({ subscriptionId: newer.id })).toHaveLength(1)
  })

  test('webhooks: erasing a case’s citizen data (retention) leaves its deliveries only the event, not the words or the contact', async () => {
    const sub = webhookSubscription({ includeContact: true })
    const { caseId, eventIds } = await caseWithEvents()
    const body = JSON.stringify({ id: `whk_${sub.id}_${eventIds[0]}`, case: { id: caseId, summary: 'The streetlight on Elm Street', contact: { phone: '+15550100' } } })
    const sent = delivery(sub.id, caseId, eventIds[0]!, { payload: body })
    const queued = delivery(sub.id, caseId, eventIds[1]!, { payload: body, eventType: 'case.routed' })
    await enqueue([sent, queued])
    await store().claimWebhookDeliveries(T, 1, MINUTE)
    await store().recordWebhookAttempt(sent.id, { delivered: true, responseStatus: 200 }, T)
    await store().eraseCitizenData(caseId, T + MINUTE, 'retention')
    const after = await store().listWebhookDeliveries({ subscriptionId: sub.id })
    expect(after).toHaveLength(2)
    for (const d of after) {
      expect(d.payload).not.toContain('+15550100')
      expect(d.payload).not.toContain('Elm Street')
      expect(JSON.parse(d.payload)).toEqual({ id: d.idempotencyKey, type: d.eventType, eventId: d.eventId, case: { id: caseId }, erased: true })
    }
    expect(after.find((d) => d.id === queued.id)?.status).toBe('pending')
  })
}
