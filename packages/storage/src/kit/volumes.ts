/**
 * Conformance cases for Store.caseVolumes (the console's dashboard): a handful of cases seeded by
 * hand through the Store, and the four counts it draws worked out by hand in the comments — local
 * days at the deployment's offset, an office scope, and dimensions that follow a case's changes.
 */
import { expect } from 'vitest'
import type { CaseVolumes, Store } from '@intake/core'
import { FIXTURE_TIME, makeInboundWrite } from './fixtures.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const T = FIXTURE_TIME // Monday 2025-01-06 09:00 UTC = 17:00 at UTC+8

type Test = (title: string, fn: () => Promise<void>) => void

/** Each list in one order, so answers compare whatever order a driver returns them in. */
const sorted = (v: CaseVolumes): CaseVolumes => {
  const by = <T>(key: (r: T) => string) => (a: T, b: T) => key(a).localeCompare(key(b))
  return {
    byDayAndChannel: [...v.byDayAndChannel].sort(by((r) => `${r.day}|${r.channelId}`)),
    byOffice: [...v.byOffice].sort(by((r) => r.officeId)),
    byCategory: [...v.byCategory].sort(by((r) => r.category ?? '')),
    byStatus: [...v.byStatus].sort(by((r) => r.status)),
  }
}

export function volumeCases(test: Test, store: () => Store): void {
  test('caseVolumes counts by local day and channel, office, category and status, in scope only, following transfers and status changes', async () => {
    const s = store()
    const open = async (at: number, officeId: string, channelId: string, category: string | null) => {
      const write = makeInboundWrite({ at, channelId, citizenId: `+1555${at % 100_000}`, case: { officeId, category } })
      await s.recordInbound(write)
      return write.newCase.id
    }
    // Local times at UTC+8.
    await open(T, 'county-a', 'sms', 'roads') //                   v1: 01-06 17:00
    const v2 = await open(T + 6 * HOUR, 'town-a1', 'wechat', 'roads') // v2: 01-06 23:00
    await open(T + 7 * HOUR, 'town-a1', 'sms', 'water') //          v3: 01-07 00:00 (still 01-06 in UTC)
    const v4 = await open(T + DAY, 'town-a1', 'sms', null) //      v4: 01-07 17:00
    await open(T + 2 * HOUR, 'county-b', 'sms', 'roads') //         v5: outside the scope
    await open(T - 2 * DAY, 'county-a', 'sms', 'roads') //          v6: before the period
    await open(T + 2 * DAY, 'county-a', 'web', 'roads') //          v7: at `until`, after the period
    const scope = { officeIds: ['county-a', 'town-a1'] }
    const period = { since: T - DAY, until: T + 2 * DAY, utcOffsetMinutes: 480 }

    // v1–v4, all received.
    expect(sorted(await s.caseVolumes({ ...period, scope }))).toEqual({
      byDayAndChannel: [
        { day: '2025-01-06', channelId: 'sms', count: 1 },
        { day: '2025-01-06', channelId: 'wechat', count: 1 },
        { day: '2025-01-07', channelId: 'sms', count: 2 },
      ],
      byOffice: [
        { officeId: 'county-a', count: 1 },
        { officeId: 'town-a1', count: 3 },
      ],
      byCategory: [
        { category: null, count: 1 },
        { category: 'roads', count: 2 },
        { category: 'water', count: 1 },
      ],
      byStatus: [{ status: 'received', count: 4 }],
    })
    // In UTC, v3 falls on the 6th.
    expect(sorted(await s.caseVolumes({ ...period, utcOffsetMinutes: 0, scope })).byDayAndChannel).toEqual([
      { day: '2025-01-06', channelId: 'sms', count: 2 },
      { day: '2025-01-06', channelId: 'wechat', count: 1 },
      { day: '2025-01-07', channelId: 'sms', count: 1 },
    ])

    // v2 is transferred out of the scope (to county-b), v4 accepted.
    await s.applyCaseChange({ caseId: v2, at: T + DAY, patch: { officeId: 'county-b' }, events: [{ caseId: v2, at: T + DAY, type: 'transferred', actor: 'staff-1', public: true, data: { officeId: 'county-b' } }] })
    await s.applyCaseChange({ caseId: v4, at: T + DAY + HOUR, patch: { status: 'accepted' }, events: [{ caseId: v4, at: T + DAY + HOUR, type: 'status_changed', actor: 'staff-1', public: true, data: { from: 'received', to: 'accepted', transition: 'accept' } }] })
    const scoped: CaseVolumes = {
      byDayAndChannel: [
        { day: '2025-01-06', channelId: 'sms', count: 1 },
        { day: '2025-01-07', channelId: 'sms', count: 2 },
      ],
      byOffice: [
        { officeId: 'county-a', count: 1 },
        { officeId: 'town-a1', count: 2 },
      ],
      byCategory: [
        { category: null, count: 1 },
        { category: 'roads', count: 1 },
        { category: 'water', count: 1 },
      ],
      byStatus: [
        { status: 'accepted', count: 1 },
        { status: 'received', count: 2 },
      ],
    }
    expect(sorted(await s.caseVolumes({ ...period, scope }))).toEqual(scoped)
    // No scope: every office — v1–v5 (v2 and v5 at county-b, v5 on the 6th at 19:00).
    expect(sorted(await s.caseVolumes(period))).toEqual({
      byDayAndChannel: [
        { day: '2025-01-06', channelId: 'sms', count: 2 },
        { day: '2025-01-06', channelId: 'wechat', count: 1 },
        { day: '2025-01-07', channelId: 'sms', count: 2 },
      ],
      byOffice: [
        { officeId: 'county-a', count: 1 },
        { officeId: 'county-b', count: 2 },
        { officeId: 'town-a1', count: 2 },
      ],
      byCategory: [
        { category: null, count: 1 },
        { category: 'roads', count: 3 },
        { category: 'water', count: 1 },
      ],
      byStatus: [
        { status: 'accepted', count: 1 },
        { status: 'received', count: 4 },
      ],
    })
    // An office with no cases, and an empty scope: nothing.
    const none: CaseVolumes = { byDayAndChannel: [], byOffice: [], byCategory: [], byStatus: [] }
    expect(await s.caseVolumes({ ...period, scope: { officeIds: ['town-b9'] } })).toEqual(none)
    expect(await s.caseVolumes({ ...period, scope: { officeIds: [] } })).toEqual(none)
    // The stats rows rebuilt from the cases and their events give the same counts.
    await s.rebuildCaseStats()
    expect(sorted(await s.caseVolumes({ ...period, scope }))).toEqual(scoped)
  })
}
