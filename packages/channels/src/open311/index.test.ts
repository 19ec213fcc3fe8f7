import { readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createIntake, createLogger, memoryBlobStore, type Intake, type OfficeInput, type RoutingStrategy } from '@intake/core'
import { sqliteStore } from '@intake/storage/sqlite'
import { apiChannel } from '../api/index.ts'
import { KIT_API_KEY, testChannel } from '../kit/index.ts'
import { open311Server, type Open311Category } from './index.ts'
import { checkJson, checkXml, testOpen311Endpoint, xmlToJson } from './kit/index.ts'

const KEY = 'open311-test-key-0123456789'
const BASE = 'http://intake.test'
const fixture = (path: string) => readFileSync(new URL(`fixtures/${path}`, import.meta.url), 'utf8')

const CATEGORIES: Open311Category[] = [
  { id: 'streetlights', names: { en: 'Street lights', zh: '路灯' }, description: 'A street light that is out, flickering or damaged', phrases: ['street light', 'lamp post', '路灯'] },
  { id: 'potholes', names: { en: 'Potholes' }, description: 'Holes and broken surfaces on roads', phrases: ['pothole'] },
]
const OFFICES: OfficeInput[] = [
  { id: 'city', name: '市政府', names: { en: 'City Hall' } },
  { id: 'desk', name: 'Intake Desk', names: { en: 'Intake Desk' }, parentId: 'city', intakeDesk: true },
  { id: 'lighting', name: '路灯管理所', names: { en: 'Lighting Office' }, parentId: 'city', remit: ['streetlights'] },
  { id: 'roads', name: '道路养护处', names: { en: 'Roads Department' }, parentId: 'city', remit: ['potholes', 'sidewalks'] },
]

/** The office whose remit lists the case's category (what byCategory does once it has a place). */
const byRemit: RoutingStrategy = Object.assign(
  async function byRemit(draft: Parameters<RoutingStrategy>[0], ctx: Parameters<RoutingStrategy>[1]) {
    const office = ctx.offices.all.find((o) => draft.category && o.remit.includes(draft.category))
    return office ? { officeId: office.id, strategy: 'remit', reason: `service ${draft.category} → ${office.name}`, confidence: 1, category: draft.category } : undefined
  },
  { categories: ['streetlights', 'potholes', 'sidewalks'] },
)

async function gateway(options: Parameters<typeof open311Server>[0] = {}) {
  const intake = createIntake(
    {
      store: sqliteStore({ file: ':memory:' }),
      offices: OFFICES,
      channels: { open311: open311Server({ categories: CATEGORIES, ...options }), kiosk: apiChannel({ secret: 'kiosk-secret-0123456789' }) },
      routing: [byRemit],
      apiKeys: [KEY],
      blobs: memoryBlobStore(),
      server: { publicUrl: BASE },
      outbox: { baseDelayMs: 1, maxDelayMs: 5, pollMs: 60_000 },
      locale: 'en',
    },
    { log: createLogger({ level: 'error', sink: () => {} }), env: {} },
  )
  await intake.start()
  return intake
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()
const postTo = (url: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  new Request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: form(fields) })

testChannel({
  name: 'open311',
  adapter: () => open311Server({ categories: CATEGORIES }),
  fixtures: {
    valid: [
      {
        name: 'a service request with an address',
        messages: 1,
        text: 'light out',
        request: (u) => postTo(`${u}/requests.json`, { api_key: KIT_API_KEY, service_code: 'streetlights', address_string: '8th Ave and Judah St', description: 'The light out on the corner' }),
      },
      {
        name: 'a service request with a point and contact, in XML',
        messages: 1,
        text: '路灯',
        request: (u) =>
          postTo(`${u}/requests.xml`, { api_key: KIT_API_KEY, service_code: 'streetlights', lat: '37.762221815', long: '-122.4651145', email: 'resident@example.org', first_name: 'Li', last_name: 'Wei', description: '路灯坏了' }),
      },
    ],
    forged: { name: 'a wrong api_key', request: (u) => postTo(`${u}/requests.json`, { api_key: 'not-the-key-000000', service_code: 'streetlights', address_string: 'Main St' }) },
    malformed: [
      { name: 'no service_code', status: 400, request: (u) => postTo(`${u}/requests.json`, { api_key: KIT_API_KEY, address_string: 'Main St' }) },
      { name: 'an unknown service_code', status: 404, request: (u) => postTo(`${u}/requests.json`, { api_key: KIT_API_KEY, service_code: 'graffiti', address_string: 'Main St' }) },
      { name: 'lat without long', status: 400, request: (u) => postTo(`${u}/requests.json`, { api_key: KIT_API_KEY, service_code: 'streetlights', lat: '37.7' }) },
      { name: 'JSON instead of a form', status: 400, request: (u) => new Request(`${u}/requests.json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"service_code":"streetlights"}' }) },
      { name: 'no api_key', status: 403, request: (u) => postTo(`${u}/requests.json`, { service_code: 'streetlights', address_string: 'Main St' }) },
    ],
    sendErrors: [],
    sendOk: { verify: (_sent, providerId) => expect(providerId).toMatch(/^open311-published-/) },
    secrets: [KIT_API_KEY],
    skip: {
      provider: 'Open311 has no way to reach a citizen: the acknowledgement is the answer service_notice, later replies are read as status_notes; there is no provider to stand in for',
    },
  },
})

testOpen311Endpoint({
  name: 'Intake',
  endpoint: async () => {
    const intake = await gateway()
    return { baseUrl: `${BASE}/open311/v2`, fetch: (req) => Promise.resolve(intake.app.fetch(req)), close: () => intake.stop().then(() => intake.store.close()) }
  },
  apiKey: KEY,
  sample: { service_code: 'potholes', lat: '37.762221815', long: '-122.4651145', address_string: '8th Ave and Judah St', description: 'A deep pothole in the bus lane' },
})

describe('the spec checks, on published answers', () => {
  it('pass the spec\'s XML examples and real cities\' answers', () => {
    expect(checkXml('services', fixture('spec-examples/xml-service-list.xml'))).toEqual([])
    expect(checkXml('service-definition', fixture('spec-examples/xml-service-definition.xml'))).toEqual([])
    expect(checkXml('requests', fixture('spec-examples/xml-service-requests.xml'))).toEqual([])
    expect(checkXml('requests', fixture('spec-examples/xml-service-request.xml'))).toEqual([])
    expect(checkXml('post-answer', fixture('spec-examples/xml-service-request-post.xml'))).toEqual([])
    expect(checkXml('errors', fixture('spec-examples/xml-errors.http.txt').replace(/^HTTP[^\n]*\n+/, ''))).toEqual([])
    expect(checkXml('services', fixture('captures/giessen_services.xml'))).toEqual([])
    expect(checkXml('requests', fixture('captures/service_requests.xml'))).toEqual([])
    expect(checkXml('requests', fixture('captures/toronto_requests_many.xml'))).toEqual([])
    expect(checkXml('errors', fixture('captures/get_service_request_not_found.xml'))).toEqual([])
    // San Francisco's 403 was a lone <error> without the <errors> list the spec defines: the check says so.
    expect(checkXml('errors', fixture('captures/403.xml').replace(/^HTTP[^\n]*\n+/, ''))).toEqual(['the root element is not <errors> (found error)'])
    expect(checkJson('services', JSON.parse(fixture('captures/bloomington_services.json')))).toEqual([])
    expect(checkJson('requests', JSON.parse(fixture('captures/chicago_service_requests.json')))).toEqual([])
    expect(checkXml('requests', fixture('captures/get_service_request.xml'))).toEqual([])
    expect(checkXml('post-answer', fixture('captures/post_service_request.xml'))).toEqual([])
    expect(checkXml('token', fixture('captures/request_id_from_token.xml'))).toEqual([])
    expect(checkXml('token', fixture('spec-examples/xml-request-from-token.xml'))).toEqual([])
  })

  it("pass the spec's JSON examples once their ids are strings, as its schema says", () => {
    // As published, `"service_code":001` is not JSON and ids and zipcodes are numbers; the schema wants strings.
    const repaired = (path: string) =>
      JSON.parse(fixture(`spec-examples/${path}`).replace(/^HTTP[^\n]*\n+/, '').replace(/"(service_code|service_request_id|token|key|address_id|zipcode)":\s*(\d+)/g, '"$1":"$2"'))
    expect(checkJson('services', repaired('json-service-list.json'))).toEqual([])
    expect(checkJson('service-definition', repaired('json-service-definition.json'))).toEqual([])
    // Its first media_url ends in a space (".jpg "), which is no URI: the check finds that and nothing else.
    expect(checkJson('requests', repaired('json-service-requests.json'))).toEqual(['/0/media_url must match format "uri"', '/0/media_url must be null', '/0/media_url must match a schema in anyOf'])
    expect(checkJson('requests', repaired('json-service-request.json'))).toEqual([])
    expect(checkJson('post-answer', repaired('json-service-request-post.json'))).toEqual([])
    expect(checkJson('token', repaired('json-request-from-token.json'))).toEqual([])
    expect(checkJson('errors', repaired('json-errors.http.txt'))).toEqual([])
  })

  it('catch what breaks the spec', () => {
    const list = fixture('spec-examples/xml-service-list.xml')
    expect(checkXml('services', list.replace(/<type>realtime<\/type>/, '<type>sometimes</type>'))).not.toEqual([])
    expect(checkXml('services', list.replace(/<\?xml[^>]*>\s*/, ''))).not.toEqual([])
    expect(checkXml('requests', fixture('spec-examples/xml-service-requests.xml').replace('2010-04-14T06:37:38-08:00', '2010-04-14 06:37'))).not.toEqual([])
    expect(checkXml('requests', fixture('spec-examples/xml-service-requests.xml').replace('<status>closed</status>', '<status>done</status>'))).not.toEqual([])
    expect(checkJson('post-answer', [{ service_request_id: '1', token: '2' }])).not.toEqual([])
    // San Francisco's service definition lists its <attribute> without the <attributes> around it.
    expect(checkXml('service-definition', fixture('captures/service_definition.xml'))).toEqual(["(root) must have required property 'attributes'"])
    expect(checkJson('errors', [{ code: 400 }])).not.toEqual([])
    // The spec's own JSON examples write ids as numbers (and "service_code":001 is not JSON): its schema wants strings.
    expect(checkJson('requests', [{ service_request_id: 638344, status: 'closed', service_code: '006', requested_datetime: '2010-04-14T06:37:38-08:00' }])).not.toEqual([])
  })
})

describe('open311 server', () => {
  let intake: Intake
  beforeEach(async () => {
    intake = await gateway({ attributes: { potholes: [{ code: 'DEPTH', datatype: 'singlevaluelist', required: true, description: 'How deep is it?', values: [{ key: 'shallow', name: 'Shallow' }, { key: 'deep', name: 'Deeper than 10 cm' }] }] } })
  })
  afterEach(async () => {
    await intake.stop()
    await intake.store.close()
  })
  const call = (req: Request) => Promise.resolve(intake.app.fetch(req))
  const url = (path: string) => `${BASE}/open311/v2/${path}`
  const getJson = async (path: string) => {
    const res = await call(new Request(url(path)))
    return { status: res.status, body: (await res.json()) as any }
  }

  it('lists the taxonomy and the remits as services, grouped by the office that handles them', async () => {
    const { body } = await getJson('services.json')
    expect(body).toEqual([
      expect.objectContaining({ service_code: 'streetlights', service_name: 'Street lights', group: 'Lighting Office', metadata: false, type: 'realtime', keywords: 'street light, lamp post, 路灯' }),
      expect.objectContaining({ service_code: 'potholes', service_name: 'Potholes', group: 'Roads Department', metadata: true }),
      // A remit label no taxonomy knows is a service named by itself.
      expect.objectContaining({ service_code: 'sidewalks', service_name: 'sidewalks', group: 'Roads Department' }),
    ])
    const def = await getJson('services/potholes.json')
    expect(def.body.attributes[0]).toMatchObject({ code: 'DEPTH', datatype: 'singlevaluelist', required: true, order: 1, values: [{ key: 'shallow' }, { key: 'deep' }] })
    expect(checkJson('service-definition', def.body)).toEqual([])
    const xml = await (await call(new Request(url('services/potholes.xml')))).text()
    expect(xml).toContain('<attribute>')
    expect(checkXml('service-definition', xml)).toEqual([])
  })

  it('makes a case from a posted request, routed by its service_code, acknowledged in service_notice, the same case when retried', async () => {
    const fields = { api_key: KEY, service_code: 'potholes', lat: '37.76', long: '-122.46', address_string: '8th Ave and Judah St', description: 'Deep hole', 'attribute[DEPTH]': 'deep', media_url: 'https://photos.example.org/1.jpg', email: 'ana@example.org', first_name: 'Ana' }
    const res = await call(postTo(url('requests.json'), fields))
    expect(res.status).toBe(201)
    const [answer] = (await res.json()) as Array<{ service_request_id: string; service_notice: string }>
    expect(answer!.service_notice).toContain(answer!.service_request_id)
    const kase = (await intake.store.getCaseByTrackingCode(answer!.service_request_id))!
    expect(kase).toMatchObject({ officeId: 'roads', category: 'potholes', channelId: 'open311', place: '8th Ave and Judah St', contact: { email: 'ana@example.org', name: 'Ana' } })
    const [message] = await intake.store.listMessages(kase.id)
    expect(message!.text).toContain('Deeper than 10 cm')

    const again = await call(postTo(url('requests.json'), fields))
    expect(again.status).toBe(200)
    expect(((await again.json()) as Array<{ service_request_id: string }>)[0]!.service_request_id).toBe(answer!.service_request_id)
    expect((await intake.store.listCases({})).cases).toHaveLength(1)

    const { body } = await getJson(`requests/${answer!.service_request_id}.json`)
    expect(body[0]).toMatchObject({ description: 'Deep hole', lat: 37.76, long: -122.46, media_url: 'https://photos.example.org/1.jpg', agency_responsible: 'Roads Department', status: 'open', service_name: 'Potholes' })
    expect(body[0].expected_datetime).toBe(new Date(kase.deadlineAt!).toISOString().replace(/\.\d{3}Z$/, 'Z'))
  })

  it('makes a second case for a second request of the same citizen (no follow-up joining)', async () => {
    const base = { api_key: KEY, service_code: 'streetlights', email: 'ana@example.org' }
    await call(postTo(url('requests.json'), { ...base, address_string: 'Main St 1', description: 'Light out' }))
    await call(postTo(url('requests.json'), { ...base, address_string: 'Main St 9', description: 'Another light out' }))
    expect((await intake.store.listCases({})).cases).toHaveLength(2)
  })

  it('refuses a request missing a required attribute, or with a value not offered', async () => {
    const fields = { api_key: KEY, service_code: 'potholes', address_string: 'Main St' }
    const missing = await call(postTo(url('requests.json'), fields))
    expect(missing.status).toBe(400)
    expect(((await missing.json()) as Array<{ description: string }>)[0]!.description).toContain('attribute[DEPTH]')
    const wrong = await call(postTo(url('requests.json'), { ...fields, 'attribute[DEPTH]': 'bottomless' }))
    expect(wrong.status).toBe(400)
    expect((await intake.store.listCases({})).cases).toHaveLength(0)
  })

  it("shows the office's latest public reply as status_notes, and closed once resolved", async () => {
    const res = await call(postTo(url('requests.xml'), { api_key: KEY, service_code: 'streetlights', address_string: 'Main St 1', description: 'Light out' }))
    const id = (xmlToJson('post-answer', await res.text()) as Array<{ service_request_id: string }>)[0]!.service_request_id
    const kase = (await intake.store.getCaseByTrackingCode(id))!
    const staff = (path: string, body: unknown) =>
      call(new Request(`${BASE}/api/v1/cases/${kase.id}/${path}`, { method: 'POST', headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, body: JSON.stringify(body) }))
    expect((await staff('replies', { text: 'A crew replaces the lamp on Monday.' })).status).toBeLessThan(300)
    let { body } = await getJson(`requests/${id}.json`)
    expect(body[0]).toMatchObject({ status: 'open', status_notes: 'A crew replaces the lamp on Monday.', agency_responsible: 'Lighting Office' })
    expect((await staff('status', { status: 'resolved' })).status).toBeLessThan(300)
    ;({ body } = await getJson(`requests/${id}.json`))
    expect(body[0].status).toBe('closed')
    expect((await getJson('requests.json?status=closed')).body.map((r: { service_request_id: string }) => r.service_request_id)).toEqual([id])
    expect((await getJson('requests.json?status=open')).body).toEqual([])
    expect((await getJson(`requests.json?service_request_id=${id},NOPE-0000`)).body).toHaveLength(1)
    expect((await getJson(`tokens/${id}.json`)).body).toEqual([{ service_request_id: id, token: id }])
    expect(checkJson('token', (await getJson(`tokens/${id}.json`)).body)).toEqual([])
  })

  it('answers 404 for another jurisdiction_id when one is configured, and a base path of its own', async () => {
    const city = await gateway({ jurisdictionId: 'city.example.org', basePath: '/georeport/v2' })
    try {
      const at = (path: string, init?: RequestInit) => Promise.resolve(city.app.fetch(new Request(`${BASE}/georeport/v2/${path}`, init)))
      expect((await at('services.json?jurisdiction_id=city.example.org')).status).toBe(200)
      expect((await at('services.json?jurisdiction_id=other.example.org')).status).toBe(404)
      const post = await at('requests.json', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form({ api_key: KEY, jurisdiction_id: 'other.example.org', service_code: 'potholes', address_string: 'Main St' }) })
      expect(post.status).toBe(404)
      expect((await city.store.listCases({})).cases).toHaveLength(0)
      expect((await at('discovery.xml').then((r) => r.text()))).toContain('<url>http://intake.test/georeport/v2</url>')
    } finally {
      await city.stop()
      await city.store.close()
    }
  })

  it("never shows another channel's case (a citizen's SMS is not published)", async () => {
    const sms = await intake.ingest('kiosk', { externalId: 'k-1', from: { channelId: 'kiosk', id: 'resident-42' }, text: 'The street light on Main St is out', receivedAt: Date.now() })
    expect((await getJson(`requests/${sms.trackingCode}.json`)).status).toBe(404)
    expect((await getJson(`tokens/${sms.trackingCode}.json`)).status).toBe(404)
    expect((await getJson('requests.json')).body).toEqual([])
  })
})
