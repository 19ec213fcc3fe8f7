import { z } from 'zod'
import type { ClusterCandidate, ClusterKeys, InboundWrite, Store } from '../contracts/store.ts'
import type { IdGenerator } from '../ids/index.ts'
import type { PlaceHint } from '../model/index.ts'
import { boxAround, distanceMetres, placeKeyOf, type PlaceNames } from './cluster-place.ts'
import { shingleSimilarity, textShingles, type Shingles } from './text-similarity.ts'

/**
 * Duplicate clusters at intake: a new case joins the cluster of an open case that has the same
 * category, the same place (or a point close by) and similar words, created within the window.
 * The thresholds were chosen on the tuning part of bench/clusters' labelled pairs (bench/README.md).
 */
export const ClusterOptions = z
  .object({
    enabled: z.boolean().default(true),
    /** How far back an open case may be to be duplicated, in milliseconds (default 7 days). */
    windowMs: z.number().int().min(1).default(7 * 24 * 60 * 60 * 1000),
    /**
     * Minimum text similarity (Dice of character n-grams, 0–1), for text in Chinese characters
     * (bigrams) and for other scripts (trigrams in words): the two n-gram kinds share at different
     * rates, so each has its own. A number sets both.
     */
    threshold: z
      .union([z.number().min(0).max(1).transform((t) => ({ han: t, other: t })), z.object({ han: z.number().min(0).max(1), other: z.number().min(0).max(1) }).strict()])
      .default({ han: 0.15, other: 0.25 }),
    /** Two points closer than this are the same place. */
    distanceMetres: z.number().positive().max(50_000).default(300),
    /** Candidates compared per new case, newest first. */
    maxCandidates: z.number().int().min(1).max(500).default(20),
  })
  .strict()
export type ClusterOptions = z.infer<typeof ClusterOptions>
export type ClusterOptionsInput = z.input<typeof ClusterOptions>

/** What a new case is matched on, before it has an id. */
export interface ClusterSubject {
  category: string | null | undefined
  place?: PlaceHint
  text: string
}

/** Words kept per case: enough for a few sentences of an appeal. */
const MAX_TEXT = 400

/** The keys of a case, or undefined when it cannot be matched (no category, or no place at all). */
export function clusterKeysOf(subject: ClusterSubject, names: PlaceNames): ClusterKeys | undefined {
  if (!subject.category) return undefined
  const { key, mentions } = placeKeyOf(subject.place, subject.text, names)
  const point = subject.place?.lat !== undefined && subject.place.lon !== undefined ? { lat: subject.place.lat, lon: subject.place.lon } : undefined
  if (key === null && !point) return undefined
  // The place is matched on its own; left in the words, it would make every report from one street alike.
  let text = subject.text
  for (const m of mentions) text = text.replaceAll(m, ' ')
  text = text.replace(/\s+/g, ' ').trim()
  // No more UTF-16 units than MAX_TEXT: no more characters either, and nothing to cut.
  if (text.length > MAX_TEXT) text = [...text].slice(0, MAX_TEXT).join('')
  return { category: subject.category, placeKey: key, lat: point?.lat ?? null, lon: point?.lon ?? null, text }
}

const HAN = /[\u3400-\u9fff]/

/** The threshold for a text: the Chinese one when it has Chinese characters. */
export function thresholdFor(text: string, options: Pick<ClusterOptions, 'threshold'>): number {
  return HAN.test(text) ? options.threshold.han : options.threshold.other
}

/** Whether two cases' keys are at the same place: equal keys, or points within the distance. */
export function samePlace(a: ClusterKeys, b: ClusterKeys, options: Pick<ClusterOptions, 'distanceMetres'>): boolean {
  if (a.placeKey !== null && a.placeKey === b.placeKey) return true
  if (a.lat === null || a.lon === null || b.lat === null || b.lon === null) return false
  return distanceMetres({ lat: a.lat, lon: a.lon }, { lat: b.lat, lon: b.lon }) <= options.distanceMetres
}

/** The similarity of two cases' words when they are at the same place in the same category, else 0. */
export function duplicateScore(a: ClusterKeys, b: ClusterKeys, options: Pick<ClusterOptions, 'distanceMetres'>, shingles = textShingles(a.text)): number {
  if (a.category !== b.category || !samePlace(a, b, options)) return 0
  return shingleSimilarity(shingles, textShingles(b.text))
}

/**
 * The open case to join, with its score: candidates are taken by cluster (a case in none is a
 * cluster of its own) and a cluster scores the mean similarity to its members among the candidates
 * (average linkage). Scoring by the single most similar member would let a cluster drift one
 * report at a time into a neighbouring matter (bench/clusters measured it).
 */
export function bestDuplicate(
  keys: ClusterKeys,
  candidates: readonly ClusterCandidate[],
  options: ClusterOptions,
  shinglesOf: (candidate: ClusterCandidate) => Shingles = (c) => textShingles(c.text),
  shingles: Shingles = textShingles(keys.text),
): { candidate: ClusterCandidate; score: number } | undefined {
  const groups = new Map<string, { total: number; count: number; best: { candidate: ClusterCandidate; score: number } }>()
  for (const candidate of candidates) {
    const score = keys.category === candidate.category && samePlace(keys, candidate, options) ? shingleSimilarity(shingles, shinglesOf(candidate)) : 0
    const key = candidate.clusterId ?? `case:${candidate.caseId}`
    const group = groups.get(key)
    if (!group) groups.set(key, { total: score, count: 1, best: { candidate, score } })
    else {
      group.total += score
      group.count += 1
      if (score > group.best.score) group.best = { candidate, score }
    }
  }
  const threshold = thresholdFor(keys.text, options)
  let chosen: { candidate: ClusterCandidate; score: number } | undefined
  for (const group of groups.values()) {
    const score = group.total / group.count
    if (score >= threshold && (!chosen || score > chosen.score)) chosen = { candidate: group.best.candidate, score }
  }
  return chosen
}

export interface ClusterMatcher {
  /** What to write with a new case: its keys, and the open case it duplicates (if any). */
  match(subject: ClusterSubject, at: number): Promise<Pick<InboundWrite, 'clusterKeys' | 'joinCluster'>>
}

/**
 * Shingle sets of recent cases' words kept in memory: the same open cases are candidates for many
 * new ones. Keyed by the words themselves (what a candidate carries is exactly the text its keys were
 * made of), so a new case's set, computed to match it, is already there when it becomes a candidate.
 */
const SHINGLE_CACHE_SIZE = 10_000

export function createClusterMatcher(deps: { store: Store; names: PlaceNames; ids: IdGenerator }, input: ClusterOptionsInput = {}): ClusterMatcher {
  const options = ClusterOptions.parse(input)
  const cache = new Map<string, Shingles>()
  const remember = (text: string, set: Shingles) => {
    // Maps iterate in insertion order: the first key is the oldest.
    if (cache.set(text, set).size > SHINGLE_CACHE_SIZE) cache.delete(cache.keys().next().value!)
  }
  const shinglesOf = (candidate: ClusterCandidate) => {
    let set = cache.get(candidate.text)
    if (!set) remember(candidate.text, (set = textShingles(candidate.text)))
    return set
  }
  return {
    async match(subject, at) {
      if (!options.enabled) return {}
      const keys = clusterKeysOf(subject, deps.names)
      if (!keys) return {}
      // Computed for every new case (a repeated text is no cheaper than a new one), then kept for
      // when this case is a candidate.
      const shingles = textShingles(keys.text)
      remember(keys.text, shingles)
      const candidates = await deps.store.findClusterCandidates({
        category: keys.category,
        since: at - options.windowMs,
        limit: options.maxCandidates,
        ...(keys.placeKey !== null ? { placeKey: keys.placeKey } : {}),
        ...(keys.lat !== null && keys.lon !== null ? { box: boxAround({ lat: keys.lat, lon: keys.lon }, options.distanceMetres) } : {}),
      })
      const best = bestDuplicate(keys, candidates, options, shinglesOf, shingles)
      if (!best) return { clusterKeys: keys }
      return {
        clusterKeys: keys,
        joinCluster: {
          withCaseId: best.candidate.caseId,
          newClusterId: deps.ids(),
          data: { withCaseId: best.candidate.caseId, similarity: Math.round(best.score * 1000) / 1000, via: 'intake' },
        },
      }
    },
  }
}
