import type { Office, OfficeDirectory } from '@intake/core'
import { characterCount, normalizeForMatching, TermIndex } from './text-match.ts'

/**
 * The gazetteer: every place the office tree names, indexed for finding in free text, and what the
 * tree says about who covers which place. Built from an OfficeDirectory once and reused.
 */

/**
 * Administrative suffixes dropped to get the short form people write (伽师县 → 伽师, 巴仁镇 → 巴仁).
 * The longest matching suffix is dropped, so 喀什地区 gives 喀什 and not 喀什地.
 */
export const ADMINISTRATIVE_SUFFIXES: readonly string[] = [
  '特别行政区', '自治区', '自治州', '自治县', '自治旗', '地区', '街道', '社区',
  '省', '市', '州', '盟', '县', '区', '旗', '镇', '乡', '村',
  ' prefecture', ' county', ' district', ' subdistrict', ' township', ' town', ' city', ' village',
]

/** How a place was named: its listed name or alias, a short form of one, or an official code. */
export type MentionKind = 'name' | 'short-form' | 'code' | 'code-prefix'

export interface PlaceCandidate {
  /** The place's name as the office tree lists it. */
  place: string
  /** The office whose own jurisdiction lists the place. */
  officeId: string
}

export interface PlaceMention {
  /** What was found: the term as it occurs in the text (normalised), or the code. */
  written: string
  kind: MentionKind
  /** Places it may mean; several when a short form or a name is shared. */
  candidates: readonly PlaceCandidate[]
}

export interface GazetteerOptions {
  suffixes: readonly string[]
  /** Short forms never derived: ones that are also ordinary words (荒地 is "wasteland"). */
  ignoreShortForms: readonly string[]
}

export interface Gazetteer {
  readonly directory: OfficeDirectory
  /** Places named in free text: longest term wins, no overlaps, each term once. */
  findInText(text: string): PlaceMention[]
  /** An official code (653129100), or the longest listed code it starts with (hierarchical codes). */
  findCode(code: string): PlaceMention | undefined
  /**
   * The office whose places an office serves: itself when it lists places of its own, else the
   * nearest such ancestor (a bureau serves its government's places), else its root.
   */
  territoryOf(officeId: string): string
  /**
   * Categories an office handles: its own remit, or for a government of a place with no remit
   * listed (a town), the remit of the government above it.
   */
  remitOf(officeId: string): readonly string[]
}

interface TermValue extends PlaceCandidate {
  kind: 'name' | 'short-form'
}

function shortForm(name: string, suffixes: readonly string[]): string | undefined {
  for (const suffix of suffixes) {
    if (!name.endsWith(suffix)) continue
    const rest = name.slice(0, name.length - suffix.length).trim()
    return characterCount(rest) >= 2 ? rest : undefined
  }
  return undefined
}

export function buildGazetteer(directory: OfficeDirectory, options: GazetteerOptions): Gazetteer {
  const suffixes = [...new Set(options.suffixes.map((s) => normalizeForMatching(s)))].sort((a, b) => b.length - a.length)
  const ignored = new Set(options.ignoreShortForms.map((s) => normalizeForMatching(s).trim()))

  // A place (or code) an office lists that an ancestor already lists is not its own: a procuratorate
  // that lists its county serves the county's places, like a bureau.
  const ownPlaces = new Map<string, Office['jurisdiction']['places']>()
  const ownCodes = new Map<string, string[]>()
  for (const office of directory.all) {
    const ancestors = directory.lineage(office.id).slice(1)
    const listedAbove = new Set(ancestors.flatMap((a) => a.jurisdiction.places.map((p) => normalizeForMatching(p.name).trim())))
    const codesAbove = new Set(ancestors.flatMap((a) => a.jurisdiction.codes))
    ownPlaces.set(office.id, office.jurisdiction.places.filter((p) => !listedAbove.has(normalizeForMatching(p.name).trim())))
    ownCodes.set(office.id, office.jurisdiction.codes.filter((c) => !codesAbove.has(c)))
  }
  const isTerritorial = (id: string) => (ownPlaces.get(id)?.length ?? 0) > 0 || (ownCodes.get(id)?.length ?? 0) > 0

  const territory = new Map<string, string>()
  const remit = new Map<string, readonly string[]>()
  for (const office of directory.all) {
    const lineage = directory.lineage(office.id)
    territory.set(office.id, (lineage.find((o) => isTerritorial(o.id)) ?? lineage[lineage.length - 1]!).id)
    let effective: readonly string[] = []
    for (const o of lineage) {
      if (o.remit.length > 0) {
        effective = o.remit
        break
      }
      if (!isTerritorial(o.id)) break
    }
    remit.set(office.id, effective)
  }

  const names: { term: string; value: TermValue }[] = []
  const shortForms: { term: string; value: TermValue }[] = []
  for (const office of directory.all) {
    for (const place of ownPlaces.get(office.id) ?? []) {
      for (const written of [place.name, ...place.aliases]) {
        names.push({ term: written, value: { place: place.name, officeId: office.id, kind: 'name' } })
        const short = shortForm(normalizeForMatching(written).trim(), suffixes)
        if (short && !ignored.has(short)) shortForms.push({ term: short, value: { place: place.name, officeId: office.id, kind: 'short-form' } })
      }
    }
  }
  // A listed name or alias means that place; it is never read as another place's short form.
  const listedNames = new Set(names.map((n) => normalizeForMatching(n.term).trim()))
  const terms = new TermIndex<TermValue>([...names, ...shortForms.filter((s) => !listedNames.has(s.term))])

  const byCode = new Map<string, PlaceCandidate[]>()
  for (const office of directory.all) {
    for (const code of ownCodes.get(office.id) ?? []) {
      const place = ownPlaces.get(office.id)?.[0]?.name ?? office.name
      byCode.set(code, [...(byCode.get(code) ?? []), { place, officeId: office.id }])
    }
  }

  return {
    directory,
    findInText(text) {
      const mentions = new Map<string, PlaceMention>()
      for (const hit of terms.find(text)) {
        if (mentions.has(hit.term)) continue
        const unique = new Map(hit.values.map((v) => [`${v.officeId}\u0000${v.place}`, { place: v.place, officeId: v.officeId }]))
        mentions.set(hit.term, { written: hit.term, kind: hit.values[0]!.kind, candidates: [...unique.values()] })
      }
      return [...mentions.values()]
    },
    findCode(input) {
      const code = input.trim()
      const exact = byCode.get(code)
      if (exact) return { written: code, kind: 'code', candidates: exact }
      for (let length = code.length - 1; length > 0; length--) {
        const candidates = byCode.get(code.slice(0, length))
        if (candidates) return { written: code, kind: 'code-prefix', candidates }
      }
      return undefined
    },
    territoryOf: (id) => territory.get(id) ?? id,
    remitOf: (id) => remit.get(id) ?? [],
  }
}

