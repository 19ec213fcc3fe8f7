/**
 * The storage conformance kit: the cases every Store driver must pass, asserted only through the
 * Store interface so that the SQLite and PostgreSQL drivers (and a third party's) run the same suite.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { StoreConflictError, type Case, type CaseEvent, type Office, type Store } from '@intake/core'
import {
  fixtureId,
  FIXTURE_TIME,
  fixtureTrackingCode,
  makeCase,
  makeFollowUpWrite,
  makeInboundWrite,
  makeOutbound,
} from './fixtures.ts'
import { accessCases } from './access.ts'
import { leaseCases } from './lease.ts'
import { statsCases } from './stats.ts'
import { volumeCases } from './volumes.ts'

import { clusterCases } from './clusters.ts'
import { webhookCases } from './webhooks.ts'
import { forwardingCases } from './forwarding.ts'

export * from './fixtures.ts'
export { staffUser } from './access.ts'
export { seedStatsHistory } from './stats.ts'
export { webhookSubscription } from './webhooks.ts'

export interface TestStoreOptions {
  /**
   * Cases this driver cannot pass, by title, each with the reason written down; they show up as
   * skipped in the report instead of disappearing.
   */
  skip?: Partial<Record<string, string>>
}

const T = FIXTURE_TIME
const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

const idsOf = (items: readonly { id: string }[]) => items.map((item) => item.id)
const withoutId = ({ id: _id, ...event }: CaseEvent) => event

/**
 * Declares the conformance suite for one Store driver. `makeStore` returns a fresh, empty store for
 * each test; the kit migrates it first and closes it after.
 *
 * @example
 * testStore('sqlite', async () => sqliteStore({ file: join(dir, `${randomUUID()}.db`) }))
 */
export function testStore(name: string, makeStore: () => Promise<Store>, options: TestStoreOptions = {}): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store

    beforeEach(async () => {
      store = await makeStore()
      await store.migrate()
    })

    afterEach(async () => {
      await store.close()
    })

    function test(title: string, fn: () => Promise<void>): void {
      const reason = options.skip?.[title]
      if (reason) it.skip(`${title} — skipped by ${name}: ${reason}`, fn)
      else it(title, fn)
    }

    async function recordNew(opts: Parameters<typeof makeInboundWrite>[0] = {}) {
      const write = makeInboundWrite(opts)
      await expect(store.recordInbound(write)).resolves.toEqual({ duplicate: false })
      return write
    }

    async function messageOf(caseId: string, messageId: string) {
      const found = (await store.listMessages(caseId)).find((m) => m.id === messageId)
      if (!found) throw new Error(`message ${messageId} is missing from case ${caseId}`)
      return found
    }

    async function outboxRow(id: string) {
      const found = (await store.listOutbox({})).find((item) => item.id === id)
      if (!found) throw new Error(`outbox row ${id} is missing`)
      return found
    }

    clusterCases(test, () => store)
    forwardingCases(test, () => store)
    statsCases(test, () => store)
    volumeCases(test, () => store)
    webhookCases(test, () => store)

    test('names its driver and answers ping', async () => {
      expect(store.driver).toMatch(/\S/)
      await expect(store.ping()).resolves.toBeUndefined()
    })

    test('saves offices and lists them back; saving an id again replaces that office', async () => {
      const county: Office = {
        id: 'jiashi-county',
        name: '伽师县',
        names: { en: 'Jiashi County' },
        parentId: null,
        jurisdiction: { codes: ['653129'], places: [{ name: '伽师县', aliases: ['Jiashi'] }] },
        remit: [],
        contact: { phone: '+86 998 000 0000' },
        intakeDesk: true,
        staff: [{ id: 'clerk-ma', name: '马', onDuty: true }],
        assignment: 'round-robin',
      }
      const roads: Office = {
        id: 'roads',
        name: 'Roads Office',
        names: {},
        parentId: 'jiashi-county',
        jurisdiction: { codes: [], places: [] },
        remit: ['potholes', 'streetlights'],
        contact: {},
        intakeDesk: false,
        staff: [],
        assignment: 'none',
      }
      const parks: Office = { ...roads, id: 'parks', name: 'Parks Office', remit: ['trees'] }
      const byId = (list: Office[]) => [...list].sort((a, b) => (a.id < b.id ? -1 : 1))

      await store.saveOffices([county, roads])
      expect(byId(await store.listOffices())).toEqual(byId([county, roads]))

      const renamed = { ...roads, name: 'Roads and Lighting Office', remit: ['streetlights'] }
      await store.saveOffices([renamed, parks])
      expect(byId(await store.listOffices())).toEqual(byId([county, renamed, parks]))
    })

    test('records a new case with its message, events and acknowledgement', async () => {
      const write = await recordNew({
        channelId: 'web',
        citizenId: 'session-7f3a',
        case: {
          category: 'streetlights',
          place: 'Elm Street 12',
          deadlineAt: T + 5 * 24 * HOUR,
          contact: { email: 'ada@example.org', phone: '+15550123', name: 'Ada' },
          citizen: { channelId: 'web', id: 'session-7f3a', displayName: 'Ada L.' },
          urgency: 'urgent',
          language: 'zh-CN',
        },
        message: {
          subject: 'Streetlight',
          attachments: [
            {
              id: 'att-1',
              filename: 'lamp.jpg',
              contentType: 'image/jpeg',
              size: 48_213,
              sha256: 'a'.repeat(64),
              blobKey: 'blobs/att-1',
            },
            { contentType: 'text/plain', size: 12 },
          ],
        },
      })
      const ack = write.outbound[0]!

      expect(await store.getCase(write.newCase.id)).toEqual(write.newCase)
      expect(await store.getCaseByTrackingCode(write.newCase.trackingCode)).toEqual(write.newCase)
      expect(await store.getCase('case-that-does-not-exist')).toBeUndefined()
      expect(await store.getCaseByTrackingCode('ZZZZ-ZZZZ')).toBeUndefined()

      // The inbound message and its acknowledgement share a timestamp: write order decides.
      expect(await store.listMessages(write.newCase.id)).toEqual([write.message, ack.message])

      const events = await store.listEvents(write.newCase.id)
      expect(events.map(withoutId)).toEqual(write.events.map((e) => ({ ...e, data: e.data ?? {} })))
      expect(events.every((e) => typeof e.id === 'number')).toBe(true)
      expect(events.map((e) => e.public)).toEqual([true, false, true])

      expect(await store.listOutbox({})).toEqual([ack.outbox])
    })

    test('a case without optional fields reads back with nulls and booleans', async () => {
      const write = await recordNew({ acknowledge: false, case: { anonymous: true } })
      const stored = await store.getCase(write.newCase.id)
      expect(stored).toEqual(write.newCase)
      expect(stored).toMatchObject({
        contact: null,
        category: null,
        place: null,
        deadlineAt: null,
        resolvedAt: null,
        rating: null,
        anonymous: true,
      })
      expect(stored?.citizen.displayName).toBeUndefined()
      expect(await store.listOutbox({})).toEqual([])
    })

    test('a retried provider message is a duplicate: the first ids come back and nothing is written', async () => {
      const first = await recordNew()
      const retry = makeInboundWrite({ externalId: first.inbox.externalId, text: 'same message, delivered again' })

      const expected = { duplicate: true, caseId: first.newCase.id, messageId: first.message.id }
      await expect(store.recordInbound(retry)).resolves.toEqual(expected)
      await expect(store.recordInbound(first)).resolves.toEqual(expected)

      expect(await store.getCase(retry.newCase.id)).toBeUndefined()
      expect(await store.getCaseByTrackingCode(retry.newCase.trackingCode)).toBeUndefined()
      expect(idsOf((await store.listCases()).cases)).toEqual([first.newCase.id])
      expect(await store.listMessages(first.newCase.id)).toHaveLength(2)
      expect(await store.listEvents(first.newCase.id)).toHaveLength(first.events.length)
      expect(await store.listOutbox({})).toHaveLength(1)
    })

    test('the same provider message id on another channel is a different message', async () => {
      const sms = await recordNew({ channelId: 'sms', externalId: 'MSG-1' })
      const whatsapp = await recordNew({ channelId: 'whatsapp', externalId: 'MSG-1' })
      expect(idsOf((await store.listCases()).cases).sort()).toEqual([sms.newCase.id, whatsapp.newCase.id].sort())
    })

    test('a taken tracking code throws StoreConflictError, writes nothing, and the message can be retried', async () => {
      const first = await recordNew()
      const clash = makeInboundWrite({ case: { trackingCode: first.newCase.trackingCode } })

      const failure = store.recordInbound(clash)
      await expect(failure).rejects.toBeInstanceOf(StoreConflictError)
      await expect(failure).rejects.toMatchObject({ code: 'store_conflict', field: 'tracking_code' })

      expect(await store.getCase(clash.newCase.id)).toBeUndefined()
      expect(await store.listMessages(clash.newCase.id)).toEqual([])
      expect(await store.listEvents(clash.newCase.id)).toEqual([])
      expect(await store.listOutbox({})).toHaveLength(1)

      // No inbox row was left behind, so the pipeline's retry with a fresh code is not a duplicate.
      const retried = { ...clash, newCase: { ...clash.newCase, trackingCode: fixtureTrackingCode() } }
      await expect(store.recordInbound(retried)).resolves.toEqual({ duplicate: false })
      expect((await store.getCase(clash.newCase.id))?.trackingCode).toBe(retried.newCase.trackingCode)
    })

    test('writes issued together stay independent: one failing leaves the others committed and itself absent', async () => {
      const first = await recordNew()
      const before = makeInboundWrite()
      const clash = makeInboundWrite({ case: { trackingCode: first.newCase.trackingCode } })
      const after = makeInboundWrite()
      const duplicateOfBefore = { ...makeInboundWrite(), inbox: { ...before.inbox, id: fixtureId('inbox') } }
      // Issued without awaiting in between, as concurrent webhooks do (a driver may commit them together).
      const results = await Promise.allSettled([
        store.recordInbound(before),
        store.recordInbound(clash),
        store.recordInbound(after),
        store.recordInbound(duplicateOfBefore),
      ])
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
      expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(StoreConflictError)
      expect((results[3] as PromiseFulfilledResult<unknown>).value).toEqual({
        duplicate: true,
        caseId: before.newCase.id,
        messageId: before.message.id,
      })
      expect(idsOf((await store.listCases()).cases).sort()).toEqual([first.newCase.id, before.newCase.id, after.newCase.id].sort())
      expect(await store.getCase(clash.newCase.id)).toBeUndefined()
      expect(await store.listOutbox({})).toHaveLength(3)
      // The failed write left no inbox row behind: retried with a fresh code it is not a duplicate.
      const retried = { ...clash, newCase: { ...clash.newCase, trackingCode: fixtureTrackingCode() } }
      await expect(store.recordInbound(retried)).resolves.toEqual({ duplicate: false })
    })

    test('a follow-up touches the case and appends its message and events', async () => {
      const first = await recordNew({ at: T })
      const followUp = makeFollowUpWrite(first.newCase, { at: T + 10 * MINUTE, acknowledge: true })
      await expect(store.recordInbound(followUp)).resolves.toEqual({ duplicate: false })

      expect(await store.getCase(first.newCase.id)).toEqual({ ...first.newCase, updatedAt: T + 10 * MINUTE })
      expect(idsOf(await store.listMessages(first.newCase.id))).toEqual([
        first.message.id,
        first.outbound[0]!.message.id,
        followUp.message.id,
        followUp.outbound[0]!.message.id,
      ])
      expect((await store.listEvents(first.newCase.id)).map((e) => e.type)).toEqual([
        'received',
        'routed',
        'acknowledged',
        'follow_up',
      ])
      expect((await store.listCases()).cases).toHaveLength(1)
      expect(await store.listOutbox({ caseId: first.newCase.id })).toHaveLength(2)
    })

    test('a follow-up reopens a resolved case only when asked to', async () => {
      const first = await recordNew({ at: T })
      await store.applyCaseChange({
        caseId: first.newCase.id,
        at: T + HOUR,
        patch: { status: 'resolved', resolvedAt: T + HOUR },
        events: [{ caseId: first.newCase.id, at: T + HOUR, type: 'status_changed', actor: 'staff-1', public: true }],
      })

      await store.recordInbound(makeFollowUpWrite(first.newCase, { at: T + 2 * HOUR }))
      expect(await store.getCase(first.newCase.id)).toMatchObject({ status: 'resolved', updatedAt: T + 2 * HOUR })

      await store.recordInbound(makeFollowUpWrite(first.newCase, { at: T + 3 * HOUR, reopen: true }))
      expect(await store.getCase(first.newCase.id)).toMatchObject({
        status: 'received',
        resolvedAt: null,
        updatedAt: T + 3 * HOUR,
      })
    })

    test('a follow-up to a case that does not exist is rejected and writes nothing', async () => {
      const ghost = makeCase()
      const followUp = makeFollowUpWrite(ghost)
      await expect(store.recordInbound(followUp)).rejects.toThrow()

      expect(await store.listMessages(ghost.id)).toEqual([])
      expect(await store.listEvents(ghost.id)).toEqual([])
      // The inbox row went with the rest, so the same provider message can still open a case.
      await recordNew({ channelId: ghost.channelId, externalId: followUp.inbox.externalId })
    })

    test('listCases is newest first and filters by status, office, channel, category and urgency', async () => {
      const c1 = await recordNew({
        at: T,
        channelId: 'sms',
        case: { status: 'received', officeId: 'roads', category: 'streetlights', urgency: 'normal' },
      })
      const c2 = await recordNew({
        at: T + 1,
        channelId: 'web',
        case: { status: 'dispatched', officeId: 'parks', category: 'trees', urgency: 'urgent' },
      })
      const c3 = await recordNew({
        at: T + 2,
        channelId: 'sms',
        case: { status: 'resolved', officeId: 'roads', category: 'potholes', urgency: 'normal' },
      })
      const c4 = await recordNew({
        at: T + 3,
        channelId: 'email',
        case: { status: 'in_progress', officeId: 'roads', category: 'streetlights', urgency: 'complex' },
      })
      const [id1, id2, id3, id4] = [c1, c2, c3, c4].map((w) => w.newCase.id)
      const list = async (filter: Parameters<Store['listCases']>[0]) => idsOf((await store.listCases(filter)).cases)

      expect(await list(undefined)).toEqual([id4, id3, id2, id1])
      expect(await list({ status: 'resolved' })).toEqual([id3])
      expect(await list({ officeId: 'roads' })).toEqual([id4, id3, id1])
      expect(await list({ channelId: 'sms' })).toEqual([id3, id1])
      expect(await list({ category: 'streetlights' })).toEqual([id4, id1])
      expect(await list({ urgency: 'urgent' })).toEqual([id2])
      expect(await list({ officeId: 'roads', channelId: 'sms', status: 'received' })).toEqual([id1])
      expect(await list({ status: 'closed' })).toEqual([])
      expect((await store.listCases({ officeId: 'roads' })).cases[0]).toEqual(c4.newCase)
    })

    test('overdueAt lists open cases whose deadline has passed', async () => {
      const early = await recordNew({ at: T, case: { deadlineAt: T + HOUR } })
      const late = await recordNew({ at: T + 1, case: { deadlineAt: T + 3 * HOUR } })
      await recordNew({ at: T + 2, case: { deadlineAt: T + HOUR, status: 'resolved', resolvedAt: T + 30 * MINUTE } })
      await recordNew({ at: T + 3, case: { deadlineAt: null } })
      const atBoundary = await recordNew({ at: T + 4, case: { deadlineAt: T + 2 * HOUR, status: 'replied' } })
      const overdue = async (at: number) => idsOf((await store.listCases({ overdueAt: at })).cases)

      expect(await overdue(T)).toEqual([])
      // A deadline equal to the instant is not yet missed.
      expect(await overdue(T + 2 * HOUR)).toEqual([early.newCase.id])
      expect(await overdue(T + 2 * HOUR + 1)).toEqual([atBoundary.newCase.id, early.newCase.id])
      expect(await overdue(T + 4 * HOUR)).toEqual([atBoundary.newCase.id, late.newCase.id, early.newCase.id])
      expect(idsOf((await store.listCases({ overdueAt: T + 4 * HOUR, status: 'replied' })).cases)).toEqual([
        atBoundary.newCase.id,
      ])
    })

    test('supervision filters: escalated, extension pending, one cluster (open cases only, counted alike)', async () => {
      const [plain, escalated, asked, decided, askedAgain, closedEscalated] = await Promise.all(
        [0, 1, 2, 3, 4, 5].map((i) => recordNew({ at: T + i, ...(i === 5 ? { case: { status: 'closed' } } : {}) }).then((w) => w.newCase.id)),
      )
      const event = (caseId: string, at: number, type: CaseEvent['type']) => store.applyCaseChange({ caseId, at, events: [{ caseId, at, type, actor: 'system', public: false, data: {} }] })
      await event(escalated!, T + HOUR, 'escalated')
      await event(closedEscalated!, T + HOUR, 'escalated')
      await event(asked!, T + HOUR, 'extension_requested')
      await event(decided!, T + HOUR, 'extension_requested')
      await event(decided!, T + 2 * HOUR, 'extension_decided')
      // Asked, decided, asked again: the second request waits.
      await event(askedAgain!, T + HOUR, 'extension_requested')
      await event(askedAgain!, T + 2 * HOUR, 'extension_decided')
      await event(askedAgain!, T + 3 * HOUR, 'extension_requested')
      const list = async (filter: Parameters<Store['listCases']>[0]) => idsOf((await store.listCases(filter)).cases)

      expect(await list({ escalated: true })).toEqual([escalated])
      expect(await list({ extensionPending: true })).toEqual([askedAgain, asked])
      expect(await store.countCases({ extensionPending: true })).toBe(2)
      expect(await list({ extensionPending: true, officeIds: ['elsewhere'] })).toEqual([])

      const linked = await store.linkCluster({ op: 'pair', caseId: plain!, withCaseId: decided!, newClusterId: 'cluster-k', at: T + HOUR, actor: 'staff-1' })
      expect(linked).toMatchObject({ ok: true, clusterId: 'cluster-k' })
      expect(await list({ clusterId: 'cluster-k' })).toEqual([decided, plain])
      expect(await store.countCases({ clusterId: 'cluster-k' })).toBe(2)
      expect(await list({ clusterId: 'cluster-none' })).toEqual([])
    })

    test('pages through 120 cases 50 at a time: every case exactly once, newest first', async () => {
      const created: Case[] = []
      for (let i = 0; i < 120; i++) {
        // Three cases per millisecond, so page boundaries fall inside groups of equal timestamps.
        const write = await recordNew({ at: T + Math.floor(i / 3), acknowledge: false })
        created.push(write.newCase)
      }
      const expected = idsOf(
        [...created].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)),
      )

      const pageSizes: number[] = []
      const seen: string[] = []
      let cursor: string | undefined
      do {
        const page = await store.listCases({ limit: 50, ...(cursor ? { cursor } : {}) })
        pageSizes.push(page.cases.length)
        seen.push(...idsOf(page.cases))
        cursor = page.nextCursor
      } while (cursor && pageSizes.length < 10)

      expect(pageSizes).toEqual([50, 50, 20])
      expect(seen).toEqual(expected)
      expect(new Set(seen).size).toBe(120)
    })

    test('a page that ends exactly at the last case has no next cursor', async () => {
      for (let i = 0; i < 3; i++) await recordNew({ at: T + i, acknowledge: false })
      const whole = await store.listCases({ limit: 3 })
      expect(whole.cases).toHaveLength(3)
      expect(whole.nextCursor).toBeUndefined()

      const first = await store.listCases({ limit: 2 })
      expect(first.cases).toHaveLength(2)
      expect(first.nextCursor).toEqual(expect.any(String))
      const second = await store.listCases({ limit: 2, cursor: first.nextCursor! })
      expect(idsOf(second.cases)).toEqual([whole.cases[2]!.id])
      expect(second.nextCursor).toBeUndefined()
    })

    test('findOpenCaseBySender finds the newest open case updated since the given instant', async () => {
      const ada = '+15550001'
      const older = await recordNew({ at: T, citizenId: ada })
      const resolved = await recordNew({ at: T + 10 * MINUTE, citizenId: ada })
      await store.applyCaseChange({
        caseId: resolved.newCase.id,
        at: T + 20 * MINUTE,
        patch: { status: 'resolved', resolvedAt: T + 20 * MINUTE },
        events: [],
      })
      await recordNew({ at: T + 30 * MINUTE, citizenId: '+15550002' })

      expect((await store.findOpenCaseBySender('sms', ada, T))?.id).toBe(older.newCase.id)
      expect(await store.findOpenCaseBySender('sms', ada, T + 1)).toBeUndefined()
      expect(await store.findOpenCaseBySender('whatsapp', ada, T)).toBeUndefined()
      expect(await store.findOpenCaseBySender('sms', '+15550003', T)).toBeUndefined()

      // `since` is about the last activity, not the creation: a follow-up keeps the case in reach.
      await store.recordInbound(makeFollowUpWrite(older.newCase, { at: T + 40 * MINUTE }))
      expect(await store.findOpenCaseBySender('sms', ada, T + 35 * MINUTE)).toEqual({
        ...older.newCase,
        updatedAt: T + 40 * MINUTE,
      })

      const newest = await recordNew({ at: T + 50 * MINUTE, citizenId: ada })
      expect((await store.findOpenCaseBySender('sms', ada, T))?.id).toBe(newest.newCase.id)
    })

    test('findCaseByMessageRef finds a case by an inbound message id or a sent message provider id', async () => {
      const mail = await recordNew({ channelId: 'mail', externalId: '<m1@citizen.example>' })
      await recordNew({ channelId: 'mail', externalId: '<m2@citizen.example>' })

      expect((await store.findCaseByMessageRef('mail', ['<unknown@x>', '<m1@citizen.example>']))?.id).toBe(
        mail.newCase.id,
      )
      expect(await store.findCaseByMessageRef('sms', ['<m1@citizen.example>'])).toBeUndefined()
      expect(await store.findCaseByMessageRef('mail', ['<unknown@x>'])).toBeUndefined()
      expect(await store.findCaseByMessageRef('mail', [])).toBeUndefined()

      const [leased] = await store.claimOutbox(T, 1, MINUTE)
      expect(leased?.caseId).toBe(mail.newCase.id)
      await store.completeOutbox(leased!.id, '<ack-1@intake.example>', T + SECOND)
      expect(await store.findCaseByMessageRef('mail', ['<ack-1@intake.example>'])).toEqual(mail.newCase)
    })

    test('applyCaseChange patches the case, appends events and queues the reply', async () => {
      const first = await recordNew({ at: T, case: { deadlineAt: T + 5 * HOUR } })
      const id = first.newCase.id
      const reply = makeOutbound(first.newCase, { kind: 'reply', at: T + HOUR, text: 'Your case went to Roads.' })
      const patch = {
        status: 'dispatched',
        officeId: 'roads',
        category: 'streetlights',
        urgency: 'urgent',
        deadlineAt: T + 2 * HOUR,
      } as const

      const changed = await store.applyCaseChange({
        caseId: id,
        at: T + HOUR,
        patch,
        events: [
          { caseId: id, at: T + HOUR, type: 'dispatched', actor: 'staff-7', public: true, data: { to: 'roads' } },
          { caseId: id, at: T + HOUR, type: 'note', actor: 'staff-7', public: false, data: { text: 'call back' } },
        ],
        outbound: [reply],
      })
      const expected = { ...first.newCase, ...patch, updatedAt: T + HOUR }
      expect(changed).toEqual(expected)
      expect(await store.getCase(id)).toEqual(expected)

      const events = await store.listEvents(id)
      expect(events.map((e) => e.type)).toEqual(['received', 'routed', 'acknowledged', 'dispatched', 'note'])
      expect(events.at(-1)).toMatchObject({ actor: 'staff-7', public: false, data: { text: 'call back' } })
      expect((await store.listMessages(id)).at(-1)).toEqual(reply.message)
      expect(await store.listOutbox({ caseId: id })).toEqual([reply.outbox, first.outbound[0]!.outbox])

      // Fields left out of the patch keep their value; null is a value (the deadline is lifted).
      const closed = await store.applyCaseChange({
        caseId: id,
        at: T + 3 * HOUR,
        patch: { status: 'closed', rating: 4, resolvedAt: T + 2 * HOUR, deadlineAt: null },
        events: [{ caseId: id, at: T + 3 * HOUR, type: 'rated', actor: 'citizen', public: true, data: { rating: 4 } }],
      })
      expect(closed).toEqual({
        ...expected,
        status: 'closed',
        rating: 4,
        resolvedAt: T + 2 * HOUR,
        deadlineAt: null,
        updatedAt: T + 3 * HOUR,
      })
    })

    test('applyCaseChange on a missing case throws an error naming it and writes nothing', async () => {
      const ghost = makeCase({ id: 'case-ghost' })
      await expect(
        store.applyCaseChange({
          caseId: ghost.id,
          at: T,
          patch: { status: 'dispatched' },
          events: [{ caseId: ghost.id, at: T, type: 'note', actor: 'staff-1', public: false }],
          outbound: [makeOutbound(ghost)],
        }),
      ).rejects.toThrow(/case-ghost/)
      expect(await store.listEvents(ghost.id)).toEqual([])
      expect(await store.listOutbox({})).toEqual([])
    })

    test('claimOutbox leases only due rows, oldest first, up to the limit', async () => {
      const a = await recordNew({ at: T, ackDueAt: T })
      const b = await recordNew({ at: T + 1, ackDueAt: T + 5 * SECOND })
      const c = await recordNew({ at: T + 2, ackDueAt: T + 10 * SECOND })
      const [outA, outB, outC] = [a, b, c].map((w) => w.outbound[0]!.outbox)

      const firstClaim = await store.claimOutbox(T, 10, 30 * SECOND)
      expect(firstClaim).toEqual([{ ...outA!, status: 'sending', attempts: 1, updatedAt: T }])

      const limited = await store.claimOutbox(T + 10 * SECOND, 1, 30 * SECOND)
      expect(idsOf(limited)).toEqual([outB!.id])
      const rest = await store.claimOutbox(T + 10 * SECOND, 10, 30 * SECOND)
      expect(idsOf(rest)).toEqual([outC!.id])
      expect(rest[0]).toMatchObject({ status: 'sending', attempts: 1 })

      expect(idsOf(await store.listOutbox({ status: 'sending' })).sort()).toEqual([outA!.id, outB!.id, outC!.id].sort())
      expect(await store.listOutbox({ status: 'pending' })).toEqual([])
    })

    test('a leased row is claimed again only once its lease has expired (a crashed worker)', async () => {
      const write = await recordNew({ at: T })
      const out = write.outbound[0]!.outbox

      expect(idsOf(await store.claimOutbox(T, 10, 30 * SECOND))).toEqual([out.id])
      expect(await store.claimOutbox(T + 29 * SECOND, 10, 30 * SECOND)).toEqual([])
      expect(await store.claimOutbox(T + 30 * SECOND, 10, 30 * SECOND)).toEqual([])

      const reclaimed = await store.claimOutbox(T + 30 * SECOND + 1, 10, 30 * SECOND)
      expect(reclaimed).toEqual([{ ...out, status: 'sending', attempts: 2, updatedAt: T + 30 * SECOND + 1 }])
    })

    test('completeOutbox marks the row sent and the message sent with the provider id', async () => {
      const write = await recordNew({ at: T })
      const ack = write.outbound[0]!
      await store.claimOutbox(T, 10, MINUTE)
      await store.completeOutbox(ack.outbox.id, 'SM-provider-1', T + SECOND)

      expect(await outboxRow(ack.outbox.id)).toMatchObject({
        status: 'sent',
        providerId: 'SM-provider-1',
        attempts: 1,
        updatedAt: T + SECOND,
      })
      expect(await messageOf(write.newCase.id, ack.message.id)).toEqual({
        ...ack.message,
        deliveryStatus: 'sent',
        externalId: 'SM-provider-1',
      })
      expect(await store.claimOutbox(T + HOUR, 10, MINUTE)).toEqual([])
    })

    test('failOutbox requeues a retryable failure, and a dead one stops with a delivery_failed event', async () => {
      const write = await recordNew({ at: T })
      const ack = write.outbound[0]!
      const id = ack.outbox.id
      await store.claimOutbox(T, 10, MINUTE)

      await store.failOutbox(id, { retryAt: T + MINUTE, error: 'throttled' }, T + SECOND)
      expect(await outboxRow(id)).toMatchObject({
        status: 'pending',
        attempts: 1,
        nextAttemptAt: T + MINUTE,
        lastError: 'throttled',
      })
      expect(await store.claimOutbox(T + MINUTE - 1, 10, MINUTE)).toEqual([])
      expect(await store.claimOutbox(T + MINUTE, 10, MINUTE)).toMatchObject([{ id, attempts: 2 }])

      await store.failOutbox(id, { dead: true, error: 'contact stopped' }, T + MINUTE + SECOND)
      expect(await outboxRow(id)).toMatchObject({ status: 'dead', attempts: 2, lastError: 'contact stopped' })
      expect((await messageOf(write.newCase.id, ack.message.id)).deliveryStatus).toBe('dead')
      expect((await store.listEvents(write.newCase.id)).at(-1)).toMatchObject({
        caseId: write.newCase.id,
        at: T + MINUTE + SECOND,
        type: 'delivery_failed',
        actor: 'outbox',
        public: false,
        data: { outboxId: id, error: 'contact stopped' },
      })
      expect(await store.claimOutbox(T + 24 * HOUR, 10, MINUTE)).toEqual([])
    })

    test('retryOutbox revives a dead row, due now with attempts reset, and nothing else', async () => {
      const dead = await recordNew({ at: T })
      const sent = await recordNew({ at: T + 1 })
      const waiting = await recordNew({ at: T + 2, ackDueAt: T + HOUR })
      const deadId = dead.outbound[0]!.outbox.id
      const sentId = sent.outbound[0]!.outbox.id

      await store.claimOutbox(T + 1, 10, MINUTE)
      await store.failOutbox(deadId, { dead: true, error: 'invalid number' }, T + SECOND)
      await store.completeOutbox(sentId, 'SM-2', T + SECOND)

      const revived = await store.retryOutbox(deadId, T + 2 * HOUR)
      expect(revived).toMatchObject({ id: deadId, status: 'pending', attempts: 0, nextAttemptAt: T + 2 * HOUR })
      expect(await outboxRow(deadId)).toEqual(revived)
      expect((await messageOf(dead.newCase.id, dead.outbound[0]!.message.id)).deliveryStatus).toBe('pending')

      expect(await store.retryOutbox(sentId, T + 2 * HOUR)).toBeUndefined()
      expect(await store.retryOutbox(waiting.outbound[0]!.outbox.id, T + 2 * HOUR)).toBeUndefined()
      expect(await store.retryOutbox('out-unknown', T + 2 * HOUR)).toBeUndefined()
      expect((await outboxRow(sentId)).status).toBe('sent')

      const claimed = await store.claimOutbox(T + 2 * HOUR, 10, MINUTE)
      expect(claimed.find((item) => item.id === deadId)).toMatchObject({ status: 'sending', attempts: 1 })
    })

    test('a late failure from a worker whose lease expired does not undo a completed delivery', async () => {
      const write = await recordNew({ at: T })
      const id = write.outbound[0]!.outbox.id
      await store.claimOutbox(T, 10, 30 * SECOND)
      await store.claimOutbox(T + MINUTE, 10, 30 * SECOND)
      await store.completeOutbox(id, 'SM-3', T + MINUTE + SECOND)

      await store.failOutbox(id, { retryAt: T + 2 * MINUTE, error: 'timeout' }, T + 2 * MINUTE)
      expect(await outboxRow(id)).toMatchObject({ status: 'sent', providerId: 'SM-3' })
      expect(await store.claimOutbox(T + HOUR, 10, MINUTE)).toEqual([])
    })

    test('concurrent claims never lease the same row twice', async () => {
      for (let i = 0; i < 20; i++) await recordNew({ at: T + i })
      const claims = await Promise.all([1, 2, 3, 4].map(() => store.claimOutbox(T + HOUR, 8, MINUTE)))
      const leased = claims.flatMap(idsOf)
      expect(leased).toHaveLength(20)
      expect(new Set(leased).size).toBe(20)
    })

    test('updateDeliveryStatus applies a delivery report to the sent message on that channel', async () => {
      const write = await recordNew({ at: T, channelId: 'sms' })
      const ack = write.outbound[0]!
      await store.claimOutbox(T, 10, MINUTE)
      await store.completeOutbox(ack.outbox.id, 'SM-9', T + SECOND)

      expect(await store.updateDeliveryStatus('sms', 'SM-9', 'delivered', T + MINUTE)).toBe(true)
      expect((await messageOf(write.newCase.id, ack.message.id)).deliveryStatus).toBe('delivered')

      expect(await store.updateDeliveryStatus('whatsapp', 'SM-9', 'failed', T + MINUTE)).toBe(false)
      expect(await store.updateDeliveryStatus('sms', 'SM-unknown', 'failed', T + MINUTE)).toBe(false)
      expect((await messageOf(write.newCase.id, ack.message.id)).deliveryStatus).toBe('delivered')

      // Reports concern what we sent; the citizen's own message keeps its status.
      expect(await store.updateDeliveryStatus('sms', write.message.externalId!, 'failed', T + MINUTE)).toBe(false)
      expect((await messageOf(write.newCase.id, write.message.id)).deliveryStatus).toBe('received')
    })

    test('delivery reports only move a message forward: a late "sent" never undoes "delivered"', async () => {
      const write = await recordNew({ at: T, channelId: 'sms' })
      const ack = write.outbound[0]!
      await store.claimOutbox(T, 10, MINUTE)
      await store.completeOutbox(ack.outbox.id, 'SM-10', T + SECOND)
      const status = async () => (await messageOf(write.newCase.id, ack.message.id)).deliveryStatus

      expect(await store.updateDeliveryStatus('sms', 'SM-10', 'delivered', T + MINUTE)).toBe(true)
      expect(await store.updateDeliveryStatus('sms', 'SM-10', 'sent', T + MINUTE)).toBe(false)
      expect(await status()).toBe('delivered')
      // A carrier may still report the message undelivered after all.
      expect(await store.updateDeliveryStatus('sms', 'SM-10', 'failed', T + MINUTE)).toBe(true)
      expect(await store.updateDeliveryStatus('sms', 'SM-10', 'delivered', T + MINUTE)).toBe(false)
      expect(await status()).toBe('failed')
    })

    test('a delivery report that arrives before the outbox recorded the send is held, and applied when it is', async () => {
      const early = await recordNew({ at: T, channelId: 'sms' })
      const plain = await recordNew({ at: T + 1, channelId: 'sms' })
      const stale = await recordNew({ at: T + 2, channelId: 'sms' })
      await store.claimOutbox(T, 10, MINUTE)
      const status = async (w: typeof early) => (await messageOf(w.newCase.id, w.outbound[0]!.message.id)).deliveryStatus

      // The provider answers the status callback before our send's verdict is recorded.
      expect(await store.updateDeliveryStatus('sms', 'SM-early', 'sent', T + SECOND)).toBe(false)
      expect(await store.updateDeliveryStatus('sms', 'SM-early', 'delivered', T + SECOND)).toBe(false)
      expect(await store.updateDeliveryStatus('sms', 'SM-early', 'sent', T + SECOND), 'held reports only move forward too').toBe(false)
      await store.completeOutbox(early.outbound[0]!.outbox.id, 'SM-early', T + 2 * SECOND)
      expect(await status(early)).toBe('delivered')

      // Nothing held: completing records 'sent' as always.
      await store.completeOutbox(plain.outbound[0]!.outbox.id, 'SM-plain', T + 2 * SECOND)
      expect(await status(plain)).toBe('sent')

      // A held report about an id nobody records within a day is dropped by the next one held.
      expect(await store.updateDeliveryStatus('sms', 'SM-stale', 'failed', T)).toBe(false)
      expect(await store.updateDeliveryStatus('sms', 'SM-other', 'sent', T + 2 * DAY)).toBe(false)
      await store.completeOutbox(stale.outbound[0]!.outbox.id, 'SM-stale', T + 2 * DAY)
      expect(await status(stale)).toBe('sent')
    })

    test('completeOutboxBatch records every send of a batch as completeOutbox does, applies a held report, and names the ids it has no row for', async () => {
      const a = await recordNew({ at: T, channelId: 'sms' })
      const b = await recordNew({ at: T + 1, channelId: 'sms' })
      expect(await store.claimOutbox(T + 1, 10, MINUTE)).toHaveLength(2)
      expect(await store.updateDeliveryStatus('sms', 'SM-b', 'delivered', T + SECOND)).toBe(false)
      const missing = await store.completeOutboxBatch(
        [
          { id: a.outbound[0]!.outbox.id, providerId: 'SM-a' },
          { id: 'outbox-nope', providerId: 'SM-nope' },
          { id: b.outbound[0]!.outbox.id, providerId: 'SM-b' },
        ],
        T + 2 * SECOND,
      )
      expect(missing).toEqual(['outbox-nope'])
      for (const [w, providerId, deliveryStatus] of [[a, 'SM-a', 'sent'], [b, 'SM-b', 'delivered']] as const) {
        expect(await outboxRow(w.outbound[0]!.outbox.id)).toMatchObject({ status: 'sent', providerId, attempts: 1, updatedAt: T + 2 * SECOND })
        expect(await messageOf(w.newCase.id, w.outbound[0]!.message.id)).toEqual({ ...w.outbound[0]!.message, deliveryStatus, externalId: providerId })
      }
      expect(await store.claimOutbox(T + HOUR, 10, MINUTE)).toEqual([])
      expect(await store.completeOutboxBatch([], T + HOUR)).toEqual([])
    })

    test('a rating closes a resolved case; findResolvedCaseBySender finds only resolved, unrated cases of that sender', async () => {
      const write = await recordNew({ at: T, channelId: 'sms', citizenId: '+8613900000001' })
      const id = write.newCase.id
      expect(await store.findResolvedCaseBySender('sms', '+8613900000001', T - HOUR), 'still open').toBeUndefined()
      await store.applyCaseChange({ caseId: id, at: T + HOUR, patch: { status: 'resolved', resolvedAt: T + HOUR }, events: [] })
      expect((await store.findResolvedCaseBySender('sms', '+8613900000001', T))?.id).toBe(id)
      expect(await store.findResolvedCaseBySender('sms', '+8613900000001', T + 2 * HOUR), 'resolved before the window').toBeUndefined()
      expect(await store.findResolvedCaseBySender('whatsapp', '+8613900000001', T)).toBeUndefined()

      const rating = makeInboundWrite({ at: T + 2 * HOUR, channelId: 'sms', citizenId: '+8613900000001', text: '5' })
      await store.recordInbound({ ...rating, newCase: undefined, message: { ...rating.message, caseId: id }, events: [], outbound: [], touchCase: { id, updatedAt: T + 2 * HOUR, rating: 5 } })
      expect(await store.getCase(id)).toMatchObject({ status: 'closed', rating: 5, updatedAt: T + 2 * HOUR })
      expect(await store.findResolvedCaseBySender('sms', '+8613900000001', T), 'rated').toBeUndefined()
    })

    test('setOptOut records STOP per channel and address; START lifts it; repeating either is harmless', async () => {
      expect(await store.isOptedOut('sms', '+8613800000001')).toBe(false)
      await store.setOptOut('sms', '+8613800000001', true, T)
      await store.setOptOut('sms', '+8613800000001', true, T + 1)
      expect(await store.isOptedOut('sms', '+8613800000001')).toBe(true)
      // Another channel, another address: untouched.
      expect(await store.isOptedOut('whatsapp', '+8613800000001')).toBe(false)
      expect(await store.isOptedOut('sms', '+8613800000002')).toBe(false)
      const addresses = [
        { channelId: 'whatsapp', citizenId: '+8613800000001' },
        { channelId: 'sms', citizenId: '+8613800000001' },
        { channelId: 'sms', citizenId: '+8613800000002' },
        { channelId: 'sms', citizenId: '+8613800000001' },
      ]
      expect(await store.areOptedOut(addresses), 'in the order asked, repeats too').toEqual([false, true, false, true])
      expect(await store.areOptedOut([])).toEqual([])
      await store.setOptOut('sms', '+8613800000001', false, T + 2)
      await store.setOptOut('sms', '+8613800000001', false, T + 3)
      expect(await store.isOptedOut('sms', '+8613800000001')).toBe(false)
      expect(await store.areOptedOut(addresses)).toEqual([false, false, false, false])
    })

    test('retention: closed cases past the cutoff are listed, erased of the citizen\'s data but not of their shape, and listed no more', async () => {
      const citizen = '+8613700000001'
      const old = await recordNew({ at: T, channelId: 'sms', citizenId: citizen, text: '我家门口（幸福路12号）的下水道堵了' })
      const alsoOld = await recordNew({ at: T + MINUTE, channelId: 'sms', citizenId: citizen })
      const open = await recordNew({ at: T, channelId: 'sms', citizenId: '+8613700000002' })
      const close = (id: string, at: number) => store.applyCaseChange({ caseId: id, at, patch: { status: 'closed', resolvedAt: at }, events: [] })
      await store.applyCaseChange({ caseId: old.newCase.id, at: T, patch: { status: 'closed' }, events: [], outbound: [makeOutbound(old.newCase, { kind: 'reply', text: '已疏通，请查看。' })] })
      await close(alsoOld.newCase.id, T + 2 * DAY)
      expect(await store.listCasesToErase(T + DAY, 10)).toEqual([old.newCase.id])
      expect(await store.listCasesToErase(T + 3 * DAY, 10)).toEqual([old.newCase.id, alsoOld.newCase.id])

      const eventsBefore = (await store.listEvents(old.newCase.id)).length
      await store.eraseCitizenData(old.newCase.id, T + 3 * DAY, 'retention: 1 day after closing')
      await store.eraseCitizenData(alsoOld.newCase.id, T + 3 * DAY, 'retention: 1 day after closing')
      const erased = (await store.getCase(old.newCase.id))!
      expect(erased).toMatchObject({ status: 'closed', officeId: old.newCase.officeId, trackingCode: old.newCase.trackingCode, contact: null, place: null, summary: '[erased]' })
      expect(erased.citizen.id).not.toContain(citizen)
      // One citizen's cases still belong to one (pseudonymous) person.
      expect((await store.getCase(alsoOld.newCase.id))!.citizen.id).toBe(erased.citizen.id)
      const messages = await store.listMessages(old.newCase.id)
      expect(messages.map((m) => m.text)).toEqual(messages.map(() => ''))
      expect(messages.filter((m) => m.direction === 'in').map((m) => m.author)).toEqual([erased.citizen.id])
      const rows = await store.listOutbox({ caseId: old.newCase.id })
      expect(rows.map((r) => [r.payload.text, r.payload.to.id])).toEqual(rows.map(() => ['', erased.citizen.id]))
      const events = await store.listEvents(old.newCase.id)
      expect(events).toHaveLength(eventsBefore + 1)
      expect(events.at(-1)).toMatchObject({ type: 'erased', actor: 'system', public: false, data: { reason: 'retention: 1 day after closing' } })

      expect(await store.listCasesToErase(T + 10 * DAY, 10)).toEqual([])
      await store.eraseCitizenData(old.newCase.id, T + 4 * DAY, 'again')
      expect(await store.listEvents(old.newCase.id), 'erasing twice changes nothing').toHaveLength(eventsBefore + 1)
      expect((await store.getCase(open.newCase.id))!.citizen.id, 'an open case is untouched').toBe('+8613700000002')
    })

    test('exportCitizen gives back every case of one citizen on one channel, with messages and events', async () => {
      const first = await recordNew({ at: T, channelId: 'sms', citizenId: '+8613700000003', text: '路灯坏了' })
      const second = await recordNew({ at: T + HOUR, channelId: 'sms', citizenId: '+8613700000003', text: '又坏了' })
      await recordNew({ at: T, channelId: 'whatsapp', citizenId: '+8613700000003' })
      await recordNew({ at: T, channelId: 'sms', citizenId: '+8613700000004' })
      const exported = await store.exportCitizen('sms', '+8613700000003')
      expect(exported.cases.map((c) => c.case.id)).toEqual([first.newCase.id, second.newCase.id])
      expect(exported.cases[0]!.messages.find((m) => m.direction === 'in')!.text).toBe('路灯坏了')
      expect(exported.cases[1]!.events.map((e) => e.type)).toContain('received')
      expect((await store.exportCitizen('sms', '+8613700000009')).cases).toEqual([])
    })

    /** A voice message whose transcript is still to come, recorded with its case. */
    async function recordVoice(at: number) {
      const write = makeInboundWrite({ at, text: '' })
      const transcription = {
        messageId: write.message.id,
        caseId: write.newCase.id,
        blobKey: 'a'.repeat(64),
        contentType: 'audio/ogg',
        language: 'zh-CN',
        attempts: 1,
        nextAttemptAt: at + MINUTE,
        lastError: 'engine busy',
      }
      await store.recordInbound({ ...write, transcription })
      return { write, transcription }
    }

    test('transcriptions: due ones are leased once, attempts counted, and come back when the lease runs out', async () => {
      const { transcription } = await recordVoice(T)
      expect(await store.claimTranscriptions(T, 10, MINUTE), 'not due yet').toEqual([])
      const [job] = await store.claimTranscriptions(T + MINUTE, 10, MINUTE)
      expect(job).toEqual({ ...transcription, attempts: 2 })
      expect(await store.claimTranscriptions(T + MINUTE + 1, 10, MINUTE), 'leased').toEqual([])
      const [again] = await store.claimTranscriptions(T + 2 * MINUTE + 1, 10, MINUTE)
      expect(again?.attempts, 'a dead worker\'s lease expired').toBe(3)
    })

    test('transcriptions: a transcript becomes the message text and applies its case change; a retry waits; the end is recorded', async () => {
      const done = await recordVoice(T)
      const retried = await recordVoice(T + 1)
      const dead = await recordVoice(T + 2)
      const at = T + HOUR
      await store.claimTranscriptions(at, 10, MINUTE)

      await store.recordTranscription(
        done.transcription.messageId,
        {
          text: '路灯坏了一个星期',
          change: {
            caseId: done.write.newCase.id,
            at,
            patch: { summary: '路灯坏了一个星期' },
            events: [{ caseId: done.write.newCase.id, at, type: 'transcribed', actor: 'whisper', public: true, data: { confidence: 0.9 } }],
          },
        },
        at,
      )
      expect((await messageOf(done.write.newCase.id, done.write.message.id)).text).toBe('路灯坏了一个星期')
      expect((await store.getCase(done.write.newCase.id))?.summary).toBe('路灯坏了一个星期')
      expect((await store.listEvents(done.write.newCase.id)).map((e) => e.type)).toContain('transcribed')

      await store.recordTranscription(retried.transcription.messageId, { retryAt: at + HOUR, error: 'timeout' }, at)
      await store.recordTranscription(
        dead.transcription.messageId,
        {
          dead: true,
          error: 'no words',
          change: { caseId: dead.write.newCase.id, at, events: [{ caseId: dead.write.newCase.id, at, type: 'transcription_failed', actor: 'whisper', public: false }] },
        },
        at,
      )
      expect((await messageOf(dead.write.newCase.id, dead.write.message.id)).text).toBe('')
      expect((await store.listEvents(dead.write.newCase.id)).map((e) => e.type)).toContain('transcription_failed')

      expect(await store.claimTranscriptions(at + HOUR - 1, 10, MINUTE)).toEqual([])
      const due = await store.claimTranscriptions(at + HOUR, 10, MINUTE)
      expect(due.map((j) => [j.messageId, j.lastError])).toEqual([[retried.transcription.messageId, 'timeout']])
      // Recording a finished one again (a worker whose lease ran out) changes nothing.
      await store.recordTranscription(done.transcription.messageId, { retryAt: at, error: 'late' }, at)
      const later = await store.claimTranscriptions(at + 2 * HOUR, 10, MINUTE)
      expect(later.map((j) => j.messageId)).toEqual([retried.transcription.messageId])
    })

    test('listOutbox filters by status and case, newest first, 100 rows unless told', async () => {
      const writes = []
      for (let i = 0; i < 3; i++) writes.push(await recordNew({ at: T + i * SECOND }))
      const [w1, w2, w3] = writes.map((w) => w.outbound[0]!.outbox)
      await store.claimOutbox(T, 1, MINUTE)

      expect(idsOf(await store.listOutbox({}))).toEqual([w3!.id, w2!.id, w1!.id])
      expect(idsOf(await store.listOutbox({ caseId: writes[1]!.newCase.id }))).toEqual([w2!.id])
      expect(idsOf(await store.listOutbox({ status: 'sending' }))).toEqual([w1!.id])
      expect(idsOf(await store.listOutbox({ status: 'pending' }))).toEqual([w3!.id, w2!.id])
      expect(idsOf(await store.listOutbox({ limit: 2 }))).toEqual([w3!.id, w2!.id])
      expect(await store.listOutbox({ status: 'pending', caseId: writes[0]!.newCase.id })).toEqual([])

      for (let i = 0; i < 100; i++) await recordNew({ at: T + HOUR + i })
      expect(await store.listOutbox({})).toHaveLength(100)
      expect(await store.listOutbox({ limit: 500 })).toHaveLength(103)
    })

    /** Round-robin over `staff` (all on duty) from the load, as core's pickAssignee does. */
    const roundRobin = (staff: string[]) => (load: { lastAssigneeId: string | null }) =>
      staff[(staff.indexOf(load.lastAssigneeId ?? '') + 1) % staff.length]!
    const leastOpen = (staff: string[]) => (load: { openCases: Record<string, number> }) =>
      staff.reduce((best, s) => ((load.openCases[s] ?? 0) < (load.openCases[best] ?? 0) ? s : best))

    test('pickAssignee decides one pick at a time per office: concurrent round-robin picks go round the staff in turn', async () => {
      const pickAssignee = store.pickAssignee?.bind(store)
      if (!pickAssignee) throw new Error(`${name} has no pickAssignee: implement it, or skip this case with the reason`)
      const staff = ['clerk-a', 'clerk-b', 'clerk-c']
      const picks = await Promise.all(Array.from({ length: 30 }, (_, i) => pickAssignee('roads', `case-rr-${i}`, T + i, roundRobin(staff))))
      expect(staff.map((s) => picks.filter((p) => p === s).length)).toEqual([10, 10, 10])
      // Another office keeps its own turn.
      expect(await pickAssignee('parks', 'case-parks-1', T, roundRobin(staff))).toBe('clerk-a')
      // Once a picked case is written, the next pick continues after it.
      const written = await recordNew({ at: T + HOUR, case: { officeId: 'parks', assigneeId: 'clerk-b' } })
      expect(written.newCase.assigneeId).toBe('clerk-b')
      expect(await pickAssignee('parks', 'case-parks-2', T + HOUR + 1, roundRobin(staff))).toBe('clerk-c')
      // Nobody to pick: nothing is recorded.
      expect(await pickAssignee('parks', 'case-parks-3', T + HOUR + 2, () => null)).toBeNull()
      expect(await pickAssignee('parks', 'case-parks-4', T + HOUR + 3, roundRobin(staff))).toBe('clerk-a')
    })

    test('pickAssignee counts picks whose cases are not written yet: concurrent least-open picks even out the load', async () => {
      const pickAssignee = store.pickAssignee?.bind(store)
      if (!pickAssignee) throw new Error(`${name} has no pickAssignee: implement it, or skip this case with the reason`)
      const staff = ['clerk-a', 'clerk-b', 'clerk-c']
      for (let i = 0; i < 2; i++) await recordNew({ at: T + i, case: { officeId: 'roads', assigneeId: 'clerk-a' } })
      const picks = await Promise.all(Array.from({ length: 7 }, (_, i) => pickAssignee('roads', `case-lo-${i}`, T + MINUTE + i, leastOpen(staff))))
      // clerk-a had 2 open cases: the 7 new ones leave everybody with 3.
      expect(staff.map((s) => picks.filter((p) => p === s).length)).toEqual([1, 3, 3])
    })

    test('case events are kept in append order, whatever their timestamps', async () => {
      const first = await recordNew({ at: T })
      const other = await recordNew({ at: T + 1 })
      const id = first.newCase.id
      await store.applyCaseChange({
        caseId: id,
        at: T + HOUR,
        patch: { status: 'dispatched' },
        events: [
          { caseId: id, at: T + HOUR, type: 'dispatched', actor: 'staff-1', public: true, data: { step: 1 } },
          { caseId: id, at: T + HOUR, type: 'note', actor: 'staff-1', public: false, data: { step: 2 } },
        ],
      })
      await store.applyCaseChange({
        caseId: other.newCase.id,
        at: T + HOUR,
        events: [{ caseId: other.newCase.id, at: T + HOUR, type: 'note', actor: 'staff-2', public: false }],
      })
      await store.recordInbound(makeFollowUpWrite(first.newCase, { at: T + 2 * HOUR }))
      // A clock that went backwards must not rewrite history: the trail keeps write order.
      await store.applyCaseChange({
        caseId: id,
        at: T + 30 * MINUTE,
        events: [{ caseId: id, at: T + 30 * MINUTE, type: 'transferred', actor: 'staff-1', public: true }],
      })

      const events = await store.listEvents(id)
      expect(events.map((e) => e.type)).toEqual([
        'received',
        'routed',
        'acknowledged',
        'dispatched',
        'note',
        'follow_up',
        'transferred',
      ])
      expect(events.every((e) => e.caseId === id)).toBe(true)
      const eventIds = events.map((e) => e.id!)
      expect(eventIds).toEqual([...eventIds].sort((a, b) => a - b))
      expect(new Set(eventIds).size).toBe(eventIds.length)
      expect(events.slice(3, 5).map((e) => e.data)).toEqual([{ step: 1 }, { step: 2 }])
      expect((await store.listEvents(other.newCase.id)).map((e) => e.type)).toEqual([
        'received',
        'routed',
        'acknowledged',
        'note',
      ])
    })
  
  describe('timers', () => {
    async function caseWithTimers(timers: Array<{ kind: string; point: string; dueAt: number }>) {
      const write = await recordNew()
      await store.planTimers(write.newCase!.id, { timers })
      return write.newCase!.id
    }

    test('plans timers, and planning (case, kind, point) again moves it instead of doubling it', async () => {
      const id = await caseWithTimers([
        { kind: 'accept_due', point: '', dueAt: T + 2 * HOUR },
        { kind: 'remind', point: '1 working day before', dueAt: T + 4 * DAY },
      ])
      await store.planTimers(id, { timers: [{ kind: 'remind', point: '1 working day before', dueAt: T + 6 * DAY }] })
      expect((await store.listTimers(id)).map((t) => [t.kind, t.point, t.dueAt])).toEqual([
        ['accept_due', '', T + 2 * HOUR],
        ['remind', '1 working day before', T + 6 * DAY],
      ])
    })

    test('leases only due timers, earliest first; a leased timer is not leased again until its lease runs out', async () => {
      const id = await caseWithTimers([
        { kind: 'remind', point: 'b', dueAt: T + 2 * HOUR },
        { kind: 'remind', point: 'a', dueAt: T + HOUR },
        { kind: 'remind', point: 'later', dueAt: T + DAY },
      ])
      const first = await store.claimTimers(T + 3 * HOUR, 10, MINUTE)
      expect(first.map((t) => [t.caseId, t.point])).toEqual([
        [id, 'a'],
        [id, 'b'],
      ])
      expect(await store.claimTimers(T + 3 * HOUR + SECOND, 10, MINUTE)).toEqual([])
      // The worker died: after the lease, another takes them (with a new version).
      const again = await store.claimTimers(T + 3 * HOUR + 2 * MINUTE, 10, MINUTE)
      expect(again.map((t) => t.point)).toEqual(['a', 'b'])
      expect(again[0]!.version).not.toBe(first[0]!.version)
    })

    test('a timer fires once: its change is applied with it, and a stale lease or a second completion does nothing', async () => {
      const id = await caseWithTimers([{ kind: 'deadline_due', point: 'due', dueAt: T + HOUR }])
      const [stale] = await store.claimTimers(T + HOUR, 10, MINUTE)
      const [current] = await store.claimTimers(T + HOUR + 2 * MINUTE, 10, MINUTE)
      const change = (at: number) => ({ caseId: id, at, events: [{ caseId: id, at, type: 'reminded' as const, actor: 'system', public: false, data: { point: 'due' } }] })
      expect(await store.completeTimer(stale!, change(T + 2 * HOUR))).toBe(false)
      expect(await store.completeTimer(current!, change(T + 3 * HOUR))).toBe(true)
      expect(await store.completeTimer(current!, change(T + 4 * HOUR))).toBe(false)
      const reminded = (await store.listEvents(id)).filter((e) => e.type === 'reminded')
      expect(reminded.map((e) => e.at)).toEqual([T + 3 * HOUR])
      expect(await store.listTimers(id)).toEqual([])
    })

    test('a timer re-planned while leased is not fired by the old lease, and comes due at its new time', async () => {
      const id = await caseWithTimers([{ kind: 'deadline_due', point: 'due', dueAt: T + HOUR }])
      const [leased] = await store.claimTimers(T + HOUR, 10, MINUTE)
      await store.planTimers(id, { timers: [{ kind: 'deadline_due', point: 'due', dueAt: T + 5 * HOUR }] })
      expect(await store.completeTimer(leased!)).toBe(false)
      expect(await store.claimTimers(T + 2 * HOUR, 10, MINUTE)).toEqual([])
      const [moved] = await store.claimTimers(T + 5 * HOUR, 10, MINUTE)
      expect(moved).toMatchObject({ caseId: id, kind: 'deadline_due', dueAt: T + 5 * HOUR })
      expect(await store.completeTimer(moved!)).toBe(true)
    })

    test('a case change cancels timers by kind or all, and plans the next, in the same transaction', async () => {
      const id = await caseWithTimers([
        { kind: 'accept_due', point: '', dueAt: T + HOUR },
        { kind: 'remind', point: 'x', dueAt: T + DAY },
        { kind: 'survey', point: '', dueAt: T + 2 * DAY },
      ])
      await store.applyCaseChange({ caseId: id, at: T, patch: { status: 'accepted', acceptedAt: T }, events: [], timers: { cancel: ['accept_due'], timers: [] } })
      expect((await store.listTimers(id)).map((t) => t.kind)).toEqual(['remind', 'survey'])
      await store.applyCaseChange({ caseId: id, at: T, events: [], timers: { cancel: 'all', timers: [{ kind: 'survey_expire', point: '', dueAt: T + 3 * DAY }] } })
      expect((await store.listTimers(id)).map((t) => t.kind)).toEqual(['survey_expire'])
      expect(await store.getCase(id)).toMatchObject({ status: 'accepted', acceptedAt: T, reopenCount: 0 })
      // A failed change plans nothing.
      await expect(store.applyCaseChange({ caseId: 'no-such-case', at: T, events: [], timers: { cancel: 'all', timers: [] } })).rejects.toThrow()
      expect(await store.listTimers(id)).toHaveLength(1)
    })

    test('a new case is written with its timers; the lifecycle fields round-trip', async () => {
      const write = makeInboundWrite({ case: { acceptDeadlineAt: T + 2 * HOUR, reopenCount: 2 } })
      await store.recordInbound({ ...write, timers: { timers: [{ kind: 'accept_due', point: '', dueAt: T + 2 * HOUR }] } })
      expect(await store.getCase(write.newCase!.id)).toMatchObject({ acceptDeadlineAt: T + 2 * HOUR, acceptedAt: null, reopenCount: 2 })
      expect((await store.listTimers(write.newCase!.id)).map((t) => t.kind)).toEqual(['accept_due'])
      await store.applyCaseChange({ caseId: write.newCase!.id, at: T, patch: { reopenCount: 3, acceptedAt: T + HOUR }, events: [] })
      expect(await store.getCase(write.newCase!.id)).toMatchObject({ reopenCount: 3, acceptedAt: T + HOUR })
    })
    accessCases(test, () => store)
    leaseCases(test, () => store)
  })
})
}
