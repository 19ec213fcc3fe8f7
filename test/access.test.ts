/**
 * Who sees and does what through the staff API: tokens belong to a user (their office subtree and
 * role) or an integration (its scopes); another office's case is a 404, never in a list or a count;
 * the actor is the token's identity, whatever the body says; contacts are masked except to the
 * handling office, and each view is an event. Plus the public surface: /docs only on its exact
 * path, /metrics behind a token, security headers everywhere.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { staffConsole } from '@intake/console'
import { addUser, issueToken, memoryLimiters, setUserDisabled, type Case, type CaseEvent, type LimiterBackend } from '@intake/core'
import { API_KEY, BASE, demoGateway, type DemoGateway } from './support/gateway.ts'

let gw: DemoGateway
const tokens: Record<string, string> = {}
const PASSWORD = 'correct horse battery'

beforeEach(async () => {
  gw = await demoGateway()
  const { store, offices } = gw.intake
  const people = [
    { login: 'jiashi.worker', officeId: 'jiashi', role: 'caseworker' },
    { login: 'jiashi.lead', officeId: 'jiashi', role: 'lead' },
    { login: 'jiashi.supervisor', officeId: 'jiashi', role: 'supervisor' },
    { login: 'bairen.worker', officeId: 'jiashi-bairen', role: 'caseworker' },
    { login: 'shule.worker', officeId: 'shule', role: 'caseworker' },
  ] as const
  for (const p of people) {
    await addUser(store, offices, { ...p, name: p.login, password: PASSWORD }, 'test', 1)
    tokens[p.login] = (await issueToken(store, { userId: p.login }, 'test', 1, `t-${p.login}`)).secret
  }
  tokens.integration = (await issueToken(store, { integration: 'city-sync', scopes: ['read'], officeId: 'shule' }, 'test', 1, 't-int')).secret
})
afterEach(async () => {
  await gw.close()
})

const as = (who: string, path: string, init: { method?: string; body?: unknown } = {}) =>
  gw.intake.app.request(`${BASE}/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${tokens[who]}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  })

async function openJiashiCase(from = '+8613812341234'): Promise<Case> {
  const res = await gw.sendApi({ id: `m-${Math.random()}`, from: { id: from }, text: '伽师县城区道路坑洼很多，晚上看不清' })
  expect(res.status).toBe(201)
  const { results } = (await res.json()) as { results: Array<{ caseId: string }> }
  const kase = (await gw.intake.store.getCase(results[0]!.caseId))!
  expect(kase.officeId).toBe('jiashi')
  return kase
}

describe('office scope through the API', () => {
  it("another office's case is a 404, and is in no list and no count", async () => {
    const kase = await openJiashiCase()
    expect((await as('jiashi.worker', `/cases/${kase.id}`)).status).toBe(200)
    expect((await as('shule.worker', `/cases/${kase.id}`)).status).toBe(404)
    expect((await as('shule.worker', `/cases/by-tracking-code/${kase.trackingCode}`)).status).toBe(404)
    expect((await as('shule.worker', `/cases/${kase.id}/replies`, { method: 'POST', body: { text: '越权答复' } })).status).toBe(404)
    const list = (await (await as('shule.worker', '/cases')).json()) as { cases: Case[] }
    expect(list.cases.map((c) => c.id)).not.toContain(kase.id)
    // Asking for the other office by name is no way around it.
    expect(((await (await as('shule.worker', '/cases?officeId=jiashi')).json()) as { cases: Case[] }).cases).toEqual([])
    expect((await as('integration', `/cases/${kase.id}`)).status).toBe(404)
    // The township below sees it only once it is dispatched there.
    expect((await as('bairen.worker', `/cases/${kase.id}`)).status).toBe(404)
    expect((await as('jiashi.lead', `/cases/${kase.id}/dispatch`, { method: 'POST', body: { officeId: 'jiashi-bairen' } })).status).toBe(200)
    expect((await as('bairen.worker', `/cases/${kase.id}`)).status).toBe(200)
    expect((await as('jiashi.worker', `/cases/${kase.id}`)).status).toBe(200)
    const messages = await gw.intake.store.listMessages(kase.id)
    expect(messages.filter((m) => m.author === 'jiashi.worker')).toEqual([])
  })

  it("another office's cases are in no statistics and no export: the figures count the caller's subtree only", async () => {
    await openJiashiCase()
    type Report = { rows: Array<{ key: string; received: number }> }
    const figures = async (who: string, query: string) => {
      const res = await as(who, `/stats?${query}`)
      expect(res.status, `${who} ${query}`).toBe(200)
      return ((await res.json()) as Report).rows
    }
    expect((await figures('jiashi.worker', 'groupBy=office')).find((r) => r.key === 'jiashi')?.received).toBe(1)
    expect(await figures('shule.worker', 'groupBy=office')).toEqual([])
    expect((await figures('shule.worker', 'groupBy=none')).reduce((n, r) => n + r.received, 0)).toBe(0)
    expect(await figures('integration', 'groupBy=channel')).toEqual([])
    const csv = await as('shule.worker', '/stats?groupBy=office&format=csv')
    expect(csv.status).toBe(200)
    expect(await csv.text()).not.toContain('jiashi')
    // Naming the other office is a 404, as its cases are.
    expect((await as('shule.worker', '/stats?officeId=jiashi')).status).toBe(404)
    expect((await as('bairen.worker', '/stats?officeId=jiashi')).status).toBe(404)
    expect((await figures('jiashi.worker', 'officeId=jiashi&groupBy=none'))[0]?.received).toBe(1)
  })

  it('the actor is the token, not the body; a role without the action gets 403 and nothing changes', async () => {
    const kase = await openJiashiCase()
    const reply = await as('jiashi.worker', `/cases/${kase.id}/replies`, { method: 'POST', body: { text: '已安排人员核查。', author: 'the-mayor' } })
    expect(reply.status).toBe(201)
    const events = (await gw.intake.store.listEvents(kase.id)) as CaseEvent[]
    expect(events.find((e) => e.type === 'replied')?.actor).toBe('jiashi.worker')
    expect(events.some((e) => e.actor === 'the-mayor')).toBe(false)

    const refused = await as('jiashi.worker', `/cases/${kase.id}/dispatch`, { method: 'POST', body: { officeId: 'jiashi-bairen' } })
    expect(refused.status).toBe(403)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('forbidden')
    expect((await gw.intake.store.getCase(kase.id))?.officeId).toBe('jiashi')
    expect((await as('integration', `/cases?limit=1`)).status).toBe(200)
  })

  it("an extension is decided by a supervisor of the office above (who has no status permission), not by a caseworker there (403)", async () => {
    const kase = await openJiashiCase()
    expect((await as('jiashi.lead', `/cases/${kase.id}/dispatch`, { method: 'POST', body: { officeId: 'jiashi-bairen' } })).status).toBe(200)
    const asked = await as('bairen.worker', `/cases/${kase.id}/extension`, { method: 'POST', body: { reason: '需要协调供电公司', within: '3 working days' } })
    expect(asked.status).toBe(200)
    const refused = await as('jiashi.worker', `/cases/${kase.id}/extension/decision`, { method: 'POST', body: { approved: true } })
    expect(refused.status).toBe(403)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('forbidden')
    expect((await gw.intake.store.listEvents(kase.id)).some((e) => e.type === 'extension_decided')).toBe(false)
    const before = (await gw.intake.store.getCase(kase.id))!.deadlineAt!
    const approved = await as('jiashi.supervisor', `/cases/${kase.id}/extension/decision`, { method: 'POST', body: { approved: true, note: '同意' } })
    expect(approved.status).toBe(200)
    expect(((await approved.json()) as Case).deadlineAt).toBeGreaterThan(before)
    const decided = (await gw.intake.store.listEvents(kase.id)).filter((e) => e.type === 'extension_decided')
    expect(decided.map((e) => [e.actor, e.data.approved])).toEqual([['jiashi.supervisor', true]])
  })

  it("a disabled user's token is refused at once (403) and changes nothing", async () => {
    const kase = await openJiashiCase()
    await setUserDisabled(gw.intake.store, 'jiashi.worker', true, 'test', 2)
    const res = await as('jiashi.worker', `/cases/${kase.id}/replies`, { method: 'POST', body: { text: '还能答复吗？' } })
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('user_disabled')
    expect((await gw.intake.store.listEvents(kase.id)).some((e) => e.type === 'replied')).toBe(false)
  })

  it('contacts are masked in lists and case views, shown to the handling office only, and each view is an event', async () => {
    const kase = await openJiashiCase('+8613812341234')
    const list = (await (await as('jiashi.worker', '/cases')).json()) as { cases: Case[] }
    expect(list.cases[0]!.citizen.id).toBe('+86138****1234')
    const view = (await (await as('jiashi.worker', `/cases/${kase.id}`)).json()) as { case: Case; messages: Array<{ author: string; direction: string }> }
    expect(JSON.stringify(view)).not.toContain('13812341234')
    const contact = await as('jiashi.worker', `/cases/${kase.id}/contact`)
    expect(contact.status).toBe(200)
    expect(((await contact.json()) as { citizen: { id: string } }).citizen.id).toBe('+8613812341234')
    const viewed = (await gw.intake.store.listEvents(kase.id)).filter((e) => e.type === 'contact_viewed')
    expect(viewed.map((e) => e.actor)).toEqual(['jiashi.worker'])
    // The county lead's supervisor chain above does not handle it once it moved down.
    await as('jiashi.lead', `/cases/${kase.id}/dispatch`, { method: 'POST', body: { officeId: 'jiashi-bairen' } })
    expect((await as('jiashi.worker', `/cases/${kase.id}/contact`)).status).toBe(403)
    expect((await as('bairen.worker', `/cases/${kase.id}/contact`)).status).toBe(200)
  })
})

describe('API throttling per token', () => {
  it('a token past its budget gets 429 with Retry-After; another token is not held back', async () => {
    await gw.close()
    gw = await demoGateway({ apiLimits: { perMinute: 3 } })
    await addUser(gw.intake.store, gw.intake.offices, { login: 'jiashi.worker', name: 'w', officeId: 'jiashi', role: 'caseworker', password: PASSWORD }, 'test', 1)
    tokens['jiashi.worker'] = (await issueToken(gw.intake.store, { userId: 'jiashi.worker' }, 'test', 1, 't-w')).secret
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push((await as('jiashi.worker', '/cases')).status)
    expect(statuses).toEqual([200, 200, 200, 429])
    const refused = await as('jiashi.worker', '/cases')
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await gw.api('/cases')).status).toBe(200)
  })
})

describe('staff accounts through the API', () => {
  it('an administrator adds and disables a caseworker live; the new account works at once and stops at once; others may not', async () => {
    const admin = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }
    const body = { login: 'new.worker', name: '新同事', officeId: 'jiashi', role: 'caseworker', password: 'a long enough password' }
    expect((await as('jiashi.lead', '/users', { method: 'POST', body })).status).toBe(403)
    const added = await gw.intake.app.request(`${BASE}/api/v1/users`, { method: 'POST', headers: admin, body: JSON.stringify(body) })
    expect(added.status).toBe(201)
    expect(JSON.stringify(await added.json())).not.toContain('scrypt')
    expect((await gw.intake.app.request(`${BASE}/api/v1/users`, { method: 'POST', headers: admin, body: JSON.stringify(body) })).status).toBe(409)
    tokens['new.worker'] = (await issueToken(gw.intake.store, { userId: 'new.worker' }, 'test', 3, 't-new')).secret
    expect((await as('new.worker', '/cases')).status).toBe(200)
    expect((await gw.intake.app.request(`${BASE}/api/v1/users/new.worker/disable`, { method: 'POST', headers: admin })).status).toBe(200)
    expect((await as('new.worker', '/cases')).status).toBe(403)
    const events = await gw.intake.store.listAccountEvents()
    expect(events.filter((e) => e.subject === 'new.worker').map((e) => [e.type, e.actor])).toEqual([['user_disabled', 'api-key-1'], ['user_added', 'api-key-1']])
  })
})

describe('the public surface', () => {
  it('the docs are public on their exact paths only; a path ending in /docs still needs a token', async () => {
    expect((await gw.intake.app.request(`${BASE}/api/v1/docs`)).status).toBe(200)
    expect((await gw.intake.app.request(`${BASE}/api/v1/openapi.json`)).status).toBe(200)
    expect((await gw.intake.app.request(`${BASE}/api/v1/cases/docs`)).status).toBe(401)
    expect((await gw.intake.app.request(`${BASE}/api/v1/cases/x/openapi.json`)).status).toBe(401)
    expect((await gw.intake.app.request(`${BASE}/api/v1/outbox/docs`)).status).toBe(401)
  })

  it('/metrics needs a token that may read metrics', async () => {
    expect((await gw.intake.app.request(`${BASE}/metrics`)).status).toBe(401)
    expect((await gw.intake.app.request(`${BASE}/metrics`, { headers: { authorization: `Bearer ${tokens['jiashi.worker']}` } })).status).toBe(403)
    const ok = await gw.intake.app.request(`${BASE}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })
    expect(ok.status).toBe(200)
  })

  it('web-form submissions are budgeted per client address: past it a 429 with Retry-After on the form page, nothing stored; another address is not held back', async () => {
    const limited = await demoGateway({ submissions: { points: 2, durationMs: 60_000 }, lookups: { trustProxy: true } })
    try {
      const send = (address: string, text: string) => {
        const form = new FormData()
        for (const [k, v] of Object.entries({ submission: crypto.randomUUID(), lang: 'zh-CN', text, place: '伽师县巴仁镇', name: '', email: '', phone: '', website: '' })) form.set(k, v)
        return limited.intake.app.request(`${BASE}/channels/web/submit`, { method: 'POST', body: form, headers: { 'x-forwarded-for': address } })
      }
      expect((await send('203.0.113.7', '巴仁镇的路灯坏了一个月了')).status).toBe(201)
      expect((await send('203.0.113.7', '巴仁镇的水管漏水')).status).toBe(201)
      const refused = await send('203.0.113.7', '巴仁镇的垃圾没人清理')
      expect(refused.status).toBe(429)
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(await refused.text()).toContain('这个网络地址最近提交得太多了')
      expect((await limited.intake.store.listCases({})).cases).toHaveLength(2)
      expect((await send('198.51.100.20', '巴仁镇的垃圾没人清理')).status).toBe(201)
    } finally {
      await limited.close()
    }
  })

  it("every public and console page carries the agency's name, hotline, privacy notice and footer from the config, in the page's language; the favicon is the agency's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'intake-brand-'))
    const favicon = join(dir, 'favicon.svg')
    writeFileSync(favicon, '<svg xmlns="http://www.w3.org/2000/svg"><circle r="9"/></svg>')
    const branded = await demoGateway({
      console: staffConsole(),
      branding: {
        agencyName: { 'zh-CN': '疏勒县12345热线', en: 'Shule County 12345 Hotline' },
        hotline: '0998-6212345',
        privacyNotice: { 'zh-CN': '我们只为办理您的诉求收集这些信息。', en: 'We collect this only to handle your request.' },
        footer: { 'zh-CN': '疏勒县人民政府', en: 'Shule County Government' },
        faviconFile: favicon,
      },
    })
    try {
      for (const [path, lang] of [['/status', 'zh'], ['/channels/web/', 'zh'], ['/console/sign-in', 'zh'], ['/status?lang=en', 'en'], ['/console/sign-in?lang=en', 'en']] as const) {
        const html = await (await branded.intake.app.request(`${BASE}${path}`)).text()
        const words = lang === 'zh' ? ['疏勒县12345热线', '我们只为办理您的诉求收集这些信息。', '疏勒县人民政府'] : ['Shule County 12345 Hotline', 'We collect this only to handle your request.', 'Shule County Government']
        for (const w of [...words, 'href="tel:0998621234', '0998-6212345', 'rel="icon"']) expect(html, `${path}: ${w}`).toContain(w)
        expect(html, path).not.toMatch(/<title>Intake/)
      }
      const icon = await branded.intake.app.request(`${BASE}/favicon.ico`)
      expect(icon.headers.get('content-type')).toBe('image/svg+xml')
      expect(await icon.text()).toContain('<circle r="9"/>')
    } finally {
      await branded.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("every budget lives in the deployment's limiter backend (lookups.backend), so several processes share them", async () => {
    const names: string[] = []
    const backend: LimiterBackend = (name, policy) => {
      names.push(name)
      return memoryLimiters(name, policy)
    }
    const shared = await demoGateway({ console: staffConsole(), lookups: { backend } })
    await shared.close()
    expect(names).toEqual(expect.arrayContaining(['status-lookups', 'status-misses', 'api-per-token', 'form-submissions', 'console-sign-in-account', 'console-sign-in-address']))
  })

  it('every page carries the security headers', async () => {
    for (const path of ['/status', '/channels/web/', '/api/v1/docs', '/healthz']) {
      const res = await gw.intake.app.request(`${BASE}${path}`)
      const csp = res.headers.get('content-security-policy') ?? ''
      expect(csp, path).toContain("frame-ancestors 'none'")
      expect(csp, path).toContain("script-src 'self'")
      expect(csp, path).not.toMatch(/script-src[^;]*unsafe-inline/)
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff')
      expect(res.headers.get('referrer-policy'), path).toBeTruthy()
    }
    // A channel's answer too (here a refusal: no signature), and the body is still whole.
    const refused = await gw.intake.app.request(`${BASE}/channels/api/messages`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(refused.headers.get('x-frame-options')).toBe('DENY')
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBeTruthy()
  })
})
