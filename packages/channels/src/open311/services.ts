import type { Office } from '@intake/core'

/** A category as the routing package's taxonomy describes it (its `TaxonomyCategory` fits). */
export interface Open311Category {
  id: string
  names?: Readonly<Record<string, string>>
  description?: string
  phrases?: ReadonlyArray<string | { phrase: string }>
}

/** One attribute of a service definition (GeoReport v2, GET Service Definition). */
export interface Open311Attribute {
  code: string
  datatype: 'string' | 'number' | 'datetime' | 'text' | 'singlevaluelist' | 'multivaluelist'
  required: boolean
  description: string
  datatypeDescription?: string
  /** `false`: information for the citizen only, not a question. Default true. */
  variable?: boolean
  values?: ReadonlyArray<{ key: string; name: string }>
}

export interface Open311Service {
  code: string
  name: string
  description: string
  keywords: string[]
  /** The office that handles it (the first whose remit lists the category). */
  group: string
  attributes: readonly Open311Attribute[]
}

const KEYWORDS = 8

/**
 * The services a deployment offers: the taxonomy's categories, then any other category an office
 * lists in its remit (an agency's own label, named by itself). Each is grouped under the first office
 * whose remit lists it.
 */
export function servicesOf(
  offices: readonly Office[],
  categories: readonly Open311Category[],
  attributes: Readonly<Record<string, readonly Open311Attribute[]>>,
  language: string,
): Open311Service[] {
  const byId = new Map(categories.map((c) => [c.id, c]))
  const codes = [...new Set([...categories.map((c) => c.id), ...offices.flatMap((o) => o.remit)])]
  return codes.map((code) => {
    const office = offices.find((o) => o.remit.includes(code))
    const category = byId.get(code)
    const name = category?.names?.[language] ?? category?.names?.en ?? Object.values(category?.names ?? {})[0] ?? code
    return {
      code,
      name,
      description: category?.description ?? name,
      keywords: (category?.phrases ?? []).map((p) => (typeof p === 'string' ? p : p.phrase)).slice(0, KEYWORDS),
      group: office ? (office.names[language] ?? office.name) : '',
      attributes: attributes[code] ?? [],
    }
  })
}

export const serviceListItem = (s: Open311Service) => ({
  service_code: s.code,
  service_name: s.name,
  description: s.description,
  metadata: s.attributes.length > 0,
  type: 'realtime',
  keywords: s.keywords.join(', '),
  group: s.group,
})

export const serviceDefinition = (s: Open311Service) => ({
  service_code: s.code,
  attributes: s.attributes.map((a, i) => ({
    variable: a.variable ?? true,
    code: a.code,
    datatype: a.datatype,
    required: a.required,
    datatype_description: a.datatypeDescription ?? null,
    order: i + 1,
    description: a.description,
    ...(a.values ? { values: a.values.map((v) => ({ key: v.key, name: v.name })) } : {}),
  })),
})
