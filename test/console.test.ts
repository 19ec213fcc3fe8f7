/**
 * The staff console driven in-process (forms, cookies, no browser): who sees which case, what each
 * role may do, sessions and CSRF, and bad input — each refusal a clear 4xx that changes nothing.
 * The browser walk-through (Chromium, axe-core) is console.browser.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { imageFacts, pngImage } from '@intake/channels/kit'
import { addUser } from '@intake/core'
import { staffConsole } from '@intake/console'
import { BASE, demoGateway } from './support/gateway.ts'
import { consoleGateway, STAFF_PASSWORD, type ConsoleGateway } from './support/console.ts'

const CITIZEN = '+8613812341234'
let gw: ConsoleGateway
let clock = Date.UTC(2026, 11, 1, 2, 0)
const now = () => clock

afterEach(async () => {
  await gw?.close()
})

async function setup() {
  clock = Date.UTC(2026, 11, 1, 2, 0)
  gw = await consoleGateway({ sessions: { idleMinutes: 30, absoluteHours: 12 } }, { now })
  expect((await gw.sms(CITIZEN, '伽师县城区道路坑洼很多，晚上看不清')).status).toBe(200)
  const kase = (await gw.intake.store.listCases({})).cases[0]!
  expect(kase.officeId).toBe('jiashi')
  return kase
}

const counts = async (id: string) => ({
  events: (await gw.intake.store.listEvents(id)).length,
  messages: (await gw.intake.store.listMessages(id)).length,
  office: (await gw.intake.store.getCase(id))!.officeId,
})

async function deliverAll() {
  const deadline = Date.now() + 5_000
  while (Date.now() < deadline) {
    await gw.intake.outbox.drain()
    if ((await gw.intake.store.listOutbox({ status: 'pending' })).length === 0) return
  }
}

describe('the console, in-process', () => {
  it('a caseworker answers the SMS case from the console; the answer reaches Twilio as theirs', async () => {
    const kase = await setup()
    const me = await gw.signIn('jiashi.worker')
    const list = await (await me.get('/console/cases')).text()
    expect(list).toContain(kase.trackingCode)
    expect(list).toContain('+86138****1234')
    expect(list).not.toContain(CITIZEN)
    const res = await me.post(`/console/cases/${kase.id}/reply`, { _csrf: me.csrf, text: '已安排养护队本周修复。' })
    expect(res.status).toBe(303)
    await deliverAll()
    const sent = gw.twilio.messages.filter((m) => m.to === CITIZEN)
    expect(sent.at(-1)?.body).toContain('已安排养护队本周修复。')
    const replied = (await gw.intake.store.listEvents(kase.id)).find((e) => e.type === 'replied')
    expect(replied?.actor).toBe('jiashi.worker')
  })

  it("the case page masks the citizen's number; the handling office opens it (a contact_viewed event naming who), the supervisor above may not (403, no event)", async () => {
    const kase = await setup()
    const me = await gw.signIn('jiashi.worker')
    const page = await (await me.get(`/console/cases/${kase.id}`)).text()
    expect(page).toContain('+86138****1234')
    expect(page).not.toContain(CITIZEN)
    const opened = await me.post(`/console/cases/${kase.id}/contact`, { _csrf: me.csrf })
    expect(opened.status).toBe(200)
    expect(await opened.text()).toContain(CITIZEN)
    const viewed = () => gw.intake.store.listEvents(kase.id).then((events) => events.filter((e) => e.type === 'contact_viewed'))
    expect(await viewed()).toMatchObject([{ actor: 'jiashi.worker', public: false, data: { via: 'console' } }])
    const above = await gw.signIn('kashgar.supervisor')
    expect((await above.get(`/console/cases/${kase.id}`)).status).toBe(200)
    const refused = await above.post(`/console/cases/${kase.id}/contact`, { _csrf: above.csrf })
    expect(refused.status).toBe(403)
    expect(await refused.text()).not.toContain(CITIZEN)
    expect((await gw.signIn('shule.worker').then((other) => other.post(`/console/cases/${kase.id}/contact`, { _csrf: other.csrf }))).status).toBe(404)
    expect(await viewed()).toHaveLength(1)
  })

  it('the session cookie is HttpOnly and SameSite; over https it is Secure and __Host-', async () => {
    await setup()
    const plain = (await gw.signIn('jiashi.worker')).cookie
    expect(plain).toMatch(/^intake_console=/)
    const secure = await demoGateway({ server: { publicUrl: 'https://hotline.example.gov.cn' }, console: staffConsole() })
    try {
      await addUser(secure.intake.store, secure.intake.offices, { login: 'tls.worker', name: 'TLS', officeId: 'jiashi', role: 'caseworker', password: STAFF_PASSWORD }, 'test', 1)
      for (const [base, name, flags] of [
        [BASE, 'intake_console', ['HttpOnly', 'SameSite=Lax']],
        ['https://hotline.example.gov.cn', '__Host-intake_console', ['HttpOnly', 'SameSite=Lax', 'Secure', 'Path=/']],
      ] as const) {
        const app = base === BASE ? gw.intake.app : secure.intake.app
        const login = base === BASE ? 'jiashi.worker' : 'tls.worker'
        const first = await app.request(`${base}/console/sign-in`)
        const pre = first.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
        const csrf = /name="_csrf" value="([^"]+)"/.exec(await first.text())![1]!
        const res = await app.request(`${base}/console/sign-in`, { method: 'POST', headers: { cookie: pre, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, login, password: STAFF_PASSWORD }) })
        expect(res.status).toBe(303)
        const session = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`))
        expect(session, base).toBeDefined()
        for (const flag of flags) expect(session, `${base}: ${flag}`).toContain(flag)
        if (base === BASE) expect(session).not.toContain('Secure')
      }
    } finally {
      await secure.close()
    }
  })

  it("the dashboard shows the three rates of the user's subtree, from the statistics; another county sees none of them", async () => {
    const kase = await setup()
    const worker = await gw.signIn('jiashi.worker')
    for (const status of ['accepted', 'resolved']) {
      expect((await worker.post(`/console/cases/${kase.id}/status`, { _csrf: worker.csrf, status })).status).toBe(303)
    }
    expect((await gw.intake.store.getCase(kase.id))?.status).toBe('resolved')
    const lead = await gw.signIn('jiashi.lead')
    const page = await (await lead.get('/console/dashboard')).text()
    const rates = page.slice(page.indexOf('id="rates"'), page.indexOf('</figure>', page.indexOf('id="rates"')))
    // One case received, accepted within its acceptance deadline, resolved by its deadline, not rated yet.
    expect(rates).toMatch(/<th scope="row">[^<]*伽师[^<]*<\/th><td>1<\/td><td>100%<\/td><td>100%<\/td><td>100%<\/td><td>—<\/td><td>0<\/td><td>0<\/td>/)
    expect(rates).toContain('<svg')
    // The volumes: the one case, on the day's channel, at the county, in its category, resolved.
    expect(/id="volume-total">([^<]*)/.exec(page)?.[1]).toBe("共 1 件")
    const table = (id: string) => page.slice(page.indexOf(`id="${id}"`), page.indexOf('</figure>', page.indexOf(`id="${id}"`)))
    expect(table('c-day')).toContain(`<th scope="row">${kase.channelId}</th><td>1</td>`)
    expect(table('c-office')).toMatch(/<th scope="row">[^<]*伽师[^<]*<\/th><td>1<\/td>/)
    expect(table('c-category')).toContain(`<th scope="row">${kase.category ?? '—'}</th><td>1</td>`)
    expect(table('c-status')).toContain('<th scope="row">已办结</th><td>1</td>')
    expect(table('c-status')).toContain('<th scope="row">已受理</th><td>0</td>')
    const other = await gw.signIn('shule.worker')
    const theirs = await (await other.get('/console/dashboard')).text()
    expect(theirs.slice(theirs.indexOf('id="rates"'))).not.toMatch(/伽师/)
  })

  it("a dispatched case is seen below; another county's caseworker gets 404 in the console and the API, and it is in none of their lists or counts", async () => {
    const kase = await setup()
    const lead = await gw.signIn('jiashi.lead')
    expect((await lead.post(`/console/cases/${kase.id}/dispatch`, { _csrf: lead.csrf, officeId: 'jiashi-bairen', note: '请巴仁镇核实' })).status).toBe(303)
    expect((await gw.intake.store.getCase(kase.id))?.officeId).toBe('jiashi-bairen')

    const town = await gw.signIn('bairen.worker')
    expect((await town.get(`/console/cases/${kase.id}`)).status).toBe(200)
    expect(await (await town.get('/console/cases')).text()).toContain(kase.trackingCode)

    const other = await gw.signIn('shule.worker')
    expect((await other.get(`/console/cases/${kase.id}`)).status).toBe(404)
    expect((await other.post(`/console/cases/${kase.id}/reply`, { _csrf: other.csrf, text: '越权' })).status).toBe(404)
    const theirList = await (await other.get('/console/cases')).text()
    expect(theirList).not.toContain(kase.trackingCode)
    expect(theirList).toMatch(/共 0 件/)
    expect(await (await other.get('/console/dashboard')).text()).toMatch(/id="volume-total">共 0 件/)
    const api = await gw.intake.app.request(`${BASE}/api/v1/cases/${kase.id}`, { headers: { authorization: `Bearer ${gw.tokens['shule.worker']}` } })
    expect(api.status).toBe(404)
  })

  it('a supervisor sees an overdue case in the subtree and adds a supervision note', async () => {
    const kase = await setup()
    clock = kase.deadlineAt! + 60_000
    const sup = await gw.signIn('kashgar.supervisor')
    const page = await (await sup.get('/console/supervision')).text()
    expect(page).toContain(kase.trackingCode)
    const before = (await gw.intake.store.getCase(kase.id))!.deadlineAt!
    expect((await sup.post(`/console/cases/${kase.id}/supervise`, { _csrf: sup.csrf, text: '请于今日内答复群众。', within: '1' })).status).toBe(303)
    const note = (await gw.intake.store.listEvents(kase.id)).find((e) => e.type === 'supervision_note')
    expect(note).toMatchObject({ actor: 'kashgar.supervisor', data: { officeId: 'kashgar', note: '请于今日内答复群众。' } })
    // Through the lifecycle: a new deadline one working day from now, on the record and on the case.
    const after = (await gw.intake.store.getCase(kase.id))!.deadlineAt!
    expect(after).not.toBe(before)
    expect(after).toBe(note!.data.deadlineAt)
    expect((await gw.intake.store.listEvents(kase.id)).some((e) => e.type === 'deadline_set' && e.data.reason === 'supervision')).toBe(true)
    // A caseworker has no supervision page.
    const worker = await gw.signIn('jiashi.worker')
    expect((await worker.get('/console/supervision')).status).toBe(403)
  })

  it('bad input: forged cookie, missing CSRF, a lead action by a caseworker, an over-long reply, a disabled user — each a 4xx, nothing changed', async () => {
    const kase = await setup()
    const before = await counts(kase.id)
    const me = await gw.signIn('jiashi.worker')

    const forged = await gw.intake.app.request(`${BASE}/console/cases/${kase.id}/reply`, {
      method: 'POST',
      headers: { cookie: 'intake_console=forged-session-id-0000000000000000000000000', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: me.csrf, text: '伪造' }),
    })
    expect(forged.status).toBe(401)
    expect((await gw.intake.app.request(`${BASE}/console/cases/${kase.id}`, { headers: { cookie: 'intake_console=forged' } })).status).toBe(401)

    expect((await me.post(`/console/cases/${kase.id}/reply`, { text: '没有令牌' })).status).toBe(403)
    expect((await me.post(`/console/cases/${kase.id}/reply`, { _csrf: 'wrong', text: '错误令牌' })).status).toBe(403)
    expect((await me.post(`/console/cases/${kase.id}/dispatch`, { _csrf: me.csrf, officeId: 'jiashi-bairen' })).status).toBe(403)
    const long = await me.post(`/console/cases/${kase.id}/reply`, { _csrf: me.csrf, text: '长'.repeat(4001) })
    expect(long.status).toBe(400)
    expect(await long.text()).toContain('最多 4000 字')
    expect(await counts(kase.id)).toEqual(before)

    await gw.intake.app.request(`${BASE}/api/v1/cases`, { headers: { authorization: `Bearer ${gw.tokens['jiashi.worker']}` } })
    const { setUserDisabled } = await import('@intake/core')
    await setUserDisabled(gw.intake.store, 'jiashi.worker', true, 'test', clock)
    expect((await me.get('/console/cases')).status).toBe(401)
    const api = await gw.intake.app.request(`${BASE}/api/v1/cases/${kase.id}/replies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.tokens['jiashi.worker']}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: '停用后' }),
    })
    expect(api.status).toBe(403)
    expect(await counts(kase.id)).toEqual(before)
  })

  it('sessions end when idle, at their absolute end and at sign-out; sign-in is throttled per account with Retry-After', async () => {
    await setup()
    const me = await gw.signIn('jiashi.worker')
    clock += 29 * 60_000
    expect((await me.get('/console/cases')).status).toBe(200)
    clock += 31 * 60_000
    expect((await me.get('/console/cases')).status).toBe(401)

    // Active every 29 minutes, it still ends at 12 hours.
    const again = await gw.signIn('jiashi.worker')
    const started = clock
    while ((await again.get('/console/cases')).status === 200 && clock - started < 24 * 3_600_000) clock += 29 * 60_000
    expect(clock - started).toBeGreaterThanOrEqual(12 * 3_600_000)
    expect(clock - started).toBeLessThan(12 * 3_600_000 + 29 * 60_000)

    const third = await gw.signIn('jiashi.worker')
    expect((await third.post('/console/sign-out', { _csrf: third.csrf })).status).toBe(303)
    expect((await third.get('/console/cases')).status).toBe(401)

    const first = await gw.intake.app.request(`${BASE}/console/sign-in`)
    const cookie = first.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await first.text())![1]!
    const attempt = () =>
      gw.intake.app.request(`${BASE}/console/sign-in`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, login: 'shule.worker', password: 'not-the-password' }),
      })
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await attempt()).status)
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429])
    const blocked = await attempt()
    expect(blocked.status).toBe(429)
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)
    // The right password does not get through while the account is blocked.
    const right = await gw.intake.app.request(`${BASE}/console/sign-in`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, login: 'shule.worker', password: 'demo-password-2026' }),
    })
    expect(right.status).toBe(429)
  })

  it('sign-in is throttled per client address on failures only: a whole office signing in from one address is not locked out, guessing across accounts is', async () => {
    gw = await consoleGateway({ signInLimits: { perAddress: { points: 3, durationMs: 60_000, blockMs: 60_000 } } }, { now })
    // Five people of one office sign in from the same address (app.request has no socket: one address for all).
    for (const login of ['jiashi.worker', 'jiashi.lead', 'bairen.worker', 'shule.worker', 'kashgar.supervisor']) await gw.signIn(login)
    const first = await gw.intake.app.request(`${BASE}/console/sign-in`)
    const cookie = first.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await first.text())![1]!
    const attempt = (login: string, password: string) =>
      gw.intake.app.request(`${BASE}/console/sign-in`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, login, password }),
      })
    // One wrong password per account (each account's own budget untouched), four accounts: the address is blocked.
    const statuses: number[] = []
    for (const login of ['jiashi.worker', 'jiashi.lead', 'bairen.worker', 'shule.worker', 'kashgar.supervisor']) statuses.push((await attempt(login, 'guess-2026')).status)
    expect(statuses).toEqual([401, 401, 401, 401, 429])
    const blocked = await attempt('jiashi.worker', STAFF_PASSWORD)
    expect(blocked.status).toBe(429)
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)
  })

  it('attachments are served through the case, only inside the scope; pages carry the security headers', async () => {
    await setup()
    const photo = pngImage(16, 9, [90, 140, 60])
    await gw.sms('+8613900000001', '伽师县巴仁镇 路面塌陷', { NumMedia: '1', MediaUrl0: gw.twilio.addMedia(photo, 'image/png'), MediaContentType0: 'image/png' })
    const kase = (await gw.intake.store.listCases({})).cases.find((k) => k.summary.includes('路面塌陷'))!
    const attachment = (await gw.intake.store.listMessages(kase.id)).flatMap((m) => m.attachments)[0]!
    const path = `/console/cases/${kase.id}/attachments/${attachment.id}`
    const mine = await gw.signIn(kase.officeId === 'jiashi' ? 'jiashi.worker' : 'bairen.worker')
    const page = await mine.get(`/console/cases/${kase.id}`)
    expect(await page.text()).toContain(path)
    const img = await mine.get(path)
    expect(img.status).toBe(200)
    expect(img.headers.get('content-type')).toBe('image/png')
    const served = new Uint8Array(await img.arrayBuffer())
    // The stored picture (photos are stored re-encoded): the same bytes as the blob, the same image as sent.
    expect(served).toEqual(await gw.intake.blobs.get(attachment.blobKey!))
    expect(await imageFacts(served)).toMatchObject({ format: 'png', width: 16, height: 9 })
    const other = await gw.signIn('shule.worker')
    expect((await other.get(path)).status).toBe(404)
    expect((await gw.intake.app.request(`${BASE}${path}`)).status).toBe(401)
    for (const res of [page, img]) {
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    }
  })
})
