import { readFileSync } from 'node:fs'
import { Ajv, type ValidateFunction } from 'ajv'
import { XMLParser } from 'fast-xml-parser'

/**
 * The GeoReport v2 spec's checks, as pure functions over an answer: each returns the problems it
 * found (none: the answer conforms). The JSON Schemas are open311/schema-validation's (fixtures/schema);
 * XML is read into the JSON shape (the spec's Spark convention) and held to the same schemas.
 */
export type Resource = 'services' | 'service-definition' | 'requests' | 'post-answer' | 'token' | 'errors'

/** W3C datetime with its zone (the spec: "Timezone information … must be included"). */
export const W3C_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

const schemaDir = new URL('../fixtures/schema/', import.meta.url)
// The schemas' `date-time` is the spec's W3C subset (a zone required); `uri` any absolute URL.
const ajv = new Ajv({ allErrors: true, strict: false, formats: { 'date-time': W3C_DATETIME, uri: /^[a-z][a-z0-9+.-]*:\S+$/i } })
for (const name of ['service', 'request']) ajv.addSchema(JSON.parse(readFileSync(new URL(`${name}.json`, schemaDir), 'utf8')), `${name}.json`)
const validators: Partial<Record<Resource, ValidateFunction>> = {
  services: ajv.compile(JSON.parse(readFileSync(new URL('services.json', schemaDir), 'utf8'))),
  'service-definition': ajv.compile(JSON.parse(readFileSync(new URL('service-definition.json', schemaDir), 'utf8'))),
  requests: ajv.compile(JSON.parse(readFileSync(new URL('requests.json', schemaDir), 'utf8'))),
}

/** The problems of a JSON answer for this resource. */
export function checkJson(resource: Resource, value: unknown): string[] {
  const problems: string[] = []
  const validate = validators[resource]
  if (validate && !validate(value)) problems.push(...(validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`))
  if (resource === 'post-answer') {
    if (!Array.isArray(value) || value.length === 0) problems.push('(root) must be a non-empty list')
    else
      value.forEach((r: Record<string, unknown>, i) => {
        const id = r?.service_request_id
        const token = r?.token
        const has = (v: unknown) => v !== undefined && v !== null && v !== ''
        if (has(id) === has(token)) problems.push(`/${i} must carry exactly one of service_request_id and token`)
      })
  }
  if (resource === 'token') {
    if (!Array.isArray(value) || value.length === 0) problems.push('(root) must be a non-empty list')
    else
      value.forEach((r: Record<string, unknown>, i) => {
        for (const f of ['service_request_id', 'token']) if (r?.[f] === undefined || r[f] === null || r[f] === '') problems.push(`/${i}/${f} is missing`)
      })
  }
  if (resource === 'errors') {
    if (!Array.isArray(value) || value.length === 0) problems.push('(root) must be a non-empty list of errors')
    else
      value.forEach((e: Record<string, unknown>, i) => {
        if (e?.code === undefined || e.code === null || e.code === '') problems.push(`/${i}/code is missing`)
        if (typeof e?.description !== 'string' || !e.description) problems.push(`/${i}/description is missing`)
      })
  }
  return problems
}

const LIST_ITEM: Record<string, string> = { services: 'service', service_requests: 'request', errors: 'error', attributes: 'attribute', values: 'value' }
const BOOLEANS = new Set(['metadata', 'variable', 'required'])
const NUMBERS = new Set(['lat', 'long', 'order'])
const parser = new XMLParser({ parseTagValue: false, trimValues: true, ignoreDeclaration: true, isArray: (name) => Object.values(LIST_ITEM).includes(name) })

/** Spark convention: `<services><service>…</service></services>` is the list of services; empty elements are null. */
function spark(value: unknown, key = ''): unknown {
  if (value === '') return LIST_ITEM[key] ? [] : null
  if (Array.isArray(value)) return value.map((v) => spark(v, key))
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
    if (LIST_ITEM[key]) return ((value as Record<string, unknown>)[LIST_ITEM[key]] as unknown[] | undefined ?? []).map((v) => spark(v, LIST_ITEM[key]))
    return Object.fromEntries(entries.map(([k, v]) => [k, spark(v, k)]))
  }
  if (typeof value === 'string' && BOOLEANS.has(key)) return value === 'true' ? true : value === 'false' ? false : value
  if (typeof value === 'string' && NUMBERS.has(key) && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value)
  return value
}

const ROOT: Record<Resource, string> = { services: 'services', 'service-definition': 'service_definition', requests: 'service_requests', 'post-answer': 'service_requests', token: 'service_requests', errors: 'errors' }

/** The problems of an XML answer: declared UTF-8, the resource's root element, then the JSON checks. */
export function checkXml(resource: Resource, text: string): string[] {
  if (!/^<\?xml version="1.0" encoding="utf-8"\?>/i.test(text.trimStart())) return ['the root element is not preceded by an XML declaration with encoding="UTF-8"']
  let tree: Record<string, unknown>
  try {
    tree = parser.parse(text, true) as Record<string, unknown>
  } catch (err) {
    return [`not well-formed XML: ${(err as Error).message}`]
  }
  const root = ROOT[resource]
  if (!(root in tree)) return [`the root element is not <${root}> (found ${Object.keys(tree).join(', ') || 'none'})`]
  return checkJson(resource, xmlToJson(resource, text))
}

/** An XML answer in its JSON shape. */
export function xmlToJson(resource: Resource, text: string): unknown {
  const tree = parser.parse(text) as Record<string, unknown>
  const root = ROOT[resource]
  return resource === 'service-definition' ? spark(tree[root] ?? {}) : spark(tree[root] === '' ? {} : tree[root], root)
}
