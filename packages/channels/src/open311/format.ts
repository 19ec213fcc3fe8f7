import { XMLBuilder } from 'fast-xml-parser'

/** GeoReport v2 answers in the format the resource's extension names (`services.xml`, `requests/K7F3.json`). */
export type Open311Format = 'json' | 'xml'

/** One entry of the spec's error list. `code` matches the HTTP status, as the spec recommends. */
export interface Open311Error {
  /** 404 for what does not exist, 403 for a wrong or missing api_key, 400 for the rest (413: too large). */
  status: 400 | 403 | 404 | 413
  description: string
}

const builder = new XMLBuilder({ format: true, indentBy: '  ', suppressEmptyNode: false })

/** The XML element of each item of a JSON list (the Spark convention: `attributes` → `<attribute>`). */
const ITEM_OF: Record<string, string> = { attributes: 'attribute', values: 'value', endpoints: 'endpoint', formats: 'format' }

/** Nulls become empty elements in XML (the spec's `<account_id/>`), booleans `true` / `false`. */
function forXml(value: unknown): unknown {
  if (value === null || value === undefined) return ''
  if (Array.isArray(value)) return value.map(forXml)
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, Array.isArray(v) && ITEM_OF[k] ? (v.length ? { [ITEM_OF[k]]: forXml(v) } : '') : forXml(v)]),
    )
  }
  return String(value)
}

const CONTENT_TYPE: Record<Open311Format, string> = { json: 'application/json; charset=utf-8', xml: 'text/xml; charset=utf-8' }

/**
 * A list resource: JSON is the array itself, XML wraps each item in `item` under `list`
 * (`<services><service>…`), per the spec's Spark convention.
 */
export function listAnswer(format: Open311Format, list: string, item: string, items: ReadonlyArray<Record<string, unknown>>, status = 200): Response {
  if (format === 'json') return new Response(JSON.stringify(items), { status, headers: { 'content-type': CONTENT_TYPE.json } })
  return xmlAnswer({ [list]: items.length ? { [item]: forXml(items) } : '' }, status)
}

/** A single resource (the service definition, discovery): JSON is the object, XML its root element. */
export function objectAnswer(format: Open311Format, root: string, value: Record<string, unknown>, status = 200): Response {
  if (format === 'json') return new Response(JSON.stringify(value), { status, headers: { 'content-type': CONTENT_TYPE.json } })
  return xmlAnswer({ [root]: forXml(value) }, status)
}

function xmlAnswer(tree: Record<string, unknown>, status: number): Response {
  const body = `<?xml version="1.0" encoding="utf-8"?>\n${builder.build(tree) as string}`
  return new Response(body, { status, headers: { 'content-type': CONTENT_TYPE.xml } })
}

/** The spec's error list; the HTTP status is the first error's. */
export function errorAnswer(format: Open311Format, errors: readonly Open311Error[]): Response {
  const items = errors.map((e) => ({ code: e.status, description: e.description }))
  return listAnswer(format, 'errors', 'error', items, errors[0]?.status ?? 400)
}

/** `requests.json` → { name: 'requests', format: 'json' }; no known extension → undefined. */
export function splitFormat(segment: string): { name: string; format: Open311Format } | undefined {
  const m = /^(.+)\.(json|xml)$/i.exec(segment)
  return m ? { name: decodeURIComponent(m[1]!), format: m[2]!.toLowerCase() as Open311Format } : undefined
}

/** W3C datetime with the offset the spec requires; UTC here. */
export const w3cTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
