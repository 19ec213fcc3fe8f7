import type { Office, OfficeDirectory } from '@intake/core'
import { AhoCorasickBuilder, type AhoCorasick } from './aho-corasick.ts'
import type { PlaceGazetteer } from './place-gazetteer.ts'
import { nameForms, prepareSuffixes } from './place-names.ts'
import { containsHan, isOnWordBoundaries, isWordCharacter, normalizeForMatching } from './text-match.ts'

export { ADMINISTRATIVE_SUFFIXES, COMMON_WORDS } from './place-names.ts'

/**
 * The gazetteer of one office tree: every place it can route, indexed for finding in free text, and
 * which office covers which place. Built once per OfficeDirectory and reused.
 *
 * Places come from two sources:
 * - a place list (China's administrative divisions, or an agency's list of districts and
 *   neighbourhoods), when byJurisdiction is given one: each place belongs to the office whose
 *   `jurisdiction.codes` holds the longest prefix of its code (653129 covers every township and
 *   village of 伽师县), so the most specific office wins;
 * - the office tree's own `jurisdiction.places`: a name an office lists is the same place as the
 *   list's place with that office's code (伽师县 = 653129) and adds its aliases (Jiashi); a name
 *   with no such code is a place of its own, inside the place of the office above.
 *
 * Place references are numbers: 0 … list.size-1 are the list's places, the rest are places only
 * the office tree names.
 */

/** Characters after which a name starts a word of its own: 在阳江, 去阳江, 我们阳江. */
const WORD_BEFORE = new Set('在到去从于往来回住是的和与及或跟同给向由自至经对把被让我你他她们咱这那个')
/** A short form ending like a river, lake or mountain (阳江, 九江, 黄山) is read inside water and landform names (浦阳江). */
const LANDFORM_END = new Set('江河湖海溪山岭')
/** Written right after a short form, these make it a road's, bridge's or square's name (阳江路), not the place. */
const NAMED_AFTER = ['路', '街', '巷', '弄', '桥', '大道', '大街', '大桥', '隧道', '广场', '公园', '水库']

/**
 * Whether a list place's short form at [start, end) stands as a word the gazetteer can justify:
 * not the head of a road's or landmark's name, and — when it ends like a water body or mountain —
 * not the tail of a longer name (浦阳江 is a river, not 阳江市): the character before it must end
 * another place named there, be a function word, or not be Han at all.
 */
function shortFormStands(text: string, start: number, end: number, found: ReadonlyMap<number, PlaceMention>): boolean {
  for (const after of NAMED_AFTER) if (text.startsWith(after, end)) return false
  if (!LANDFORM_END.has(text[end - 1]!) || start === 0) return true
  const before = text[start - 1]!
  if (!/\p{Script=Han}/u.test(before) || WORD_BEFORE.has(before)) return true
  for (const mention of found.values()) if (mention.end === start) return true
  return false
}

/** How a place was named: its listed name or alias, a short form of one, or an official code. */
export type MentionKind = 'name' | 'short-form' | 'code' | 'code-prefix'

/** A place: an index into the place list, or past its end, a place only the office tree names. */
export type PlaceRef = number

export interface Reading {
  place: PlaceRef
  /** Written as a short form (伽师 for 伽师县). */
  short: boolean
  /** An office lists this name: it counts without support (the deployment named it on purpose). */
  listed: boolean
}

export interface PlaceMention {
  /** What was found: the term as it occurs in the text (normalised), or the code. */
  written: string
  kind: MentionKind
  /** UTF-16 offsets in the normalised text; 0, 0 for a code. */
  start: number
  end: number
  /** Places it may mean; several when a name or a short form is shared (新村, 城关镇, 巴仁). */
  readings: Reading[]
  /**
   * Readings from the place list that count only with support (bare villages, townships' short
   * forms) in places an office covers, packed as `place * 2 + (short ? 1 : 0)`. A message full of
   * words that are also village names has hundreds: they become Readings only when something
   * supports them (see `weakReading`).
   */
  weak: readonly number[]
}

export interface GazetteerOptions {
  suffixes: readonly string[]
  /** Short forms never derived from office names: ones that are also ordinary words (荒地 is "wasteland"). */
  ignoreShortForms: readonly string[]
  /** A place list whose places offices cover by code. */
  places?: PlaceGazetteer
}

export interface Gazetteer {
  readonly directory: OfficeDirectory
  readonly list: PlaceGazetteer | undefined
  /** Every place name in free text, overlapping ones included, in order of start (longest first). */
  findInText(text: string): PlaceMention[]
  /** A packed weak reading (PlaceMention.weak) as a Reading, or undefined when no office covers its place. */
  weakReading(value: number): Reading | undefined
  /** An official code (653129100), or the longest known code it starts with (hierarchical codes). */
  findCode(code: string): PlaceMention | undefined
  /** The office whose jurisdiction covers a place most specifically, or undefined outside the tree. */
  officeOf(place: PlaceRef): string | undefined
  /** The place a place lies in, or -1. */
  parentOf(place: PlaceRef): PlaceRef
  /** 0 for a top-level place. */
  depthOf(place: PlaceRef): number
  nameOf(place: PlaceRef): string
  /** The official code, when known. */
  codeOf(place: PlaceRef): string | undefined
  /** Whether the place comes from the place list (true) or only from the office tree. */
  inList(place: PlaceRef): boolean
  /** Whether a bare mention read this way counts only with support (a village; a township's short form). */
  needsSupport(reading: Reading): boolean
  /** The places an office's jurisdiction names (its own, not inherited). */
  placesOf(officeId: string): readonly PlaceRef[]
  /** The place with its surroundings, for reasons: 喀什地区伽师县巴仁镇. */
  pathOf(place: PlaceRef): string
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

interface OfficePlace {
  name: string
  officeId: string
  parent: PlaceRef
  depth: number
  code: string | undefined
}

interface OfficeTerms {
  automaton: AhoCorasick
  /** Per term id: its readings. */
  readings: Reading[][]
  boundaries: Uint8Array
}

export function buildGazetteer(directory: OfficeDirectory, options: GazetteerOptions): Gazetteer {
  const suffixes = prepareSuffixes(options.suffixes)
  const ignored = new Set(options.ignoreShortForms.map((s) => normalizeForMatching(s).trim()))
  const list = options.places
  const listSize = list?.size ?? 0

  // A place (or code) an office lists that an ancestor already lists is not its own: a procuratorate
  // that lists its county serves the county's places, like a bureau.
  const ownPlaces = new Map<string, Office['jurisdiction']['places']>()
  const ownCodes = new Map<string, string[]>()
  for (const office of directory.all) {
    const ancestors = directory.lineage(office.id).slice(1)
    const listedAbove = new Set(ancestors.flatMap((a) => a.jurisdiction.places.map((p) => normalizeForMatching(p.name).trim())))
    const codesAbove = new Set(ancestors.flatMap((a) => a.jurisdiction.codes))
    ownPlaces.set(office.id, office.jurisdiction.places.filter((p) => !listedAbove.has(normalizeForMatching(p.name).trim())))
    ownCodes.set(office.id, office.jurisdiction.codes.map((c) => c.trim()).filter((c) => c !== '' && !codesAbove.has(c)))
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

  // Offices by code. With a place list, each code is the list's place with that code; a code the
  // list lacks still covers the codes it begins (checked by prefix).
  const officeByCode = new Map<string, string>()
  const officeAtListPlace = new Map<PlaceRef, string>()
  const looseCodes: { code: string; officeId: string }[] = []
  for (const office of directory.all) {
    for (const code of ownCodes.get(office.id) ?? []) {
      if (!officeByCode.has(code)) officeByCode.set(code, office.id)
      if (!list) continue
      const place = list.byCode(code)
      if (place >= 0) {
        if (!officeAtListPlace.has(place)) officeAtListPlace.set(place, office.id)
      } else looseCodes.push({ code, officeId: office.id })
    }
  }

  // The office tree's places: the list's place when the office's code names it, else a place of its own.
  const officePlaces: OfficePlace[] = []
  const placesByOffice = new Map<string, PlaceRef[]>()
  const listPlaceForName = (office: Office, name: string, onlyOne: boolean): PlaceRef => {
    if (!list) return -1
    const codes = ownCodes.get(office.id) ?? []
    const inList = codes.map((c) => list.byCode(c)).filter((p) => p >= 0)
    const wanted = normalizeForMatching(name).trim()
    const wantedShort = nameForms(wanted, suffixes).short ?? wanted
    for (const place of inList) {
      const listed = normalizeForMatching(list.name(place)).trim()
      const forms = nameForms(listed, suffixes)
      if (listed === wanted || forms.informal.includes(wanted) || (forms.short ?? listed) === wantedShort) return place
    }
    return onlyOne && inList.length === 1 ? inList[0]! : -1
  }
  // Offices parent-first, so an office place's parent place is known when it is created.
  const byDepth = [...directory.all].sort((a, b) => directory.depth(a.id) - directory.depth(b.id))
  const primaryPlace = (officeId: string): PlaceRef => {
    for (const o of directory.lineage(officeId)) {
      const places = placesByOffice.get(o.id)
      if (places && places.length > 0) return places[0]!
    }
    return -1
  }
  const termSources: { office: Office; written: string[]; place: PlaceRef }[] = []
  for (const office of byDepth) {
    const own = ownPlaces.get(office.id) ?? []
    const refs: PlaceRef[] = []
    for (const place of own) {
      let ref = listPlaceForName(office, place.name, own.length === 1)
      if (ref < 0) {
        const parentOffice = office.parentId ?? undefined
        const parent = parentOffice === undefined ? -1 : primaryPlace(parentOffice)
        ref = listSize + officePlaces.length
        officePlaces.push({
          name: place.name,
          officeId: office.id,
          parent,
          depth: parent < 0 ? 0 : depthOf(parent) + 1,
          code: ownCodes.get(office.id)?.[0],
        })
      }
      refs.push(ref)
      termSources.push({ office, written: [place.name, ...place.aliases], place: ref })
    }
    // An office with codes but no place names covers the list's places of those codes.
    if (refs.length === 0 && list) {
      for (const code of ownCodes.get(office.id) ?? []) {
        const place = list.byCode(code)
        if (place >= 0) refs.push(place)
      }
    }
    placesByOffice.set(office.id, refs)
  }

  const listParent = list?.packed.parent
  const listDepth = list?.packed.depth
  function depthOf(place: PlaceRef): number {
    return place < listSize ? listDepth![place]! : officePlaces[place - listSize]!.depth
  }

  const officeTerms = buildOfficeTerms(termSources, suffixes, ignored)

  // The office covering each list place, found by walking up to a place an office's code names
  // and remembered (-2 not yet known, -1 none, else an index into `offices`).
  const offices = directory.all.map((o) => o.id)
  const officeIndex = new Map(offices.map((id, i) => [id, i]))
  const coveringOffice = new Int32Array(listSize).fill(-2)
  const officeOfListPlace = (place: PlaceRef): string | undefined => {
    const cached = coveringOffice[place]!
    if (cached !== -2) return cached >= 0 ? offices[cached] : undefined
    const path: number[] = []
    let p = place
    let found = -1
    while (p >= 0) {
      const known = coveringOffice[p]!
      if (known !== -2) {
        found = known
        break
      }
      path.push(p)
      const here = officeAtListPlace.get(p)
      if (here !== undefined) {
        found = officeIndex.get(here)!
        break
      }
      if (looseCodes.length > 0) {
        const code = list!.code(p)
        const loose = looseCodes.filter((l) => code.startsWith(l.code)).sort((a, b) => b.code.length - a.code.length)[0]
        if (loose) {
          found = officeIndex.get(loose.officeId)!
          break
        }
      }
      p = list!.parent(p)
    }
    for (const visited of path) coveringOffice[visited] = found
    return found >= 0 ? offices[found] : undefined
  }

  const reading = (place: PlaceRef, short: boolean, listed: boolean): Reading => ({ place, short, listed })

  const gazetteer: Gazetteer = {
    directory,
    list,
    findInText(text) {
      const normalized = normalizeForMatching(text)
      const bySpan = new Map<number, PlaceMention>()
      // Readings from the office tree's names per span, the only ones a list reading may repeat.
      const fromOffices = new Map<PlaceMention, number>()
      officeTerms.automaton.scan(normalized, (term, start, end) => {
        if (officeTerms.boundaries[term] === 1 && !isOnWordBoundaries(normalized, start, end)) return
        const mention: PlaceMention = { written: normalized.slice(start, end), kind: 'name', start, end, readings: [], weak: [] }
        for (const r of officeTerms.readings[term]!) mention.readings.push({ ...r })
        bySpan.set(start * 65536 + end, mention)
        fromOffices.set(mention, mention.readings.length)
      })
      list?.scan(normalized, (term, start, end) => {
        const { termStart, readings, support } = list.packed
        const key = start * 65536 + end
        let mention = bySpan.get(key)
        const listed = mention && fromOffices.size > 0 ? (fromOffices.get(mention) ?? 0) : 0
        for (let k = termStart[term]!, last = termStart[term + 1]!; k < last; k++) {
          const value = readings[k]!
          const place = value >>> 1
          const short = (value & 1) === 1
          if (short && !shortFormStands(normalized, start, end, bySpan)) continue
          const need = support[place]!
          const weak = need === 2 || (need === 1 && short)
          // Places no office covers are not this deployment's: leave them out at once (most of a
          // national list, for a county's deployment). Remembered per place, so this is one array
          // read for a place seen before.
          const covering = coveringOffice[place]!
          if (covering === -1 || (covering === -2 && officeOfListPlace(place) === undefined)) continue
          if (!mention) {
            mention = { written: normalized.slice(start, end), kind: 'name', start, end, readings: [], weak: [] }
            bySpan.set(key, mention)
          }
          let same: Reading | undefined
          for (let j = 0; j < listed; j++) if (mention.readings[j]!.place === place) same = mention.readings[j]
          // The same place from the office tree and the list: the office tree's reading counts without support.
          if (same) same.short &&= short
          else if (weak) (mention.weak as number[]).push(value)
          else mention.readings.push({ place, short, listed: false })
        }
      })
      const mentions: PlaceMention[] = []
      for (const m of bySpan.values()) {
        if (m.readings.length === 0 && m.weak.length === 0) continue
        m.kind = m.readings.every((r) => r.short) && m.weak.every((v) => (v & 1) === 1) ? 'short-form' : 'name'
        mentions.push(m)
      }
      return mentions.sort((a, b) => a.start - b.start || b.end - a.end)
    },
    weakReading(value) {
      const place = value >>> 1
      if (officeOfListPlace(place) === undefined) return undefined
      return { place, short: (value & 1) === 1, listed: false }
    },
    findCode(input) {
      const code = input.trim()
      if (code === '') return undefined
      for (let length = code.length; length > 0; length--) {
        const prefix = code.slice(0, length)
        const kind: MentionKind = length === code.length ? 'code' : 'code-prefix'
        const listed = list ? list.byCode(prefix) : -1
        if (listed >= 0 && officeOfListPlace(listed) !== undefined) {
          return { written: code, kind, start: 0, end: 0, readings: [reading(listed, false, true)], weak: [] }
        }
        const officeId = officeByCode.get(prefix)
        if (officeId !== undefined) {
          const places = placesByOffice.get(officeId) ?? []
          const place = places[0] ?? primaryPlace(officeId)
          if (place >= 0) return { written: code, kind, start: 0, end: 0, readings: [reading(place, false, true)], weak: [] }
        }
      }
      return undefined
    },
    officeOf: (place) => (place < listSize ? officeOfListPlace(place) : officePlaces[place - listSize]?.officeId),
    parentOf: (place) => (place < listSize ? listParent![place]! : (officePlaces[place - listSize]?.parent ?? -1)),
    depthOf,
    nameOf: (place) => (place < listSize ? list!.name(place) : officePlaces[place - listSize]!.name),
    codeOf: (place) => (place < listSize ? list!.code(place) : officePlaces[place - listSize]?.code),
    inList: (place) => place < listSize,
    needsSupport(r) {
      if (r.listed || r.place >= listSize) return false
      const need = list!.supportNeeded(r.place)
      return need === 2 || (need === 1 && r.short)
    },
    placesOf: (officeId) => placesByOffice.get(officeId) ?? [],
    pathOf(place) {
      // The place and up to two named places above it, below the top level: 喀什地区伽师县巴仁镇.
      const names: string[] = []
      for (let p = place; p >= 0 && names.length < 3; p = gazetteer.parentOf(p)) {
        if (p !== place && depthOf(p) === 0 && names.length > 0) break
        if (p < listSize && !list!.named(p)) continue
        names.unshift(gazetteer.nameOf(p))
      }
      // Chinese writes the larger place first, run together (伽师县巴仁镇); spaced scripts the
      // smaller first, with commas (Potrero Hill, Supervisor District 10).
      return names.every(containsHan) ? names.join('') : names.reverse().join(', ')
    },
    territoryOf: (id) => territory.get(id) ?? id,
    remitOf: (id) => remit.get(id) ?? [],
  }
  return gazetteer
}

/**
 * The names offices list, with their aliases and short forms, as one small automaton. A listed
 * name or alias means that place: it is never read as another office place's short form.
 */
function buildOfficeTerms(
  sources: readonly { written: string[]; place: PlaceRef }[],
  suffixes: readonly string[],
  ignored: ReadonlySet<string>,
): OfficeTerms {
  const names: { term: string; place: PlaceRef }[] = []
  const shortForms: { term: string; place: PlaceRef }[] = []
  for (const source of sources) {
    for (const written of source.written) {
      const term = normalizeForMatching(written).trim()
      if (term === '') continue
      names.push({ term, place: source.place })
      const forms = nameForms(term, suffixes)
      for (const informal of forms.informal) names.push({ term: informal, place: source.place })
      if (forms.short && !ignored.has(forms.short)) shortForms.push({ term: forms.short, place: source.place })
    }
  }
  const listedNames = new Set(names.map((n) => n.term))
  const builder = new AhoCorasickBuilder()
  const readings: Reading[][] = []
  const boundaries: number[] = []
  const add = (term: string, r: Reading) => {
    const id = builder.add(term)
    boundaries[id] = isWordCharacter(String.fromCodePoint(term.codePointAt(0)!)) || isWordCharacter(term.slice(-1)) ? 1 : 0
    const list = (readings[id] ??= [])
    if (!list.some((x) => x.place === r.place)) list.push(r)
  }
  for (const n of names) add(n.term, { place: n.place, short: false, listed: true })
  for (const s of shortForms) if (!listedNames.has(s.term)) add(s.term, { place: s.place, short: true, listed: true })
  return { automaton: builder.build(), readings, boundaries: Uint8Array.from(boundaries) }
}
