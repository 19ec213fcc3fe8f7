/**
 * The supervised loop end to end (issue 10), on the county-hotline demo with SMS on Twilio (the
 * official SDK against the local stand-in for api.twilio.com) and office alerts on SMS too:
 * received → dispatched → accepted → reminder → overdue → escalated → supervision note → answered →
 * resolved → survey → "1" → reopened → resolved → "5" → closed, every message checked where Twilio
 * received it. The clock is injected; timers are worked off with `timers.drain()`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { loadOffices, type Case, type CaseEvent, type Office } from '@intake/core'
import { webForm } from '@intake/channels/web-form'
import { sqliteStore } from '@intake/storage/sqlite'
import { BASE, DEMO_DIR } from './support/gateway.ts'
import { HOTLINE_NUMBER, smsGateway, type SmsGateway } from './support/twilio-gateway.ts'

const CITIZEN = '+8613912340001'
const BAIREN_DUTY = '+8609981110001' // 巴仁镇 (the handling office)
const JIASHI_DUTY = '+8609981110002' // 伽师县 (the office above it: supervises)
const KASHGAR_DUTY = '+8609981110003' // 喀什地区 (second level)
const HOUR = 3_600_000
const DAY = 24 * HOUR
// Monday 16 November 2026, 10:00 in Kashgar's official zone (Asia/Shanghai).
const T0 = Date.parse('2026-11-16T10:00:00+08:00')

/** The demo's offices, with SMS numbers for the alert addresses of the three offices in the loop. */
function offices(): Office[] {
  const all = loadOffices(join(DEMO_DIR, 'offices.yaml'), DEMO_DIR)
  const alert: Record<string, string> = { 'jiashi-bairen': BAIREN_DUTY, jiashi: JIASHI_DUTY, kashgar: KASHGAR_DUTY }
  return all.map((o) => (alert[o.id] ? { ...o, contact: { ...o.contact, alert: alert[o.id] } } : o))
}

let clock = T0
let gw: SmsGateway | undefined
const dirs: string[] = []
afterEach(async () => {
  await gw?.close()
  gw = undefined
})
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

async function start(store = sqliteStore({ file: ':memory:' })) {
  clock = T0
  gw = await smsGateway(
    {},
    { now: () => clock },
    {
      store,
      channels: { web: webForm() },
      offices: offices(),
      alerts: { channel: 'sms' },
      calendar: { country: 'CN' },
      lifecycle: { reminders: ['1 working day'], escalation: { after: '0m', secondLevelAfter: '1 working day' }, survey: { delay: '1h', expireAfter: '3 days' } },
    },
  )
  return gw
}

/** Work off due timers and deliver the outbox; the SMS Twilio received since the last call. */
function inbox(g: SmsGateway) {
  let seen = 0
  return async () => {
    await g.intake.timers.drain()
    await g.intake.outbox.drain()
    const fresh = g.twilio.messages.slice(seen).map((m) => ({ to: m.to, body: m.body }))
    seen = g.twilio.messages.length
    return fresh
  }
}

/** The outbox sends a batch concurrently, so messages queued together may reach Twilio in any order. */
function expectSameMessages(actual: Array<{ to: string; body: string }>, expected: Array<{ to: string; body: unknown }>) {
  expect(actual).toHaveLength(expected.length)
  expect(actual).toEqual(expect.arrayContaining(expected))
}

async function post(g: SmsGateway, path: string, body: unknown) {
  const res = await g.api(path, { method: 'POST', body })
  return { status: res.status, body: (await res.json()) as Case & { error?: { code: string; message: string; allowed?: string[] } } }
}
const eventsOf = async (g: SmsGateway, id: string, type: CaseEvent['type']) => (await g.intake.store.listEvents(id)).filter((e) => e.type === type)

describe('the supervised loop, every message at the SMS provider', () => {
  it('received → dispatched → accepted → reminder → overdue → escalated → supervised → answered → resolved → survey → "1" → reopened → resolved → "5" → closed', async () => {
    const g = await start()
    const sms = inbox(g)

    // 受理: the citizen texts; the case lands at the county with a deadline 5 working days on.
    expect((await g.sms(CITIZEN, '伽师县城的路灯坏了一个月了，晚上很黑')).status).toBe(200)
    const [kase] = (await g.intake.store.listCases({})).cases
    expect(kase).toMatchObject({ officeId: 'jiashi', status: 'received', deadlineAt: Date.parse('2026-11-23T10:00:00+08:00'), reopenCount: 0 })
    // Acceptance: 2 working hours (office hours 09:00–18:00).
    expect(kase!.acceptDeadlineAt).toBe(Date.parse('2026-11-16T12:00:00+08:00'))
    const code = kase!.trackingCode
    expect(await sms()).toEqual([{ to: CITIZEN, body: expect.stringContaining(`编号 ${code}，已转交伽师县人民政府办理`) }])

    // 派单 to the township, which 接单 within the hour: no acceptance alert ever goes out.
    clock = T0 + 10 * 60_000
    expect((await post(g, `/cases/${kase!.id}/dispatch`, { officeId: 'jiashi-bairen', actor: 'county-lead' })).body).toMatchObject({ status: 'dispatched', officeId: 'jiashi-bairen' })
    clock = T0 + HOUR
    expect((await post(g, `/cases/${kase!.id}/accept`, { actor: 'bairen-clerk', role: 'caseworker' })).body).toMatchObject({ status: 'accepted', acceptedAt: T0 + HOUR })
    clock = T0 + 4 * HOUR
    expect(await sms()).toEqual([])
    expect(await eventsOf(g, kase!.id, 'acceptance_overdue')).toEqual([])

    // One working day before the deadline (Friday 10:00): the township is reminded.
    clock = Date.parse('2026-11-20T10:00:00+08:00')
    expect(await sms()).toEqual([{ to: BAIREN_DUTY, body: expect.stringMatching(new RegExp(`^【办理提醒】伽师县巴仁镇人民政府：诉求 ${code}.*1 working day before`)) }])

    // At the deadline (Monday 23rd): reminded it is due, and escalated (督办) to the county.
    clock = Date.parse('2026-11-23T10:00:00+08:00')
    expectSameMessages(await sms(), [
      { to: BAIREN_DUTY, body: expect.stringContaining(`诉求 ${code}「伽师县城的路灯坏了一个月了，晚上很黑」办理期限`) },
      { to: JIASHI_DUTY, body: expect.stringMatching(new RegExp(`^【督办（1级）】伽师县巴仁镇人民政府办理的诉求 ${code}`)) },
    ])
    expect((await eventsOf(g, kase!.id, 'escalated')).map((e) => e.data)).toEqual([
      { level: 1, officeId: 'jiashi', handlingOfficeId: 'jiashi-bairen', alertOfficeId: 'jiashi', alertChannelId: 'sms', alertTo: JIASHI_DUTY },
    ])
    // The county's supervision list has it; the township's (nothing below it) does not.
    const list = async (officeId: string) => ((await (await g.api(`/offices/${officeId}/supervision`)).json()) as { cases: Case[] }).cases.map((c) => c.id)
    expect(await list('jiashi')).toEqual([kase!.id])
    expect(await list('jiashi-bairen')).toEqual([])

    // A working day later, level 2 goes one office further up.
    clock = Date.parse('2026-11-24T10:00:00+08:00')
    expect(await sms()).toEqual([{ to: KASHGAR_DUTY, body: expect.stringContaining('【督办（2级）】') }])

    // 督办意见 from the county with a new deadline: the township is sent it, the timers move.
    clock += HOUR
    const noted = await post(g, `/cases/${kase!.id}/supervision`, { actor: 'county-supervisor', role: 'supervisor', note: '请两个工作日内修复并答复群众', within: '2 working days' })
    expect(noted.status).toBe(200)
    expect(noted.body.deadlineAt).toBe(Date.parse('2026-11-26T11:00:00+08:00'))
    expect(await sms()).toEqual([{ to: BAIREN_DUTY, body: expect.stringMatching(new RegExp(`^【督办意见】伽师县巴仁镇人民政府：诉求 ${code}：请两个工作日内修复并答复群众`)) }])
    expect((await g.intake.store.listTimers(kase!.id)).map((t) => [t.kind, t.dueAt])).toEqual([['remind', Date.parse('2026-11-25T11:00:00+08:00')]])

    // 答复 and 办结.
    clock += HOUR
    expect((await g.api(`/cases/${kase!.id}/replies`, { method: 'POST', body: { text: '路灯已更换，请您查看。', author: 'bairen-clerk' } })).status).toBe(201)
    expect((await post(g, `/cases/${kase!.id}/resolve`, { actor: 'bairen-clerk', role: 'caseworker' })).body).toMatchObject({ status: 'resolved' })
    expectSameMessages(await sms(), [
      { to: CITIZEN, body: `【伽师县巴仁镇人民政府答复 ${code}】路灯已更换，请您查看。` },
      { to: CITIZEN, body: expect.stringContaining(`您的诉求 ${code} 已办结`) },
    ])

    // 回访: an hour later the survey goes out; the citizen answers "1" with words → 重办.
    clock += HOUR
    expect(await sms()).toEqual([{ to: CITIZEN, body: expect.stringMatching(/^【回访】.*请回复 1–5/) }])
    clock += 10 * 60_000
    expect((await g.sms(CITIZEN, '1，灯还是不亮')).status).toBe(200)
    const reopened = (await g.intake.store.getCase(kase!.id))!
    expect(reopened).toMatchObject({ status: 'accepted', officeId: 'jiashi-bairen', reopenCount: 1, rating: null, resolvedAt: null })
    expect(reopened.deadlineAt).toBeGreaterThan(clock)
    expectSameMessages(await sms(), [
      { to: CITIZEN, body: expect.stringMatching(new RegExp(`^很抱歉办理结果未让您满意。诉求 ${code} 已重新交伽师县巴仁镇人民政府办理`)) },
      { to: JIASHI_DUTY, body: expect.stringMatching(new RegExp(`^【重办】诉求 ${code}.*回访评价 1 分`)) },
    ])
    expect((await eventsOf(g, kase!.id, 'rated')).map((e) => e.data)).toEqual([expect.objectContaining({ rating: 1, satisfied: false, words: '灯还是不亮' })])

    // Resolved again; this time "5" closes it.
    clock += DAY
    await post(g, `/cases/${kase!.id}/resolve`, { actor: 'bairen-clerk' })
    clock += HOUR
    expectSameMessages(await sms(), [
      { to: CITIZEN, body: expect.stringContaining('已办结') },
      { to: CITIZEN, body: expect.stringMatching(/^【回访】/) },
    ])
    expect((await g.sms(CITIZEN, '5')).status).toBe(200)
    expect(await g.intake.store.getCase(kase!.id)).toMatchObject({ status: 'closed', rating: 5, reopenCount: 1 })
    expect(await sms()).toEqual([{ to: CITIZEN, body: expect.stringContaining('感谢您的评价（5 分）') }])

    // The record: every status change with its transition, and nothing left to fire.
    const changes = (await eventsOf(g, kase!.id, 'status_changed')).map((e) => `${e.data.from}→${e.data.to} ${e.data.transition}${e.data.reason ? ` (${e.data.reason})` : ''}`)
    expect(changes).toEqual([
      'received→dispatched dispatch',
      'dispatched→accepted accept',
      'accepted→replied answer',
      'replied→resolved resolve',
      'resolved→accepted reopen (rating)',
      'accepted→resolved resolve',
      'resolved→closed close (rated)',
    ])
    expect((await eventsOf(g, kase!.id, 'deadline_set')).map((e) => e.data.reason)).toEqual(['policy', 'policy', 'supervision', 'reopen'])
    expect(await g.intake.store.listTimers(kase!.id)).toEqual([])
    clock += 30 * DAY
    expect(await sms()).toEqual([])
    expect(g.twilio.messages.every((m) => m.from === HOTLINE_NUMBER)).toBe(true)
  })

  it('a case not accepted in time is flagged once, counted, and its office alerted', async () => {
    const g = await start()
    const sms = inbox(g)
    await g.sms(CITIZEN, '伽师县城的路灯坏了一个月了')
    const [kase] = (await g.intake.store.listCases({})).cases
    await post(g, `/cases/${kase!.id}/dispatch`, { officeId: 'jiashi-bairen', actor: 'county-lead' })
    await sms()
    // Dispatched at 10:00: two working hours later is 12:00 the same day.
    clock = Date.parse('2026-11-16T12:00:00+08:00')
    expect(await sms()).toEqual([{ to: BAIREN_DUTY, body: expect.stringMatching(new RegExp(`^【接单超时】伽师县巴仁镇人民政府：诉求 ${kase!.trackingCode}`)) }])
    clock += HOUR
    expect(await sms()).toEqual([])
    expect((await eventsOf(g, kase!.id, 'acceptance_overdue')).map((e) => e.data)).toEqual([{ officeId: 'jiashi-bairen', alertOfficeId: 'jiashi-bairen', alertChannelId: 'sms', alertTo: BAIREN_DUTY }])
    expect(g.intake.metrics.get('acceptance_overdue', { office: 'jiashi-bairen' })).toBe(1)
  })

  it('a restart between planning a timer and firing it fires it once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'intake-lifecycle-'))
    dirs.push(dir)
    const file = join(dir, 'intake.db')
    let g = await start(sqliteStore({ file }))
    await g.sms(CITIZEN, '伽师县城的路灯坏了一个月了')
    const [kase] = (await g.intake.store.listCases({})).cases
    // The first process leases the acceptance timer, then dies before firing it.
    clock = Date.parse('2026-11-16T12:00:00+08:00')
    const leased = await g.intake.store.claimTimers(clock, 10, 30_000)
    expect(leased.map((t) => t.kind)).toEqual(['accept_due'])
    await g.close()

    // A new process on the same file: the lease holds it back, then it fires — once.
    gw = g = await smsGateway({}, { now: () => clock }, { store: sqliteStore({ file }), offices: offices(), alerts: { channel: 'sms' }, calendar: { country: 'CN' } })
    const sms = inbox(g)
    expect(await sms()).toEqual([])
    clock += 31_000
    expect(await sms()).toEqual([{ to: JIASHI_DUTY, body: expect.stringContaining('【接单超时】') }])
    expect(await g.intake.store.completeTimer(leased[0]!)).toBe(false)
    clock += DAY
    expect(await sms()).toEqual([])
    expect(await eventsOf(g, kase!.id, 'acceptance_overdue')).toHaveLength(1)
  })
})

describe('bad input gets a clear answer, and nothing is lost', () => {
  async function resolvedCase(g: SmsGateway) {
    await g.sms(CITIZEN, '伽师县城的路灯坏了一个月了')
    const [kase] = (await g.intake.store.listCases({})).cases
    await post(g, `/cases/${kase!.id}/resolve`, { actor: 'clerk' })
    return kase!
  }

  it('an extension on a closed case is refused (409); an impossible transition is a 409 naming the possible ones; a role that may not is a 403', async () => {
    const g = await start()
    const kase = await resolvedCase(g)
    await post(g, `/cases/${kase.id}/close`, { actor: 'lead' })
    const ext = await post(g, `/cases/${kase.id}/extension`, { actor: 'clerk', role: 'caseworker', reason: '需要协调供电公司', within: '3 working days' })
    expect(ext.status).toBe(409)
    expect(ext.body.error).toMatchObject({ code: 'case_closed' })

    const accept = await post(g, `/cases/${kase.id}/accept`, { actor: 'clerk' })
    expect(accept.status).toBe(409)
    expect(accept.body.error).toMatchObject({ code: 'invalid_transition', allowed: ['reopen'] })
    expect(accept.body.error!.message).toContain('possible: reopen')
    const viaStatus = await post(g, `/cases/${kase.id}/status`, { status: 'replied', actor: 'clerk' })
    expect(viaStatus.status).toBe(409)

    const byCaseworker = await post(g, `/cases/${kase.id}/reopen`, { actor: 'clerk', role: 'caseworker' })
    expect(byCaseworker.status).toBe(403)
    expect((await g.intake.store.getCase(kase.id))!.status).toBe('closed')
  })

  it('an extension: asked with a reason, refused or approved by the office above; an approved one moves the deadline', async () => {
    const g = await start()
    const sms = inbox(g)
    await g.sms(CITIZEN, '伽师县城的路灯坏了一个月了')
    const [kase] = (await g.intake.store.listCases({})).cases
    await post(g, `/cases/${kase!.id}/dispatch`, { officeId: 'jiashi-bairen', actor: 'county-lead' })
    await post(g, `/cases/${kase!.id}/accept`, { actor: 'clerk' })
    await sms()
    const asked = await post(g, `/cases/${kase!.id}/extension`, { actor: 'clerk', role: 'caseworker', reason: '需要协调供电公司', within: '3 working days' })
    expect(asked.status).toBe(200)
    expect(await sms()).toEqual([{ to: JIASHI_DUTY, body: expect.stringMatching(/^【延期申请】.*需要协调供电公司/) }])
    expect((await post(g, `/cases/${kase!.id}/extension`, { actor: 'clerk', reason: 'again', within: '1 working day' })).body.error?.code).toBe('extension_pending')
    expect((await post(g, `/cases/${kase!.id}/extension/decision`, { actor: 'clerk', role: 'caseworker', approved: true })).status).toBe(403)
    const approved = await post(g, `/cases/${kase!.id}/extension/decision`, { actor: 'county-supervisor', role: 'supervisor', approved: true, note: '同意' })
    expect(approved.body.deadlineAt).toBe(Date.parse('2026-11-26T10:00:00+08:00'))
    expect((await eventsOf(g, kase!.id, 'extension_decided')).map((e) => e.data)).toEqual([{ approved: true, deadlineAt: approved.body.deadlineAt, note: '同意' }])
    expect((await post(g, `/cases/${kase!.id}/extension/decision`, { actor: 's', approved: false })).body.error?.code).toBe('no_extension_pending')
  })

  it('rating a case still open: told so, the message kept on the case, nothing rated', async () => {
    const g = await start()
    const sms = inbox(g)
    await g.sms(CITIZEN, '伽师县城的路灯坏了一个月了')
    const [kase] = (await g.intake.store.listCases({})).cases
    await sms()
    await g.sms(CITIZEN, '5')
    expect(await sms()).toEqual([{ to: CITIZEN, body: expect.stringContaining(`您的诉求 ${kase!.trackingCode} 仍在办理中，办结后我们会请您评价`) }])
    expect(await g.intake.store.getCase(kase!.id)).toMatchObject({ status: 'received', rating: null })
    expect((await g.intake.store.listMessages(kase!.id)).filter((m) => m.direction === 'in').map((m) => m.text)).toEqual(['伽师县城的路灯坏了一个月了', '5'])
  })

  it('rating twice: the first rating stands, the citizen is told, the second message is kept', async () => {
    const g = await start()
    const sms = inbox(g)
    const kase = await resolvedCase(g)
    await g.sms(CITIZEN, '满意')
    await g.sms(CITIZEN, '1 再评一次')
    const answers = (await sms()).filter((m) => m.to === CITIZEN).map((m) => m.body)
    expect(answers.filter((b) => b.includes('感谢您的评价（5 分）'))).toHaveLength(1)
    expect(answers.filter((b) => b.includes(`诉求 ${kase.trackingCode} 已经评价过了`))).toHaveLength(1)
    expect(await g.intake.store.getCase(kase.id)).toMatchObject({ status: 'closed', rating: 5 })
    expect((await g.intake.store.listMessages(kase.id)).filter((m) => m.direction === 'in').map((m) => m.text)).toContain('1 再评一次')
    expect((await g.intake.store.listCases({})).cases).toHaveLength(1)
  })

  it('no answer to the survey closes the case as not rated', async () => {
    const g = await start()
    const kase = await resolvedCase(g)
    clock += 3 * DAY
    await g.intake.timers.drain()
    expect(await g.intake.store.getCase(kase.id)).toMatchObject({ status: 'closed', rating: null })
    expect((await eventsOf(g, kase.id, 'status_changed')).at(-1)!.data).toEqual({ from: 'resolved', to: 'closed', transition: 'close', reason: 'not_rated' })
    expect(BASE).toBeTruthy()
  })
})

describe('the rating form on the status page (a web form leaves no address to survey)', () => {
  it('no survey is planned; the page offers the form; "1" reopens, a second try is refused, nothing lost', async () => {
    const g = await start()
    const opened = await g.intake.ingest('web', { externalId: 'form-1', from: { channelId: 'web', id: 'anonymous-1' }, text: '伽师县城的路灯坏了一个月了', anonymous: true, receivedAt: clock })
    const code = opened.trackingCode
    await post(g, `/cases/${opened.caseId}/resolve`, { actor: 'clerk' })
    expect((await g.intake.store.listTimers(opened.caseId)).map((t) => t.kind)).toEqual(['survey_expire'])

    const page = await (await g.intake.app.request(`${BASE}/status/${code}`)).text()
    expect(page).toContain(`<form method="post" action="/status/${code}/rating?lang=zh">`)
    expect(page).toContain('name="rating" value="5"')

    const rate = (body: string) =>
      g.intake.app.request(`${BASE}/status/${code}/rating?lang=zh`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })
    const empty = await rate('words=hello')
    expect(empty.status).toBe(400)
    expect(await empty.text()).toContain('请选择 1–5 中的一项。')

    const bad = await rate(`rating=1&words=${encodeURIComponent('灯还是不亮')}`)
    expect(bad.status).toBe(200)
    expect(await bad.text()).toContain(`诉求 ${code} 已重新交伽师县人民政府办理`)
    expect(await g.intake.store.getCase(opened.caseId)).toMatchObject({ status: 'accepted', reopenCount: 1 })
    expect((await eventsOf(g, opened.caseId, 'rated')).map((e) => e.data)).toEqual([{ rating: 1, satisfied: false, words: '灯还是不亮' }])

    const again = await rate('rating=5')
    expect(again.status).toBe(409)
    expect(await again.text()).toContain('仍在办理中')
    expect(await (await g.intake.app.request(`${BASE}/status/${code}`)).text()).not.toContain('name="rating"')
  })
})
