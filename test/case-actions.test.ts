/**
 * What staff do with a case once it is in — dispatch (派单), transfer (转办), return (退回), assign —
 * and what happens on its own when a case lands: dispatch rules, assignment among those on duty,
 * and an immediate alert to the office for an urgent case. Driven through the staff API of the
 * county-hotline demo.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Case, IntakeConfig } from '@intake/core'
import { demoGateway, type DemoGateway } from './support/gateway.ts'

let gw: DemoGateway | undefined
afterEach(async () => {
  await gw?.close()
  gw = undefined
})

let seq = 0
async function setup(over: Partial<IntakeConfig> = {}) {
  gw = await demoGateway({ alerts: { channel: 'api' }, ...over })
  const g = gw
  return {
    gw: g,
    async open(text: string, from = `citizen-${++seq}`): Promise<Case> {
      const res = await g.sendApi({ id: `m-${++seq}`, from: { id: from }, text })
      expect(res.status).toBe(201)
      const { results } = (await res.json()) as { results: Array<{ caseId: string }> }
      return (await g.intake.store.getCase(results[0]!.caseId))!
    },
    async act(caseId: string, action: string, body: unknown) {
      const res = await g.api(`/cases/${caseId}/${action}`, { method: 'POST', body })
      return { status: res.status, body: (await res.json()) as Case & { error?: { code: string } } }
    },
    // The action's own events; the lifecycle's bookkeeping beside them (status_changed, deadline_set) is tested in lifecycle.test.ts.
    events: async (caseId: string) =>
      (await g.intake.store.listEvents(caseId)).filter((e) => e.type !== 'status_changed' && e.type !== 'deadline_set').map((e) => ({ type: e.type, ...e.data })),
  }
}

describe('dispatch down the tree (派单)', () => {
  it('moves the case to an office below, with a public event; sideways or unknown offices are refused', async () => {
    const t = await setup()
    const kase = await t.open('伽师县城区道路坑洼很多，晚上看不清')
    expect(kase.officeId).toBe('jiashi')

    const down = await t.act(kase.id, 'dispatch', { officeId: 'jiashi-bairen', actor: 'county-clerk', note: '请巴仁镇核实' })
    expect(down.status).toBe(200)
    expect(down.body).toMatchObject({ officeId: 'jiashi-bairen', status: 'dispatched' })
    expect((await t.events(kase.id)).at(-1)).toMatchObject({ type: 'dispatched', from: 'jiashi', to: 'jiashi-bairen', note: '请巴仁镇核实' })

    expect((await t.act(kase.id, 'dispatch', { officeId: 'shule-town', actor: 'x' })).body.error?.code).toBe('not_below')
    expect((await t.act(kase.id, 'dispatch', { officeId: 'no-such-office', actor: 'x' })).status).toBe(422)
    expect((await t.act('no-such-case', 'dispatch', { officeId: 'jiashi-bairen', actor: 'x' })).status).toBe(404)
    expect((await t.act(kase.id, 'dispatch', { actor: 'x' })).status).toBe(400)
  })

  it('refuses to move a resolved case', async () => {
    const t = await setup()
    const kase = await t.open('伽师县路灯不亮')
    await t.gw.api(`/cases/${kase.id}/status`, { method: 'POST', body: { status: 'resolved', actor: 'clerk' } })
    expect((await t.act(kase.id, 'dispatch', { officeId: 'jiashi-bairen', actor: 'x' })).body.error?.code).toBe('case_closed')
  })
})

describe('transfer (转办) and return (退回)', () => {
  it('transfers sideways with a reason; the receiving office returns it with a reason code and it goes back', async () => {
    const t = await setup()
    const kase = await t.open('伽师县城区道路坑洼很多')
    const moved = await t.act(kase.id, 'transfer', { officeId: 'shule', actor: 'jiashi-clerk', reason: '地点在疏勒县境内' })
    expect(moved.body).toMatchObject({ officeId: 'shule', status: 'dispatched' })

    const back = await t.act(kase.id, 'return', { actor: 'shule-clerk', reason: 'outside_jurisdiction', note: '经核实不在我县' })
    expect(back.status).toBe(200)
    expect(back.body).toMatchObject({ officeId: 'jiashi', status: 'received' })
    const events = await t.events(kase.id)
    expect(events.slice(-2)).toMatchObject([
      { type: 'transferred', from: 'jiashi', to: 'shule', reason: '地点在疏勒县境内' },
      { type: 'returned', from: 'shule', to: 'jiashi', reason: 'outside_jurisdiction' },
    ])
    // The status page shows the transfer, naming the office, but not the internal return.
    const page = await (await t.gw.intake.app.request(`http://intake.test/status/${kase.trackingCode}`)).text()
    expect(page).toContain('疏勒县人民政府')
    expect(page).not.toContain('outside_jurisdiction')
    expect(page).not.toContain('经核实不在我县')
  })

  it('a transfer needs a reason; a return needs a known reason code and someone to return to', async () => {
    const t = await setup()
    const kase = await t.open('伽师县城区道路坑洼很多')
    expect((await t.act(kase.id, 'transfer', { officeId: 'shule', actor: 'x', reason: ' ' })).status).toBe(400)
    expect((await t.act(kase.id, 'transfer', { officeId: 'jiashi', actor: 'x', reason: 'r' })).body.error?.code).toBe('same_office')
    expect((await t.act(kase.id, 'return', { actor: 'x', reason: 'bored' })).status).toBe(400)
    expect((await t.act(kase.id, 'return', { actor: 'x', reason: 'not_our_remit' })).body.error?.code).toBe('nothing_to_return_to')
  })
})

describe('assignment inside an office', () => {
  it('round-robin among those on duty, skipping who is off; going on duty puts them back in turn', async () => {
    const t = await setup()
    const assignees: Array<string | null> = []
    for (let i = 0; i < 3; i++) assignees.push((await t.open(`伽师县 工地拖欠工资第${i + 1}个月了`)).assigneeId)
    // 买买提 is off duty in the offices file.
    expect(assignees).toEqual(['jiashi-labour-ayguli', 'jiashi-labour-wang', 'jiashi-labour-ayguli'])

    expect((await t.gw.api('/staff/jiashi-labour-memet/duty', { method: 'PUT', body: { onDuty: true } })).status).toBe(200)
    expect((await t.gw.api('/staff/jiashi-labour-ayguli/duty', { method: 'PUT', body: { onDuty: false } })).status).toBe(200)
    const next = [(await t.open('伽师县 欠薪')).assigneeId, (await t.open('伽师县 欠薪 二')).assigneeId, (await t.open('伽师县 欠薪 三')).assigneeId]
    expect(next).toEqual(['jiashi-labour-wang', 'jiashi-labour-memet', 'jiashi-labour-wang'])
    const staff = (await (await t.gw.api('/staff?officeId=jiashi-labour')).json()) as { staff: Array<{ id: string; onDuty: boolean }> }
    expect(staff.staff.map((s) => [s.id, s.onDuty])).toEqual([
      ['jiashi-labour-ayguli', false],
      ['jiashi-labour-wang', true],
      ['jiashi-labour-memet', true],
    ])
    expect((await t.gw.api('/staff/nobody/duty', { method: 'PUT', body: { onDuty: true } })).status).toBe(404)
  })

  it('messages arriving together are still given out in turn (they land before any of them is committed)', async () => {
    const t = await setup()
    const together = await Promise.all(Array.from({ length: 4 }, (_, i) => t.open(`伽师县 工地拖欠工资，同时来信第${i + 1}封`)))
    const assignees = together.map((k) => k.assigneeId).sort()
    expect(assignees).toEqual(['jiashi-labour-ayguli', 'jiashi-labour-ayguli', 'jiashi-labour-wang', 'jiashi-labour-wang'])
  })

  it('least-open counts the cases it has just given out, even before they are committed', async () => {
    const t = await setup({
      offices: [
        { id: 'city', name: 'City Hall', jurisdiction: { codes: [], places: [{ name: '伽师县', aliases: [] }] } },
        { id: 'desk', name: 'Desk', parentId: 'city', intakeDesk: true, assignment: 'least-open', staff: [{ id: 'ann', name: 'Ann' }, { id: 'bob', name: 'Bob' }] },
      ],
    })
    const together = await Promise.all(Array.from({ length: 4 }, (_, i) => t.open(`no place named here, together ${i + 1}`)))
    expect(together.map((k) => k.assigneeId).sort()).toEqual(['ann', 'ann', 'bob', 'bob'])
  })

  it('by hand, or by policy on request; least-open picks whoever has the fewest open cases', async () => {
    const t = await setup({
      offices: [
        { id: 'city', name: 'City Hall', jurisdiction: { codes: [], places: [{ name: '伽师县', aliases: [] }] } },
        { id: 'desk', name: 'Desk', parentId: 'city', intakeDesk: true, assignment: 'least-open', staff: [{ id: 'ann', name: 'Ann' }, { id: 'bob', name: 'Bob' }] },
      ],
    })
    const a = await t.open('no place named here 1')
    const b = await t.open('no place named here 2')
    expect([a.assigneeId, b.assigneeId]).toEqual(['ann', 'bob'])
    // Ann finishes hers; the next one goes to her.
    await t.gw.api(`/cases/${a.id}/status`, { method: 'POST', body: { status: 'resolved', actor: 'ann' } })
    expect((await t.open('no place named here 3')).assigneeId).toBe('ann')

    expect((await t.act(b.id, 'assign', { actor: 'lead', staffId: 'ann' })).body.assigneeId).toBe('ann')
    expect((await t.act(b.id, 'assign', { actor: 'lead', staffId: 'zed' })).body.error?.code).toBe('unknown_staff')
    expect((await t.events(b.id)).at(-1)).toMatchObject({ type: 'assigned', staffId: 'ann', policy: 'by-hand' })
  })
})

describe('urgent cases and dispatch rules', () => {
  it('an urgent case is announced to its office at once on the alert channel', async () => {
    const t = await setup()
    const kase = await t.open('伽师县 工地集体讨薪，工人们说明天要去上访')
    expect(kase).toMatchObject({ urgency: 'urgent', officeId: 'jiashi-labour' })
    await t.gw.intake.outbox.drain()
    const alert = t.gw.callback.received.map((r) => JSON.parse(r.body)).find((b) => b.kind === 'alert')
    expect(alert).toMatchObject({ to: 'jiashi-labour-duty', trackingCode: kase.trackingCode })
    expect(alert.text).toContain('紧急')
    expect((await t.events(kase.id)).some((e) => e.type === 'alerted')).toBe(true)
    // A normal case raises no alert.
    await t.open('伽师县路灯不亮')
    await t.gw.intake.outbox.drain()
    expect(t.gw.callback.received.filter((r) => JSON.parse(r.body).kind === 'alert')).toHaveLength(1)
  })

  it('a dispatch rule sends what lands at an office straight down, on the record', async () => {
    const t = await setup({ dispatchRules: [{ name: 'roads-to-bairen', from: 'jiashi', to: 'jiashi-bairen', category: 'transport' }] })
    const kase = await t.open('伽师县城区道路坑洼很多')
    expect(kase).toMatchObject({ officeId: 'jiashi-bairen', status: 'dispatched' })
    expect((await t.events(kase.id)).find((e) => e.type === 'dispatched')).toMatchObject({ from: 'jiashi', to: 'jiashi-bairen' })
    // Another category stays with the county.
    expect((await t.open('伽师县学校学费太高')).officeId).toBe('jiashi')
  })

  it('a rule or alert naming something that does not exist fails at start', async () => {
    await expect(demoGateway({ dispatchRules: [{ from: 'jiashi', to: 'shule' }] })).rejects.toThrow(/not below/)
    await expect(demoGateway({ alerts: { channel: 'pager' } })).rejects.toThrow(/config\.alerts\.channel/)
  })
})
