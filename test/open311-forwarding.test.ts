/**
 * An office whose work is done in another system (a city's Open311 GeoReport v2 endpoint): its cases
 * are POSTed there through the outbox, the id the city gives is kept, and what the city does comes
 * back to the citizen on their own channel. The city here is a second Intake gateway with the
 * Open311 server, over real HTTP.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createIntake, createLogger, memoryBlobStore, type Intake, type OfficeInput, type RoutingStrategy } from '@intake/core'
import { apiChannel, signRequest } from '@intake/channels/api'
import { startCallbackServer, type CallbackServer } from '@intake/channels/api/callback-server'
import { open311Server } from '@intake/channels/open311'
import { open311Sender, type Open311SenderOptions } from '@intake/channels/open311-sender'
import { sqliteStore } from '@intake/storage/sqlite'

const CITY_KEY = 'city-open311-key-0123456789'
const COUNTY_KEY = 'county-api-key-0123456789'
const SECRET = 'county-kiosk-secret-0123456789'
const BASE = 'http://county.test'
const quiet = () => createLogger({ level: 'error', sink: () => {} })

/** The office whose remit lists the category (the city) / pothole words → the roads office (the county). */
const byRemit: RoutingStrategy = Object.assign(
  async function byRemit(draft: Parameters<RoutingStrategy>[0], ctx: Parameters<RoutingStrategy>[1]) {
    const category = draft.category ?? (/pothole/i.test(draft.text) ? 'potholes' : undefined)
    const office = ctx.offices.all.find((o) => category && o.remit.includes(category))
    return office ? { officeId: office.id, strategy: 'remit', reason: `${category} → ${office.name}`, confidence: 1, category } : undefined
  },
  { categories: ['potholes'] },
)

interface City {
  intake: Intake
  endpoint: string
  /** Answer every request with this status instead of passing it on (an outage), or undefined. */
  failWith: number | undefined
  requests: number
  close(): Promise<void>
}

async function startCity(): Promise<City> {
  const intake = createIntake(
    {
      store: sqliteStore({ file: ':memory:' }),
      offices: [
        { id: 'city', name: 'City Hall', names: { en: 'City Hall' } },
        { id: 'city-desk', name: 'City 311 Desk', parentId: 'city', intakeDesk: true },
        { id: 'streets', name: 'Streets Department', names: { en: 'Streets Department' }, parentId: 'city', remit: ['potholes'] },
      ],
      channels: { open311: open311Server({ categories: [{ id: 'potholes', names: { en: 'Potholes' } }] }) },
      routing: [byRemit],
      apiKeys: [CITY_KEY],
      blobs: memoryBlobStore(),
      server: { publicUrl: 'http://city.test' },
      locale: 'en',
    },
    { env: {}, log: quiet() },
  )
  await intake.start()
  const listener = getRequestListener(intake.app.fetch)
  const city: City = { intake, endpoint: '', failWith: undefined, requests: 0, close: async () => {} }
  const server: Server = createServer((req, res) => {
    city.requests++
    if (city.failWith !== undefined) {
      res.writeHead(city.failWith, { 'content-type': 'application/json' }).end(JSON.stringify([{ code: city.failWith, description: 'the CRM is down' }]))
      return
    }
    void listener(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  city.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/open311/v2`
  city.close = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await intake.stop()
    await intake.store.close()
  }
  return city
}

const COUNTY_OFFICES: OfficeInput[] = [
  { id: 'county', name: 'County', names: { en: 'County' } },
  { id: 'desk', name: 'Hotline Desk', parentId: 'county', intakeDesk: true },
  { id: 'roads', name: 'Roads (city-run)', names: { en: 'Roads (city-run)' }, parentId: 'county', remit: ['potholes'], forwardTo: 'city-311' },
]

async function startCounty(sender: Open311SenderOptions, callback: CallbackServer, maxAttempts = 8) {
  const intake = createIntake(
    {
      store: sqliteStore({ file: ':memory:' }),
      offices: COUNTY_OFFICES,
      channels: { kiosk: apiChannel({ secret: SECRET, callbackUrl: callback.url }), 'city-311': open311Sender(sender) },
      routing: [byRemit],
      apiKeys: [COUNTY_KEY],
      blobs: memoryBlobStore(),
      server: { publicUrl: BASE },
      outbox: { baseDelayMs: 1, maxDelayMs: 5, pollMs: 60_000, maxAttempts },
      locale: 'en',
    },
    { env: {}, log: quiet() },
  )
  await intake.start()
  return intake
}

const citizenWrites = (county: Intake, id = 'kiosk-1', text = 'A deep pothole outside number 12, the bus swerves around it') => {
  const body = JSON.stringify({ id, from: { id: 'resident-42', name: 'Ana Silva' }, text, place: 'Elm Street 12', contact: { email: 'ana@example.org', name: 'Ana Silva' } })
  return Promise.resolve(county.app.request(`${BASE}/channels/kiosk/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...signRequest(SECRET, body) }, body }))
}

const cityStaff = (city: City, caseId: string, path: string, body: unknown) =>
  Promise.resolve(
    city.intake.app.request(`http://city.test/api/v1/cases/${caseId}/${path}`, { method: 'POST', headers: { 'x-api-key': CITY_KEY, 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  )

describe('forwarding an office’s cases to an Open311 endpoint', () => {
  let city: City
  let callback: CallbackServer
  let county: Intake | undefined
  beforeEach(async () => {
    city = await startCity()
    callback = await startCallbackServer()
  })
  afterEach(async () => {
    await county?.stop()
    await county?.store.close()
    county = undefined
    await callback.close()
    await city.close()
  })
  const texts = () => callback.received.map((r) => JSON.parse(r.body) as { kind: string; text: string })
  /** One poll of the city, then every delivery it caused. */
  const readBack = async () => {
    await county!.forwarding!.drain()
    await county!.outbox.drain()
  }

  it('posts the case to the city, keeps its service_request_id, and brings the city’s reply and resolution to the citizen', async () => {
    county = await startCounty({ endpoint: city.endpoint, apiKey: CITY_KEY, serviceCodes: { potholes: 'potholes' } }, callback)
    const res = await citizenWrites(county)
    expect(res.status).toBe(201)
    const [result] = ((await res.json()) as { results: Array<{ caseId: string; trackingCode: string }> }).results
    await county.outbox.drain()

    // The city has it, as its own case, routed to its streets department, with the citizen's words and place.
    const [atCity] = (await city.intake.store.listCases({})).cases
    expect(atCity).toMatchObject({ category: 'potholes', officeId: 'streets', place: 'Elm Street 12', contact: { email: 'ana@example.org', name: 'Ana Silva' } })
    expect((await city.intake.store.listMessages(atCity!.id))[0]!.text).toContain('A deep pothole outside number 12')
    // The county keeps the city's id, and says so on the record.
    expect(await county.store.externalLinksOf(result!.caseId)).toEqual([expect.objectContaining({ channelId: 'city-311', externalId: atCity!.trackingCode })])
    expect((await county.store.listEvents(result!.caseId)).find((e) => e.type === 'forwarded')?.data).toEqual({ channelId: 'city-311', externalId: atCity!.trackingCode })
    expect(texts().map((t) => t.kind)).toEqual(['acknowledgement'])

    // Nothing new at the city: nothing reaches the citizen.
    await readBack()
    expect(callback.received).toHaveLength(1)

    // The city's streets department answers publicly: the citizen hears it on the kiosk, once.
    expect((await cityStaff(city, atCity!.id, 'replies', { text: 'A crew fills the pothole on Tuesday.' })).status).toBeLessThan(300)
    await readBack()
    expect(texts().at(-1)).toMatchObject({ kind: 'reply' })
    expect(texts().at(-1)!.text).toContain('A crew fills the pothole on Tuesday.')
    expect((await county.store.getCase(result!.caseId))!.status).toBe('replied')
    await readBack()
    expect(callback.received).toHaveLength(2)

    // The city resolves it: so does the county, and the citizen is told.
    expect((await cityStaff(city, atCity!.id, 'status', { status: 'resolved' })).status).toBeLessThan(300)
    await readBack()
    const kase = (await county.store.getCase(result!.caseId))!
    expect(kase.status).toBe('resolved')
    expect(texts().at(-1)!.kind).toBe('notice')
    const updates = (await county.store.listEvents(kase.id)).filter((e) => e.type === 'external_update')
    expect(updates.map((e) => [e.actor, e.data.status, e.data.notes])).toEqual([
      ['channel:city-311', 'open', undefined],
      ['channel:city-311', 'open', 'A crew fills the pothole on Tuesday.'],
      ['channel:city-311', 'closed', 'A crew fills the pothole on Tuesday.'],
    ])
    // A resolved case is no longer asked about.
    expect(await county.store.listExternalLinks('city-311', 10)).toEqual([])
  })

  it('retries while the city is down, dead-letters after the last attempt, and a retry by staff makes one request there', async () => {
    county = await startCounty({ endpoint: city.endpoint, apiKey: CITY_KEY, serviceCodes: { potholes: 'potholes' } }, callback, 3)
    city.failWith = 503
    const [result] = ((await (await citizenWrites(county)).json()) as { results: Array<{ caseId: string }> }).results
    // Retries are due a few milliseconds apart: deliver until the row gives up, within a deadline.
    const deadline = Date.now() + 10_000
    let [dead] = await county.store.listOutbox({ status: 'dead', caseId: result!.caseId })
    while (!dead && Date.now() < deadline) {
      await county.outbox.drain()
      ;[dead] = await county.store.listOutbox({ status: 'dead', caseId: result!.caseId })
    }
    expect(dead).toMatchObject({ channelId: 'city-311', attempts: 3 })
    expect(dead!.lastError).toContain('the CRM is down')
    expect(city.requests).toBe(3)
    expect(await county.store.externalLinksOf(result!.caseId)).toEqual([])

    city.failWith = undefined
    const retried = await Promise.resolve(county.app.request(`${BASE}/api/v1/outbox/${dead!.id}/retry`, { method: 'POST', headers: { 'x-api-key': COUNTY_KEY } }))
    expect(retried.status).toBeLessThan(300)
    await county.outbox.drain()
    expect((await city.intake.store.listCases({})).cases).toHaveLength(1)
    expect(await county.store.externalLinksOf(result!.caseId)).toHaveLength(1)
  })

  it('gives up at once on a key the city refuses, saying why', async () => {
    county = await startCounty({ endpoint: city.endpoint, apiKey: 'not-the-city-key-000000', serviceCodes: { potholes: 'potholes' } }, callback)
    const [result] = ((await (await citizenWrites(county)).json()) as { results: Array<{ caseId: string }> }).results
    await county.outbox.drain()
    const [dead] = await county.store.listOutbox({ status: 'dead', caseId: result!.caseId })
    expect(dead!.attempts).toBe(1)
    expect(dead!.lastError).toMatch(/^config: .*403.*api_key/)
    expect((await city.intake.store.listCases({})).cases).toHaveLength(0)
  })

  it('makes one request at the city when a forward is sent twice with its idempotency key (an answer lost on the way back)', async () => {
    county = await startCounty({ endpoint: city.endpoint, apiKey: CITY_KEY, serviceCodes: { potholes: 'potholes' } }, callback)
    const sender = county.config.channels['city-311']!
    const forward = { trackingCode: 'K7F3-9Q28', category: 'potholes', description: 'Pothole', subject: null, place: 'Elm Street 12', placeCode: null, contact: null, createdAt: Date.now() }
    const msg = { id: 'm-1', caseId: 'c-1', channelId: 'city-311', to: { channelId: 'city-311', id: 'roads' }, kind: 'forward' as const, text: 'forward', trackingCode: 'K7F3-9Q28', statusUrl: `${BASE}/status/K7F3-9Q28`, language: 'en', forward }
    const ctx = { channelId: 'city-311', idempotencyKey: 'intake-out-1', attempt: 1, log: quiet(), publicUrl: BASE, blobs: memoryBlobStore() }
    const first = await sender.send(msg, ctx)
    const second = await sender.send(msg, { ...ctx, attempt: 2 })
    expect(first).toMatchObject({ ok: true })
    expect(second).toEqual(first)
    expect((await city.intake.store.listCases({})).cases).toHaveLength(1)
    // A category the city has no code for is refused before anything is sent.
    const unmapped = await sender.send({ ...msg, forward: { ...forward, category: 'noise' } }, ctx)
    expect(unmapped).toMatchObject({ ok: false, error: { code: 'rejected', retryable: false } })
  })

  it('refuses at start an office that forwards to a channel that is missing or does not forward', () => {
    const config = (channels: Record<string, ReturnType<typeof open311Server>>) => ({
      store: sqliteStore({ file: ':memory:' }),
      offices: COUNTY_OFFICES,
      channels,
      routing: [byRemit],
      apiKeys: [COUNTY_KEY],
    })
    expect(() => createIntake(config({ kiosk: open311Server() }), { env: {}, log: quiet() })).toThrow(/offices\[roads\]\.forwardTo: no channel "city-311"/)
    expect(() => createIntake(config({ 'city-311': open311Server() }), { env: {}, log: quiet() })).toThrow(/does not forward cases/)
  })
})
