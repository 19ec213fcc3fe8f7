import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { parse as parseYaml } from 'yaml'
import type { CaseDraft, RoutingContext, RoutingDecision, RoutingStrategy } from '@intake/core'
import { RoutingConfigError } from './errors.ts'
import { remitIndex } from './remit.ts'
import { AhoCorasickBuilder } from './aho-corasick.ts'
import { containsHan, isOnWordBoundaries, normalizeForMatching } from './text-match.ts'

const Phrase = z.union([
  z.string().trim().min(1, 'a phrase must not be blank'),
  z.object({ phrase: z.string().trim().min(1, 'a phrase must not be blank'), weight: z.number().positive().finite() }).strict(),
])

/**
 * One category of a taxonomy, with the words that show it.
 *
 * @example
 * { id: 'labour', names: { zh: '劳动保障', en: 'Labour' }, priority: 20, phrases: ['欠薪', 'unpaid wages'] }
 */
export const TaxonomyCategory = z
  .object({
    /** The id offices list in their remit. */
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'category ids are kebab-case'),
    /** Names by language, for reasons, staff and the classifier's prompt. */
    names: z.record(z.string(), z.string().min(1)).default({}),
    /** What belongs here, in a line: given to the classifier. */
    description: z.string().optional(),
    /**
     * Phrases that show the category. Chinese phrases match as substrings, others as whole words,
     * without case; a Chinese phrase with a space ("医院 收费") needs every part, anywhere. Each
     * weighs by its length (2 characters or one word: 1; each character or word more: +0.5) unless
     * written `{ phrase: 教师工资, weight: 3 }`.
     */
    phrases: z.array(Phrase).default([]),
    /** Words that only suggest the category (学校 says where, not what): they weigh a third as much. */
    weakPhrases: z.array(Phrase).default([]),
    /** Breaks near-ties only (scores within 15% of the best): the higher priority wins. */
    priority: z.number().finite().default(0),
  })
  .strict()
export type TaxonomyCategory = z.infer<typeof TaxonomyCategory>
export type TaxonomyCategoryInput = z.input<typeof TaxonomyCategory>

const Taxonomy = z
  .array(TaxonomyCategory)
  .min(1, 'a taxonomy needs at least one category')
  .superRefine((categories, ctx) => {
    const seen = new Set<string>()
    categories.forEach((c, i) => {
      if (seen.has(c.id)) ctx.addIssue({ code: 'custom', message: `duplicate category "${c.id}"`, path: [i, 'id'] })
      seen.add(c.id)
    })
  })

function parseTaxonomy(input: unknown, component: string): TaxonomyCategory[] {
  const parsed = Taxonomy.safeParse(input)
  if (!parsed.success) throw new RoutingConfigError(component, `invalid taxonomy:\n${z.prettifyError(parsed.error)}`)
  return parsed.data
}

/** A taxonomy from YAML text (a list of categories, as in taxonomy/china-12345.yaml). */
export function loadTaxonomy(yamlText: string): TaxonomyCategory[] {
  let data: unknown
  try {
    data = parseYaml(yamlText)
  } catch (err) {
    throw new RoutingConfigError('by-category', `the taxonomy is not valid YAML: ${(err as Error).message}`)
  }
  return parseTaxonomy(data, 'by-category')
}

/** Where the shipped taxonomy of a Chinese 12345 hotline lives (Chinese and English phrases). */
export const DEFAULT_TAXONOMY_FILE = new URL('./taxonomy/china-12345.yaml', import.meta.url)

let shipped: TaxonomyCategory[] | undefined
/** The shipped 12345 taxonomy: labour, housing and land, transport, environment, health, … */
export function defaultTaxonomy(): TaxonomyCategory[] {
  shipped ??= loadTaxonomy(readFileSync(DEFAULT_TAXONOMY_FILE, 'utf8'))
  return shipped
}

interface CompiledPhrase {
  phrase: string
  parts: string[]
  /** The parts' ids in the categoriser's automaton. */
  ids: number[]
  weight: number
}

interface CompiledCategory {
  category: TaxonomyCategory
  order: number
  phrases: CompiledPhrase[]
  weak: CompiledPhrase[]
}

/** Weak phrases weigh this much of a phrase of the same length. */
const WEAK_FACTOR = 1 / 3
/** A phrase in the subject line weighs this many times as much: the subject names the matter. */
const SUBJECT_FACTOR = 2
/** Scores within this share of the best are a near-tie, which priority breaks. */
const NEAR_TIE = 0.85

/** The default weight of a phrase: 1 for two characters or one word, +0.5 for each character or word more. */
function defaultWeight(normalized: string): number {
  const units = containsHan(normalized) ? [...normalized.replace(/\s+/g, '')].length - 1 : normalized.split(/\s+/).length
  return 1 + 0.5 * Math.max(0, units - 1)
}

function compilePhrase(input: string | { phrase: string; weight: number }, automaton: AhoCorasickBuilder): CompiledPhrase {
  const phrase = typeof input === 'string' ? input : input.phrase
  const normalized = normalizeForMatching(phrase).trim()
  // As in keyword rules: Chinese has no spaces, so a space there can only mean "and".
  const parts = (containsHan(normalized) ? normalized.split(' ') : [normalized]).filter(Boolean)
  return { phrase, parts, ids: parts.map((part) => automaton.add(part)), weight: typeof input === 'string' ? defaultWeight(normalized) : input.weight }
}

/** What a categoriser found in a text. */
export interface CategoryMatch {
  category: TaxonomyCategory
  /** The phrases as the taxonomy writes them (the weak ones only when no other counted). */
  matched: string[]
  /** Only weak phrases occurred. */
  weak: boolean
  /** The category's score: its phrases' weights, doubled in the subject. */
  score: number
  /** The next best category and its score, when another scored. */
  runnerUp?: { id: string; score: number }
  /** Priority decided between scores within 15% of each other. */
  nearTie: boolean
}

/**
 * A function that finds the category of a text by a taxonomy's phrases, or undefined. Every
 * category is scored — the weights of its phrases that occur (weak ones a third, those in the
 * subject twice), a phrase inside a longer phrase that occurs at the same place not counted (工资
 * in 教师工资) — and the highest score wins; priority decides only between scores within 15%.
 *
 * @example
 * categorizer(defaultTaxonomy())('老板拖欠工资三个月')  // { category: labour, matched: ['拖欠工资'], score: 2, … }
 */
export function categorizer(taxonomy: readonly TaxonomyCategoryInput[]): (text: string, subject?: string) => CategoryMatch | undefined {
  // Every phrase part of every category in one automaton: a message is scanned once, however many
  // phrases the taxonomy has (hundreds), instead of searched once per phrase.
  const builder = new AhoCorasickBuilder()
  const compiled: CompiledCategory[] = parseTaxonomy(taxonomy, 'by-category').map((category, order) => ({
    category,
    order,
    phrases: category.phrases.map((p) => compilePhrase(p, builder)),
    weak: category.weakPhrases.map((p) => compilePhrase(p, builder)),
  }))
  const automaton = builder.build()
  /** seen[part] === generation: the part occurs (on word boundaries, not inside a longer part) in the text. */
  const seen = new Uint32Array(automaton.termCount)
  /** inSubject[part] === generation: … and in the subject. */
  const inSubject = new Uint32Array(automaton.termCount)
  let generation = 0
  const hits: { id: number; start: number; end: number }[] = []
  const seenIds: number[] = []
  /**
   * The phrases each part begins, with where they belong: a phrase occurs only if its first part
   * does, so a text looks at the few phrases its parts begin rather than every phrase of every
   * category (hundreds) — the scores are the same.
   */
  interface PhraseRef {
    category: number
    weak: boolean
    /** Its position in its category's list: matched phrases are reported in the taxonomy's order. */
    index: number
    phrase: CompiledPhrase
  }
  const byFirstPart: PhraseRef[][] = Array.from({ length: automaton.termCount }, () => [])
  compiled.forEach((entry, category) => {
    for (const [weak, list] of [[false, entry.phrases], [true, entry.weak]] as const) {
      list.forEach((phrase, index) => {
        if (phrase.ids.length > 0) byFirstPart[phrase.ids[0]!]!.push({ category, weak, index, phrase })
      })
    }
  })

  const score = (occurring: CompiledPhrase[], factor: number) => {
    // 工资 inside 拖欠工资 is one mention, not two.
    const matched = occurring.filter((p) => !occurring.some((q) => q !== p && q.phrase.length > p.phrase.length && q.phrase.includes(p.phrase)))
    let total = 0
    for (const m of matched) total += m.weight * factor * (m.ids.every((id) => inSubject[id] === generation) ? SUBJECT_FACTOR : 1)
    return { matched, total }
  }

  return (raw, rawSubject) => {
    const subject = rawSubject ? normalizeForMatching(rawSubject) : ''
    const text = subject ? `${subject}\n${normalizeForMatching(raw)}` : normalizeForMatching(raw)
    generation++
    hits.length = 0
    seenIds.length = 0
    automaton.scan(text, (id, start, end) => {
      if (isOnWordBoundaries(text, start, end)) hits.push({ id, start, end })
    })
    for (const h of hits) {
      // Hidden by a longer part at the same place (工资 in 教师工资, 阳江 in 浦阳江).
      if (hits.some((o) => o.start <= h.start && o.end >= h.end && o.end - o.start > h.end - h.start)) continue
      if (seen[h.id] !== generation) seenIds.push(h.id)
      seen[h.id] = generation
      if (h.start < subject.length) inSubject[h.id] = generation
    }
    const occurring = new Map<number, { strong: PhraseRef[]; weak: PhraseRef[] }>()
    for (const id of seenIds) {
      for (const ref of byFirstPart[id]!) {
        if (!ref.phrase.ids.every((part) => seen[part] === generation)) continue
        let found = occurring.get(ref.category)
        if (!found) occurring.set(ref.category, (found = { strong: [], weak: [] }))
        ;(ref.weak ? found.weak : found.strong).push(ref)
      }
    }
    const inOrder = (refs: PhraseRef[]) => refs.sort((a, b) => a.index - b.index).map((r) => r.phrase)
    const scored: { entry: CompiledCategory; matched: CompiledPhrase[]; weak: boolean; total: number }[] = []
    for (const [category, found] of occurring) {
      const entry = compiled[category]!
      const strong = score(inOrder(found.strong), 1)
      const weak = score(inOrder(found.weak), WEAK_FACTOR)
      const total = strong.total + weak.total
      if (total > 0) scored.push({ entry, matched: strong.matched.length > 0 ? strong.matched : weak.matched, weak: strong.matched.length === 0, total })
    }
    if (scored.length === 0) return undefined
    scored.sort((a, b) => b.total - a.total || a.entry.order - b.entry.order)
    const top = scored[0]!.total
    const near = scored.filter((s) => s.total >= top * NEAR_TIE)
    const best = near.reduce((a, b) => (b.entry.category.priority > a.entry.category.priority ? b : a))
    const other = scored.find((s) => s !== best)
    return {
      category: best.entry.category,
      matched: best.matched.map((m) => m.phrase),
      weak: best.weak,
      score: Math.round(best.total * 100) / 100,
      runnerUp: other ? { id: other.entry.category.id, score: Math.round(other.total * 100) / 100 } : undefined,
      nearTie: near.length > 1,
    }
  }
}

/** The office whose place a draft is about, for byCategory and byClassifier. */
export type PlaceOfficeHook = (draft: CaseDraft, ctx: RoutingContext) => string | undefined | Promise<string | undefined>

export interface PlacedOffice {
  officeId: string
  confidence: number
  /** How it was found, for the reason. */
  reason: string
  /** The place the `within` strategy read (its decision's `place`), passed on to the decision. */
  place?: RoutingDecision['place']
}

/**
 * The office of the place a draft is about: the `placeOffice` hook first, then the `within`
 * strategy (byJurisdiction, byLocation…) asked without the draft's category, so that it answers
 * with the place's own office and leaves the choice of the office handling the category to us.
 */
export async function findPlaceOffice(
  draft: CaseDraft,
  ctx: RoutingContext,
  { placeOffice, within, component }: { placeOffice?: PlaceOfficeHook; within?: RoutingStrategy; component: string },
): Promise<PlacedOffice | undefined> {
  if (placeOffice) {
    const id = await placeOffice(draft, ctx)
    if (id !== undefined) {
      const office = ctx.offices.get(id)
      if (office) return { officeId: id, confidence: 1, reason: `place ${office.name} (${id}) given by the deployment` }
      ctx.log.warn(`${component}: placeOffice named an office not in the directory`, { officeId: id })
    }
  }
  if (within) {
    const { category: _category, ...withoutCategory } = draft
    let decision: RoutingDecision | undefined
    try {
      decision = await within(withoutCategory, ctx)
    } catch (err) {
      ctx.log.warn(`${component}: the within strategy failed`, { strategy: within.name, error: (err as Error).message })
      return undefined
    }
    if (decision && decision.officeId !== '' && ctx.offices.get(decision.officeId)) {
      return { officeId: decision.officeId, confidence: decision.confidence, reason: decision.reason, ...(decision.place ? { place: decision.place } : {}) }
    }
  }
  return undefined
}

/**
 * What to do with a category no office serving the place lists: send the case to the place's own
 * office ('place-office': a town government handles what has no bureau), or decide only the
 * category and let the next strategies (the intake desk) take it ('pass-on': a city whose root
 * office is not a department).
 */
export type UnlistedCategory = 'place-office' | 'pass-on'

/**
 * Where a category no office lists goes when the place is only the root's territory (the message
 * names the city and nothing finer): 'intake-desk' (the default), for a person to dispatch — the
 * root office (a city government) may have no staff to take cases; or 'place-office', the root office.
 */
export type UnlistedAtRoot = 'intake-desk' | 'place-office'

/** The office that handles `category` at `place`: the remit office nearest the place, else the place's own (at the root: the intake desk). */
export function officeForCategory(
  ctx: RoutingContext,
  place: PlacedOffice,
  category: string,
  unlisted: UnlistedCategory = 'place-office',
  atRoot: UnlistedAtRoot = 'intake-desk',
): { officeId: string; note: string } | undefined {
  const handler = remitIndex(ctx.offices).handlerFor(place.officeId, category)
  if (handler) return { officeId: handler.id, note: `${handler.name} (${handler.id}) handles ${category} there` }
  if (unlisted === 'pass-on') return undefined
  if (atRoot === 'intake-desk' && ctx.offices.depth(place.officeId) === 0) {
    const desk = ctx.offices.intakeDesk()
    const root = ctx.offices.get(place.officeId)!
    return { officeId: desk.id, note: `no office lists ${category} and the place is only ${root.name}'s territory: the intake desk ${desk.name} (${desk.id}) dispatches it` }
  }
  const own = ctx.offices.get(place.officeId)!
  return { officeId: own.id, note: `no office serving it lists ${category}: ${own.name} (${own.id})` }
}

export interface ByCategoryOptions {
  /** Default: the shipped 12345 taxonomy (`defaultTaxonomy()`). */
  taxonomy?: readonly TaxonomyCategoryInput[]
  /**
   * The strategy that finds the place (usually the chain's byJurisdiction). Its office is the
   * place; the office handling the category there is chosen from the office tree's remits.
   */
  within?: RoutingStrategy
  /**
   * Names the place's office directly, before `within` is asked: a deployment with one territory
   * (a city whose departments all serve the whole city) returns the city's office.
   */
  placeOffice?: PlaceOfficeHook
  /** Confidence of a category shown by one phrase; default 0.7 (two or more: +0.1; +0.05 for each point of score above 2, at most 0.95; weak phrases only: 0.5; a near-tie: at most 0.6). */
  confidence?: number
  /** A category no office at the place lists: default 'place-office'; 'pass-on' decides only the category. */
  unlisted?: UnlistedCategory
  /** With 'place-office', when the place is only the root's territory: default 'intake-desk' (see UnlistedAtRoot). */
  unlistedAtRoot?: UnlistedAtRoot
}

const Options = z.object({
  within: z.custom<RoutingStrategy>((v) => typeof v === 'function', 'expected a routing strategy').optional(),
  placeOffice: z.custom<PlaceOfficeHook>((v) => typeof v === 'function', 'expected a function (draft, ctx) => office id').optional(),
  confidence: z.number().min(0).max(1).default(0.7),
  unlisted: z.enum(['place-office', 'pass-on']).default('place-office'),
  unlistedAtRoot: z.enum(['intake-desk', 'place-office']).default('intake-desk'),
})

/**
 * Routes by what a message is about, then where: phrases → a category of the taxonomy, then the
 * office whose remit holds that category and whose territory is the smallest around the place
 * (the county's labour bureau, not the prefecture's). The place comes from `placeOffice` or the
 * `within` strategy. Without a place it decides only the category (office `''`), which the chain
 * passes on; without a category it returns undefined. A category set by an earlier strategy is
 * used as it is.
 *
 * @example
 * const jurisdiction = byJurisdiction()
 * byCategory({ within: jurisdiction })
 * // 'matched "拖欠工资" → category labour; place: matched place 伽师县 → …; 伽师县人力资源和社会保障局 (jiashi-labour) handles labour there'
 */
export function byCategory(options: ByCategoryOptions = {}): RoutingStrategy {
  const parsed = Options.safeParse({ within: options.within, placeOffice: options.placeOffice, confidence: options.confidence, unlisted: options.unlisted, unlistedAtRoot: options.unlistedAtRoot })
  if (!parsed.success) throw new RoutingConfigError('by-category', `invalid options:\n${z.prettifyError(parsed.error)}`)
  const { within, placeOffice, confidence, unlisted, unlistedAtRoot } = parsed.data
  const taxonomy = options.taxonomy ?? defaultTaxonomy()
  const categorize = categorizer(taxonomy)

  return Object.assign(async function byCategory(draft: CaseDraft, ctx: RoutingContext): Promise<RoutingDecision | undefined> {
    let category: string
    let found: string
    let categoryConfidence: number
    if (draft.category) {
      category = draft.category
      found = `category ${category} from an earlier strategy`
      categoryConfidence = confidence
    } else {
      const match = categorize(draft.text, draft.subject)
      if (!match) return undefined
      category = match.category.id
      const words = match.matched.map((m) => `"${m}"`).join(', ')
      const over = match.runnerUp ? ` (score ${match.score} over ${match.runnerUp.id} ${match.runnerUp.score}${match.nearTie ? ', a near-tie: priority' : ''})` : ''
      found = `matched ${words}${match.weak ? ' (weak)' : ''} → category ${category}${over}`
      // More phrases, and heavier ones (教师工资 weighs 3), make a surer reading; byBestOf compares it with other strategies'.
      categoryConfidence = match.weak
        ? Math.min(confidence, 0.5)
        : Math.min(0.95, Math.round((confidence + (match.matched.length > 1 ? 0.1 : 0) + 0.05 * Math.max(0, match.score - 2)) * 100) / 100)
      // A near-tie is a guess between two readings.
      if (match.nearTie) categoryConfidence = Math.min(categoryConfidence, 0.6)
    }
    const place = await findPlaceOffice(draft, ctx, { placeOffice, within, component: 'by-category' })
    const office = place && officeForCategory(ctx, place, category, unlisted, unlistedAtRoot)
    if (!place || !office) {
      // Nothing to add to a category an earlier strategy already passed on.
      if (draft.category) return undefined
      const why = place ? `no office serving ${ctx.offices.get(place.officeId)!.name} lists it` : 'no place found'
      return { officeId: '', strategy: 'category', reason: `${found}; ${why}`, confidence: categoryConfidence, category }
    }
    return {
      officeId: office.officeId,
      strategy: 'category',
      reason: `${found}; place: ${place.reason}; ${office.note}`,
      confidence: Math.min(categoryConfidence, place.confidence),
      category,
      ...(place.place ? { place: place.place } : {}),
    }
  }, { categories: taxonomy.map((c) => c.id) })
}
