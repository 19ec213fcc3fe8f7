import { z } from 'zod'
import type { CaseDraft, Office, OfficeDirectory, RoutingStrategy } from '@intake/core'
import { RoutingConfigError } from './errors.ts'
import { normalizeForMatching } from './text-match.ts'
import { ADMINISTRATIVE_SUFFIXES, buildGazetteer, type Gazetteer, type MentionKind, type PlaceMention } from './gazetteer.ts'

export interface ByJurisdictionOptions {
  /**
   * Administrative suffixes dropped to derive the short forms people write (伽师县 → 伽师).
   * Default: Chinese suffixes (县, 区, 市, 镇, 乡, 街道, 地区, 自治县…) and English ones (" county"…).
   */
  suffixes?: readonly string[]
  /** Short forms that are ordinary words in the deployment's language (荒地, "wasteland"). */
  ignoreShortForms?: readonly string[]
}

const Options = z
  .object({
    suffixes: z.array(z.string().refine((s) => s.trim().length > 0, 'a suffix must not be blank')).min(1).optional(),
    ignoreShortForms: z.array(z.string().trim().min(1)).optional(),
  })
  .strict()

/** The place field of a form is the citizen saying where; free text only mentions places. */
const CONFIDENCE: Record<'form' | 'text', Record<MentionKind, number>> = {
  form: { name: 0.97, code: 0.97, 'short-form': 0.9, 'code-prefix': 0.9 },
  text: { name: 0.9, 'short-form': 0.75, code: 0.9, 'code-prefix': 0.9 },
}
/** An ambiguous place or places in different branches: only the common area above them is known. */
const LOWERED_CONFIDENCE = 0.5

type Source = 'form' | 'text'

interface Located {
  source: Source
  /** The office whose own places include it; for an unsettled ambiguity, the lowest one above all readings. */
  officeId: string
  confidence: number
  /** How it reads in a reason: `巴仁镇 (written "巴仁", settled by 伽师)`. */
  description: string
}

interface JurisdictionIndex {
  gazetteer: Gazetteer
  /** Offices handling a category, nearest to the place first (see `officeFor`). */
  handlers: Map<string, readonly Office[]>
}

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

/** The one office among `ids` that covers all of them, if they lie on one line of the tree. */
function topOfLine(directory: OfficeDirectory, ids: readonly string[]): string | undefined {
  const lca = lowestCommonAncestor(directory, ids)
  return lca !== undefined && ids.includes(lca) ? lca : undefined
}

function placeLabel(directory: OfficeDirectory, officeId: string): string {
  const office = directory.get(officeId)
  return office?.jurisdiction.places[0]?.name ?? office?.name ?? officeId
}

function unique<T>(items: Iterable<T>): T[] {
  return [...new Set(items)]
}

/**
 * Reads one mention as one office. A name shared by places in different branches (巴仁 → 巴仁镇 in
 * 伽师县, 巴仁乡 in 疏勒县) is settled by the other places mentioned: the reading that lies closest
 * to them in the tree wins. Unsettled, it falls to the lowest office above every reading.
 */
function locate(directory: OfficeDirectory, mention: PlaceMention, source: Source, others: readonly PlaceMention[]): Located | undefined {
  const confidence = CONFIDENCE[source][mention.kind]
  const where = source === 'form' ? ' in the place field' : ''
  const describe = (officeId: string, settledBy: readonly string[] = []): string => {
    const place = mention.candidates.find((c) => c.officeId === officeId)?.place ?? placeLabel(directory, officeId)
    if (mention.kind === 'code') return `code ${mention.written} (${place})${where}`
    if (mention.kind === 'code-prefix') return `code ${mention.written}, within ${place}${where}`
    const notes: string[] = []
    if (mention.written !== normalizeForMatching(place).trim()) notes.push(`written "${mention.written}"`)
    if (settledBy.length > 0) notes.push(`settled by ${settledBy.join(', ')}`)
    return `${place}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}${where}`
  }

  let ids = unique(mention.candidates.map((c) => c.officeId))
  const direct = topOfLine(directory, ids)
  if (direct !== undefined) return { source, officeId: direct, confidence, description: describe(direct) }

  const supporters = others.filter((o) => o.written !== mention.written)
  const scored = ids.map((id) => {
    let score = -1
    let by: string[] = []
    for (const other of supporters) {
      for (const c of other.candidates) {
        const lca = lowestCommonAncestor(directory, [id, c.officeId])
        const depth = lca === undefined ? -1 : directory.depth(lca)
        if (depth > score) [score, by] = [depth, [other.written]]
        else if (depth === score && !by.includes(other.written)) by.push(other.written)
      }
    }
    return { id, score, by }
  })
  const top = Math.max(...scored.map((s) => s.score))
  const closest = scored.filter((s) => s.score === top)
  if (top >= 0 && closest.length < ids.length) {
    ids = closest.map((s) => s.id)
    const settled = topOfLine(directory, ids)
    if (settled !== undefined) {
      const by = closest.find((s) => s.id === settled)?.by ?? []
      return { source, officeId: settled, confidence, description: describe(settled, by) }
    }
  }

  const above = lowestCommonAncestor(directory, ids)
  if (above === undefined) return undefined
  const readings = unique(mention.candidates.filter((c) => ids.includes(c.officeId)).map((c) => c.place))
  return {
    source,
    officeId: above,
    confidence: LOWERED_CONFIDENCE,
    description: `"${mention.written}"${where}, which may be ${readings.join(' or ')}, all within ${placeLabel(directory, above)}`,
  }
}

function mentionsIn(gazetteer: Gazetteer, draft: CaseDraft): { form: PlaceMention[]; text: PlaceMention[] } {
  const form: PlaceMention[] = []
  const code = draft.place?.code ? gazetteer.findCode(draft.place.code) : undefined
  if (code) form.push(code)
  if (draft.place?.text) form.push(...gazetteer.findInText(draft.place.text))
  const text = gazetteer.findInText(draft.subject ?? '')
  for (const m of gazetteer.findInText(draft.text)) if (!text.some((t) => t.written === m.written)) text.push(m)
  return { form, text }
}

/**
 * Routes by the places a message names, using the office tree's jurisdictions: place names and
 * aliases, their short forms (伽师县 → 伽师), official codes. The place field of a form counts
 * most; places in the text that lie outside it are ignored. Among the offices covering the place,
 * one whose remit lists the draft's category wins (a labour complaint from 伽师县 goes to the
 * county's labour bureau), the one nearest the place first; otherwise the place's own office.
 * Returns undefined when no place is found.
 *
 * @example
 * byJurisdiction()  // "matched place 伽师县 → office 伽师县人民检察院 (jiashi-procuratorate) for category judicial"
 */
export function byJurisdiction(options: ByJurisdictionOptions = {}): RoutingStrategy {
  const parsed = Options.safeParse(options)
  if (!parsed.success) throw new RoutingConfigError('by-jurisdiction', `invalid options:\n${z.prettifyError(parsed.error)}`)
  const gazetteerOptions = {
    suffixes: parsed.data.suffixes ?? ADMINISTRATIVE_SUFFIXES,
    ignoreShortForms: parsed.data.ignoreShortForms ?? [],
  }
  // One index per office directory, built on its first message: the directory is fixed for the
  // life of an app, and rebuilding the gazetteer for every message would cost more than routing.
  const indexes = new WeakMap<OfficeDirectory, JurisdictionIndex>()
  const indexFor = (directory: OfficeDirectory): JurisdictionIndex => {
    let index = indexes.get(directory)
    if (!index) {
      index = { gazetteer: buildGazetteer(directory, gazetteerOptions), handlers: new Map() }
      indexes.set(directory, index)
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

  return async function byJurisdiction(draft, ctx) {
    const index = indexFor(ctx.offices)
    const directory = ctx.offices
    const mentions = mentionsIn(index.gazetteer, draft)
    const all = [...mentions.form, ...mentions.text]
    const located: Located[] = []
    for (const [source, list] of [['form', mentions.form], ['text', mentions.text]] as const) {
      for (const mention of list) {
        const place = locate(directory, mention, source, all.filter((m) => m !== mention))
        if (place) located.push(place)
      }
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
    if (ids.every((id) => directory.covers(id, deepest))) {
      placeOfficeId = deepest
      confidence = Math.max(...used.map((u) => u.confidence))
      const mostSpecific = used.find((u) => u.officeId === deepest)!
      found =
        used.length === 1
          ? `matched place ${mostSpecific.description}`
          : `matched places ${used.map((u) => u.description).join(', ')}; most specific: ${placeLabel(directory, deepest)}`
    } else {
      const above = lowestCommonAncestor(directory, ids)
      if (above === undefined) return undefined
      placeOfficeId = above
      confidence = Math.min(LOWERED_CONFIDENCE, ...used.map((u) => u.confidence))
      found = `matched places in different branches: ${used.map((u) => u.description).join(', ')}; all within ${placeLabel(directory, above)}`
    }

    const category = draft.category || undefined
    const { office, byRemit } = officeFor(index, placeOfficeId, category)
    let reason = `${found} → office ${office.name} (${office.id})`
    if (byRemit) reason += ` for category ${category}`
    else if (category !== undefined) reason += ` (no office serving it lists category ${category})`
    if (ignored.length > 0) reason += `; ignored ${ignored.map((i) => i.description).join(', ')} in the text: outside the place field`
    return { officeId: office.id, strategy: 'jurisdiction', reason, confidence }
  }
}
