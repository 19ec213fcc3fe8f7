import { z } from 'zod'
import { AhoCorasickBuilder, type AhoCorasick } from './aho-corasick.ts'
import { RoutingConfigError } from './errors.ts'
import { ADMINISTRATIVE_SUFFIXES, COMMON_WORDS, nameForms, prepareSuffixes } from './place-names.ts'
import { isOnWordBoundaries, isWordCharacter, normalizeForMatching } from './text-match.ts'

/**
 * A list of places with hierarchical codes — China's administrative divisions (chinaDivisions), or
 * any list an agency supplies (districts, neighbourhoods, streets of a city) — packed for routing:
 * the names people write, found in free text by one automaton pass, and each place's parent, level
 * and code.
 *
 * Why packed: 665,000 places with their names and codes as JS objects take several hundred MB; here
 * every per-place field is a typed array or an offset into one string, ~40 bytes a place.
 */

/** One place of a list an agency supplies. */
export interface PlaceRecord {
  /** Unique; a child's code usually extends its parent's (653129 → 653129100), which lets an office's code cover the child. */
  code: string
  name: string
  /** The code of the place this one lies in; none for a top-level place. */
  parentCode?: string | null
  /** The kind of place: province, city, county, township, village, district, neighbourhood, street… */
  level: string
  /** Other names people write for it (another language, an old name). */
  aliases?: readonly string[]
}

/**
 * When a bare mention of a place counts only with support (its township or county also named, the
 * office context, or the form's place field): 'always', or only when written as a short form.
 */
export type SupportRule = 'always' | 'short-form'

export interface PlaceListOptions {
  /** Suffixes dropped to derive short forms. Default: ADMINISTRATIVE_SUFFIXES. */
  suffixes?: readonly string[]
  /** Short forms never derived because they are ordinary words. Default: COMMON_WORDS. */
  commonWords?: readonly string[]
  /** Levels whose bare mentions need support. Default: village always, township as a short form. */
  support?: Readonly<Record<string, SupportRule>>
  /** What the list is, for reasons and figures. Default 'places'. */
  label?: string
}

/** Columns of a place list, as loaders produce them (one entry a place). */
export interface PlaceColumns {
  codes: readonly string[]
  names: readonly string[]
  /** Parents by code; ignored when `parents` gives them by index. */
  parentCodes: readonly (string | null | undefined)[]
  /** Parents by index (-1 for none), when the loader already knows them: saves a lookup per place. */
  parents?: Int32Array
  levels: readonly string[]
  aliases?: readonly (readonly string[] | undefined)[]
  /** Places that are only placeholders in the hierarchy and never named in text (市辖区). */
  unnamed?: (name: string) => boolean
}

export interface PlaceGazetteerStats {
  places: number
  terms: number
  readings: number
  automatonNodes: number
  /** Bytes held in typed arrays and the name/code pools (an estimate of the heap it keeps). */
  bytes: number
}

/** Where byJurisdiction gets a place list: loaded on first use (chinaDivisions), or already built. */
export interface PlaceSource {
  readonly label: string
  load(): PlaceGazetteer
}

export interface PlaceGazetteer extends PlaceSource {
  readonly label: string
  readonly size: number
  readonly stats: PlaceGazetteerStats
  code(place: number): string
  name(place: number): string
  level(place: number): string
  /** The place it lies in, or -1. */
  parent(place: number): number
  /** 0 for a top-level place. */
  depth(place: number): number
  /** Whether a bare mention needs support: 0 never, 1 as a short form, 2 always. */
  supportNeeded(place: number): 0 | 1 | 2
  /** Whether the place is named in text (a placeholder such as 市辖区 is not). */
  named(place: number): boolean
  /** The place with this exact code, or -1. */
  byCode(code: string): number
  /**
   * Every occurrence of every term in `normalized` (normalizeForMatching), word boundaries checked
   * for Latin-script terms; in order of end.
   */
  scan(normalized: string, onHit: (term: number, start: number, end: number) => void): void
  /** The readings of a term: `place * 2 + 1` when it is the place's short form, `place * 2` otherwise. */
  readings(term: number): Uint32Array
  /**
   * The arrays behind `readings` and `supportNeeded`, for loops that run on every term found in a
   * message (a view per term found costs more than the lookup). Read-only by contract.
   */
  readonly packed: {
    /** Readings of term t: `readings[termStart[t]] … readings[termStart[t + 1] - 1]`. */
    readonly termStart: Uint32Array
    readonly readings: Uint32Array
    /** Per place: 0, 1 or 2 as `supportNeeded` returns. */
    readonly support: Uint8Array
    /** Per place, as `parent` and `depth` return. */
    readonly parent: Int32Array
    readonly depth: Uint8Array
  }
}

const DEFAULT_SUPPORT: Readonly<Record<string, SupportRule>> = { village: 'always', township: 'short-form' }

/** Whether a term must sit on word boundaries: it begins or ends with a letter of a spaced script. */
function needsBoundaries(term: string): boolean {
  // Han characters (the bulk of the national list) never need the regular-expression test.
  const first = term.charCodeAt(0)
  const last = term.charCodeAt(term.length - 1)
  if (first >= 0x3400 && first <= 0x9fff && last >= 0x3400 && last <= 0x9fff) return false
  return isWordCharacter(String.fromCodePoint(term.codePointAt(0)!)) || isWordCharacter(term.slice(-1))
}

/** Folds a name for matching; names already in Han characters only are left as they are (fast path). */
function normalizeName(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c < 0x4e00 || c > 0x9fff) return normalizeForMatching(name).trim()
  }
  return name
}

/** Everything a place list keeps, packed: typed arrays and two pool strings. */
interface Packed {
  label: string
  size: number
  codePool: string
  codeStart: Uint32Array
  /** Places in code order, for lookups by binary search. */
  codeOrder: Uint32Array
  parent: Int32Array
  levelNames: string[]
  level: Uint8Array
  depth: Uint8Array
  support: Uint8Array
  namePool: string
  nameStart: Uint32Array
  named: Uint8Array
  /** Readings of term t: readingOf[termStart[t] .. termStart[t+1]-1]. */
  termStart: Uint32Array
  readingOf: Uint32Array
  /** 1 when a term must sit on word boundaries (Latin script). */
  boundaries: Uint8Array
  automaton: AhoCorasick
}

export function buildPlaceGazetteer(columns: PlaceColumns, options: PlaceListOptions = {}): PlaceGazetteer {
  // Built in its own function so that nothing used while building (term strings, maps) stays
  // reachable from the closures below.
  return gazetteerFrom(pack(columns, options))
}

function pack(columns: PlaceColumns, options: PlaceListOptions): Packed {
  const { codes, names, parentCodes, levels } = columns
  const size = codes.length
  if (names.length !== size || (columns.parents ? columns.parents.length : parentCodes.length) !== size || levels.length !== size) {
    throw new RoutingConfigError('place-list', 'columns: codes, names, parentCodes and levels must have one entry a place')
  }
  const suffixes = prepareSuffixes(options.suffixes ?? ADMINISTRATIVE_SUFFIXES)
  const common = new Set((options.commonWords ?? COMMON_WORDS).map((w) => normalizeForMatching(w).trim()))
  const supportRules = options.support ?? DEFAULT_SUPPORT

  const codePool = codes.join('')
  const codeStart = new Uint32Array(size + 1)
  for (let i = 0; i < size; i++) codeStart[i + 1] = codeStart[i]! + codes[i]!.length
  const codeOrder = sortByCode(codes)
  for (let k = 0; k < size; k++) {
    const code = codes[codeOrder[k]!]!
    if (code.length === 0) throw new RoutingConfigError('place-list', `place "${names[codeOrder[k]!]}": code must not be empty`)
    if (k > 0 && code === codes[codeOrder[k - 1]!]) throw new RoutingConfigError('place-list', `code ${code} is listed twice`)
  }

  // Parents, found by binary search over the code order.
  const findCode = (code: string): number => {
    let lo = 0
    let hi = size - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const c = codes[codeOrder[mid]!]!
      if (c === code) return codeOrder[mid]!
      if (c < code) lo = mid + 1
      else hi = mid - 1
    }
    return -1
  }
  const parent = columns.parents ?? new Int32Array(size)
  let lastParentCode = ''
  let lastParent = -1
  for (let i = 0; i < size && !columns.parents; i++) {
    const parentCode = parentCodes[i]
    if (parentCode === null || parentCode === undefined || parentCode === '') {
      parent[i] = -1
      continue
    }
    // Lists are usually grouped by parent: remember the last one found.
    const p = parentCode === lastParentCode ? lastParent : findCode(parentCode)
    if (p < 0) throw new RoutingConfigError('place-list', `place ${codes[i]} (${names[i]}): parent code ${parentCode} is not in the list`)
    parent[i] = p
    lastParentCode = parentCode
    lastParent = p
  }

  const levelNames: string[] = []
  const levelIndex = new Map<string, number>()
  const level = new Uint8Array(size)
  for (let i = 0; i < size; i++) {
    let index = levelIndex.get(levels[i]!)
    if (index === undefined) {
      index = levelNames.length
      if (index > 255) throw new RoutingConfigError('place-list', 'more than 256 distinct levels')
      levelNames.push(levels[i]!)
      levelIndex.set(levels[i]!, index)
    }
    level[i] = index
  }
  const depth = new Uint8Array(size)
  const depthKnown = new Uint8Array(size)
  for (let i = 0; i < size; i++) {
    // Walk up to a place whose depth is known, then fill the chain back down.
    const chain: number[] = []
    let p = i
    while (p >= 0 && !depthKnown[p]) {
      if (chain.length > 255) throw new RoutingConfigError('place-list', `place ${codes[i]}: its parents form a cycle or are more than 255 deep`)
      chain.push(p)
      p = parent[p]!
    }
    let d = p >= 0 ? depth[p]! + 1 : 0
    for (let k = chain.length - 1; k >= 0; k--) {
      depth[chain[k]!] = d++
      depthKnown[chain[k]!] = 1
    }
  }
  const support = new Uint8Array(size)
  for (let i = 0; i < size; i++) {
    const rule = supportRules[levelNames[level[i]!]!]
    support[i] = rule === 'always' ? 2 : rule === 'short-form' ? 1 : 0
  }

  const namePool = names.join('')
  const nameStart = new Uint32Array(size + 1)
  for (let i = 0; i < size; i++) nameStart[i + 1] = nameStart[i]! + names[i]!.length

  // Terms: every name, alias, informal name and short form, each with the places it may mean.
  const terms = collectTerms(columns, suffixes, common)
  return {
    label: options.label ?? 'places',
    size,
    codePool,
    codeStart,
    codeOrder,
    parent,
    levelNames,
    level,
    depth,
    support,
    namePool,
    nameStart,
    named: terms.named,
    termStart: terms.termStart,
    readingOf: terms.readings,
    boundaries: terms.boundaries,
    automaton: terms.automaton,
  }
}

/** Places in code order. Loaders give codes sorted in a few runs (one a file): merged, not re-sorted. */
function sortByCode(codes: readonly string[]): Uint32Array {
  const size = codes.length
  const runs: number[] = [0]
  for (let i = 1; i < size; i++) if (codes[i - 1]! > codes[i]!) runs.push(i)
  runs.push(size)
  let order = new Uint32Array(size)
  for (let i = 0; i < size; i++) order[i] = i
  if (runs.length > 64) {
    // Unsorted input (a hand-made list): a comparison sort.
    return Uint32Array.from([...order].sort((a, b) => (codes[a]! < codes[b]! ? -1 : codes[a]! > codes[b]! ? 1 : 0)))
  }
  // Merge neighbouring runs until one is left.
  let bounds = runs
  let scratch = new Uint32Array(size)
  while (bounds.length > 2) {
    const next: number[] = [0]
    for (let r = 0; r + 1 < bounds.length; r += 2) {
      const lo = bounds[r]!
      const mid = bounds[r + 1]!
      const hi = r + 2 < bounds.length ? bounds[r + 2]! : mid
      let a = lo
      let b = mid
      let out = lo
      while (a < mid && b < hi) scratch[out++] = codes[order[a]!]! <= codes[order[b]!]! ? order[a++]! : order[b++]!
      while (a < mid) scratch[out++] = order[a++]!
      while (b < hi) scratch[out++] = order[b++]!
      next.push(hi)
    }
    if (next[next.length - 1] !== size) next.push(size)
    ;[order, scratch] = [scratch, order]
    bounds = next
  }
  return order
}

interface CollectedTerms {
  automaton: AhoCorasick
  termStart: Uint32Array
  readings: Uint32Array
  boundaries: Uint8Array
  named: Uint8Array
}

function collectTerms(columns: PlaceColumns, suffixes: readonly string[], common: ReadonlySet<string>): CollectedTerms {
  const { names, aliases, unnamed } = columns
  const size = names.length
  // Terms go straight into the automaton's trie, which numbers them; no string is kept or hashed.
  const builder = new AhoCorasickBuilder()
  let boundaries = new Uint8Array(1024)
  let entryTerm = new Uint32Array(size * 2 + 16)
  let entryReading = new Uint32Array(size * 2 + 16)
  let entries = 0
  let placeFirstEntry = 0
  const add = (term: string, reading: number) => {
    const id = builder.add(term)
    if (id >= boundaries.length) {
      const grown = new Uint8Array(boundaries.length * 2)
      grown.set(boundaries)
      boundaries = grown
    }
    boundaries[id] = needsBoundaries(term) ? 1 : 0
    // One reading per term and place (a name may also be its alias's short form).
    for (let e = placeFirstEntry; e < entries; e++) if (entryTerm[e] === id && entryReading[e]! >>> 1 === reading >>> 1) return
    if (entries === entryTerm.length) {
      const grownTerm = new Uint32Array(entryTerm.length * 2)
      grownTerm.set(entryTerm)
      entryTerm = grownTerm
      const grownReading = new Uint32Array(entryReading.length * 2)
      grownReading.set(entryReading)
      entryReading = grownReading
    }
    entryTerm[entries] = id
    entryReading[entries] = reading
    entries++
  }
  const named = new Uint8Array(size)
  const byLastUnit = suffixesByLastUnit(suffixes)
  const formsOf = (name: string) => nameForms(name, byLastUnit.get(name.charCodeAt(name.length - 1)) ?? [])
  for (let i = 0; i < size; i++) {
    if (unnamed?.(names[i]!)) continue
    named[i] = 1
    placeFirstEntry = entries
    const written = aliases?.[i]?.length ? [names[i]!, ...aliases[i]!] : [names[i]!]
    // Full names first, so a short form that is also a full name of the same place stays a name.
    const shorts: string[] = []
    for (const w of written) {
      const name = normalizeName(w)
      if (name.length === 0) continue
      add(name, i * 2)
      const forms = formsOf(name)
      for (const informal of forms.informal) add(informal, i * 2)
      if (forms.short !== undefined && !common.has(forms.short)) shorts.push(forms.short)
    }
    for (const short of shorts) add(short, i * 2 + 1)
  }

  const termCount = builder.termCount
  const termStart = new Uint32Array(termCount + 1)
  for (let e = 0; e < entries; e++) termStart[entryTerm[e]! + 1]!++
  for (let t = 0; t < termCount; t++) termStart[t + 1]! += termStart[t]!
  const readings = new Uint32Array(entries)
  const fill = termStart.slice(0, termCount)
  for (let e = 0; e < entries; e++) readings[fill[entryTerm[e]!]!++] = entryReading[e]!
  return { automaton: builder.build(), termStart, readings, boundaries: boundaries.slice(0, termCount), named }
}

/** Suffixes grouped by their last code unit, longest first, so a name is only tested against the few that can end it. */
function suffixesByLastUnit(suffixes: readonly string[]): Map<number, string[]> {
  const map = new Map<number, string[]>()
  for (const suffix of suffixes) {
    const key = suffix.charCodeAt(suffix.length - 1)
    map.set(key, [...(map.get(key) ?? []), suffix])
  }
  return map
}

function gazetteerFrom(packed: Packed): PlaceGazetteer {
  const { size, codePool, codeStart, codeOrder, parent, levelNames, level, depth, support, namePool, nameStart, named, termStart, readingOf, boundaries, automaton } =
    packed
  const compareCode = (code: string, i: number): number => {
    const start = codeStart[i]!
    const length = codeStart[i + 1]! - start
    const max = Math.min(code.length, length)
    for (let k = 0; k < max; k++) {
      const d = code.charCodeAt(k) - codePool.charCodeAt(start + k)
      if (d !== 0) return d
    }
    return code.length - length
  }
  const bytes =
    automaton.byteLength +
    codePool.length * (/[^\x00-\xff]/.test(codePool) ? 2 : 1) +
    namePool.length * 2 +
    [codeStart, codeOrder, parent, level, depth, support, nameStart, named, termStart, readingOf, boundaries].reduce((s, a) => s + a.byteLength, 0)
  const stats: PlaceGazetteerStats = {
    places: size,
    terms: termStart.length - 1,
    readings: readingOf.length,
    automatonNodes: automaton.nodeCount,
    bytes,
  }

  const gazetteer: PlaceGazetteer = {
    label: packed.label,
    size,
    stats,
    load: () => gazetteer,
    code: (i) => codePool.slice(codeStart[i]!, codeStart[i + 1]!),
    name: (i) => namePool.slice(nameStart[i]!, nameStart[i + 1]!),
    level: (i) => levelNames[level[i]!]!,
    parent: (i) => parent[i]!,
    depth: (i) => depth[i]!,
    supportNeeded: (i) => support[i]! as 0 | 1 | 2,
    named: (i) => named[i] === 1,
    byCode(code) {
      let lo = 0
      let hi = size - 1
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1
        const c = compareCode(code, codeOrder[mid]!)
        if (c === 0) return codeOrder[mid]!
        if (c > 0) lo = mid + 1
        else hi = mid - 1
      }
      return -1
    },
    scan(normalized, onHit) {
      automaton.scan(normalized, (term, start, end) => {
        if (boundaries[term] === 1 && !isOnWordBoundaries(normalized, start, end)) return
        onHit(term, start, end)
      })
    },
    readings: (term) => readingOf.subarray(termStart[term]!, termStart[term + 1]!),
    packed: { termStart, readings: readingOf, support, parent, depth },
  }
  return gazetteer
}

/** A place list an agency supplies, validated. */
export const PlaceListRecord = z
  .object({
    code: z.string().trim().min(1),
    name: z.string().trim().min(1),
    parentCode: z.string().trim().nullish(),
    level: z.string().trim().min(1),
    aliases: z.array(z.string().trim().min(1)).optional(),
  })
  .strict()

/** A place list from records (e.g. parsed from an agency's JSON). Misconfiguration throws RoutingConfigError. */
export function placeList(records: readonly PlaceRecord[], options: PlaceListOptions = {}): PlaceGazetteer {
  const parsed = z.array(PlaceListRecord).safeParse(records)
  if (!parsed.success) throw new RoutingConfigError('place-list', `invalid places:\n${z.prettifyError(parsed.error)}`)
  const list = parsed.data
  return buildPlaceGazetteer(
    {
      codes: list.map((r) => r.code),
      names: list.map((r) => r.name),
      parentCodes: list.map((r) => r.parentCode ?? null),
      levels: list.map((r) => r.level),
      aliases: list.map((r) => r.aliases),
    },
    options,
  )
}

/**
 * A place list from the text of a CSV file (header `code,name,parentCode,level[,aliases]`, aliases
 * separated by `|`) or a JSON array of {code, name, parentCode, level, aliases?}.
 */
export function parsePlaceList(text: string, options: PlaceListOptions & { format?: 'csv' | 'json' } = {}): PlaceGazetteer {
  const { format, ...rest } = options
  const json = format === 'json' || (format === undefined && /^\s*\[/.test(text))
  if (json) {
    let data: unknown
    try {
      data = JSON.parse(text)
    } catch (err) {
      throw new RoutingConfigError('place-list', `not valid JSON: ${(err as Error).message}`)
    }
    return placeList(data as PlaceRecord[], rest)
  }
  const rows = parseCsv(text)
  const header = rows.shift()?.map((h) => h.trim())
  if (!header) throw new RoutingConfigError('place-list', 'empty CSV')
  const column = (name: string, required: boolean) => {
    const index = header.indexOf(name)
    if (index < 0 && required) throw new RoutingConfigError('place-list', `CSV header: missing column "${name}" (have ${header.join(', ')})`)
    return index
  }
  const [code, name, parentCode, level, aliases] = [column('code', true), column('name', true), column('parentCode', true), column('level', true), column('aliases', false)]
  const records = rows
    .filter((row) => row.some((cell) => cell.trim() !== ''))
    .map((row) => ({
      code: row[code] ?? '',
      name: row[name] ?? '',
      parentCode: row[parentCode] || null,
      level: row[level] ?? '',
      ...(aliases >= 0 && row[aliases] ? { aliases: row[aliases]!.split('|').filter((a) => a.trim() !== '') } : {}),
    }))
  return placeList(records, rest)
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"' && field === '') quoted = true
    else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      row.push(field)
      rows.push(row)
      row = []
      field = ''
    } else field += c
  }
  if (field !== '' || row.length > 0) {
    row.push(field)
    rows.push(row)
  }
  return rows
}
