/**
 * The spine end to end on the county-hotline demo: a citizen writes, the case is routed with its
 * reason, the acknowledgement goes back on the same channel, staff answer through the API, the
 * citizen follows up, and the status page tells the story. Plus every kind of bad input.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Case, CaseEvent, CaseMessage } from '@intake/core'
import { API_SECRET, API_KEY, BASE, demoGateway, type DemoGateway } from './support/gateway.ts'

let gw: DemoGateway
let clock: number
beforeEach(async () => {
  clock = Date.parse('2026-11-20T10:00:00+08:00')
  gw = await demoGateway({}, { now: () => clock })
})
afterEach(async () => {
  // Neither the API key nor the channel secret may ever be written to a log line.
  expect(gw.lines.filter((l) => l.includes(API_KEY) || l.includes(API_SECRET))).toEqual([])
  await gw.close()
})

const citizen = (over: Record<string, unknown> = {}) => ({
  id: `m-${Math.random().toString(36).slice(2)}`,
  from: { id: 'resident-7', name: '买买提' },
  text: '伽师县检察院：我们村的公益诉讼线索，河道被非法采砂破坏。',
  ...over,
})

async function open(over: Record<string, unknown> = {}) {
  const res = await gw.sendApi(citizen(over))
  expect(res.status).toBe(201)
  const { results } = (await res.json()) as { results: Array<{ caseId: string; trackingCode: string; followUp: boolean }> }
  return results[0]!
}

async function details(caseId: string) {
  const res = await gw.api(`/cases/${caseId}`)
  expect(res.status).toBe(200)
  return (await res.json()) as { case: Case; messages: CaseMessage[]; events: CaseEvent[] }
}

describe('a case through its life', () => {
  it('routes to the right office with its reason, and acknowledges on the same channel in Chinese', async () => {
    const { caseId, trackingCode } = await open()
    const { case: kase, events } = await details(caseId)
    expect(kase.officeId).toBe('jiashi-procuratorate')
    expect(kase.category).toBe('judicial')
    const routed = events.find((e) => e.type === 'routed')!
    expect(routed.data.reason).toMatch(/伽师/)
    expect(routed.data.confidence).toBeGreaterThan(0.5)
    expect((routed.data.trail as unknown[]).length).toBeGreaterThanOrEqual(2)
    // Five working days from a Friday morning is the next Friday.
    expect(kase.deadlineAt).toBe(Date.parse('2026-11-27T10:00:00+08:00'))

    await gw.intake.outbox.drain()
    expect(gw.callback.received).toHaveLength(1)
    const ack = JSON.parse(gw.callback.received[0]!.body)
    expect(ack.to).toBe('resident-7')
    expect(ack.text).toBe(
      `您好，您的诉求已收到，编号 ${trackingCode}，已转交伽师县人民检察院办理，我们会在这里告诉您进展。查询进度：${BASE}/status/${trackingCode}`,
    )
  })

  it('answers an English message in English', async () => {
    await open({ text: 'The street lights in Shule county have been broken for a month.' })
    await gw.intake.outbox.drain()
    const ack = JSON.parse(gw.callback.received[0]!.body)
    expect(ack.text).toMatch(/^Hello, we have received your message\. Your tracking code is [2-9A-Z]{4}-[2-9A-Z]{4}\. It has been passed to Shule County Government/)
  })

  it('sends what no rule can route to the intake desk, never nowhere', async () => {
    const { caseId } = await open({ text: '你好，请问一下。' })
    const { case: kase, events } = await details(caseId)
    expect(kase.officeId).toBe('kashgar-hotline')
    expect(events.find((e) => e.type === 'routed')!.data.strategy).toBe('intake-desk')
  })

  it('adds a follow-up with the tracking code to the same case from its citizen; anyone else citing it opens a related case', async () => {
    const first = await open()
    const own = await open({ text: `关于 ${first.trackingCode.toLowerCase()}，采砂船今天又来了` })
    expect(own).toMatchObject({ caseId: first.caseId, followUp: true })
    const stranger = await open({ from: { id: 'neighbour-9' }, text: `关于 ${first.trackingCode.toLowerCase()}，采砂船今天又来了` })
    expect(stranger.followUp).toBe(false)
    expect(stranger.caseId).not.toBe(first.caseId)
    const { messages, events } = await details(first.caseId)
    expect(messages.filter((m) => m.direction === 'in')).toHaveLength(2)
    expect(messages.some((m) => m.author === 'neighbour-9')).toBe(false)
    expect(events.map((e) => e.type)).toContain('follow_up')
    const related = (await details(stranger.caseId)).events.find((e) => e.type === 'related')
    expect(related).toMatchObject({ public: false, data: { caseId: first.caseId, trackingCode: first.trackingCode } })
  })

  it('joins messages from the same sender within the window, and opens a new case after it', async () => {
    const first = await open()
    clock += 2 * 3_600_000
    const again = await open({ text: '补充一张照片的说明：采砂点在村东头。' })
    expect(again.caseId).toBe(first.caseId)
    clock += 25 * 3_600_000
    const later = await open({ text: '另一件事：村里的路灯坏了。' })
    expect(later.caseId).not.toBe(first.caseId)
  })

  it('does not take a mistyped tracking code for another case', async () => {
    const first = await open()
    const c = first.trackingCode
    const typo = c.slice(0, 8) + (c[8] === '2' ? '3' : '2')
    const other = await open({ from: { id: 'someone-new' }, text: `我的编号是 ${typo}，路灯坏了` })
    expect(other.caseId).not.toBe(first.caseId)
    const { events } = await details(other.caseId)
    expect(events[0]!.type).toBe('received')
  })

  it('delivers a staff reply on the same channel, shows it on the status page, keeps internal notes internal', async () => {
    const { caseId, trackingCode } = await open()
    const note = await gw.api(`/cases/${caseId}/replies`, { method: 'POST', body: { text: '内部：请联系水利局核实', author: 'clerk-1', internal: true } })
    expect(note.status).toBe(201)
    const reply = await gw.api(`/cases/${caseId}/replies`, { method: 'POST', body: { text: '已派员现场核查，采砂船已被扣押。', author: 'clerk-1' } })
    expect(reply.status).toBe(201)
    await gw.intake.outbox.drain()
    const texts = gw.callback.received.map((r) => JSON.parse(r.body))
    expect(texts.map((t) => t.kind)).toEqual(['acknowledgement', 'reply'])
    expect(texts[1].text).toBe(`【伽师县人民检察院答复 ${trackingCode}】已派员现场核查，采砂船已被扣押。`)
    expect(texts.some((t) => t.text.includes('内部'))).toBe(false)

    const page = await (await gw.intake.app.request(`${BASE}/status/${trackingCode}?lang=zh`)).text()
    expect(page).toContain('已派员现场核查，采砂船已被扣押。')
    expect(page).toContain('已转交伽师县人民检察院办理')
    expect(page).toContain('已答复')
    expect(page).not.toContain('内部')
    expect(page).not.toContain('resident-7')
  })

  it('resolves a case, tells the citizen, and refuses impossible transitions', async () => {
    const { caseId } = await open()
    const bad = await gw.api(`/cases/${caseId}/status`, { method: 'POST', body: { status: 'closed', actor: 'clerk-1' } })
    expect(bad.status).toBe(409)
    const ok = await gw.api(`/cases/${caseId}/status`, { method: 'POST', body: { status: 'resolved', actor: 'clerk-1' } })
    expect(ok.status).toBe(200)
    expect(((await ok.json()) as Case).resolvedAt).toBe(clock)
    await gw.intake.outbox.drain()
    expect(JSON.parse(gw.callback.received.at(-1)!.body).text).toMatch(/已办结/)
  })

  it('reopens a resolved case when the citizen writes again with its code', async () => {
    const { caseId, trackingCode } = await open()
    await gw.api(`/cases/${caseId}/status`, { method: 'POST', body: { status: 'resolved', actor: 'clerk-1' } })
    await open({ text: `${trackingCode} 问题没有解决，采砂船又回来了` })
    const { case: kase } = await details(caseId)
    // 重办: back to the same office, accepted, counted.
    expect(kase).toMatchObject({ status: 'accepted', reopenCount: 1, resolvedAt: null })
  })
})

describe('staff API', () => {
  it('refuses requests without the right key', async () => {
    expect((await gw.intake.app.request(`${BASE}/api/v1/cases`)).status).toBe(401)
    expect((await gw.intake.app.request(`${BASE}/api/v1/cases`, { headers: { 'x-api-key': 'wrong-key-0000000000' } })).status).toBe(401)
    expect((await gw.intake.app.request(`${BASE}/api/v1/cases`, { headers: { authorization: `Bearer ${API_KEY}` } })).status).toBe(200)
  })

  it('lists and filters cases, pages with a cursor, and finds overdue ones', async () => {
    for (let i = 0; i < 7; i++) await open({ from: { id: `r-${i}` }, text: i % 2 ? '疏勒县拖欠工资三个月了' : '莎车县的河里有排污，臭味很大' })
    const labour = (await (await gw.api('/cases?officeId=shule-labour')).json()) as { cases: Case[] }
    expect(labour.cases).toHaveLength(3)
    const env = (await (await gw.api('/cases?category=environment')).json()) as { cases: Case[] }
    expect(env.cases.every((c) => c.officeId === 'shache-environment')).toBe(true)
    const page1 = (await (await gw.api('/cases?limit=4')).json()) as { cases: Case[]; nextCursor?: string }
    const page2 = (await (await gw.api(`/cases?limit=4&cursor=${page1.nextCursor}`)).json()) as { cases: Case[]; nextCursor?: string }
    expect(new Set([...page1.cases, ...page2.cases].map((c) => c.id)).size).toBe(7)
    expect(page2.nextCursor).toBeUndefined()
    expect(((await (await gw.api('/cases?overdue=true')).json()) as { cases: Case[] }).cases).toHaveLength(0)
    clock += 10 * 86_400_000
    expect(((await (await gw.api('/cases?overdue=true')).json()) as { cases: Case[] }).cases).toHaveLength(7)
  })

  it('finds a case by tracking code and tells a mistyped code from a missing one', async () => {
    const { trackingCode, caseId } = await open()
    expect(((await (await gw.api(`/cases/by-tracking-code/${trackingCode.toLowerCase()}`)).json()) as Case).id).toBe(caseId)
    const typo = trackingCode.slice(0, 8) + (trackingCode[8] === '2' ? '3' : '2')
    const mistyped = await gw.api(`/cases/by-tracking-code/${typo}`)
    expect(mistyped.status).toBe(400)
    expect(await mistyped.json()).toMatchObject({ error: { code: 'tracking_code_check_mismatch' } })
    expect((await gw.api('/cases/by-tracking-code/2222-2222')).status).toBe(404)
  })

  it('lists the office tree', async () => {
    const { offices } = (await (await gw.api('/offices')).json()) as { offices: Array<{ id: string }> }
    expect(offices.map((o) => o.id)).toContain('jiashi-procuratorate')
  })

  it('publishes an OpenAPI document generated from the schemas, and a reference page', async () => {
    const doc = (await (await gw.intake.app.request(`${BASE}/api/v1/openapi.json`)).json()) as {
      openapi: string
      paths: Record<string, unknown>
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> }
    }
    expect(doc.openapi).toBe('3.0.3')
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/cases', '/cases/{id}', '/cases/{id}/replies', '/outbox/{id}/retry', '/webhooks', '/webhooks/{id}/deliveries/{deliveryId}/retry']))
    expect(Object.keys(doc.components.schemas.Case!.properties!)).toEqual(expect.arrayContaining(['trackingCode', 'officeId', 'deadlineAt']))
    const page = await gw.intake.app.request(`${BASE}/api/v1/docs`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('/cases/{id}/replies')
  })

  it('reports health and readiness', async () => {
    expect((await gw.intake.app.request(`${BASE}/healthz`)).status).toBe(200)
    expect(await (await gw.intake.app.request(`${BASE}/readyz`)).json()).toEqual({ ok: true, store: 'sqlite' })
    await gw.intake.outbox.stop()
    expect((await gw.intake.app.request(`${BASE}/readyz`)).status).toBe(503)
  })

  it('tags every response with a request id and logs it as JSON', async () => {
    const res = await gw.intake.app.request(`${BASE}/healthz`, { headers: { 'x-request-id': 'req-abc' } })
    expect(res.headers.get('x-request-id')).toBe('req-abc')
    const line = gw.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.requestId === 'req-abc')
    expect(line).toMatchObject({ msg: 'request', path: '/healthz', status: 200 })
  })
})

describe('bad input gets a clear 4xx, never a 500, and nothing is lost', () => {
  const casesCount = async () => (await gw.intake.store.listCases({ limit: 500 })).cases.length

  it('a 10 MB body → 413 on the api channel, the web form and the staff API', async () => {
    const big = 'x'.repeat(10 * 1024 * 1024)
    const channel = await gw.intake.app.request(`${BASE}/channels/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big })
    expect(channel.status).toBe(413)
    const form = await gw.intake.app.request(`${BASE}/channels/web/submit`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: big + big })
    expect(form.status).toBe(413)
    const staff = await gw.intake.app.request(`${BASE}/api/v1/cases/x/replies`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': API_KEY }, body: big })
    expect(staff.status).toBe(413)
    expect(await casesCount()).toBe(0)
  })

  it('an unknown channel id → 404', async () => {
    const res = await gw.intake.app.request(`${BASE}/channels/fax/messages`, { method: 'POST', body: '{}' })
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ error: { code: 'unknown_channel' } })
  })

  it('a forged signature → 401, nothing stored, counted', async () => {
    const res = await gw.sendApi(citizen(), { secret: 'forged-secret-000000000' })
    expect(res.status).toBe(401)
    expect(await casesCount()).toBe(0)
    expect(gw.intake.metrics.get('inbound_rejected', { channelId: 'api', code: 'bad_signature' })).toBe(1)
  })

  it('a replayed signed request: inside the window it is the same message (one case), outside it is refused', async () => {
    const body = citizen({ id: 'replay-1' })
    expect((await gw.sendApi(body)).status).toBe(201)
    const again = await gw.sendApi(body)
    expect(again.status).toBe(200)
    expect(((await again.json()) as { results: Array<{ duplicate: boolean }> }).results[0]!.duplicate).toBe(true)
    expect((await gw.sendApi(body, { at: clock - 3_600_000 })).status).toBe(401)
    expect(await casesCount()).toBe(1)
    await gw.intake.outbox.drain()
    expect(gw.callback.received).toHaveLength(1)
  })

  it('a tracking code that does not exist → 404 page; a mistyped one → 400 that says so', async () => {
    const { trackingCode } = await open()
    const missing = await gw.intake.app.request(`${BASE}/status/2222-2222?lang=en`)
    expect(missing.status).toBe(404)
    expect(await missing.text()).toContain('No case has that tracking code')
    const typo = trackingCode.slice(0, 8) + (trackingCode[8] === '2' ? '3' : '2')
    const mistyped = await gw.intake.app.request(`${BASE}/status/${typo}?lang=en`)
    expect(mistyped.status).toBe(400)
    expect(await mistyped.text()).toContain('looks mistyped')
    expect((await gw.intake.app.request(`${BASE}/status/${encodeURIComponent('<script>')}`)).status).toBe(400)
  })

  it('HTML and script in the text are stored as text and rendered escaped', async () => {
    const evil = '<script>alert("x")</script><img src=x onerror=alert(1)> 莎车县'
    const { caseId, trackingCode } = await open({ text: evil })
    const { messages } = await details(caseId)
    expect(messages[0]!.text).toBe(evil)
    await gw.api(`/cases/${caseId}/replies`, { method: 'POST', body: { text: '<b>bold</b> reply', author: 'clerk' } })
    const page = await (await gw.intake.app.request(`${BASE}/status/${trackingCode}`)).text()
    expect(page).not.toContain('<b>bold</b>')
    expect(page).toContain('&lt;b&gt;bold&lt;/b&gt;')
    expect(page).not.toMatch(/<script>alert/)
  })

  it('emoji and 4-byte UTF-8 survive the round trip', async () => {
    const text = '𠮷野家门口 😀🚧 水管爆了 — 疏勒县'
    const { caseId } = await open({ text })
    expect((await details(caseId)).messages[0]!.text).toBe(text)
  })

  it('NUL bytes, control characters and lone surrogates are cleaned where every channel parses, not stored as they came', async () => {
    // JSON can carry all three: "\u0000", "\u001b", and half of a surrogate pair.
    const { caseId } = await open({ text: '疏勒县\u0000水管\u001b[31m爆了 \ud83d 😀', from: { id: 'resident\u0000-8', name: '阿\udc00依' } })
    const { messages } = await details(caseId)
    // The stored case (the API masks the citizen's address).
    const kase = (await gw.intake.store.getCase(caseId))!
    expect(messages[0]!.text).toBe('疏勒县水管[31m爆了 \ufffd 😀')
    expect(kase.citizen.id).toBe('resident-8')
    expect(kase.citizen.displayName).toBe('阿\ufffd依')
    expect(Buffer.from(messages[0]!.text, 'utf8').toString('utf8')).toBe(messages[0]!.text)
  })

  it('staff API: malformed JSON → 400, wrong content type → 415, missing fields → 400 naming them, unknown case → 404', async () => {
    // The author is the token's identity: a body naming someone else changes nothing (see the console tests).
    const { caseId } = await open()
    const url = `${BASE}/api/v1/cases/${caseId}/replies`
    const headers = { 'x-api-key': API_KEY }
    expect((await gw.intake.app.request(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"text":' })).status).toBe(400)
    expect((await gw.intake.app.request(url, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: 'hi' })).status).toBe(415)
    const missing = await gw.api(`/cases/${caseId}/replies`, { method: 'POST', body: { text: '' } })
    expect(missing.status).toBe(400)
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/^text:/)
    expect((await gw.api('/cases/nope/replies', { method: 'POST', body: { text: 'x', author: 'y' } })).status).toBe(404)
    expect((await gw.api('/cases?status=lost')).status).toBe(400)
    expect((await gw.api('/cases?cursor=garbage!!')).status).toBe(400)
  })
})
