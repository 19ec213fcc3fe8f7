import { z } from 'zod'
import type { CaseDraft, Office, OfficeDirectory, RoutingContext, RoutingStrategy } from '@intake/core'
import { RoutingConfigError } from './errors.ts'
import { normalizeForMatching } from './text-match.ts'
import { ADMINISTRATIVE_SUFFIXES, buildGazetteer, type Gazetteer, type MentionKind, type PlaceMention, type PlaceRef, type Reading } from './gazetteer.ts'
import type { PlaceSource } from './place-gazetteer.ts'
import { jurisdictionProblems } from './jurisdiction-check.ts'

export interface ByJurisdictionOptions {
  /**
   * Administrative suffixes dropped to derive the short forms people write (伽师县 → 伽师).
   * Default: Chinese suffixes (县, 区, 市, 镇, 乡, 街道, 地区, 自治县…) and English ones (" county"…).
   */
  suffixes?: readonly string[]
  /** Short forms of the office tree's names that are ordinary words in the deployment's language (荒地, "wasteland"). */
  ignoreShortForms?: readonly string[]
  /**
   * A place list whose places the offices cover by code: `chinaDivisions({ within: '65' })` (loaded
   * on the first message, once per process) or an agency's `placeList(…)`. Without it only the
   * places the office tree names are known.
   */
  places?: PlaceSource
  /**
   * The office that owns a channel or an office account, by the draft's `to` (the number or account
   * written to) or else its channel id. A bare village named on a county's hotline is that county's
   * village; an ambiguous name is read inside that office's area first.
   */
  channelOffices?: Readonly<Record<string, string>>
  /**
   * The offices that handled the citizen's earlier cases, most recent first. Asked only when a
   * place name stays ambiguous after the other places and the office context.
   */
  earlierCaseOffices?: (draft: CaseDraft, ctx: RoutingContext) => Promise<readonly string[]> | readonly string[]
}

const Options = z
  .object({
    suffixes: z.array(z.string().refine((s) => s.trim().length > 0, 'a suffix must not be blank')).min(1).optional(),
    ignoreShortForms: z.array(z.string().trim().min(1)).optional(),
    places: z
      .custom<PlaceSource>((v) => typeof v === 'object' && v !== null && typeof (v as PlaceSource).load === 'function', 'a place source: chinaDivisions(…) or placeList(…)')
      .optional(),
    channelOffices: z.record(z.string().min(1), z.string().min(1)).optional(),
    earlierCaseOffices: z.custom<ByJurisdictionOptions['earlierCaseOffices']>((v) => typeof v === 'function', 'a function').optional(),
  })
  .strict()

/**
 * How much a place found counts. The place field of a form is the citizen saying where; free text
 * only mentions places. In the text, a name whose surroundings are also named (伽师县巴仁镇) counts
 * more than a name alone, a short form less, a place only the office context makes readable (a bare
 * village on its county's hotline) less again, and an ambiguity left unsettled least.
 */
const CONFIDENCE = {
  form: { name: 0.97, code: 0.97, 'short-form': 0.9, 'code-prefix': 0.9 },
  text: { name: 0.9, 'short-form': 0.75, code: 0.9, 'code-prefix': 0.9 },
  textWithSurroundings: { name: 0.93, 'short-form': 0.8, code: 0.93, 'code-prefix': 0.9 },
  contextOnly: 0.6,
} as const
/** An ambiguous place or places in different branches: only the common area above them is known. */
const LOWERED_CONFIDENCE = 0.5
/** How far above a place a mention or the office context still supports it: a village's county. */
const SUPPORT_LEVELS = 2

type Field = 'code' | 'form' | 'subject' | 'text'
type Source = 'form' | 'text'

interface Hit {
  field: Field
  mention: PlaceMention
  /** The readings that count: covered by an office, and supported where they need it. */
  valid: Reading[]
}

interface Located {
  source: Source
  /** The office of the place; for an unsettled ambiguity, the lowest one above all readings. */
  officeId: string
  confidence: number
  /** How it reads in a reason: 「巴仁」(喀什地区伽师县巴仁镇, 653129100; settled by 伽师). */
  description: string
  /** The place itself, when it has a code: recorded on the case whichever strategy decides. */
  place?: { code: string; name: string }
}

interface JurisdictionIndex {
  gazetteer: Gazetteer
  /** Offices handling a category, nearest to the place first (see `officeFor`). */
  handlers: Map<string, readonly Office[]>
}

const sourceOf = (field: Field): Source => (field === 'code' || field === 'form' ? 'form' : 'text')

function lowestCommonAncestor(directory: OfficeDirectory, ids: readonly string[]): string | undefined {
  let common: string[] | undefined
  for (const id of ids) {
    const path = directory
      .lineage(id)
      .map((o) => o.id)
      .reverse()
    if (!common) {
      common = path
      continue
    }
    let shared = 0
    while (shared < common.length && shared < path.length && common[shared] === path[shared]) shared++
    common = common.slice(0, shared)
  }
  return common?.[common.length - 1]
}

function placeLabel(gazetteer: Gazetteer, officeId: string): string {
  const places = gazetteer.placesOf(officeId)
  // An office over several places (a national desk over two provinces) is named itself: its first
  // place would claim candidates elsewhere ("all within 北京市" for places in Jilin and Chongqing).
  if (places.length === 1) return gazetteer.nameOf(places[0]!)
  const office = gazetteer.directory.get(officeId)
  return office ? `${office.name} (${office.id})` : officeId
}

/** Distinct items in first-seen order; lists here are short, so no Set. */
function unique<T>(items: readonly T[]): T[] {
  const out: T[] = []
  for (const item of items) if (!out.includes(item)) out.push(item)
  return out
}

/** Depth of the deepest place above (or equal to) both, or -1 when they share none. */
function commonDepth(gazetteer: Gazetteer, a: PlaceRef, b: PlaceRef): number {
  let da = gazetteer.depthOf(a)
  let db = gazetteer.depthOf(b)
  while (da > db) {
    a = gazetteer.parentOf(a)
    da--
  }
  while (db > da) {
    b = gazetteer.parentOf(b)
    db--
  }
  while (a !== b && a >= 0 && b >= 0) {
    a = gazetteer.parentOf(a)
    b = gazetteer.parentOf(b)
    da--
  }
  return a === b && a >= 0 ? da : -1
}

/** Whether a proper ancestor of `place` (any level) is in `places`. */
function hasAncestorIn(gazetteer: Gazetteer, place: PlaceRef, places: ReadonlySet<PlaceRef>): boolean {
  for (let p = gazetteer.parentOf(place); p >= 0; p = gazetteer.parentOf(p)) if (places.has(p)) return true
  return false
}

const overlaps = (a: Hit, b: Hit) => a.field === b.field && a.mention.start < b.mention.end && b.mention.start < a.mention.end

/**
 * Which readings count. A reading that needs no support (a county, a township by its full name, any
 * name an office lists, anything in the place field) counts at once; a bare village, or a township's
 * short form, counts when a place up to two levels above it is named by another mention that counts,
 * or is the office context's own place. Repeated until nothing changes, so a village can lean on a
 * township that leans on its county.
 */
function validate(gazetteer: Gazetteer, hits: readonly Hit[], contextPlaces: ReadonlySet<PlaceRef>): void {
  const supporters = new Map<PlaceRef, Hit[]>()
  const pendingHits: Hit[] = []
  const pendingValues: number[] = []
  for (const hit of hits) {
    hit.valid = []
    // Readings materialised by the gazetteer never need support (names offices list, counties,
    // townships by their full names); in the place field, nothing needs support.
    for (const r of hit.mention.readings) count(supporters, hit, r)
    const form = sourceOf(hit.field) === 'form'
    for (const value of hit.mention.weak) {
      if (form) {
        const r = gazetteer.weakReading(value)
        if (r) count(supporters, hit, r)
      } else {
        pendingHits.push(hit)
        pendingValues.push(value)
      }
    }
  }
  // Nothing can support anything: the common case of a message full of words that are also villages.
  if (pendingHits.length === 0 || (supporters.size === 0 && contextPlaces.size === 0)) return
  const done = new Uint8Array(pendingHits.length)
  for (let changed = true; changed; ) {
    changed = false
    for (let k = 0; k < pendingHits.length; k++) {
      if (done[k] === 1) continue
      const hit = pendingHits[k]!
      const place = pendingValues[k]! >>> 1
      if (supported(gazetteer, place, hit, supporters, contextPlaces)) {
        done[k] = 1
        const r = gazetteer.weakReading(pendingValues[k]!)
        if (!r) continue
        count(supporters, hit, r)
        changed = true
      }
    }
  }
}

function count(supporters: Map<PlaceRef, Hit[]>, hit: Hit, r: Reading): void {
  hit.valid.push(r)
  const list = supporters.get(r.place)
  if (list) list.push(hit)
  else supporters.set(r.place, [hit])
}

/** Whether the place itself or one up to SUPPORT_LEVELS above it is the office context's, or named by another mention that counts. */
function supported(gazetteer: Gazetteer, place: PlaceRef, hit: Hit, supporters: ReadonlyMap<PlaceRef, Hit[]>, contextPlaces: ReadonlySet<PlaceRef>): boolean {
  const depth = gazetteer.depthOf(place)
  for (let p = place; p >= 0 && depth - gazetteer.depthOf(p) <= SUPPORT_LEVELS; p = gazetteer.parentOf(p)) {
    if (contextPlaces.has(p)) return true
    const list = supporters.get(p)
    if (list) for (const other of list) if (other !== hit && !overlaps(other, hit)) return true
  }
  return false
}

/**
 * Longest first, never overlapping within one field, each written form once per source. A full name
 * of three characters or more that does not count (a bare village, 巴什铁日木村) still keeps the
 * names inside it from being read on their own (铁日木); it does not push aside a name it only
 * overlaps (镇中心村 in 巴仁镇中心村 leaves 巴仁镇 be).
 */
function select(hits: readonly Hit[]): Hit[] {
  const blockers = hits.filter(
    (h) => h.valid.length === 0 && h.mention.end - h.mention.start >= 3 && (h.mention.readings.some((r) => !r.short) || h.mention.weak.some((v) => (v & 1) === 0)),
  )
  const inside = (h: Hit, b: Hit) =>
    b.field === h.field && b.mention.start <= h.mention.start && h.mention.end <= b.mention.end && b.mention.end - b.mention.start > h.mention.end - h.mention.start
  const ordered = hits
    .filter((h) => h.valid.length > 0 && !blockers.some((b) => inside(h, b)))
    .sort((a, b) => b.mention.end - b.mention.start - (a.mention.end - a.mention.start) || a.mention.start - b.mention.start)
  const taken: Hit[] = []
  for (const hit of ordered) {
    if (taken.some((t) => overlaps(t, hit))) continue
    if (taken.some((t) => sourceOf(t.field) === sourceOf(hit.field) && t.mention.written === hit.mention.written)) continue
    taken.push(hit)
  }
  const fieldOrder: Record<Field, number> = { code: 0, form: 1, subject: 2, text: 3 }
  return taken.sort((a, b) => fieldOrder[a.field] - fieldOrder[b.field] || a.mention.start - b.mention.start)
}

/**
 * Routes by the places a message names. Places come from the office tree's jurisdictions (names,
 * aliases, their short forms, official codes) and, when given, a place list such as China's
 * administrative divisions, each of whose places belongs to the office whose code covers it most
 * specifically. The place field of a form counts most; places in the text that lie outside it are
 * ignored. A name shared by several places is settled by the other places named, the office that
 * owns the channel, then the citizen's earlier cases; else it falls to the lowest office above all
 * of them. Among the offices covering the place, one whose remit lists the draft's category wins
 * (a labour complaint from 伽师县 goes to the county's labour bureau), the one nearest the place
 * first; otherwise the place's own office. Returns undefined when no place is found.
 *
 * @example
 * byJurisdiction({ places: chinaDivisions({ within: '65' }) })
 * // "matched place 「巴仁镇」(喀什地区伽师县巴仁镇, 653129100) → office 伽师县巴仁镇人民政府 (jiashi-bairen)"
 */
export function byJurisdiction(options: ByJurisdictionOptions = {}): RoutingStrategy {
  const parsed = Options.safeParse(options)
  if (!parsed.success) throw new RoutingConfigError('by-jurisdiction', `invalid options:\n${z.prettifyError(parsed.error)}`)
  const { channelOffices = {}, earlierCaseOffices, places } = parsed.data
  const gazetteerOptions = {
    suffixes: parsed.data.suffixes ?? ADMINISTRATIVE_SUFFIXES,
    ignoreShortForms: parsed.data.ignoreShortForms ?? [],
  }
  // One index per office directory, built on its first message: the directory is fixed for the
  // life of an app, and rebuilding the gazetteer for every message would cost more than routing.
  // The place list is loaded then too (once per process: chinaDivisions caches it).
  const indexes = new WeakMap<OfficeDirectory, JurisdictionIndex>()
  const indexFor = (ctx: RoutingContext): JurisdictionIndex => {
    const directory = ctx.offices
    let index = indexes.get(directory)
    if (!index) {
      index = { gazetteer: buildGazetteer(directory, { ...gazetteerOptions, places: places?.load() }), handlers: new Map() }
      indexes.set(directory, index)
      // The office tree is only known now: say once which channel owners it lacks (they are ignored).
      const unknown = Object.entries(channelOffices).filter(([, id]) => !directory.get(id))
      if (unknown.length > 0) {
        ctx.log.warn('channelOffices names offices not in the office tree; ignored', {
          strategy: 'jurisdiction',
          offices: unknown.map(([key, id]) => `${key} → ${id}`).join(', '),
        })
      }
    }
    return index
  }

  /**
   * The office for a place: among the offices serving it (its own office, the governments above
   * it and their bureaus), the one whose remit lists the category, nearest the place first and the
   * more specialised at the same level; else the place's own office.
   */
  const officeFor = (index: JurisdictionIndex, placeOfficeId: string, category: string | undefined) => {
    const { gazetteer } = index
    const { directory } = gazetteer
    if (category !== undefined) {
      let handlers = index.handlers.get(category)
      if (!handlers) {
        handlers = directory.all
          .filter((o) => !o.intakeDesk && gazetteer.remitOf(o.id).includes(category))
          .map((office, order) => ({ office, order, territoryDepth: directory.depth(gazetteer.territoryOf(office.id)) }))
          .sort((a, b) => b.territoryDepth - a.territoryDepth || directory.depth(b.office.id) - directory.depth(a.office.id) || a.order - b.order)
          .map((h) => h.office)
        index.handlers.set(category, handlers)
      }
      const handler = handlers.find((o) => directory.covers(gazetteer.territoryOf(o.id), placeOfficeId))
      if (handler) return { office: handler, byRemit: true }
    }
    return { office: directory.get(placeOfficeId)!, byRemit: false }
  }

  // locates: the chain asks it for the place even after another strategy decided.
  return Object.assign(async function byJurisdiction(draft: CaseDraft, ctx: RoutingContext) {
    const index = indexFor(ctx)
    const { gazetteer } = index
    const directory = ctx.offices

    const hits: Hit[] = []
    const code = draft.place?.code ? gazetteer.findCode(draft.place.code) : undefined
    if (code) hits.push({ field: 'code', mention: code, valid: [] })
    if (draft.place?.text) for (const m of gazetteer.findInText(draft.place.text)) hits.push({ field: 'form', mention: m, valid: [] })
    if (draft.subject) for (const m of gazetteer.findInText(draft.subject)) hits.push({ field: 'subject', mention: m, valid: [] })
    for (const m of gazetteer.findInText(draft.text)) hits.push({ field: 'text', mention: m, valid: [] })
    if (hits.length === 0) return undefined

    // The office context: the office that owns the channel or account written to.
    const contextId = [draft.to, draft.channelId].map((key) => (key === undefined ? undefined : channelOffices[key])).find((id) => id !== undefined)
    const contextOffice = contextId !== undefined && directory.get(contextId) ? contextId : undefined
    const contextTerritory = contextOffice === undefined ? undefined : gazetteer.territoryOf(contextOffice)
    const contextPlaces = new Set(contextTerritory === undefined ? [] : gazetteer.placesOf(contextTerritory))

    validate(gazetteer, hits, contextPlaces)
    // Chosen among the readings that count, then counted again among the mentions chosen: a place
    // that leant on a mention that lost to a longer one must find support elsewhere.
    const chosen = select(hits)
    validate(gazetteer, chosen, contextPlaces)
    const mentions = chosen.filter((h) => h.valid.length > 0)
    if (mentions.length === 0) return undefined

    // The citizen's earlier cases, looked up at most once, and only when a name stays ambiguous. A
    // failing lookup must not lose the case: it counts as no earlier case.
    let earlier: Promise<readonly string[]> | undefined
    const earlierOffices = () =>
      (earlier ??= (async () => (earlierCaseOffices ? await earlierCaseOffices(draft, ctx) : []))().catch((err: unknown) => {
        ctx.log.warn('earlier cases lookup failed', { strategy: 'jurisdiction', error: (err as Error).message })
        return []
      }))

    const describe = (hit: Hit, readings: readonly Reading[], notes: readonly string[], officeId: string): string => {
      const where = hit.field === 'code' || hit.field === 'form' ? ' in the place field' : ''
      const { mention } = hit
      const first = readings[0]!
      const place = first.place
      if (gazetteer.inList(place)) {
        const more = readings.length > 1 ? `; or ${readings.length - 1} more within ${placeLabel(gazetteer, officeId)}` : ''
        const detail = `${gazetteer.pathOf(place)}, ${gazetteer.codeOf(place)}${more}${notes.length > 0 ? `; ${notes.join(', ')}` : ''}`
        if (mention.kind === 'code' || mention.kind === 'code-prefix') return `code ${mention.written} (${detail})${where}`
        return `「${mention.written}」(${detail})${where}`
      }
      const name = gazetteer.nameOf(place)
      if (mention.kind === 'code') return `code ${mention.written} (${name})${where}`
      if (mention.kind === 'code-prefix') return `code ${mention.written}, within ${name}${where}`
      const all: string[] = []
      if (mention.written !== normalizeForMatching(name).trim()) all.push(`written "${mention.written}"`)
      all.push(...notes)
      return `${name}${all.length > 0 ? ` (${all.join(', ')})` : ''}${where}`
    }

    /**
     * Reads one mention as one office. A name shared by places in different branches (巴仁 → 巴仁镇
     * in 伽师县, 巴仁乡 in 疏勒县) is settled by the other places mentioned (the reading that lies
     * closest to them wins), then by the office context, then by the citizen's earlier cases.
     * Unsettled, it falls to the lowest office above every reading.
     */
    const locate = async (hit: Hit, others: readonly Hit[]): Promise<Located | undefined> => {
      const source = sourceOf(hit.field)
      const { mention } = hit
      const otherPlaces = new Set(others.filter((o) => o.mention.written !== mention.written).flatMap((o) => o.valid.map((r) => r.place)))
      const officeOf = (r: Reading) => gazetteer.officeOf(r.place)!
      /** The office when every reading is its place (three 新村 of towns that only 伽师县 serves). */
      const oneOffice = (readings: readonly Reading[]): string | undefined => {
        const ids = unique(readings.map(officeOf))
        return ids.length === 1 ? ids[0] : undefined
      }

      const decide = (readings: readonly Reading[], officeId: string, notes: readonly string[]): Located => {
        const mine = readings.filter((r) => officeOf(r) === officeId)
        const chosen = mine.length > 0 ? mine : readings
        const short = chosen.every((r) => r.short)
        const kind: MentionKind = mention.kind === 'code' || mention.kind === 'code-prefix' ? mention.kind : short ? 'short-form' : 'name'
        let confidence: number
        if (source === 'form') confidence = CONFIDENCE.form[kind]
        else if (chosen.some((r) => hasAncestorIn(gazetteer, r.place, otherPlaces))) confidence = CONFIDENCE.textWithSurroundings[kind]
        else if (chosen.every((r) => gazetteer.needsSupport(r))) confidence = CONFIDENCE.contextOnly
        else confidence = CONFIDENCE.text[kind]
        return { source, officeId, confidence, description: describe(hit, chosen, notes, officeId), ...placeOf(gazetteer, chosen) }
      }

      let readings = hit.valid
      const top = readings.reduce((a, b) => (gazetteer.depthOf(b.place) < gazetteer.depthOf(a.place) ? b : a))
      // Readings on one line of the place tree are one area named at two levels: the one above.
      if (readings.every((r) => commonDepth(gazetteer, r.place, top.place) === gazetteer.depthOf(top.place))) {
        return decide(readings, officeOf(top), [])
      }

      // The other places named: the readings closest to them in the place tree. Done even when all
      // readings lie in one office's area, so the reason names the right one.
      let settledBy: string[] = []
      const supporters = others.filter((o) => o.mention.written !== mention.written)
      if (supporters.length > 0) {
        const scored = readings.map((r) => {
          let score = -1
          let by: string[] = []
          for (const other of supporters) {
            for (const c of other.valid) {
              const depth = commonDepth(gazetteer, r.place, c.place)
              if (depth > score) [score, by] = [depth, [other.mention.written]]
              else if (depth === score && !by.includes(other.mention.written)) by.push(other.mention.written)
            }
          }
          return { r, score, by }
        })
        const best = Math.max(...scored.map((s) => s.score))
        const closest = scored.filter((s) => s.score === best)
        if (best >= 0 && closest.length < readings.length) {
          readings = closest.map((s) => s.r)
          settledBy = unique(closest.flatMap((s) => s.by))
        }
      }
      const settled = oneOffice(readings)
      if (settled !== undefined) return decide(readings, settled, settledBy.length > 0 ? [`settled by ${settledBy.join(', ')}`] : [])

      // The office that owns the channel.
      if (contextTerritory !== undefined) {
        const inside = readings.filter((r) => directory.covers(contextTerritory, officeOf(r)))
        if (inside.length > 0 && inside.length < readings.length) {
          readings = inside
          const inContext = oneOffice(readings)
          if (inContext !== undefined) return decide(readings, inContext, [`settled by the office context ${directory.get(contextOffice!)!.name}`])
        }
      }

      // The citizen's earlier cases, most recent first.
      for (const earlierId of await earlierOffices()) {
        if (!directory.get(earlierId)) continue
        const area = gazetteer.territoryOf(earlierId)
        const inside = readings.filter((r) => directory.covers(area, officeOf(r)))
        if (inside.length === 0 || inside.length === readings.length) continue
        const byEarlier = oneOffice(inside)
        if (byEarlier !== undefined) return decide(inside, byEarlier, [`settled by an earlier case at ${directory.get(earlierId)!.name}`])
      }

      // With nothing else to go on, a prefecture-level unit (or a province) outranks places of the
      // same name below it: 阳江 is 阳江市 before any village called 阳江.
      const highestDepth = Math.min(...readings.map((r) => gazetteer.depthOf(r.place)))
      const highest = readings.filter((r) => gazetteer.depthOf(r.place) === highestDepth)
      if (highestDepth <= 1 && highest.length === 1 && readings.every((r) => r === highest[0] || gazetteer.depthOf(r.place) >= highestDepth + 1)) {
        const lower = readings.length - 1
        const located = decide(highest, officeOf(highest[0]!), [`taken as the higher unit, above ${lower} lower place${lower === 1 ? '' : 's'} of that name`])
        return { ...located, confidence: Math.min(located.confidence, LOWERED_CONFIDENCE + 0.1) }
      }

      const above = lowestCommonAncestor(directory, unique(readings.map(officeOf)))
      if (above === undefined) return undefined
      const where = source === 'form' ? ' in the place field' : ''
      const names = unique(readings.map((r) => (gazetteer.inList(r.place) ? gazetteer.pathOf(r.place) : gazetteer.nameOf(r.place))))
      const shown = names.length > 6 ? [...names.slice(0, 5), `${names.length - 5} more`] : names
      return {
        source,
        officeId: above,
        confidence: LOWERED_CONFIDENCE,
        description: `"${mention.written}"${where}, which may be ${shown.join(' or ')}, all within ${placeLabel(gazetteer, above)}`,
        ...placeOf(gazetteer, gazetteer.placesOf(above).slice(0, 1).map((place) => ({ place, short: false, listed: true }))),
      }
    }

    const located: Located[] = []
    for (const hit of mentions) {
      const place = await locate(
        hit,
        mentions.filter((m) => m !== hit),
      )
      if (place) located.push(place)
    }

    const form = located.filter((l) => l.source === 'form')
    const text = located.filter((l) => l.source === 'text')
    const used = form.length === 0 ? text : [...form, ...text.filter((t) => form.every((f) => directory.covers(f.officeId, t.officeId)))]
    const ignored = form.length === 0 ? [] : text.filter((t) => !used.includes(t))
    if (used.length === 0) return undefined

    const ids = unique(used.map((u) => u.officeId))
    const deepest = ids.reduce((a, b) => (directory.depth(b) > directory.depth(a) ? b : a))
    let placeOfficeId: string
    let confidence: number
    let found: string
    let place: Located['place']
    if (ids.every((id) => directory.covers(id, deepest))) {
      placeOfficeId = deepest
      confidence = Math.max(...used.map((u) => u.confidence))
      const mostSpecific = used.find((u) => u.officeId === deepest)!
      place = mostSpecific.place
      found =
        used.length === 1
          ? `matched place ${mostSpecific.description}`
          : `matched places ${used.map((u) => u.description).join(', ')}; most specific: ${placeLabel(gazetteer, deepest)}`
    } else {
      const above = lowestCommonAncestor(directory, ids)
      if (above === undefined) return undefined
      placeOfficeId = above
      confidence = Math.min(LOWERED_CONFIDENCE, ...used.map((u) => u.confidence))
      found = `matched places in different branches: ${used.map((u) => u.description).join(', ')}; all within ${placeLabel(gazetteer, above)}`
    }

    const category = draft.category || undefined
    const { office, byRemit } = officeFor(index, placeOfficeId, category)
    let reason = `${found} → office ${office.name} (${office.id})`
    if (byRemit) reason += ` for category ${category}`
    else if (category !== undefined) reason += ` (no office serving it lists category ${category})`
    if (ignored.length > 0) reason += `; ignored ${ignored.map((i) => i.description).join(', ')} in the text: outside the place field`
    return { officeId: office.id, strategy: 'jurisdiction', reason, confidence, ...(place ? { place } : {}) }
  }, {
    locates: true as const,
    // Without a place list, the office tree's own places are all there is: nothing to check against.
    checkOffices: (directory: OfficeDirectory) => (places ? jurisdictionProblems(directory, places.load()) : []),
  })
}

/** The one place these readings name (code and name), when they name one place that has a code. */
function placeOf(gazetteer: Gazetteer, readings: readonly Reading[]): { place?: { code: string; name: string } } {
  const places = unique(readings.map((r) => r.place))
  if (places.length !== 1) return {}
  const code = gazetteer.codeOf(places[0]!)
  return code === undefined ? {} : { place: { code, name: gazetteer.nameOf(places[0]!) } }
}
