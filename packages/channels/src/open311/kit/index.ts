/**
 * The Open311 GeoReport v2 kit: the spec's checks (kit/checks.ts) run against a live endpoint —
 * ours, or any server that claims GeoReport v2. SeeClickFix's open311-validator, the usual outside
 * check, is a Ruby program whose source cannot be fetched here (only the npm and Debian registries
 * are reachable), so its checks are written out here from the spec, and the checks themselves are
 * tested on the spec's published examples and on real cities' answers (fixtures/).
 *
 * @example
 * testOpen311Endpoint({ name: 'ours', endpoint: startGateway, apiKey: KEY, sample: { service_code: 'roads', lat: '39.47', long: '75.98', description: 'A pothole' } })
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkJson, checkXml, xmlToJson, type Resource } from './checks.ts'

export { checkJson, checkXml, xmlToJson, W3C_DATETIME, type Resource } from './checks.ts'

export interface Open311Endpoint {
  /** The endpoint's base, e.g. http://intake.test/open311/v2 */
  baseUrl: string
  fetch(req: Request): Promise<Response>
  close(): Promise<void>
}

export interface Open311KitOptions {
  name: string
  endpoint: () => Promise<Open311Endpoint>
  /** A key the endpoint accepts for POST requests. */
  apiKey: string
  /** A valid request's fields: a service_code the endpoint lists and a location; description text. */
  sample: Record<string, string>
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()

export function testOpen311Endpoint({ name, endpoint, apiKey, sample }: Open311KitOptions): void {
  describe(`open311 conformance: ${name}`, () => {
    let ep: Open311Endpoint
    beforeAll(async () => {
      ep = await endpoint()
    })
    afterAll(() => ep?.close())

    const get = (path: string) => ep.fetch(new Request(`${ep.baseUrl}/${path}`))
    const post = (path: string, fields: Record<string, string>) =>
      ep.fetch(new Request(`${ep.baseUrl}/${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: form(fields) }))

    /** Read an answer in either format, assert the spec's checks pass, return its JSON shape. */
    async function conforming(res: Response, resource: Resource, format: 'json' | 'xml'): Promise<unknown> {
      const text = await res.text()
      const type = res.headers.get('content-type') ?? ''
      if (format === 'json') {
        expect(type, 'JSON is served as application/json').toMatch(/^application\/json/)
        const value = JSON.parse(text) as unknown
        expect(checkJson(resource, value), text).toEqual([])
        return value
      }
      expect(type, 'XML is served as text/xml').toMatch(/^text\/xml/)
      expect(checkXml(resource, text), text).toEqual([])
      return xmlToJson(resource, text)
    }

    let posted = ''
    for (const format of ['json', 'xml'] as const) {
      it(`serves discovery.${format} naming GeoReport v2`, async () => {
        const res = await get(`discovery.${format}`)
        expect(res.status).toBe(200)
        expect(await res.text()).toContain('GeoReport_v2')
      })

      it(`lists services.${format} as the spec and its schema say`, async () => {
        const res = await get(`services.${format}`)
        expect(res.status).toBe(200)
        const services = (await conforming(res, 'services', format)) as Array<{ service_code: string }>
        expect(services.map((s) => s.service_code)).toContain(sample.service_code)
      })

      it(`defines each service in services/{code}.${format}`, async () => {
        const res = await get(`services/${encodeURIComponent(sample.service_code!)}.${format}`)
        expect(res.status).toBe(200)
        const def = (await conforming(res, 'service-definition', format)) as { service_code: string }
        expect(def.service_code).toBe(sample.service_code)
      })

      it(`takes a service request at requests.${format} and answers its service_request_id`, async () => {
        const res = await post(`requests.${format}`, { ...sample, description: `${sample.description ?? ''} (${format})`, api_key: apiKey })
        expect(res.status).toBeGreaterThanOrEqual(200)
        expect(res.status).toBeLessThan(300)
        const [answer] = (await conforming(res, 'post-answer', format)) as Array<{ service_request_id?: string; token?: string }>
        if (answer?.token) {
          const byToken = await get(`tokens/${encodeURIComponent(answer.token)}.${format}`)
          expect(byToken.status).toBe(200)
          posted = String(((await conforming(byToken, 'token', format)) as Array<{ service_request_id: string }>)[0]!.service_request_id)
        } else posted = String(answer?.service_request_id ?? '')
        expect(posted).not.toBe('')
      })

      it(`answers requests/{id}.${format} for the request just posted, open, with its service_code`, async () => {
        const res = await get(`requests/${encodeURIComponent(posted)}.${format}`)
        expect(res.status).toBe(200)
        const [request] = (await conforming(res, 'requests', format)) as Array<Record<string, unknown>>
        expect(request).toMatchObject({ service_request_id: posted, status: 'open', service_code: sample.service_code })
      })

      it(`lists it in requests.${format}, filtered by service_code and status`, async () => {
        const all = (await conforming(await get(`requests.${format}`), 'requests', format)) as Array<{ service_request_id: string }>
        expect(all.map((r) => r.service_request_id)).toContain(posted)
        const same = (await conforming(await get(`requests.${format}?service_code=${encodeURIComponent(sample.service_code!)}&status=open`), 'requests', format)) as Array<{
          service_request_id: string
        }>
        expect(same.map((r) => r.service_request_id)).toContain(posted)
        const closed = (await conforming(await get(`requests.${format}?status=closed`), 'requests', format)) as Array<{ service_request_id: string }>
        expect(closed.map((r) => r.service_request_id)).not.toContain(posted)
      })
    }

    const valid = () => ({ ...sample, api_key: apiKey })
    const without = (...keys: string[]) => Object.fromEntries(Object.entries(valid()).filter(([k]) => !keys.includes(k)))
    const hasPoint = 'lat' in sample && 'long' in sample
    const badPosts: Array<{ name: string; status: number; fields: () => Record<string, string> }> = [
      { name: 'no api_key', status: 403, fields: () => without('api_key') },
      { name: 'a wrong api_key', status: 403, fields: () => ({ ...valid(), api_key: 'not-a-key-of-this-endpoint' }) },
      { name: 'no service_code', status: 400, fields: () => without('service_code') },
      { name: 'an unknown service_code', status: 404, fields: () => ({ ...valid(), service_code: 'no-such-service-0' }) },
      { name: 'lat without long', status: 400, fields: () => ({ ...without('long', 'address_string', 'address_id'), lat: '37.76' }) },
      { name: 'long without lat', status: 400, fields: () => ({ ...without('lat', 'address_string', 'address_id'), long: '-122.46' }) },
      { name: 'no location at all', status: 400, fields: () => without('lat', 'long', 'address_string', 'address_id') },
      { name: 'a latitude of 91', status: 400, fields: () => ({ ...valid(), lat: '91', long: hasPoint ? sample.long! : '0' }) },
      { name: 'a latitude that is not a number', status: 400, fields: () => ({ ...valid(), lat: 'north', long: '0' }) },
    ]
    const badGets: Array<{ name: string; status: number; path: string }> = [
      { name: 'an unparseable start_date', status: 400, path: 'requests.FMT?start_date=yesterday' },
      { name: 'a start_date without its time zone', status: 400, path: 'requests.FMT?start_date=2026-01-01T00:00:00' },
      { name: 'a date that does not exist (30 February)', status: 400, path: 'requests.FMT?start_date=2026-02-30T00:00:00Z' },
      { name: 'a month 13', status: 400, path: 'requests.FMT?end_date=2026-13-01T00:00:00Z' },
      { name: 'a 91-day span', status: 400, path: 'requests.FMT?start_date=2026-01-01T00:00:00Z&end_date=2026-04-02T00:00:00Z' },
      { name: 'start_date after end_date', status: 400, path: 'requests.FMT?start_date=2026-03-01T00:00:00Z&end_date=2026-02-01T00:00:00Z' },
      { name: 'a status that is neither open nor closed', status: 400, path: 'requests.FMT?status=pending' },
      { name: 'a service request that does not exist', status: 404, path: 'requests/NO-SUCH-REQUEST.FMT' },
      { name: 'a service_code that does not exist', status: 404, path: 'services/no-such-service-0.FMT' },
      { name: 'a token that does not exist', status: 404, path: 'tokens/NO-SUCH-TOKEN.FMT' },
    ]
    for (const format of ['json', 'xml'] as const) {
      for (const bad of badPosts) {
        it(`refuses a POST with ${bad.name}: ${bad.status} and the spec's error list (${format})`, async () => {
          const res = await post(`requests.${format}`, bad.fields())
          expect(res.status).toBe(bad.status)
          await conforming(res, 'errors', format)
        })
      }
      for (const bad of badGets) {
        it(`refuses ${bad.name}: ${bad.status} and the spec's error list (${format})`, async () => {
          const res = await get(bad.path.replace('FMT', format))
          expect(res.status).toBe(bad.status)
          await conforming(res, 'errors', format)
        })
      }
    }
    it('answers 90 days exactly (the limit is inclusive)', async () => {
      const res = await get('requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-04-01T00:00:00Z')
      expect(res.status).toBe(200)
      await conforming(res, 'requests', 'json')
    })
  })
}
