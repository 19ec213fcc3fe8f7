import { createHash } from 'node:crypto'
import type { Context } from 'hono'
import type { CaseRecord, ChannelAdapter, ChannelError, HandledOutcome, InboundOutcome, RawRequest, RouteContext, SendResult } from '@intake/core'
import { errorAnswer, listAnswer, objectAnswer, splitFormat, w3cTime, type Open311Error, type Open311Format } from './format.ts'
import { parseRequestsQuery } from './requests-query.ts'
import { readRequestText, requestText } from './request-text.ts'
import { parseServiceRequest, readForm } from './service-request.ts'
import { serviceDefinition, serviceListItem, servicesOf, type Open311Attribute, type Open311Category, type Open311Service } from './services.ts'

export type { Open311Attribute, Open311Category, Open311Service } from './services.ts'
export { parseW3cTime } from './requests-query.ts'

export interface Open311ServerOptions {
  /** Where the GeoReport v2 endpoint lives (default `/open311/v2`): `…/services.json`, `…/requests.xml`. */
  basePath?: string
  /**
   * The taxonomy that names and describes the services (the routing package's `defaultTaxonomy()`
   * fits). The services are the categories the offices' remits list; one no taxonomy knows is named by its id.
   */
  categories?: readonly Open311Category[]
  /** Questions a service asks (its service definition), by service_code. */
  attributes?: Readonly<Record<string, readonly Open311Attribute[]>>
  /** The language of service names and groups (default `en`). */
  language?: string
  /** Only when the endpoint is shared: requests naming another jurisdiction_id are a 404. */
  jurisdictionId?: string
  /** The discovery document's contact line. */
  contact?: string
  maxBodyBytes?: number
}

/** The most cases one GET requests answers (the spec lets a server cap it; newest first). */
export const MAX_REQUESTS = 500
const DISCOVERY_CHANGESET = '2026-12-03T00:00:00Z'

/**
 * An Open311 GeoReport v2 endpoint: apps and other cities' systems (FixMyStreet, SeeClickFix) list
 * the services, post service requests — each a case, routed from its service_code and place and
 * acknowledged in the answer (service_notice) — and read their status, the handling office and its
 * latest public reply. Posting needs an API key or token of the staff API (core/access).
 */
export function open311Server(options: Open311ServerOptions = {}): ChannelAdapter {
  const { basePath = '/open311/v2', categories = [], attributes = {}, language = 'en', jurisdictionId, contact, maxBodyBytes = 64 * 1024 } = options
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(basePath)) throw new Error(`[open311] basePath: expected a path such as /open311/v2, got "${basePath}"`)
  for (const [code, list] of Object.entries(attributes)) {
    for (const a of list) {
      if ((a.datatype === 'singlevaluelist' || a.datatype === 'multivaluelist') && !a.values?.length) {
        throw new Error(`[open311] attributes.${code}.${a.code}: a ${a.datatype} needs values`)
      }
    }
  }
  /** Who posted (the key's identity), kept from verify to parse: one request is one object. */
  const submitters = new WeakMap<RawRequest, string>()
  const problems = new WeakMap<RawRequest, Open311Error[]>()
  let cachedServices: { offices: unknown; byCode: Map<string, Open311Service> } | undefined
  const servicesFor = (ctx: RouteContext): Map<string, Open311Service> => {
    const offices = ctx.records?.offices ?? []
    if (cachedServices?.offices !== offices) {
      cachedServices = { offices, byCode: new Map(servicesOf(offices, categories, attributes, language).map((s) => [s.code, s])) }
    }
    return cachedServices.byCode
  }
  const formatOf = (url: URL): Open311Format => splitFormat(url.pathname.split('/').at(-1) ?? '')?.format ?? 'xml'
  const wrongJurisdiction = (given: string | null | undefined): Open311Error | undefined =>
    jurisdictionId && given && given !== jurisdictionId ? { status: 404, description: `jurisdiction_id "${given.slice(0, 60)}" was not found` } : undefined
  const fail = (req: RawRequest, errors: Open311Error[], code: string): { rejected: ChannelError } => {
    problems.set(req, errors)
    const status = errors[0]!.status
    return { rejected: { status, code, message: errors.map((e) => e.description).join('; ') } }
  }

  const recordItem = (r: CaseRecord) => {
    const facts = readRequestText(r.firstMessage ?? r.case.summary)
    const service = r.case.category ? cachedServices?.byCode.get(r.case.category) : undefined
    const closed = r.case.status === 'resolved' || r.case.status === 'closed'
    return {
      service_request_id: r.case.trackingCode,
      status: closed ? 'closed' : 'open',
      status_notes: r.latestReply ?? null,
      service_name: service?.name ?? r.case.category,
      service_code: r.case.category ?? '',
      description: facts.description,
      agency_responsible: r.office ? (r.office.names[language] ?? r.office.name) : null,
      service_notice: null,
      requested_datetime: w3cTime(r.case.createdAt),
      updated_datetime: w3cTime(r.case.updatedAt),
      expected_datetime: r.case.deadlineAt !== null ? w3cTime(r.case.deadlineAt) : null,
      address: r.case.place,
      address_id: facts.addressId ?? null,
      zipcode: null,
      lat: facts.lat ?? null,
      long: facts.long ?? null,
      media_url: facts.mediaUrl ?? null,
    }
  }

  async function discovery(c: Context, ctx: RouteContext, format: Open311Format) {
    const url = `${ctx.publicUrl.replace(/\/+$/, '')}${basePath}`
    return objectAnswer(format, 'discovery', {
      changeset: DISCOVERY_CHANGESET,
      contact: contact ?? null,
      key_service: 'an API key or token of the gateway (intake token add)',
      endpoints: [{ specification: 'http://wiki.open311.org/GeoReport_v2', url, changeset: DISCOVERY_CHANGESET, type: 'production', formats: ['text/xml', 'application/json'] }],
    })
  }

  async function requests(c: Context, ctx: RouteContext, format: Open311Format) {
    const params = new URL(c.req.url).searchParams
    const parsed = parseRequestsQuery(params, ctx.now())
    if ('errors' in parsed) return errorAnswer(format, parsed.errors)
    const { query } = parsed
    servicesFor(ctx)
    let found: CaseRecord[]
    if (query.ids) {
      const each = await Promise.all(query.ids.slice(0, MAX_REQUESTS).map((id) => ctx.records!.byTrackingCode(id.toUpperCase(), ctx.channelId)))
      found = each.filter((r): r is CaseRecord => r !== undefined)
    } else {
      found = await ctx.records!.list({ channelId: ctx.channelId, categories: query.serviceCodes, createdFrom: query.from, createdTo: query.to + 1, states: query.states, limit: MAX_REQUESTS })
    }
    return listAnswer(format, 'service_requests', 'request', found.map(recordItem))
  }

  async function one(c: Context, ctx: RouteContext, kind: string, file: string) {
    const split = splitFormat(file)
    if (!split) return errorAnswer('xml', [{ status: 404, description: `no resource ${kind}/${file.slice(0, 60)}: name it with .xml or .json` }])
    const { name, format } = split
    const notHere = wrongJurisdiction(c.req.query('jurisdiction_id'))
    if (notHere) return errorAnswer(format, [notHere])
    if (kind === 'services') {
      const service = servicesFor(ctx).get(name)
      return service ? objectAnswer(format, 'service_definition', serviceDefinition(service)) : errorAnswer(format, [{ status: 404, description: `service_code "${name.slice(0, 60)}" was not found` }])
    }
    servicesFor(ctx)
    const record = await ctx.records!.byTrackingCode(name.toUpperCase(), ctx.channelId)
    if (kind === 'tokens') {
      // Every service here is realtime: a request's id is its own token.
      return record
        ? listAnswer(format, 'service_requests', 'request', [{ service_request_id: record.case.trackingCode, token: name }])
        : errorAnswer(format, [{ status: 404, description: `token "${name.slice(0, 60)}" was not found` }])
    }
    return record
      ? listAnswer(format, 'service_requests', 'request', [recordItem(record)])
      : errorAnswer(format, [{ status: 404, description: `service_request_id "${name.slice(0, 60)}" was not found` }])
  }

  const unavailable = (format: Open311Format) => errorAnswer(format, [{ status: 400, description: 'the Open311 endpoint is not running in a gateway (no case records)' }])

  return {
    kind: 'open311',
    capabilities: { maxText: 20_000 },
    mountPath: basePath,
    pages: [
      {
        method: 'GET',
        path: '/:file',
        async handle(c, ctx) {
          const file = c.req.param('file') ?? ''
          const split = splitFormat(file)
          if (!split || !['discovery', 'services', 'requests'].includes(split.name)) {
            return errorAnswer(split?.format ?? 'xml', [{ status: 404, description: `no resource ${file.slice(0, 60)} here: discovery, services and requests, each .xml or .json` }])
          }
          if (!ctx.records) return unavailable(split.format)
          const notHere = wrongJurisdiction(c.req.query('jurisdiction_id'))
          if (notHere) return errorAnswer(split.format, [notHere])
          if (split.name === 'discovery') return discovery(c, ctx, split.format)
          if (split.name === 'services') return listAnswer(split.format, 'services', 'service', [...servicesFor(ctx).values()].map(serviceListItem))
          return requests(c, ctx, split.format)
        },
      },
      {
        method: 'GET',
        path: '/:kind/:file',
        async handle(c, ctx) {
          const kind = c.req.param('kind') ?? ''
          const file = c.req.param('file') ?? ''
          if (!['services', 'requests', 'tokens'].includes(kind)) {
            return errorAnswer(formatOf(new URL(c.req.url)), [{ status: 404, description: `no resource ${kind.slice(0, 60)} here` }])
          }
          if (!ctx.records) return unavailable(formatOf(new URL(c.req.url)))
          return one(c, ctx, kind, file)
        },
      },
    ],
    routes: [
      {
        method: 'POST',
        path: '/:file',
        maxBodyBytes,
        // The acknowledgement is the answer's service_notice: Open311 has no way to reach the citizen later.
        acknowledgesInline: true,
        async verify(req, ctx) {
          const deny = (status: 400 | 403 | 404, code: string, description: string) => {
            problems.set(req, [{ status, description }])
            return { ok: false as const, error: { status, code, message: description } }
          }
          const split = splitFormat(req.url.pathname.split('/').at(-1) ?? '')
          if (!split || split.name !== 'requests') return deny(404, 'unknown_resource', 'service requests are posted to requests.xml or requests.json')
          if (!ctx.records) return deny(400, 'no_records', 'the Open311 endpoint is not running in a gateway')
          const form = await readForm(req.body, req.headers.get('content-type') ?? '')
          if (!form) return deny(400, 'not_a_form', 'send the request as application/x-www-form-urlencoded (or multipart/form-data)')
          const key = form.get('api_key')?.trim() || req.url.searchParams.get('api_key')?.trim()
          if (!key) return deny(403, 'missing_api_key', 'api_key was not provided')
          const who = await ctx.records.authenticate(key)
          if (!who.ok) return deny(403, 'invalid_api_key', 'invalid api_key received -- cannot create the service request')
          submitters.set(req, who.identity.actor)
          return { ok: true }
        },
        async parse(req, ctx): Promise<InboundOutcome> {
          const form = (await readForm(req.body, req.headers.get('content-type') ?? ''))!
          const notHere = wrongJurisdiction(form.get('jurisdiction_id'))
          if (notHere) return fail(req, [notHere], 'unknown_jurisdiction')
          const parsed = parseServiceRequest(form, servicesFor(ctx))
          if ('errors' in parsed) return fail(req, parsed.errors, parsed.errors[0]!.status === 404 ? 'unknown_service_code' : 'invalid_request')
          const r = parsed.request
          const service = servicesFor(ctx).get(r.serviceCode)!
          const submitter = submitters.get(req)!
          // Open311 has no request id: a client's Idempotency-Key, else the body itself, makes a retry the same message.
          const key = req.headers.get('idempotency-key')?.trim().slice(0, 120)
          const externalId = key ? `key:${submitter}:${key}` : `body:${createHash('sha256').update(`${submitter}\n`).update(req.body).digest('hex').slice(0, 40)}`
          const name = [r.firstName, r.lastName].filter(Boolean).join(' ') || undefined
          const { api_key: _key, ...fields } = Object.fromEntries(form)
          return {
            messages: [
              {
                channelId: ctx.channelId,
                externalId,
                from: { channelId: ctx.channelId, id: r.email ?? r.phone ?? (r.deviceId ? `device:${r.deviceId}` : r.accountId ? `account:${r.accountId}` : `client:${submitter}`), displayName: name },
                subject: service.name,
                text: requestText(r, service),
                place: {
                  ...(r.addressString ? { text: r.addressString } : {}),
                  ...(r.lat !== undefined && r.long !== undefined ? { lat: r.lat, lon: r.long } : {}),
                },
                contact: r.email || r.phone || name ? { email: r.email, phone: r.phone, name } : undefined,
                category: r.serviceCode,
                standalone: true,
                receivedAt: ctx.now(),
                raw: { ...fields, submittedBy: submitter },
              },
            ],
          }
        },
        respond(handled: HandledOutcome, req: RawRequest) {
          const format = formatOf(req.url)
          if (handled.kind !== 'messages') return errorAnswer(format, [{ status: 400, description: 'nothing was created' }])
          const items = handled.results.map((r) => ({ service_request_id: r.trackingCode, service_notice: r.acknowledgement ?? null, account_id: null }))
          return listAnswer(format, 'service_requests', 'request', items, handled.results.some((r) => !r.duplicate) ? 201 : 200)
        },
        reject(error: ChannelError, req: RawRequest) {
          const status = error.status === 401 ? 403 : error.status === 413 ? 413 : error.status === 404 || error.status === 403 ? error.status : 400
          return errorAnswer(formatOf(req.url), problems.get(req) ?? [{ status, description: error.message }])
        },
      },
    ],

    async send(msg): Promise<SendResult> {
      // Nothing to push: an Open311 client reads the office's answer as the request's status_notes.
      return { ok: true, providerId: `open311-published-${msg.id}` }
    },
  }
}
