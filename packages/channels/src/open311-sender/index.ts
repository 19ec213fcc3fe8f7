import {
  classifyHttpStatus,
  HttpClientError,
  httpGet,
  httpPost,
  sendError,
  type ChannelAdapter,
  type ExternalStatus,
  type ForwardedCase,
  type SendResult,
} from '@intake/core'

export interface Open311SenderOptions {
  /** The other system's GeoReport v2 endpoint, e.g. `https://city.example.org/open311/v2`. */
  endpoint: string
  /** Its API key for posting requests. */
  apiKey: string
  /** Our categories → its service codes. */
  serviceCodes: Readonly<Record<string, string>>
  /** The service code for a category not listed (without it, such a case is a dead letter saying so). */
  defaultServiceCode?: string
  /** Only for an endpoint that serves several jurisdictions. */
  jurisdictionId?: string
  /** Send the citizen's email, phone and name with the request (default true, as FixMyStreet does). */
  sendContact?: boolean
  /** How often to read back the forwarded requests (default 60 s). */
  pollMs?: number
  /** Give up on one call after this long (default 10 s); the outbox retries a POST, the next poll a read. */
  timeoutMs?: number
}

/** Requests asked about in one GET requests (a URL stays well under common limits). */
const IDS_PER_READ = 50
const MAX_ANSWER_BYTES = 4 * 1024 * 1024
/** The spec's limit on a request's description. */
const MAX_DESCRIPTION = 4000
const TOKEN = 'token:'

interface Answered {
  service_request_id?: unknown
  token?: unknown
  status?: unknown
  status_notes?: unknown
  agency_responsible?: unknown
  updated_datetime?: unknown
}

const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined)

/** The description of a GeoReport error list (`[{ code, description }]`), for the dead letter's reason. */
function errorText(text: string): string {
  try {
    const list = JSON.parse(text) as Array<{ code?: unknown; description?: unknown }>
    if (Array.isArray(list) && list.length) return list.map((e) => `${str(e.code) ?? '?'} ${str(e.description) ?? ''}`.trim()).join('; ')
  } catch {
    // Not the spec's error list: the answer's first characters say what it was.
  }
  return text.slice(0, 200)
}

/**
 * Hands the cases of an office that works in another system to that system's Open311 GeoReport v2
 * endpoint, as FixMyStreet's SendReport::Open311 does: the office names this channel in `forwardTo`,
 * each case that lands there is POSTed through the outbox (retries, dead letters, the outbox's
 * idempotency key as `Idempotency-Key`), the `service_request_id` it answers is kept on the case,
 * and GET requests is polled for its status and notes, which reach the citizen on their own channel.
 */
export function open311Sender(options: Open311SenderOptions): ChannelAdapter {
  const { endpoint, apiKey, serviceCodes, defaultServiceCode, jurisdictionId, sendContact = true, pollMs = 60_000, timeoutMs = 10_000 } = options
  if (!/^https?:\/\/[^\s/]+/.test(endpoint)) throw new Error(`[open311 sender] endpoint: expected an http(s) URL, got "${endpoint}"`)
  if (typeof apiKey !== 'string' || apiKey.length === 0) throw new Error('[open311 sender] apiKey: give the key the other system issued')
  const base = endpoint.replace(/\/+$/, '')
  const withJurisdiction = (params: URLSearchParams) => {
    if (jurisdictionId) params.set('jurisdiction_id', jurisdictionId)
    return params
  }

  function requestForm(f: ForwardedCase, serviceCode: string): URLSearchParams {
    const form = withJurisdiction(new URLSearchParams({ api_key: apiKey, service_code: serviceCode }))
    form.set('description', [...f.description].slice(0, MAX_DESCRIPTION).join(''))
    if (f.place) form.set('address_string', f.place)
    const contact = sendContact ? f.contact : null
    if (contact?.email) form.set('email', contact.email)
    if (contact?.phone) form.set('phone', contact.phone)
    if (contact?.name) {
      // GeoReport asks for given and family name; a name without a space (李娜) goes whole as the given name.
      const at = contact.name.trim().lastIndexOf(' ')
      form.set('first_name', at > 0 ? contact.name.slice(0, at).trim() : contact.name.trim())
      if (at > 0) form.set('last_name', contact.name.slice(at + 1).trim())
    }
    return form
  }

  async function getJson(path: string, params: URLSearchParams): Promise<{ status: number; value: unknown; text: string }> {
    const res = await httpGet(`${base}/${path}?${withJurisdiction(params)}`, { maxBytes: MAX_ANSWER_BYTES, timeoutMs, headers: { accept: 'application/json' } })
    const text = res.body.toString('utf8')
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      value = undefined
    }
    return { status: res.status, value, text }
  }

  /** The id behind a token, once the other system has one. */
  async function idOfToken(token: string): Promise<string | undefined> {
    const { status, value } = await getJson(`tokens/${encodeURIComponent(token)}.json`, new URLSearchParams())
    if (status !== 200 || !Array.isArray(value)) return undefined
    return str((value[0] as Answered | undefined)?.service_request_id)
  }

  return {
    kind: 'open311-sender',
    capabilities: { maxText: MAX_DESCRIPTION },
    secrets: [apiKey],

    async send(msg, ctx): Promise<SendResult> {
      if (msg.kind !== 'forward' || !msg.forward) return sendError('config', 'an open311 sender only forwards cases (name it in an office\'s forwardTo, not as a citizen channel)')
      const f = msg.forward
      const serviceCode = (f.category ? serviceCodes[f.category] : undefined) ?? defaultServiceCode
      if (!serviceCode) return sendError('rejected', `no service_code for category "${f.category ?? '(none)'}": add it to serviceCodes, or set defaultServiceCode`)
      if (!f.place) return sendError('rejected', 'the case names no place, and a GeoReport request needs one (address_string): dispatch it by hand')
      let res
      try {
        res = await httpPost(`${base}/requests.json`, requestForm(f, serviceCode).toString(), {
          headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', accept: 'application/json', 'idempotency-key': ctx.idempotencyKey },
          timeoutMs,
        })
      } catch (err) {
        const e = err as Error & { code?: string }
        return sendError('connection', `the Open311 endpoint is unreachable: ${e instanceof HttpClientError ? e.code : (e.code ?? e.name)}: ${e.message}`)
      }
      if (res.status < 200 || res.status >= 300) {
        const error = classifyHttpStatus(res.status, errorText(res.text))
        return { ok: false, error }
      }
      let answer: Answered | undefined
      try {
        answer = (JSON.parse(res.text) as Answered[])[0]
      } catch {
        answer = undefined
      }
      const id = str(answer?.service_request_id)
      if (id) return { ok: true, providerId: id }
      const token = str(answer?.token)
      if (!token) return sendError('rejected', `the endpoint answered ${res.status} without a service_request_id or token: ${res.text.slice(0, 200)}`)
      try {
        return { ok: true, providerId: (await idOfToken(token)) ?? `${TOKEN}${token}` }
      } catch {
        // It took the request: the token is enough, and the poller asks for its id later.
        return { ok: true, providerId: `${TOKEN}${token}` }
      }
    },

    forwarding: {
      pollMs,
      async poll(externalIds, ctx) {
        const idOf = new Map<string, string>()
        for (const ref of externalIds) {
          const id = ref.startsWith(TOKEN) ? await idOfToken(ref.slice(TOKEN.length)) : ref
          if (id) idOf.set(id, ref)
        }
        const ids = [...idOf.keys()]
        const found: ExternalStatus[] = []
        for (let i = 0; i < ids.length; i += IDS_PER_READ) {
          const { status, value, text } = await getJson('requests.json', new URLSearchParams({ service_request_id: ids.slice(i, i + IDS_PER_READ).join(',') }))
          if (status !== 200 || !Array.isArray(value)) throw new Error(`GET requests answered ${status}: ${errorText(text)}`)
          for (const r of value as Answered[]) {
            const ref = idOf.get(str(r.service_request_id) ?? '')
            const state = str(r.status)?.toLowerCase()
            if (!ref || (state !== 'open' && state !== 'closed')) continue
            const updated = Date.parse(str(r.updated_datetime) ?? '')
            found.push({
              externalId: ref,
              status: state,
              ...(str(r.status_notes) ? { notes: str(r.status_notes)! } : {}),
              ...(str(r.agency_responsible) ? { agency: str(r.agency_responsible)! } : {}),
              ...(Number.isFinite(updated) ? { updatedAt: updated } : {}),
            })
          }
        }
        ctx.log.debug('open311 requests read back', { asked: externalIds.length, answered: found.length })
        return found
      },
    },
  }
}
