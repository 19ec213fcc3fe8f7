/**
 * The case's lifecycle on the console, driven in-process with forms and cookies: each step a role
 * may take (accept, resolve, reopen, dispatch, transfer, return, assign, extension and its decision
 * above, cluster links), the reply templates, the supervision page and the list's filters — each
 * asserted on what changed in the store (status, office, deadline, events, timers) and what the
 * page says; refusals (409 naming the possible steps, 403, another office's 404) change nothing.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { addUser } from '@intake/core'
import { consoleGateway, STAFF_PASSWORD, type ConsoleGateway } from './support/console.ts'

const CITIZEN = '+8613812341234'
let gw: ConsoleGateway
let clock = Date.UTC(2026, 11, 1, 2, 0)
const now = () => clock

afterEach(async () => {
  await gw?.close()
})

async function setup(options: Parameters<typeof consoleGateway>[0] = {}) {
  clock = Date.UTC(2026, 11, 1, 2, 0)
  gw = await consoleGateway(options, { now })
  expect((await gw.sms(CITIZEN, '伽师县城区道路坑洼很多，晚上看不清')).status).toBe(200)
  const kase = (await gw.intake.store.listCases({})).cases[0]!
  expect(kase.officeId).toBe('jiashi')
  return kase
}

const store = () => gw.intake.store
const caseOf = async (id: string) => (await store().getCase(id))!
const eventsOf = async (id: string, type?: string) => (await store().listEvents(id)).filter((e) => !type || e.type === type)
/** The page's error summary, as the user reads it. */
const errorOf = (html: string) => /<div class="error-summary"[^>]*>([\s\S]*?)<\/div>/.exec(html)?.[1]?.replace(/<[^>]+>/g, '').trim()
/** The buttons of the steps form (name="transition"). */
const stepButtons = (html: string) => [...html.matchAll(/name="transition" value="(\w+)"/g)].map((m) => m[1])
const snapshot = async (id: string) => ({ case: await caseOf(id), events: (await eventsOf(id)).length, timers: await store().listTimers(id) })

async function dispatchToBairen(id: string) {
  const lead = await gw.signIn('jiashi.lead')
  expect((await lead.post(`/console/cases/${id}/dispatch`, { _csrf: lead.csrf, officeId: 'jiashi-bairen', note: '请巴仁镇核实' })).status).toBe(303)
  expect((await caseOf(id)).officeId).toBe('jiashi-bairen')
  return lead
}

describe('the lifecycle on the console', () => {
  it('a caseworker sees the steps the state machine gives their role, accepts (the acceptance timer goes), resolves; a second accept is a 409 naming the possible steps; reopening is a 403 for them and a step for the lead', async () => {
    const kase = await setup()
    const me = await gw.signIn('jiashi.worker')
    const page = await (await me.get(`/console/cases/${kase.id}`)).text()
    expect(stepButtons(page)).toEqual(['accept', 'start', 'resolve'])
    expect(page).not.toContain('action="/console/cases/' + kase.id + '/dispatch"')
    expect(page).toContain(`action="/console/cases/${kase.id}/extension"`)
    expect((await store().listTimers(kase.id)).map((t) => t.kind)).toContain('accept_due')

    expect((await me.post(`/console/cases/${kase.id}/step`, { _csrf: me.csrf, transition: 'accept', note: '已接单' })).status).toBe(303)
    expect((await caseOf(kase.id)).status).toBe('accepted')
    expect((await eventsOf(kase.id, 'status_changed')).at(-1)).toMatchObject({ actor: 'jiashi.worker', data: { from: 'received', to: 'accepted', transition: 'accept', note: '已接单' } })
    expect((await store().listTimers(kase.id)).map((t) => t.kind)).not.toContain('accept_due')

    const before = await snapshot(kase.id)
    const again = await me.post(`/console/cases/${kase.id}/step`, { _csrf: me.csrf, transition: 'accept' })
    expect(again.status).toBe(409)
    const refused = errorOf(await again.text())
    expect(refused).toContain('当前状态为「已接单」的案件不能「接单」')
    expect(refused).toMatch(/可以进行：.*开始办理.*办结/)
    expect(await snapshot(kase.id)).toEqual(before)

    expect((await me.post(`/console/cases/${kase.id}/step`, { _csrf: me.csrf, transition: 'resolve' })).status).toBe(303)
    expect((await caseOf(kase.id)).status).toBe('resolved')
    expect((await store().listTimers(kase.id)).map((t) => t.kind)).toContain('survey')
    expect(stepButtons(await (await me.get(`/console/cases/${kase.id}`)).text())).toEqual([])

    const resolved = await snapshot(kase.id)
    const reopen = await me.post(`/console/cases/${kase.id}/step`, { _csrf: me.csrf, transition: 'reopen' })
    expect(reopen.status).toBe(403)
    expect(errorOf(await reopen.text())).toBe('您的角色不能「重办」。')
    expect(await snapshot(kase.id)).toEqual(resolved)

    const lead = await gw.signIn('jiashi.lead')
    expect(stepButtons(await (await lead.get(`/console/cases/${kase.id}?lang=en`)).text())).toEqual(['close', 'reopen'])
    expect((await lead.post(`/console/cases/${kase.id}/step`, { _csrf: lead.csrf, transition: 'reopen' })).status).toBe(303)
    expect(await caseOf(kase.id)).toMatchObject({ status: 'accepted', reopenCount: 1 })
    expect((await eventsOf(kase.id, 'deadline_set')).at(-1)?.data.reason).toBe('reopen')
  })

  it('extension: the township asks with a reason; its own county lead is not above it, the parent lead approves from the supervision page and the deadline and its timers move', async () => {
    const kase = await setup()
    await dispatchToBairen(kase.id)
    const town = await gw.signIn('bairen.worker')
    const dueBefore = (await caseOf(kase.id)).deadlineAt!
    expect((await store().listTimers(kase.id)).find((t) => t.kind === 'remind' || t.kind === 'deadline_due')?.dueAt).toBeLessThanOrEqual(dueBefore)

    const asked = await town.post(`/console/cases/${kase.id}/extension`, { _csrf: town.csrf, days: '3', reason: '需要协调供电公司' })
    expect(asked.status).toBe(303)
    expect(asked.headers.get('location')).toContain('notice=extension-requested')
    const request = (await eventsOf(kase.id, 'extension_requested'))[0]!
    expect(request).toMatchObject({ actor: 'bairen.worker', data: { reason: '需要协调供电公司', officeId: 'jiashi-bairen' } })
    const wanted = request.data.deadlineAt as number
    expect(wanted).toBeGreaterThan(dueBefore)
    const townPage = await (await town.get(`/console/cases/${kase.id}?done=1&notice=extension-requested`)).text()
    expect(townPage).toContain('延期申请已提交，等待上级单位审批。')
    expect(townPage).toContain('延期申请由上级单位审批。')
    expect(townPage).not.toContain('/extension/decision')
    // A caseworker may not decide, even by posting the form.
    expect((await town.post(`/console/cases/${kase.id}/extension/decision`, { _csrf: town.csrf, decision: 'approve' })).status).toBe(403)
    // Another county's caseworker does not see the case at all.
    const other = await gw.signIn('shule.worker')
    expect((await other.post(`/console/cases/${kase.id}/extension`, { _csrf: other.csrf, days: '3', reason: '越权' })).status).toBe(404)
    expect((await eventsOf(kase.id, 'extension_requested')).length).toBe(1)
    expect((await caseOf(kase.id)).deadlineAt).toBe(dueBefore)

    const lead = await gw.signIn('jiashi.lead')
    const supervision = await (await lead.get('/console/supervision')).text()
    const pending = supervision.slice(supervision.indexOf('id="h-pending"'), supervision.indexOf('id="h-escalated"'))
    expect(pending).toContain(kase.trackingCode)
    expect(pending).toContain('需要协调供电公司')
    expect(pending).toContain(`/console/cases/${kase.id}/extension/decision`)
    expect((await lead.post(`/console/cases/${kase.id}/extension/decision`, { _csrf: lead.csrf, decision: 'approve', note: '同意' })).status).toBe(303)

    expect((await caseOf(kase.id)).deadlineAt).toBe(wanted)
    expect((await eventsOf(kase.id, 'extension_decided'))[0]).toMatchObject({ actor: 'jiashi.lead', data: { approved: true, deadlineAt: wanted, note: '同意' } })
    expect((await eventsOf(kase.id, 'deadline_set')).at(-1)?.data).toMatchObject({ deadlineAt: wanted, reason: 'extension' })
    // The deadline's next timer (a reminder before it, or the deadline itself) now runs from the new deadline.
    const next = (await store().listTimers(kase.id)).find((t) => t.kind === 'remind' || t.kind === 'deadline_due')
    expect(next?.dueAt).toBeGreaterThan(dueBefore)
    expect(next?.dueAt).toBeLessThanOrEqual(wanted)
    expect(await (await lead.get('/console/supervision')).text()).toContain('没有待审批的延期申请。')
  })

  it("the handling office's own lead cannot approve its extension (403, nothing moves); a refusal keeps the deadline", async () => {
    const kase = await setup()
    const me = await gw.signIn('jiashi.worker')
    expect((await me.post(`/console/cases/${kase.id}/extension`, { _csrf: me.csrf, days: '5', reason: '需要现场勘查' })).status).toBe(303)
    const lead = await gw.signIn('jiashi.lead')
    expect(await (await lead.get(`/console/cases/${kase.id}`)).text()).not.toContain('/extension/decision')
    const before = await snapshot(kase.id)
    const own = await lead.post(`/console/cases/${kase.id}/extension/decision`, { _csrf: lead.csrf, decision: 'approve' })
    expect(own.status).toBe(403)
    expect(errorOf(await own.text())).toBe('延期申请由上级单位审批。')
    expect(await snapshot(kase.id)).toEqual(before)

    const sup = await gw.signIn('kashgar.supervisor')
    expect((await sup.post(`/console/cases/${kase.id}/extension/decision`, { _csrf: sup.csrf, decision: 'refuse', note: '请按期办结' })).status).toBe(303)
    expect((await eventsOf(kase.id, 'extension_decided'))[0]).toMatchObject({ actor: 'kashgar.supervisor', data: { approved: false, note: '请按期办结' } })
    expect((await caseOf(kase.id)).deadlineAt).toBe(before.case.deadlineAt)
  })

  it('return goes back to the office that dispatched it, with the reason; transfer sends it sideways and out of the sender\u2019s sight', async () => {
    const kase = await setup()
    await dispatchToBairen(kase.id)
    await addUser(store(), gw.intake.offices, { login: 'bairen.lead', name: '艾力', officeId: 'jiashi-bairen', role: 'lead', password: STAFF_PASSWORD }, 'test', 1)
    const townLead = await gw.signIn('bairen.lead')
    const page = await (await townLead.get(`/console/cases/${kase.id}`)).text()
    expect(page).toContain(`action="/console/cases/${kase.id}/return"`)
    expect(page).toMatch(/return-hint">→ [^<]*伽师/)
    expect((await townLead.post(`/console/cases/${kase.id}/return`, { _csrf: townLead.csrf, reason: 'not_our_remit', note: '属县住建局职责' })).status).toBe(303)
    expect(await caseOf(kase.id)).toMatchObject({ officeId: 'jiashi', status: 'received' })
    expect((await eventsOf(kase.id, 'returned'))[0]).toMatchObject({ actor: 'bairen.lead', data: { from: 'jiashi-bairen', to: 'jiashi', reason: 'not_our_remit', note: '属县住建局职责' } })

    const lead = await gw.signIn('jiashi.lead')
    const moved = await lead.post(`/console/cases/${kase.id}/transfer`, { _csrf: lead.csrf, officeId: 'shule', reason: '事发地在疏勒县' })
    expect(moved.status).toBe(303)
    expect(moved.headers.get('location')).toBe('/console/cases')
    expect(await caseOf(kase.id)).toMatchObject({ officeId: 'shule', status: 'dispatched' })
    expect((await eventsOf(kase.id, 'transferred'))[0]).toMatchObject({ actor: 'jiashi.lead', data: { from: 'jiashi', to: 'shule', reason: '事发地在疏勒县' } })
    expect((await lead.get(`/console/cases/${kase.id}`)).status).toBe(404)
    const shule = await gw.signIn('shule.worker')
    expect(stepButtons(await (await shule.get(`/console/cases/${kase.id}`)).text())).toContain('accept')
  })

  it('assign to a console account of the office: it is in their "assigned to me" list; an account of another office is refused', async () => {
    const kase = await setup()
    const lead = await gw.signIn('jiashi.lead')
    const page = await (await lead.get(`/console/cases/${kase.id}`)).text()
    expect(page).toMatch(/<option value="jiashi.worker"[^>]*>阿依努尔<\/option>/)
    expect(page).not.toContain('<option value="shule.worker"')
    expect((await lead.post(`/console/cases/${kase.id}/assign`, { _csrf: lead.csrf, staffId: 'jiashi.worker' })).status).toBe(303)
    expect((await caseOf(kase.id)).assigneeId).toBe('jiashi.worker')
    const me = await gw.signIn('jiashi.worker')
    expect(await (await me.get('/console/cases?mine=1')).text()).toContain(kase.trackingCode)
    const wrong = await lead.post(`/console/cases/${kase.id}/assign`, { _csrf: lead.csrf, staffId: 'shule.worker' })
    expect(wrong.status).toBe(422)
    expect((await caseOf(kase.id)).assigneeId).toBe('jiashi.worker')
  })

  it('reply templates: "insert" fills the box with the template for this case (code, office, deadline) and sends nothing; the office-only template is offered only there; sending reaches the citizen', async () => {
    const kase = await setup({
      replyTemplates: [
        { id: 'site-visit', title: { 'zh-CN': '现场核查', en: 'Site visit' }, text: { 'zh-CN': '您好，{officeName}将于 {deadline} 前到现场核查（编号 {trackingCode}）。', en: '{officeName} will visit by {deadline} ({trackingCode}).' } },
        { id: 'shule-only', title: '疏勒专用', text: '疏勒县答复', officeId: 'shule' },
      ],
    })
    const me = await gw.signIn('jiashi.worker')
    const page = await (await me.get(`/console/cases/${kase.id}`)).text()
    expect(page).toContain('<option value="site-visit">现场核查</option>')
    expect(page).not.toContain('shule-only')
    const outboxBefore = (await store().listOutbox({ caseId: kase.id })).length

    const inserted = await me.post(`/console/cases/${kase.id}/reply`, { _csrf: me.csrf, template: 'site-visit', insert: '1', text: '' })
    expect(inserted.status).toBe(200)
    const html = await inserted.text()
    const box = /<textarea id="reply-text"[^>]*>([^<]*)<\/textarea>/.exec(html)![1]!
    expect(box).toContain(`（编号 ${kase.trackingCode}）`)
    expect(box).toMatch(/^您好，伽师县[^{]*将于 2026年12月\d+日 [^{]* 前到现场核查/)
    expect(html).toContain('<option value="site-visit" selected="">')
    expect((await store().listOutbox({ caseId: kase.id })).length).toBe(outboxBefore)

    expect((await me.post(`/console/cases/${kase.id}/reply`, { _csrf: me.csrf, template: 'site-visit', text: box })).status).toBe(303)
    await gw.intake.outbox.drain()
    expect(gw.twilio.messages.filter((m) => m.to === CITIZEN).at(-1)?.body).toContain(`到现场核查（编号 ${kase.trackingCode}）`)
    expect((await caseOf(kase.id)).status).toBe('replied')
  })

  it('a reply template naming an office that does not exist fails the start', async () => {
    await expect(setup({ replyTemplates: [{ id: 'x', title: 'x', text: 'x', officeId: 'atlantis' }] })).rejects.toThrow(/reply template "x" names no office "atlantis"/)
  })

  it('clusters: a lead links two reports by tracking code; each case shows the other as a link; the list filters by the cluster; unlinking takes it out', async () => {
    const first = await setup()
    expect((await gw.sms('+8613900000002', '伽师县城区路灯不亮，一片漆黑')).status).toBe(200)
    const second = (await store().listCases({})).cases.find((k) => k.id !== first.id)!
    const lead = await gw.signIn('jiashi.lead')
    const missing = await lead.post(`/console/cases/${second.id}/cluster/link`, { _csrf: lead.csrf, trackingCode: 'ZZZZ-ZZZZ' })
    expect(missing.status).toBe(422)
    expect(errorOf(await missing.text())).toBe('没有找到这个受理编号的案件。')
    expect((await lead.post(`/console/cases/${second.id}/cluster/link`, { _csrf: lead.csrf, trackingCode: first.trackingCode.toLowerCase() })).status).toBe(303)
    const clusterId = (await caseOf(second.id)).clusterId!
    expect(clusterId).toBeTruthy()
    expect((await caseOf(first.id)).clusterId).toBe(clusterId)
    const page = await (await lead.get(`/console/cases/${first.id}`)).text()
    const members = page.slice(page.indexOf('id="cluster-members"'), page.indexOf('</ul>', page.indexOf('id="cluster-members"')))
    expect(members).toContain(`<a href="/console/cases/${second.id}">${second.trackingCode}</a>`)
    const list = await (await lead.get(`/console/cases?cluster=${clusterId}`)).text()
    expect(list).toContain(first.trackingCode)
    expect(list).toContain(second.trackingCode)
    expect(list).toContain('共 2 件')
    // A caseworker sees the cluster but may not change it.
    const me = await gw.signIn('jiashi.worker')
    expect((await me.post(`/console/cases/${second.id}/cluster/unlink`, { _csrf: me.csrf })).status).toBe(403)
    expect((await lead.post(`/console/cases/${second.id}/cluster/unlink`, { _csrf: lead.csrf })).status).toBe(303)
    expect((await caseOf(second.id)).clusterId).toBeNull()
    expect((await eventsOf(second.id, 'unclustered'))[0]?.actor).toBe('jiashi.lead')
  })

  it('supervision: an escalated case shows its level, to whom and since when, and it stays on the list after a note moves its deadline; the list filters escalated cases', async () => {
    const kase = await setup()
    clock = kase.deadlineAt! + 60_000
    await gw.intake.timers.drain()
    const escalation = (await eventsOf(kase.id, 'escalated'))[0]
    expect(escalation?.data.officeId).toBe('kashgar')
    const sup = await gw.signIn('kashgar.supervisor')
    const page = await (await sup.get('/console/supervision?lang=en')).text()
    const escalated = page.slice(page.indexOf('id="h-escalated"'), page.indexOf('id="h-overdue"'))
    expect(escalated).toContain(kase.trackingCode)
    expect(escalated).toContain('Level 1')
    expect(escalated).toMatch(/Escalated by Intake to [^<]*Kashgar[^<]* when the deadline passed, since/)
    // Listed once: escalated, not again among the merely overdue.
    expect(page.slice(page.indexOf('id="h-overdue"'))).not.toContain(kase.trackingCode)

    expect((await sup.post(`/console/cases/${kase.id}/supervise`, { _csrf: sup.csrf, text: '请三日内办结', within: '3' })).status).toBe(303)
    expect((await caseOf(kase.id)).deadlineAt).toBeGreaterThan(clock)
    const after = await (await sup.get('/console/supervision')).text()
    expect(after.slice(after.indexOf('id="h-escalated"'), after.indexOf('id="h-overdue"'))).toContain(kase.trackingCode)
    expect(await (await sup.get('/console/cases?attention=escalated')).text()).toContain(kase.trackingCode)
    const other = await gw.signIn('shule.worker')
    expect(await (await other.get('/console/cases?attention=escalated')).text()).not.toContain(kase.trackingCode)
  })
})


describe('the case list', () => {
  it('filters by status, overdue, due soon, category and channel, pages by keyset keeping the filters, and refuses a forged cursor', async () => {
    clock = Date.UTC(2026, 11, 1, 2, 0)
    gw = await consoleGateway({ pageSize: 2 }, { now })
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      clock += 60_000
      expect((await gw.sms(`+86138000000${i}0`, `伽师县第${i}条路灯不亮`)).status).toBe(200)
      ids.push((await store().listCases({ limit: 1 })).cases[0]!.id)
    }
    clock += 60_000
    expect((await gw.sms('+8613800000990', '伽师县城区道路坑洼很多')).status).toBe(200)
    const sixth = (await store().listCases({ limit: 1 })).cases[0]!
    expect(sixth.officeId).toBe('jiashi')
    const HOUR = 3_600_000
    // 0: overdue; 1: due in 2 hours; 2: accepted, water; 3: resolved and past its deadline (not overdue: closed work); 4: as it came.
    const set = (id: string, patch: Record<string, unknown>) => store().applyCaseChange({ caseId: id, at: clock, patch, events: [] })
    await set(ids[0]!, { deadlineAt: clock - HOUR })
    await set(ids[1]!, { deadlineAt: clock + 2 * HOUR })
    await set(ids[2]!, { status: 'accepted', category: 'water', deadlineAt: clock + 100 * HOUR })
    await set(ids[3]!, { status: 'resolved', deadlineAt: clock - HOUR })
    await set(ids[4]!, { deadlineAt: clock + 100 * HOUR })
    await set(sixth.id, { deadlineAt: clock + 100 * HOUR })

    const me = await gw.signIn('jiashi.worker')
    /** Every case the list shows for `query`, following its "next" links; each page's own query kept. */
    const listed = async (query: string) => {
      const out: string[] = []
      for (let path: string | undefined = `/console/cases?${query}`; path; ) {
        const res = await me.get(path)
        expect(res.status).toBe(200)
        const html = await res.text()
        const page = [...html.matchAll(/href="\/console\/cases\/([^"?/]+)"/g)].map((m) => m[1]!)
        expect(page.length).toBeLessThanOrEqual(2)
        out.push(...page)
        const next = /href="(\/console\/cases\?[^"]*cursor=[^"]+)" rel="next"/.exec(html)?.[1]?.replaceAll('&amp;', '&')
        if (next && query) expect(next).toContain(query)
        path = next
      }
      return out
    }
    const all = await listed('')
    expect(new Set(all).size).toBe(6)
    expect(all).toEqual([sixth.id, ...[...ids].reverse()])
    expect(await listed('status=accepted')).toEqual([ids[2]])
    expect(await listed('due=overdue')).toEqual([ids[0]])
    expect(await listed('due=soon')).toEqual([ids[1]])
    expect(await listed('category=water')).toEqual([ids[2]])
    // This gateway has one channel: SMS lists them all, another none.
    expect(await listed('channel=sms')).toEqual(all)
    expect(await listed('channel=web')).toEqual([])
    expect((await me.get('/console/cases?cursor=not-a-cursor')).status).toBe(400)
  })
})
