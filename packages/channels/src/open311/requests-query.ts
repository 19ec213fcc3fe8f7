import type { Open311Error } from './format.ts'

export interface RequestsQuery {
  /** Overrides every other argument (the spec). */
  ids?: string[]
  serviceCodes?: string[]
  from: number
  to: number
  states?: Array<'open' | 'closed'>
}

export const MAX_SPAN_MS = 90 * 24 * 3600_000
const W3C = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/

/** A W3C datetime (a time needs its zone, as the spec requires), or a bare date as UTC midnight; else undefined. */
export function parseW3cTime(raw: string): number | undefined {
  const m = W3C.exec(raw)
  if (!m) return undefined
  const [, y, mo, d, h = '00', mi = '00', s = '00'] = m
  const day = new Date(Date.UTC(+y!, +mo! - 1, +d!))
  // Date.UTC rolls 2010-02-30 over to March: a date that does not exist is refused instead.
  if (day.getUTCFullYear() !== +y! || day.getUTCMonth() !== +mo! - 1 || day.getUTCDate() !== +d! || +h > 23 || +mi > 59 || +s > 59) return undefined
  const at = Date.parse(m[4] ? raw : `${raw}T00:00:00Z`)
  return Number.isFinite(at) ? at : undefined
}

const list = (raw: string | null) => (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean)

/** GET requests' arguments; dates default to the most recent 90 days and may not span more. */
export function parseRequestsQuery(params: URLSearchParams, now: number): { query: RequestsQuery } | { errors: Open311Error[] } {
  const errors: Open311Error[] = []
  const ids = list(params.getAll('service_request_id').join(','))
  const serviceCodes = list(params.getAll('service_code').join(','))
  const states = list(params.getAll('status').join(',')).map((s) => s.toLowerCase())
  const unknownState = states.find((s) => s !== 'open' && s !== 'closed')
  if (unknownState) errors.push({ status: 400, description: `status must be open or closed, got "${unknownState.slice(0, 40)}"` })
  const date = (name: 'start_date' | 'end_date') => {
    const raw = params.get(name)?.trim()
    if (!raw) return undefined
    const at = parseW3cTime(raw)
    if (at === undefined) errors.push({ status: 400, description: `${name} must be a W3C datetime with its time zone, e.g. 2010-01-01T00:00:00Z; got "${raw.slice(0, 40)}"` })
    return at
  }
  const start = date('start_date')
  const end = date('end_date')
  if (errors.length) return { errors }
  const to = end ?? (start !== undefined ? start + MAX_SPAN_MS : now)
  const from = start ?? to - MAX_SPAN_MS
  if (from > to) return { errors: [{ status: 400, description: 'start_date is after end_date' }] }
  if (to - from > MAX_SPAN_MS) return { errors: [{ status: 400, description: 'start_date and end_date may not span more than 90 days' }] }
  return {
    query: {
      ...(ids.length ? { ids } : {}),
      ...(serviceCodes.length ? { serviceCodes } : {}),
      from,
      to,
      ...(states.length ? { states: states as Array<'open' | 'closed'> } : {}),
    },
  }
}
