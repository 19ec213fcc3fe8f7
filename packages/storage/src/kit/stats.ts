/**
 * Conformance cases for the statistics rows (Store.caseStats, Store.rebuildCaseStats), the case
 * list's filters and status lookups that belong to no case. A history is seeded by hand through
 * the Store, and the counts expected are worked out by hand in the comments.
 */
import { expect } from 'vitest'
import type { CaseEventInput, Store, StatsCounts, StatsSelection } from '@intake/core'
import { FIXTURE_TIME, fixtureId, makeInboundMessage, makeInboundWrite } from './fixtures.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const T = FIXTURE_TIME // Monday 2025-01-06 09:00 UTC

type Test = (title: string, fn: () => Promise<void>) => void

const changed = (caseId: string, at: number, from: string, to: string, transition: string, reason?: string): CaseEventInput => ({
  caseId,
  at,
  type: 'status_changed',
  actor: 'staff-1',
  public: true,
  data: { from, to, transition, ...(reason ? { reason } : {}) },
})

/**
 * c1 town-a sms roads 653129100: accept deadline T+2h, accepted T+1h (in time), deadline T+5d,
 *    resolved T+2d (on time), rated 5 (satisfied).
 * c2 town-a wechat roads 653129101: accept deadline T+3h, accepted T+5h (late), deadline T+1h+1d,
 *    resolved T+3d (late), rated 1, reopened T+3d+1h, resolved again T+4d (late).
 * c3 town-b sms water, no place: deadline T+6h, never accepted, still open: overdue at T+10d.
 * c4 county sms roads: received T-10d, before the period.
 * c5 town-b sms water: no deadlines; accepted T+4h, resolved T+1d, closed not rated.
 */
export async function seedStatsHistory(
  store: Store,
  offices: { townA: string; townB: string; county: string } = { townA: 'town-a', townB: 'town-b', county: 'county' },
): Promise<Record<'c1' | 'c2' | 'c3' | 'c4' | 'c5', string>> {
  const open = async (at: number, fields: Parameters<typeof makeInboundWrite>[0]) => {
    const write = makeInboundWrite({ at, ...fields })
    await store.recordInbound(write)
    return write.newCase.id
  }
  const c1 = await open(T, { case: { officeId: offices.townA, category: 'roads', placeCode: '653129100', placeName: '巴仁镇', deadlineAt: T + 5 * DAY } })
  const c2 = await open(T + HOUR, { channelId: 'wechat', citizenId: 'oFollower1', case: { officeId: offices.townA, category: 'roads', placeCode: '653129101', deadlineAt: T + HOUR + DAY } })
  const c3 = await open(T + 2 * HOUR, { citizenId: '+15550133', case: { officeId: offices.townB, category: 'water', deadlineAt: T + 6 * HOUR } })
  const c4 = await open(T - 10 * DAY, { citizenId: '+15550144', case: { officeId: offices.county, category: 'roads', deadlineAt: T - 5 * DAY } })
  const c5 = await open(T + 3 * HOUR, { citizenId: '+15550155', case: { officeId: offices.townB, category: 'water' } })
  const apply = (caseId: string, at: number, patch: Parameters<Store['applyCaseChange']>[0]['patch'], events: CaseEventInput[]) =>
    store.applyCaseChange({ caseId, at, ...(patch ? { patch } : {}), events })

  await apply(c1, T, undefined, [{ caseId: c1, at: T, type: 'deadline_set', actor: 'system', public: false, data: { deadlineAt: T + 5 * DAY, acceptDeadlineAt: T + 2 * HOUR, reason: 'policy' } }])
  await apply(c1, T + HOUR, { status: 'accepted' }, [changed(c1, T + HOUR, 'received', 'accepted', 'accept')])
  await apply(c1, T + 2 * DAY, { status: 'resolved', resolvedAt: T + 2 * DAY }, [changed(c1, T + 2 * DAY, 'accepted', 'resolved', 'resolve')])
  await apply(c1, T + 3 * DAY, { status: 'closed', rating: 5 }, [
    { caseId: c1, at: T + 3 * DAY, type: 'rated', actor: 'citizen', public: true, data: { rating: 5, satisfied: true } },
    changed(c1, T + 3 * DAY, 'resolved', 'closed', 'close', 'rated'),
  ])

  await apply(c2, T + HOUR, undefined, [{ caseId: c2, at: T + HOUR, type: 'deadline_set', actor: 'system', public: false, data: { deadlineAt: T + HOUR + DAY, acceptDeadlineAt: T + 3 * HOUR, reason: 'policy' } }])
  await apply(c2, T + 5 * HOUR, { status: 'accepted' }, [changed(c2, T + 5 * HOUR, 'received', 'accepted', 'accept')])
  await apply(c2, T + 3 * DAY, { status: 'resolved', resolvedAt: T + 3 * DAY }, [changed(c2, T + 3 * DAY, 'accepted', 'resolved', 'resolve')])
  await apply(c2, T + 3 * DAY + HOUR, { status: 'accepted', resolvedAt: null }, [
    { caseId: c2, at: T + 3 * DAY + HOUR, type: 'rated', actor: 'citizen', public: true, data: { rating: 1, satisfied: false } },
    changed(c2, T + 3 * DAY + HOUR, 'resolved', 'accepted', 'reopen', 'rating'),
  ])
  await apply(c2, T + 4 * DAY, { status: 'resolved', resolvedAt: T + 4 * DAY }, [changed(c2, T + 4 * DAY, 'accepted', 'resolved', 'resolve')])

  await apply(c5, T + 4 * HOUR, { status: 'accepted' }, [changed(c5, T + 4 * HOUR, 'received', 'accepted', 'accept')])
  await apply(c5, T + DAY, { status: 'resolved', resolvedAt: T + DAY }, [changed(c5, T + DAY, 'accepted', 'resolved', 'resolve')])
  await apply(c5, T + 8 * DAY, { status: 'closed' }, [changed(c5, T + 8 * DAY, 'resolved', 'closed', 'close', 'not_rated')])
  return { c1, c2, c3, c4, c5 }
}

const PERIOD: StatsSelection = { from: T, to: T + 30 * DAY, now: T + 10 * DAY, groupBy: 'none' }

const counts = (key: string | null, over: Partial<StatsCounts>): StatsCounts => ({
  key,
  received: 0,
  acceptedInTime: 0,
  resolved: 0,
  resolvedOnTime: 0,
  everResolved: 0,
  reopened: 0,
  rated: 0,
  satisfied: 0,
  closedNotRated: 0,
  overdue: 0,
  spans: [],
  ...over,
})

const sorted = (groups: StatsCounts[]) =>
  groups.map((g) => ({ ...g, spans: pairs(g.spans) })).sort((a, b) => String(a.key).localeCompare(String(b.key)))
const pairs = (spans: number[]) => {
  const out: number[][] = []
  for (let i = 0; i < spans.length; i += 2) out.push([spans[i]!, spans[i + 1]!])
  return out.sort((a, b) => a[0]! - b[0]!)
}

export function statsCases(test: Test, store: () => Store): void {
  test('caseStats counts a hand-seeded history: received, in-time acceptance, resolution, reopen, ratings, overdue', async () => {
    const s = store()
    await seedStatsHistory(s)
    // c4 is before the period. Accepted in time: c1, c5 (no acceptance deadline). Resolved now: c1,
    // c2, c5; on time: c1, c5 (no deadline). Reopened: c2. Rated: c1 (5), c2 (1). Closed not rated:
    // c5. Overdue: c3.
    expect(sorted(await s.caseStats(PERIOD))).toEqual(
      sorted([
        counts(null, {
          received: 4,
          acceptedInTime: 2,
          resolved: 3,
          resolvedOnTime: 2,
          everResolved: 3,
          reopened: 1,
          rated: 2,
          satisfied: 1,
          closedNotRated: 1,
          overdue: 1,
          spans: [T, T + 2 * DAY, T + HOUR, T + 4 * DAY, T + 3 * HOUR, T + DAY],
        }),
      ]),
    )
  })

  test('caseStats narrows by offices, channel, category and place prefix, and groups by each', async () => {
    const s = store()
    await seedStatsHistory(s)
    expect(sorted(await s.caseStats({ ...PERIOD, officeIds: ['town-a', 'town-b'], groupBy: 'office' }))).toEqual(
      sorted([
        counts('town-a', { received: 2, acceptedInTime: 1, resolved: 2, resolvedOnTime: 1, everResolved: 2, reopened: 1, rated: 2, satisfied: 1, spans: [T, T + 2 * DAY, T + HOUR, T + 4 * DAY] }),
        counts('town-b', { received: 2, acceptedInTime: 1, resolved: 1, resolvedOnTime: 1, everResolved: 1, closedNotRated: 1, overdue: 1, spans: [T + 3 * HOUR, T + DAY] }),
      ]),
    )
    // Without spans (no median wanted): the same counts, and no span read.
    const withSpans = await s.caseStats({ ...PERIOD, officeIds: ['town-a', 'town-b'], groupBy: 'office' })
    expect(sorted(await s.caseStats({ ...PERIOD, officeIds: ['town-a', 'town-b'], groupBy: 'office', spans: false }))).toEqual(sorted(withSpans.map((g) => ({ ...g, spans: [] }))))
    expect((await s.caseStats({ ...PERIOD, from: T - 30 * DAY, groupBy: 'month', spans: false })).map((g) => [g.key, g.received, g.spans])).toEqual([['2024-12', 1, []], ['2025-01', 4, []]])
    expect((await s.caseStats({ ...PERIOD, officeIds: ['county'] }))).toEqual([])
    expect((await s.caseStats({ ...PERIOD, from: T - 30 * DAY, officeIds: ['county'] }))[0]).toMatchObject({ received: 1, overdue: 1 })
    expect((await s.caseStats({ ...PERIOD, channelId: 'wechat' }))[0]).toMatchObject({ received: 1, reopened: 1 })
    expect((await s.caseStats({ ...PERIOD, category: 'water' }))[0]).toMatchObject({ received: 2, overdue: 1 })
    expect((await s.caseStats({ ...PERIOD, placeCode: '6531291' }))[0]).toMatchObject({ received: 2 })
    expect(await s.caseStats({ ...PERIOD, placeCode: '65312910%' })).toEqual([])
    expect(sorted(await s.caseStats({ ...PERIOD, groupBy: 'place', placeDigits: 6 })).map((g) => [g.key, g.received])).toEqual([['653129', 2], [null, 2]])
    expect(sorted(await s.caseStats({ ...PERIOD, groupBy: 'channel' })).map((g) => [g.key, g.received])).toEqual([['sms', 3], ['wechat', 1]])
    expect(sorted(await s.caseStats({ ...PERIOD, from: T - 30 * DAY, groupBy: 'month' })).map((g) => [g.key, g.received])).toEqual([['2024-12', 1], ['2025-01', 4]])
  })

  test('a transfer moves a case\'s stats to its new office; rebuildCaseStats recomputes the same rows from the events', async () => {
    const s = store()
    const { c3 } = await seedStatsHistory(s)
    await s.applyCaseChange({ caseId: c3, at: T + 5 * HOUR, patch: { officeId: 'town-a' }, events: [{ caseId: c3, at: T + 5 * HOUR, type: 'transferred', actor: 'staff-1', public: true, data: { officeId: 'town-a' } }] })
    const before = sorted(await s.caseStats({ ...PERIOD, from: T - 30 * DAY, groupBy: 'office' }))
    expect(before.find((g) => g.key === 'town-a')).toMatchObject({ received: 3, overdue: 1 })
    expect(await s.rebuildCaseStats()).toEqual({ cases: 5 })
    expect(sorted(await s.caseStats({ ...PERIOD, from: T - 30 * DAY, groupBy: 'office' }))).toEqual(before)
  })

  test('listCases filters by created and updated ranges, place prefix, category, channel, sender and open', async () => {
    const s = store()
    const { c1, c2, c3, c4, c5 } = await seedStatsHistory(s)
    const ids = async (filter: Parameters<Store['listCases']>[0]) => (await s.listCases(filter)).cases.map((c) => c.id).sort()
    expect(await ids({ createdFrom: T, createdTo: T + 2 * HOUR })).toEqual([c1, c2].sort())
    expect(await ids({ createdTo: T })).toEqual([c4])
    expect(await ids({ updatedFrom: T + 3 * DAY })).toEqual([c1, c2, c5].sort())
    expect(await ids({ placeCode: '6531291' })).toEqual([c1, c2].sort())
    expect(await ids({ placeCode: '653129100' })).toEqual([c1])
    expect(await ids({ category: 'water', channelId: 'sms' })).toEqual([c3, c5].sort())
    expect(await ids({ channelId: 'wechat', citizenId: 'oFollower1' })).toEqual([c2])
    expect(await ids({ open: true })).toEqual([c3, c4].sort())
    const found = await s.getCase(c1)
    expect(found).toMatchObject({ placeCode: '653129100', placeName: '巴仁镇' })
  })

  test('a status lookup that belongs to no case is recorded idempotently and delivered, leaving every case untouched', async () => {
    const s = store()
    const { c1 } = await seedStatsHistory(s)
    const before = await s.getCase(c1)
    const messageId = fixtureId('msg')
    const outId = fixtureId('msg')
    const at = T + 20 * DAY
    const write = {
      inbox: { id: fixtureId('inbox'), channelId: 'sms', externalId: 'SM-lookup-1', receivedAt: at, payload: null },
      message: makeInboundMessage({ id: messageId, caseId: '', externalId: null, author: '+15559999', text: 'status K7F3-9Q2M', createdAt: at }),
      events: [],
      outbound: [
        {
          message: { id: outId, caseId: '', direction: 'out' as const, channelId: 'sms', externalId: null, author: 'system', subject: null, text: 'Case …: resolved.', attachments: [], deliveryStatus: 'pending' as const, createdAt: at },
          outbox: {
            id: fixtureId('out'),
            messageId: outId,
            caseId: '',
            channelId: 'sms',
            status: 'pending' as const,
            attempts: 0,
            nextAttemptAt: at,
            lastError: null,
            providerId: null,
            idempotencyKey: 'intake-lookup-1',
            payload: { id: outId, caseId: '', channelId: 'sms', to: { channelId: 'sms', id: '+15559999' }, kind: 'notice' as const, text: 'Case …: resolved.', trackingCode: '', statusUrl: 'https://x.test/status', language: 'en' },
            createdAt: at,
            updatedAt: at,
          },
        },
      ],
    }
    expect(await s.recordInbound(write)).toEqual({ duplicate: false })
    expect(await s.recordInbound({ ...write, inbox: { ...write.inbox, id: fixtureId('inbox') } })).toEqual({ duplicate: true, caseId: '', messageId })
    expect(await s.getCase(c1)).toEqual(before)
    const claimed = (await s.claimOutbox(at, 100, 60_000)).find((o) => o.messageId === outId)
    expect(claimed).toMatchObject({ caseId: '', payload: { to: { id: '+15559999' } } })
    await s.completeOutbox(claimed!.id, 'SM-provider-9', at)
    // A reply to the answer (its provider id) finds no case to join.
    expect(await s.findCaseByMessageRef('sms', ['SM-provider-9'])).toBeUndefined()
    expect(await s.updateDeliveryStatus('sms', 'SM-provider-9', 'delivered', at)).toBe(true)
  })
}
