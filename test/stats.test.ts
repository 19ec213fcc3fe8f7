/**
 * The three rates and the other figures, through the staff API: a history seeded by hand through the
 * Store (storage kit's seedStatsHistory, described case by case there), figures worked out by hand.
 * Also the case list's filters and its refusal of unknown parameters.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FIXTURE_TIME, seedStatsHistory } from '@intake/storage/kit'
import { demoGateway, type DemoGateway } from './support/gateway.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const T = FIXTURE_TIME // Monday 2025-01-06 09:00 UTC, 17:00 in Asia/Shanghai
const OFFICES = { townA: 'jiashi-bairen', townB: 'jiashi-xikeerkule', county: 'shule' }

let gw: DemoGateway
let ids: Awaited<ReturnType<typeof seedStatsHistory>>
beforeEach(async () => {
  gw = await demoGateway({}, { now: () => T + 10 * DAY })
  ids = await seedStatsHistory(gw.intake.store, OFFICES)
})
afterEach(async () => gw.close())

/**
 * jiashi's subtree holds c1, c2 (bairen) and c3, c5 (xikeerkule); c4 is shule's.
 * received 4; accepted in time c1, c5 → 2/4; resolved c1, c2, c5 → 3/4; on time c1, c5 → 2/3;
 * rated c1 (5), c2 (1) → satisfied 1/2; reopened c2 → 1/3; overdue now c3.
 * Handling, on working days (all within Mon–Fri): c1 48 h, c2 95 h, c5 21 h → median 48.
 */
const JIASHI = {
  key: 'jiashi',
  received: 4,
  accepted_in_time: 2,
  response_rate: 0.5,
  resolved: 3,
  resolution_rate: 0.75,
  resolved_on_time: 2,
  on_time_resolution_rate: 0.6667,
  rated: 2,
  satisfied: 1,
  satisfaction_rate: 0.5,
  ever_resolved: 3,
  reopened: 1,
  reopen_rate: 0.3333,
  median_handling_hours: 48,
  overdue_now: 1,
}

describe('GET /api/v1/stats', () => {
  it('gives the figures of an office subtree, and of each office in it', async () => {
    const res = await gw.api(`/stats?officeId=jiashi&from=${T}&to=${T + 30 * DAY}&groupBy=office`)
    expect(res.status).toBe(200)
    const body = (await res.json()) as { rows: Array<Record<string, unknown>>; from: number; to: number; now: number }
    expect(body).toMatchObject({ from: T, to: T + 30 * DAY, now: T + 10 * DAY })
    expect(body.rows.map((r) => r.key)).toEqual(['jiashi', 'jiashi-bairen', 'jiashi-xikeerkule'])
    expect(body.rows[0]).toEqual(JIASHI)
    // bairen: c1 and c2. Median of 48 h and 95 h.
    expect(body.rows[1]).toMatchObject({ received: 2, response_rate: 0.5, resolution_rate: 1, on_time_resolution_rate: 0.5, satisfaction_rate: 0.5, reopen_rate: 0.5, median_handling_hours: 71.5, overdue_now: 0 })
    // xikeerkule: c3 (open, overdue) and c5 (resolved, never rated).
    expect(body.rows[2]).toMatchObject({ received: 2, resolution_rate: 0.5, satisfaction_rate: null, median_handling_hours: 21, overdue_now: 1 })
  })

  it('groups by channel, category and month, narrows by place, and exports CSV', async () => {
    const byChannel = (await (await gw.api(`/stats?from=${T}&to=${T + 30 * DAY}&groupBy=channel`)).json()) as { rows: Array<{ key: string; received: number }> }
    expect(byChannel.rows.map((r) => [r.key, r.received])).toEqual([['sms', 3], ['wechat', 1]])
    const place = (await (await gw.api(`/stats?from=${T}&to=${T + 30 * DAY}&placeCode=653129`)).json()) as { rows: Array<{ received: number }> }
    expect(place.rows[0]!.received).toBe(2)
    // The default period is the year up to now: c4 (ten days before T) counts.
    const months = (await (await gw.api('/stats?groupBy=month')).json()) as { rows: Array<{ key: string; received: number }> }
    expect(months.rows.map((r) => [r.key, r.received])).toEqual([['2024-12', 1], ['2025-01', 4]])

    const csv = await gw.api(`/stats?officeId=jiashi&from=${T}&to=${T + 30 * DAY}&format=csv`)
    expect(csv.status).toBe(200)
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/)
    expect(await csv.text()).toBe(
      'all,received,accepted_in_time,response_rate,resolved,resolution_rate,resolved_on_time,on_time_resolution_rate,rated,satisfied,satisfaction_rate,ever_resolved,reopened,reopen_rate,median_handling_hours,overdue_now\r\n' +
        ',4,2,0.5,3,0.75,2,0.6667,2,1,0.5,3,1,0.3333,48,1\r\n',
    )
  })

  it('refuses an unknown parameter by name, an unknown office, and an empty period', async () => {
    const unknown = await gw.api('/stats?office=jiashi')
    expect(unknown.status).toBe(400)
    expect(await unknown.json()).toMatchObject({ error: { code: 'unknown_parameter', parameters: ['office'] } })
    expect((await gw.api('/stats?officeId=nowhere')).status).toBe(404)
    expect((await gw.api(`/stats?from=${T}&to=${T}`)).status).toBe(400)
    expect((await gw.api('/stats?groupBy=weekday')).status).toBe(400)
  })
})

describe('GET /api/v1/cases filters', () => {
  const listed = async (query: string) => {
    const res = await gw.api(`/cases?${query}`)
    expect(res.status).toBe(200)
    return ((await res.json()) as { cases: Array<{ id: string }> }).cases.map((c) => c.id).sort()
  }

  it('by created and updated range (milliseconds or ISO dates), place subtree, category and channel', async () => {
    expect(await listed(`createdFrom=${T}&createdTo=${T + 2 * HOUR}`)).toEqual([ids.c1, ids.c2].sort())
    expect(await listed('createdTo=2025-01-01')).toEqual([ids.c4])
    expect(await listed(`updatedFrom=${new Date(T + 3 * DAY).toISOString()}`)).toEqual([ids.c1, ids.c2, ids.c5].sort())
    expect(await listed('placeCode=6531291')).toEqual([ids.c1, ids.c2].sort())
    expect(await listed('category=water&channelId=sms')).toEqual([ids.c3, ids.c5].sort())
  })

  it('refuses an unknown parameter by name instead of ignoring it, and a bad date', async () => {
    const res = await gw.api('/cases?place=6531&category=water')
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('unknown_parameter')
    expect(body.error.message).toContain('place')
    const bad = await gw.api('/cases?createdFrom=yesterday')
    expect(bad.status).toBe(400)
  })
})

describe('the place on the case', () => {
  it('records the place routing found in the text (code and name), and the case list filters by it', async () => {
    const res = await gw.sendApi({ id: 'place-1', from: { id: 'citizen-7' }, text: '伽师县巴仁镇的路灯坏了一个月了，晚上很不安全。' })
    expect(res.status).toBe(201)
    const { results } = (await res.json()) as { results: Array<{ caseId: string }> }
    const kase = await gw.intake.store.getCase(results[0]!.caseId)
    expect(kase?.placeCode).toMatch(/^653129/)
    expect(kase?.placeName).toContain('巴仁镇')
    expect(await listedIds(`placeCode=${kase!.placeCode}`)).toContain(kase!.id)
    expect(await listedIds("placeCode=659")).not.toContain(kase!.id)
  })
})

async function listedIds(query: string) {
  const res = await gw.api(`/cases?${query}`)
  expect(res.status).toBe(200)
  return ((await res.json()) as { cases: Array<{ id: string }> }).cases.map((c) => c.id)
}
