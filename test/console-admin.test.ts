/**
 * Administrators at work, live (no restart): staff accounts added, disabled and reset from the
 * console and the API; an office's contacts, duty roster and deadline policy changed, met by the
 * next case, kept across a restart, each change an account event naming the administrator with the
 * values before and after. Everyone else gets a clear 4xx and nothing changes.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { addDuration, addUser, issueToken } from '@intake/core'
import { sqliteStore } from '@intake/storage'
import { BASE, demoGateway, type DemoGateway } from './support/gateway.ts'
import { consoleGateway, STAFF_PASSWORD, type ConsoleClient, type ConsoleGateway } from './support/console.ts'

const CITIZEN = '+8613812341234'
let gw: ConsoleGateway | undefined
let demo: DemoGateway | undefined
const dirs: string[] = []
let clock = Date.UTC(2026, 11, 1, 2, 0)
const now = () => clock

afterEach(async () => {
  await gw?.close()
  await demo?.close()
  gw = demo = undefined
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** The console demo plus an administrator of the Jiashi county subtree (console and API token). */
async function setup() {
  clock = Date.UTC(2026, 11, 1, 2, 0)
  gw = await consoleGateway({}, { now })
  await addUser(gw.intake.store, gw.intake.offices, { login: 'jiashi.admin', name: '管理员', officeId: 'jiashi', role: 'admin', password: STAFF_PASSWORD }, 'test', 1)
  gw.tokens['jiashi.admin'] = (await issueToken(gw.intake.store, { userId: 'jiashi.admin' }, 'test', 1, 't-jiashi.admin')).secret
  return { gw, admin: await gw.signIn('jiashi.admin') }
}

const api = (path: string, token: string, init: { method?: string; body?: unknown } = {}) =>
  gw!.intake.app.request(`${BASE}/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  })

/** Sign in as anyone with any password; the status code of the answer. */
async function signInStatus(login: string, password: string): Promise<number> {
  const first = await gw!.intake.app.request(`${BASE}/console/sign-in`)
  const cookie = first.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await first.text())![1]!
  const res = await gw!.intake.app.request(`${BASE}/console/sign-in`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, login, password, next: '/console/cases' }),
  })
  return res.status
}

const oneTimePassword = (html: string) => /的密码：([A-Za-z0-9_-]{16})。/.exec(html)?.[1]

describe('staff accounts, live', () => {
  it('an administrator adds a caseworker in the console, who signs in with the one-time password; disables them; resets a password — each an account event with the administrator as actor', async () => {
    const { gw, admin } = await setup()
    const list = await (await admin.get('/console/staff')).text()
    expect(list).toContain('jiashi.worker')
    expect(list).toContain('bairen.worker')
    // Another county's staff are outside the subtree.
    expect(list).not.toContain('shule.worker')

    const added = await admin.post('/console/staff', { _csrf: admin.csrf, login: 'jiashi.new', name: '新同事', officeId: 'jiashi', role: 'caseworker', password: '' })
    expect(added.status).toBe(201)
    const password = oneTimePassword(await added.text())
    expect(password).toBeDefined()
    expect(await gw.intake.store.findUserByLogin('jiashi.new')).toMatchObject({ officeId: 'jiashi', role: 'caseworker', disabled: false })
    expect(await signInStatus('jiashi.new', password!)).toBe(303)
    // The page that showed it once does not show it again.
    expect(await (await admin.get('/console/staff')).text()).not.toContain(password!)

    expect((await admin.post('/console/staff/jiashi.new/disable', { _csrf: admin.csrf })).status).toBe(303)
    expect(await signInStatus('jiashi.new', password!)).toBe(403)
    expect((await admin.post('/console/staff/jiashi.new/enable', { _csrf: admin.csrf })).status).toBe(303)

    const reset = await admin.post('/console/staff/jiashi.worker/reset-password', { _csrf: admin.csrf, password: '' })
    expect(reset.status).toBe(200)
    const fresh = oneTimePassword(await reset.text())
    expect(fresh).toBeDefined()
    expect(await signInStatus('jiashi.worker', STAFF_PASSWORD)).toBe(401)
    expect(await signInStatus('jiashi.worker', fresh!)).toBe(303)

    const events = (await gw.intake.store.listAccountEvents({ limit: 50 })).filter((e) => e.actor === 'jiashi.admin' && e.type !== 'signed_in')
    expect(events.map((e) => [e.type, e.subject]).reverse()).toEqual([
      ['user_added', 'jiashi.new'],
      ['user_disabled', 'jiashi.new'],
      ['user_enabled', 'jiashi.new'],
      ['password_reset', 'jiashi.worker'],
    ])
  })

  it('bad input in the console: a lead, a missing CSRF token, an office outside the subtree, a taken login, a short password, an account elsewhere — each a 4xx, no account changed', async () => {
    const { gw, admin } = await setup()
    const before = JSON.stringify(await gw.intake.store.listUsers())
    const lead = await gw.signIn('jiashi.lead')
    expect((await lead.get('/console/staff')).status).toBe(403)
    expect((await lead.post('/console/staff', { _csrf: lead.csrf, login: 'by.lead', name: 'x', officeId: 'jiashi', role: 'caseworker' })).status).toBe(403)
    expect((await lead.post('/console/staff/jiashi.worker/disable', { _csrf: lead.csrf })).status).toBe(403)
    expect(await (await lead.get('/console/cases')).text()).not.toContain('href="/console/staff"')
    expect(await (await admin.get('/console/cases')).text()).toContain('href="/console/staff"')

    expect((await admin.post('/console/staff', { login: 'no.csrf', name: 'x', officeId: 'jiashi', role: 'caseworker' })).status).toBe(403)
    expect((await admin.post('/console/staff/jiashi.worker/disable', {})).status).toBe(403)
    expect((await admin.post('/console/staff', { _csrf: admin.csrf, login: 'far.away', name: 'x', officeId: 'shule', role: 'caseworker' })).status).toBe(404)
    const taken = await admin.post('/console/staff', { _csrf: admin.csrf, login: 'JIASHI.WORKER', name: 'x', officeId: 'jiashi', role: 'caseworker' })
    expect(taken.status).toBe(409)
    expect(await taken.text()).toContain('该账号已存在')
    const short = await admin.post('/console/staff', { _csrf: admin.csrf, login: 'short.pw', name: 'x', officeId: 'jiashi', role: 'caseworker', password: 'abc' })
    expect(short.status).toBe(400)
    expect(await short.text()).toContain('至少需要 10 个字符')
    expect((await admin.post('/console/staff', { _csrf: admin.csrf, login: 'bad.role', name: 'x', officeId: 'jiashi', role: 'emperor' })).status).toBe(400)
    expect((await admin.post('/console/staff/shule.worker/disable', { _csrf: admin.csrf })).status).toBe(404)
    expect((await admin.post('/console/staff/shule.worker/reset-password', { _csrf: admin.csrf })).status).toBe(404)
    expect((await admin.post('/console/staff/jiashi.worker/reset-password', { _csrf: admin.csrf, password: 'short' })).status).toBe(400)
    expect(JSON.stringify(await gw.intake.store.listUsers())).toBe(before)
  })

  it('the API: an administrator adds, disables and resets; a caseworker gets 403; an account or office outside the subtree is 404', async () => {
    const { gw } = await setup()
    const token = gw.tokens['jiashi.admin']!
    const add = await api('/users', token, { method: 'POST', body: { login: 'api.new', name: 'API 新人', officeId: 'jiashi-bairen', role: 'caseworker', password: 'a-long-password-1' } })
    expect(add.status).toBe(201)
    expect(await add.json()).not.toHaveProperty('passwordHash')
    expect((await api('/users', token, { method: 'POST', body: { login: 'api.far', name: 'x', officeId: 'shule', role: 'caseworker', password: 'a-long-password-1' } })).status).toBe(404)
    expect((await api('/users', token, { method: 'POST', body: { login: 'api.new', name: 'x', officeId: 'jiashi', role: 'caseworker', password: 'a-long-password-1' } })).status).toBe(409)

    const reset = await api('/users/api.new/reset-password', token, { method: 'POST', body: {} })
    expect(reset.status).toBe(200)
    const { password } = (await reset.json()) as { password: string }
    expect(await signInStatus('api.new', password)).toBe(303)
    const set = await api('/users/api.new/reset-password', token, { method: 'POST', body: { password: 'chosen-password-22' } })
    expect(await set.json()).not.toHaveProperty('password')
    expect(await signInStatus('api.new', 'chosen-password-22')).toBe(303)
    expect((await api('/users/api.new/reset-password', token, { method: 'POST', body: { password: 'short' } })).status).toBe(400)
    expect((await api('/users/shule.worker/reset-password', token, { method: 'POST', body: {} })).status).toBe(404)
    expect((await api('/users/shule.worker/disable', token, { method: 'POST' })).status).toBe(404)
    expect((await api('/users/api.new/disable', token, { method: 'POST' })).status).toBe(200)

    const worker = gw.tokens['jiashi.worker']!
    expect((await api('/users', worker)).status).toBe(403)
    expect((await api('/users/api.new/enable', worker, { method: 'POST' })).status).toBe(403)
    expect((await api('/users/jiashi.lead/reset-password', worker, { method: 'POST', body: {} })).status).toBe(403)
    expect((await gw.intake.store.getUser('api.new'))?.disabled).toBe(true)
    const types = (await gw.intake.store.listAccountEvents()).filter((e) => e.actor === 'jiashi.admin' && e.type !== 'signed_in').map((e) => e.type)
    expect(types.reverse()).toEqual(['user_added', 'password_reset', 'password_reset', 'user_disabled'])
  })
})

describe("an office's contacts, duty and deadlines, live", () => {
  it("a changed deadline policy is what the next case meets; the change is an event with before and after", async () => {
    const { gw, admin } = await setup()
    expect((await gw.sms(CITIZEN, '伽师县城区道路坑洼很多')).status).toBe(200)
    const first = (await gw.intake.store.listCases({})).cases[0]!
    expect(first.officeId).toBe('jiashi')
    const calendar = gw.intake.config.calendar
    expect(first.deadlineAt).toBe(addDuration(first.createdAt, '5 working days', calendar))

    const page = await admin.get('/console/offices/jiashi')
    expect(page.status).toBe(200)
    const res = await admin.post('/console/offices/jiashi/deadlines', { _csrf: admin.csrf, urgent: '', normal: '2 working days', complex: '', accept: '', categories: 'housing.normal = 10 working days' })
    expect(res.status).toBe(303)
    expect(await (await admin.get('/console/offices/jiashi')).text()).toContain('value="2 working days"')

    clock += 60_000
    expect((await gw.sms('+8613900001111', '伽师县城区路灯坏了好几天')).status).toBe(200)
    const second = (await gw.intake.store.listCases({})).cases.find((c) => c.id !== first.id)!
    expect(second.officeId).toBe('jiashi')
    expect(second.deadlineAt).toBe(addDuration(second.createdAt, '2 working days', calendar))
    // Cases below the county inherit it: the policy is the office's, read up the tree.
    expect(gw.intake.lifecycle.context.policy.durationFor({ officeId: 'jiashi-bairen', category: null, urgency: 'normal' })).toEqual({ duration: '2 working days', source: 'office jiashi' })

    const event = (await gw.intake.store.listAccountEvents()).find((e) => e.type === 'office_changed')
    expect(event).toMatchObject({ actor: 'jiashi.admin', subject: 'jiashi', data: { fields: ['deadlines'], before: { deadlines: null }, after: { deadlines: { normal: '2 working days', categories: { housing: { normal: '10 working days' } } } } } })
    expect((await gw.intake.store.verifyAudit()).accountEvents).toMatchObject({ ok: true })
  })

  it('a new duty roster decides who the next case is assigned to; contacts change with it', async () => {
    const { gw } = await setup()
    const token = gw.tokens['jiashi.admin']!
    const res = await api('/offices/jiashi-labour', token, {
      method: 'PATCH',
      body: { staff: [{ id: 'jiashi-labour-new', name: '新值班员', onDuty: true }, { id: 'jiashi-labour-wang', name: '王建国', onDuty: false }], contact: { alert: 'jiashi-labour-duty', dutyPhone: '0998-5710000' } },
    })
    expect(res.status).toBe(200)
    const shown = (await (await api('/offices/jiashi-labour', token)).json()) as { office: { contact: { dutyPhone: string }; staff: unknown[] }; live: { updatedBy: string } }
    expect(shown.office.contact.dutyPhone).toBe('0998-5710000')
    expect(shown.live.updatedBy).toBe('jiashi.admin')
    const roster = (await (await api('/staff?officeId=jiashi-labour', token)).json()) as { staff: Array<{ id: string; onDuty: boolean }> }
    expect(roster.staff).toEqual([
      { id: 'jiashi-labour-new', name: '新值班员', officeId: 'jiashi-labour', onDuty: true },
      { id: 'jiashi-labour-wang', name: '王建国', officeId: 'jiashi-labour', onDuty: false },
    ])

    expect((await gw.sms(CITIZEN, '伽师县某工地拖欠农民工工资三个月了')).status).toBe(200)
    const kase = (await gw.intake.store.listCases({})).cases[0]!
    expect(kase.officeId).toBe('jiashi-labour')
    expect(kase.assigneeId).toBe('jiashi-labour-new')
  })

  it('bad input: a lead, an office outside the subtree or unknown, a malformed policy, a missing CSRF token — each a 4xx, no setting stored', async () => {
    const { gw, admin } = await setup()
    const token = gw.tokens['jiashi.admin']!
    expect((await api('/offices/jiashi', gw.tokens['jiashi.lead']!, { method: 'PATCH', body: { contact: { phone: '1' } } })).status).toBe(403)
    expect((await api('/offices/shule', token, { method: 'PATCH', body: { contact: { phone: '1' } } })).status).toBe(404)
    expect((await api('/offices/no-such-office', token, { method: 'PATCH', body: { contact: { phone: '1' } } })).status).toBe(404)
    const malformed = await api('/offices/jiashi', token, { method: 'PATCH', body: { deadlines: { normal: 'soon' } } })
    expect(malformed.status).toBe(400)
    expect(((await malformed.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'invalid_deadline', message: expect.stringContaining('deadlines.normal') })
    expect((await api('/offices/jiashi', token, { method: 'PATCH', body: { deadlines: { normal: 5 } } })).status).toBe(400)
    expect((await api('/offices/jiashi', token, { method: 'PATCH', body: { parentId: 'shule' } })).status).toBe(400)
    expect((await api('/offices/jiashi', token, { method: 'PATCH', body: {} })).status).toBe(400)
    expect((await api('/offices/jiashi', token, { method: 'PATCH', body: { staff: [{ id: 'a', name: 'A' }, { id: 'a', name: 'B' }] } })).status).toBe(400)

    const lead = await gw.signIn('jiashi.lead')
    expect((await lead.get('/console/offices/jiashi')).status).toBe(403)
    expect((await lead.post('/console/offices/jiashi/contact', { _csrf: lead.csrf, phone: '1' })).status).toBe(403)
    expect((await admin.post('/console/offices/jiashi/contact', { phone: '1' })).status).toBe(403)
    expect((await admin.get('/console/offices/shule')).status).toBe(404)
    expect((await admin.post('/console/offices/shule/contact', { _csrf: admin.csrf, phone: '1' })).status).toBe(404)
    const bad = await admin.post('/console/offices/jiashi/deadlines', { _csrf: admin.csrf, normal: 'whenever', categories: '' })
    expect(bad.status).toBe(400)
    expect(await bad.text()).toContain('error-summary')
    expect((await admin.post('/console/offices/jiashi/deadlines', { _csrf: admin.csrf, normal: '', categories: 'roads is urgent' })).status).toBe(400)
    expect(await gw.intake.store.listOfficeSettings()).toEqual([])
    expect((await gw.intake.store.listAccountEvents()).some((e) => e.type === 'office_changed')).toBe(false)
  })

  it('an administrator puts a field changed live back to the offices file, in the console and the API; the next case meets the file again; the revert is an event', async () => {
    const { gw, admin } = await setup()
    const token = gw.tokens['jiashi.admin']!
    const seed = gw.intake.offices.seed.find((o) => o.id === 'jiashi-labour')!
    expect((await api('/offices/jiashi-labour', token, { method: 'PATCH', body: { staff: [{ id: 'jiashi-labour-new', name: '新值班员', onDuty: true }], contact: { dutyPhone: '0998-5710000' } } })).status).toBe(200)
    let page = await (await admin.get('/console/offices/jiashi-labour')).text()
    expect(page.match(/name="field" value="(\w+)"/g)).toEqual(['name="field" value="contact"', 'name="field" value="staff"'])

    // The roster, from the console: back to the file's three, the duty of the file's people in force.
    clock += 60_000
    expect((await admin.post('/console/offices/jiashi-labour/revert', { _csrf: admin.csrf, field: 'staff' })).status).toBe(303)
    expect(gw.intake.offices.get('jiashi-labour')!.staff).toEqual(seed.staff)
    expect(gw.intake.offices.get('jiashi-labour')!.contact.dutyPhone).toBe('0998-5710000')
    page = await (await admin.get('/console/offices/jiashi-labour')).text()
    expect(page.match(/name="field" value="(\w+)"/g)).toEqual(['name="field" value="contact"'])
    const event = (await gw.intake.store.listAccountEvents()).find((e) => e.type === 'office_changed' && e.at === clock)
    expect(event).toMatchObject({ actor: 'jiashi.admin', subject: 'jiashi-labour', data: { fields: ['staff'], reverted: ['staff'], after: { staff: seed.staff } } })
    expect((event!.data.before as { staff: Array<{ id: string }> }).staff.map((s) => s.id)).toEqual(['jiashi-labour-new'])
    expect((await gw.sms(CITIZEN, '伽师县某工地拖欠农民工工资三个月了')).status).toBe(200)
    expect((await gw.intake.store.listCases({})).cases[0]).toMatchObject({ officeId: 'jiashi-labour', assigneeId: seed.staff.find((s) => s.onDuty)!.id })

    // The contacts, through the API: nothing live is left, the office is the file's again.
    const res = await api('/offices/jiashi-labour', token, { method: 'PATCH', body: { contact: null } })
    expect(res.status).toBe(200)
    expect(gw.intake.offices.get('jiashi-labour')).toEqual(seed)
    expect(((await (await api('/offices/jiashi-labour', token)).json()) as { live: object }).live).not.toHaveProperty('contact')
    // Only the fields there are; a bad field is a 400 and changes nothing.
    expect((await admin.post('/console/offices/jiashi-labour/revert', { _csrf: admin.csrf, field: 'parentId' })).status).toBe(400)
    expect((await admin.post('/console/offices/jiashi-labour/revert', { field: 'contact' })).status).toBe(403)
    expect((await api('/offices/jiashi-labour', token, { method: 'PATCH', body: { parentId: null } })).status).toBe(400)
    expect(gw.intake.offices.get('jiashi-labour')).toEqual(seed)
  })

  it('a change made live survives a restart: the offices file is the seed, the stored settings lie over it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'intake-offices-'))
    dirs.push(dir)
    const file = join(dir, 'intake.db')
    demo = await demoGateway({ store: sqliteStore({ file }) })
    expect((await demo.api('/offices/jiashi', { method: 'PATCH', body: { contact: { phone: '0998-5712345', dutyPhone: '0998-5710000' }, deadlines: { normal: '3 working days' } } })).status).toBe(200)
    await demo.close()
    demo = await demoGateway({ store: sqliteStore({ file }) })
    const office = demo.intake.offices.get('jiashi')!
    expect(office.contact).toEqual({ phone: '0998-5712345', dutyPhone: '0998-5710000' })
    expect(office.deadlines).toEqual({ normal: '3 working days' })
    // Fields not changed live are still the file's.
    expect(office.parentId).toBe('kashgar')
    expect(demo.intake.offices.get('jiashi-labour')!.staff.map((s) => s.id)).toEqual(['jiashi-labour-ayguli', 'jiashi-labour-wang', 'jiashi-labour-memet'])
    const event = (await demo.intake.store.listAccountEvents()).find((e) => e.type === 'office_changed')
    expect(event).toMatchObject({ actor: 'api-key-1', subject: 'jiashi' })
  })
})

describe('the OpenAPI document', () => {
  it('describes bearer tokens, staff accounts, contact details and the live office settings', async () => {
    const { gw } = await setup()
    const doc = (await (await gw.intake.app.request(`${BASE}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content: { 'application/json': { schema: { $ref: string } } } } }>>
      components: { securitySchemes: Record<string, { type: string; scheme?: string }>; schemas: Record<string, { properties?: Record<string, unknown> }> }
    }
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' })
    expect(Object.keys(doc.paths['/users']!)).toEqual(['get', 'post'])
    for (const path of ['/users/{id}/disable', '/users/{id}/enable', '/users/{id}/reset-password']) expect(doc.paths[path]?.post, path).toBeDefined()
    expect(doc.paths['/cases/{id}/contact']?.get).toBeDefined()
    expect(doc.paths['/offices/{id}']?.patch?.requestBody?.content['application/json'].schema.$ref).toBe('#/components/schemas/OfficeSettingsChange')
    expect(Object.keys(doc.components.schemas.OfficeSettingsChange!.properties!)).toEqual(['contact', 'staff', 'deadlines'])
    expect(doc.components.schemas.StaffUser!.properties).not.toHaveProperty('passwordHash')
  })
})
