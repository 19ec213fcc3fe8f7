/**
 * Event webhooks end to end: the demo gateway (in-process, in-memory SQLite) posting its case events
 * to real HTTP receivers (node:http servers started here), which check the signature with the same
 * code an integrator would use (`verifySignature`), and answer 200, 500, a redirect, or nothing.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { addUser, ConfigError, createIntake, issueToken, verifySignature, type IntakeConfig, type WebhookDelivery, type WebhookPayload } from '@intake/core'
import { webForm } from '@intake/channels/web-form'
import { sqliteStore } from '@intake/storage/sqlite'
import { postgresStore } from '@intake/storage/postgres'
import { createTestDatabase, dropTestDatabases, postgresSuite } from '@intake/storage/postgres/test-database'
import { demoRouting } from '../examples/county-hotline/routing.ts'
import { API_KEY, BASE, DEMO_DIR, demoGateway, type DemoGateway } from './support/gateway.ts'

const SECRET = 'receiver-secret-0123456789abcdef'
const FULL_SECRET = 'another-receiver-secret-98765432'
const PHONE = '13812341234'
const EMAIL = 'li.wei@example.com'

interface Received {
  headers: IncomingHttpHeaders
  body: string
  /** The test clock when it arrived: the signature's timestamp is checked against it. */
  at: number
}

/** A receiver on a free loopback port; `answer` decides each response (200 unless changed). */
async function startReceiver() {
  const received: Received[] = []
  const receiver = {
    received,
    url: '',
    answer: (res: ServerResponse, _n: number): void => void res.writeHead(200).end('{"ok":true}'),
    server: undefined as unknown as Server,
    payloads: () => received.map((r) => JSON.parse(r.body) as WebhookPayload),
    async close() {
      receiver.server.closeAllConnections()
      await new Promise<void>((resolve) => receiver.server.close(() => resolve()))
    },
  }
  receiver.server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: now() })
      receiver.answer(res, received.length)
    })
  })
  await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve))
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/intake-events`
  return receiver
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>

/** What the receiver's integrator writes: the signature over timestamp + raw body, with the subscription's secret. */
function verified(r: Received, secret: string): boolean {
  const headers = new Headers(Object.entries(r.headers).map(([k, v]): [string, string] => [k, String(v)]))
  return verifySignature([secret], headers, new TextEncoder().encode(r.body), r.at, 300).ok
}

let clock = Date.UTC(2025, 2, 3, 2, 0, 0)
const now = () => clock
const open: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  while (open.length) await open.pop()!.close()
})

async function gateway(webhooks: IntakeConfig['webhooks'], over: Partial<IntakeConfig> = {}): Promise<DemoGateway> {
  const g = await demoGateway({ webhooks: { baseDelayMs: 1_000, maxDelayMs: 5_000, pollMs: 60_000, ...webhooks }, ...over }, { now })
  open.push(g)
  return g
}
async function receiver(): Promise<Receiver> {
  const r = await startReceiver()
  open.push(r)
  return r
}

let seq = 0
/** A citizen's report through the api channel, with their contact details (and a street address when given). */
async function report(g: DemoGateway, text: string, place?: string) {
  const res = await g.sendApi({
    id: `m-${++seq}`,
    // A new sender each time: the same sender's next message would follow up their open case.
    from: { id: `+86139000000${seq}`, name: '李伟' },
    text,
    contact: { phone: PHONE, email: EMAIL, name: '李伟' },
    ...(place ? { place } : {}),
  })
  expect(res.status).toBe(201)
  const { results } = (await res.json()) as { results: Array<{ caseId: string }> }
  return (await g.intake.store.getCase(results[0]!.caseId))!
}

/** Work the webhook queue until nothing is due, moving the clock past each backoff. */
async function deliverAll(g: DemoGateway, rounds = 10) {
  for (let i = 0; i < rounds; i++) {
    await g.intake.webhooks.drain()
    clock += 60_000
  }
}

describe('event webhooks', () => {
  it('POSTs each event signed, in order per case, only for the office subtree, without the citizen’s contact unless allowed', async () => {
    const crm = await receiver()
    const full = await receiver()
    const g = await gateway({
      subscriptions: [
        { id: 'jiashi-crm', url: crm.url, secret: SECRET, events: ['case.created', 'case.routed', 'case.accepted', 'case.answered', 'case.resolved'], officeId: 'jiashi' },
        { id: 'records', url: full.url, secret: FULL_SECRET, events: ['case.created'], includeContact: true },
      ],
    })
    const jiashi = await report(g, '伽师县路灯不亮，晚上很危险', '伽师县幸福路12号')
    const city = await report(g, '喀什市东湖街道路灯不亮')
    expect(jiashi.officeId).toBe('jiashi')
    expect(city.officeId).not.toBe('jiashi')
    for (const step of ['accept']) expect((await g.api(`/cases/${jiashi.id}/${step}`, { method: 'POST', body: {} })).status).toBe(200)
    expect((await g.api(`/cases/${jiashi.id}/replies`, { method: 'POST', body: { text: '已安排维修，三天内修好。' } })).status).toBe(201)
    expect((await g.api(`/cases/${jiashi.id}/resolve`, { method: 'POST', body: {} })).status).toBe(200)
    await deliverAll(g, 2)

    // The office filter: the Kashgar City case never reaches the Jiashi subscriber.
    const payloads = crm.payloads()
    expect(payloads.every((p) => p.case.id === jiashi.id)).toBe(true)
    // In order, once each (a reply and its status change are one case.answered).
    expect(payloads.map((p) => p.type)).toEqual(['case.created', 'case.routed', 'case.accepted', 'case.answered', 'case.resolved'])
    expect(payloads.map((p) => p.eventId)).toEqual([...payloads.map((p) => p.eventId)].sort((a, b) => a - b))
    expect(payloads.at(-1)!.case.status).toBe('resolved')
    for (const r of crm.received) {
      expect(verified(r, SECRET)).toBe(true)
      // Another subscription's secret does not verify it: the signature is per subscription.
      expect(verified(r, FULL_SECRET)).toBe(false)
      const body = JSON.parse(r.body) as WebhookPayload
      expect(r.headers['idempotency-key']).toBe(body.id)
      expect(r.headers['x-intake-event']).toBe(body.type)
      expect(r.headers['x-intake-delivery']).toMatch(/\w+/)
      expect(r.headers['content-type']).toBe('application/json')
      // No contact, no name, no street address anywhere in the body.
      for (const secret of [PHONE, EMAIL, '李伟', '幸福路12号']) expect(r.body).not.toContain(secret)
      expect(body.case).not.toHaveProperty('contact')
      expect(body.case).not.toHaveProperty('citizen')
    }
    // A body tampered with in transit no longer verifies.
    expect(verified({ ...crm.received[0]!, body: crm.received[0]!.body.replace('case.created', 'case.closed') }, SECRET)).toBe(false)

    // The subscription allowed the contact gets it, for both offices' cases.
    const records = full.payloads()
    expect(records.map((p) => p.case.id).sort()).toEqual([jiashi.id, city.id].sort())
    expect(records.find((p) => p.case.id === jiashi.id)!.case.contact).toEqual({ phone: PHONE, email: EMAIL, name: '李伟' })
    expect(full.received.every((r) => verified(r, FULL_SECRET))).toBe(true)
  })

  it('retries a receiver that answers 500 with the same idempotency key, dead-letters it, holds the case’s later events back meanwhile, and delivers on a retry by API', async () => {
    const r = await receiver()
    r.answer = (res) => void res.writeHead(500).end('down for maintenance')
    const g = await gateway({ maxAttempts: 3 })
    const made = await g.api('/webhooks', { method: 'POST', body: { url: r.url, secret: SECRET, events: ['case.created', 'case.routed'] } })
    expect(made.status).toBe(201)
    const subscription = (await made.json()) as { id: string; secret?: string }
    expect(subscription.secret).toBeUndefined()

    const kase = await report(g, '伽师县路灯不亮')
    await deliverAll(g)
    const created = r.received.filter((x) => x.headers['x-intake-event'] === 'case.created')
    // Three attempts at case.created — same body, same key, a fresh valid signature each — and only then case.routed.
    expect(created).toHaveLength(3)
    expect(new Set(created.map((x) => x.headers['idempotency-key'])).size).toBe(1)
    expect(new Set(created.map((x) => x.body)).size).toBe(1)
    expect(created.map((x) => x.headers['x-intake-attempt'])).toEqual(['1', '2', '3'])
    expect(created.every((x) => verified(x, SECRET))).toBe(true)
    const firstRouted = r.received.findIndex((x) => x.headers['x-intake-event'] === 'case.routed')
    expect(firstRouted).toBeGreaterThan(r.received.lastIndexOf(created[2]!))

    const dead = (await (await g.api(`/webhooks/${subscription.id}/deliveries?status=dead`)).json()) as { deliveries: Array<WebhookDelivery & { payload: WebhookPayload }> }
    expect(dead.deliveries.map((d) => d.eventType).sort()).toEqual(['case.created', 'case.routed'])
    const deadCreated = dead.deliveries.find((d) => d.eventType === 'case.created')!
    expect(deadCreated).toMatchObject({ status: 'dead', attempts: 3, responseStatus: 500, caseId: kase.id })
    expect(deadCreated.lastError).toContain('500')

    r.answer = (res) => void res.writeHead(204).end()
    const retried = await g.api(`/webhooks/${subscription.id}/deliveries/${deadCreated.id}/retry`, { method: 'POST' })
    expect(retried.status).toBe(200)
    expect(await (await g.api(`/webhooks/${subscription.id}/deliveries/${deadCreated.id}/retry`, { method: 'POST' })).status).toBe(404)
    await deliverAll(g, 2)
    const last = r.received.at(-1)!
    expect(last.headers['x-intake-event']).toBe('case.created')
    expect(last.headers['idempotency-key']).toBe(created[0]!.headers['idempotency-key'])
    expect(last.body).toBe(created[0]!.body)
    const all = (await (await g.api(`/webhooks/${subscription.id}/deliveries`)).json()) as { deliveries: WebhookDelivery[] }
    expect(all.deliveries.find((d) => d.id === deadCreated.id)).toMatchObject({ status: 'delivered', responseStatus: 204 })
  })

  it('gives up on a receiver that hangs after the timeout and retries it', async () => {
    const r = await receiver()
    // The first request is read and never answered; the next ones are.
    r.answer = (res, n) => {
      if (n > 1) res.writeHead(200).end()
    }
    const g = await gateway({ timeoutMs: 300, subscriptions: [{ id: 'slow', url: r.url, secret: SECRET, events: ['case.created'] }] })
    await report(g, '伽师县路灯不亮')
    await deliverAll(g, 3)
    expect(r.received).toHaveLength(2)
    expect(r.received[1]!.headers['idempotency-key']).toBe(r.received[0]!.headers['idempotency-key'])
    const [delivery] = await g.intake.store.listWebhookDeliveries({ subscriptionId: 'slow' })
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 2, responseStatus: 200 })
    // The timeout was recorded as the first attempt's error before the second one succeeded.
    expect(g.lines.some((l) => l.includes('webhook retry scheduled') && l.includes('timeout'))).toBe(true)
  })

  it('does not follow a redirect: the delivery fails (and is retried, then dead-lettered) and the other URL hears nothing', async () => {
    const elsewhere = await receiver()
    const r = await receiver()
    r.answer = (res) => void res.writeHead(302, { location: elsewhere.url }).end()
    const g = await gateway({ maxAttempts: 2, subscriptions: [{ id: 'moved', url: r.url, secret: SECRET, events: ['case.created'] }] })
    await report(g, '伽师县路灯不亮')
    await deliverAll(g)
    expect(r.received).toHaveLength(2)
    expect(elsewhere.received).toHaveLength(0)
    const [delivery] = await g.intake.store.listWebhookDeliveries({ subscriptionId: 'moved' })
    expect(delivery).toMatchObject({ status: 'dead', attempts: 2, responseStatus: 302 })
    expect(delivery!.lastError).toContain('redirects are not followed')
  })

  it('refuses subscription URLs that are not http(s) or that point back at the gateway: at start for the config, 400 from the API', async () => {
    const r = await receiver()
    const g = await gateway({ subscriptions: [{ id: 'configured', url: r.url, secret: SECRET, events: ['case.created'] }] })
    const refused = async (url: string, extra: Record<string, unknown> = {}) => {
      const res = await g.api('/webhooks', { method: 'POST', body: { url, secret: SECRET, events: ['case.created'], ...extra } })
      return { status: res.status, error: ((await res.json()) as { error: { code: string; message: string } }).error }
    }
    for (const url of ['ftp://files.example.gov/in', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url', 'https://user:pw@crm.example.gov/hook']) {
      const { status, error } = await refused(url)
      expect(status, url).toBe(400)
      expect(error.code, url).toBe('invalid_url')
    }
    // The gateway's public URL (http://intake.test), and its own port (3000) on a loopback name.
    for (const url of ['http://intake.test/hooks', 'http://INTAKE.test:80/x', 'http://127.0.0.1:3000/api/v1/cases', 'http://localhost:3000/', 'http://[::1]:3000/']) {
      const { status, error } = await refused(url)
      expect(status, url).toBe(400)
      expect(error.message, url).toContain('this gateway')
    }
    expect((await refused('https://crm.example.gov/hook', { officeId: 'no-such-office' })).error.code).toBe('unknown_office')
    expect((await refused('https://crm.example.gov/hook', { events: ['case.exploded'] })).status).toBe(400)
    expect((await refused('https://crm.example.gov/hook', { secret: 'short' })).status).toBe(400)

    // Nothing refused was stored; the configured one is listed without its secret and cannot be removed by API.
    const list = (await (await g.api('/webhooks')).json()) as { subscriptions: Array<Record<string, unknown>> }
    expect(list.subscriptions).toEqual([expect.objectContaining({ id: 'configured', source: 'config', url: r.url })])
    expect(JSON.stringify(list)).not.toContain(SECRET)
    expect((await g.api('/webhooks/configured', { method: 'DELETE' })).status).toBe(409)
    const made = (await (await g.api('/webhooks', { method: 'POST', body: { url: 'https://crm.example.gov/hook', secret: SECRET, events: ['case.created'], officeId: 'jiashi' } })).json()) as { id: string }
    expect((await g.api(`/webhooks/${made.id}`)).status).toBe(200)
    expect((await g.api(`/webhooks/${made.id}`, { method: 'DELETE' })).status).toBe(204)
    expect((await g.api(`/webhooks/${made.id}`)).status).toBe(404)

    // The same URLs in the config stop the gateway from starting, each named.
    const bad = (url: string) => () =>
      createIntake(
        {
          store: sqliteStore({ file: ':memory:' }),
          offices: join(DEMO_DIR, 'offices.yaml'),
          channels: { web: webForm() },
          routing: demoRouting(),
          apiKeys: [API_KEY],
          server: { publicUrl: BASE },
          webhooks: { subscriptions: [{ id: 'bad', url, secret: SECRET, events: ['case.created'] }] },
        },
        { env: {} },
      )
    expect(bad('ftp://files.example.gov/in')).toThrow(ConfigError)
    expect(bad('ftp://files.example.gov/in')).toThrow(/webhooks\.subscriptions\[0\] \(bad\)\.url: only http and https/)
    expect(bad('http://intake.test/hooks')).toThrow(/this gateway's public URL/)
    expect(bad('http://localhost:3000/hooks')).toThrow(/this gateway itself/)
  })

  it('is for administrators: a caseworker or an integration gets 403; an office’s administrator sees and makes only subscriptions inside its subtree', async () => {
    const g = await gateway({ subscriptions: [{ id: 'everything', url: 'https://archive.example.gov/in', secret: SECRET, events: ['case.created'] }] })
    const { store, offices } = g.intake
    await addUser(store, offices, { login: 'jiashi.admin', name: 'a', officeId: 'jiashi', role: 'admin', password: 'a-long-password-1' }, 'test', 1)
    await addUser(store, offices, { login: 'jiashi.worker', name: 'w', officeId: 'jiashi', role: 'caseworker', password: 'a-long-password-1' }, 'test', 1)
    const token = {
      admin: (await issueToken(store, { userId: 'jiashi.admin' }, 'test', 1, 't-admin')).secret,
      worker: (await issueToken(store, { userId: 'jiashi.worker' }, 'test', 1, 't-worker')).secret,
      integration: (await issueToken(store, { integration: 'crm', scopes: ['read', 'reply', 'dispatch'], officeId: null }, 'test', 1, 't-int')).secret,
    }
    const call = (who: keyof typeof token, path: string, body?: unknown) =>
      g.intake.app.request(`${BASE}/api/v1${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${token[who]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    const subscription = { url: 'https://crm.example.gov/hook', secret: SECRET, events: ['case.created'] }
    for (const who of ['worker', 'integration'] as const) {
      expect((await call(who, '/webhooks')).status, who).toBe(403)
      expect((await call(who, '/webhooks', { ...subscription, officeId: 'jiashi' })).status, who).toBe(403)
    }
    // The deployment-wide subscription (no office filter) is not the Jiashi administrator's to see or to make.
    expect(((await (await call('admin', '/webhooks')).json()) as { subscriptions: unknown[] }).subscriptions).toEqual([])
    expect((await call('admin', '/webhooks/everything')).status).toBe(404)
    expect((await call('admin', '/webhooks', subscription)).status).toBe(403)
    expect((await call('admin', '/webhooks', { ...subscription, officeId: 'kashgar-city' })).status).toBe(403)
    const made = await call('admin', '/webhooks', { ...subscription, officeId: 'jiashi' })
    expect(made.status).toBe(201)
    expect(await made.json()).toMatchObject({ officeId: 'jiashi', source: 'api', createdBy: 'jiashi.admin', includeContact: false })
    expect(((await (await call('admin', '/webhooks')).json()) as { subscriptions: Array<{ officeId: string }> }).subscriptions.map((x) => x.officeId)).toEqual(['jiashi'])
  })
})

afterAll(async () => {
  await dropTestDatabases()
}, 60_000)

await postgresSuite(describe, it, 'event webhooks with two gateways on one PostgreSQL database', () => {
  it('queues and sends each event once, in order per case, when both gateways work the feed and the deliveries at the same time', async () => {
    const r = await receiver()
    const url = await createTestDatabase()
    const webhooks = { subscriptions: [{ id: 'shared', url: r.url, secret: SECRET, events: ['case.created' as const, 'case.routed' as const, 'case.accepted' as const] }] }
    // Two gateways, each with its own connection pool, as two processes would have.
    const a = await gateway(webhooks, { store: postgresStore({ url }) })
    const b = await gateway(webhooks, { store: postgresStore({ url }) })
    const cases = []
    for (let i = 0; i < 6; i++) cases.push(await report(i % 2 ? a : b, `伽师县路灯不亮 第${i + 1}盏`))
    for (const kase of cases) expect((await (cases.indexOf(kase) % 2 ? b : a).api(`/cases/${kase.id}/accept`, { method: 'POST', body: {} })).status).toBe(200)
    for (let round = 0; round < 3; round++) await Promise.all([a.intake.webhooks.drain(), b.intake.webhooks.drain()])

    const keys = r.received.map((x) => x.headers['idempotency-key'])
    expect(keys).toHaveLength(cases.length * 3)
    expect(new Set(keys).size).toBe(keys.length)
    for (const kase of cases) {
      const mine = r.payloads().filter((p) => p.case.id === kase.id)
      expect(mine.map((p) => p.type)).toEqual(['case.created', 'case.routed', 'case.accepted'])
    }
    expect(r.received.every((x) => verified(x, SECRET))).toBe(true)
  })
})
