/**
 * The labelled pairs, built from appeals.ts: every two reports of one issue are the same matter;
 * the reports of neighbouring issues (same place and category, or same matter elsewhere) are hard
 * negatives; a few pairs at one place in different categories, and consecutive unrelated issues,
 * are easy negatives. No pair crosses the tuning / held-out line.
 */
import type { PlaceHint } from '@intake/core'
import { ISSUES, NEIGHBOURS, type Issue } from './appeals.ts'

export interface Report {
  issue: string
  index: number
  split: Issue['split']
  lang: Issue['lang']
  category: string
  text: string
  place?: PlaceHint
}

export type PairKind = 'same' | 'same-place-other-matter' | 'same-matter-other-place' | 'other-category' | 'unrelated'

export interface Pair {
  a: Report
  b: Report
  same: boolean
  kind: PairKind
}

export function reportsOf(issue: Issue): Report[] {
  return issue.reports.map((r, index) => ({
    issue: issue.id,
    index,
    split: issue.split,
    lang: issue.lang,
    category: issue.category,
    ...(typeof r === 'string' ? { text: r, ...(issue.place ? { place: issue.place } : {}) } : r),
  }))
}

/** Same place (a township both name, or points a few hundred metres apart), another category. */
const OTHER_CATEGORY: Array<[string, string]> = [
  ['zh-t01', 'zh-t04'],
  ['zh-t01', 'zh-t05'],
  ['zh-t02', 'zh-t13'],
  ['zh-t04', 'zh-t13'],
  ['zh-h04', 'zh-h05'],
  ['en-t06', 'en-t09'],
]

export function buildPairs(issues: readonly Issue[] = ISSUES): Pair[] {
  const byId = new Map(issues.map((i) => [i.id, reportsOf(i)]))
  const pairs: Pair[] = []
  for (const reports of byId.values()) {
    for (let i = 0; i < reports.length; i++) for (let j = i + 1; j < reports.length; j++) pairs.push({ a: reports[i]!, b: reports[j]!, same: true, kind: 'same' })
  }
  for (const [x, y, why] of NEIGHBOURS) {
    for (const a of byId.get(x)!) for (const b of byId.get(y)!) pairs.push({ a, b, same: false, kind: why === 'place' ? 'same-place-other-matter' : 'same-matter-other-place' })
  }
  for (const [x, y] of OTHER_CATEGORY) {
    const [as, bs] = [byId.get(x)!, byId.get(y)!]
    as.forEach((a, k) => pairs.push({ a, b: bs[k]!, same: false, kind: 'other-category' }))
  }
  const neighbours = new Set([...NEIGHBOURS.map(([x, y]) => `${x}|${y}`), ...OTHER_CATEGORY.map(([x, y]) => `${x}|${y}`)])
  for (const split of ['tuning', 'held-out'] as const) {
    const list = issues.filter((i) => i.split === split)
    list.forEach((issue, k) => {
      const next = list[(k + 1) % list.length]!
      if (next.id === issue.id || neighbours.has(`${issue.id}|${next.id}`) || neighbours.has(`${next.id}|${issue.id}`)) return
      pairs.push({ a: byId.get(issue.id)![0]!, b: byId.get(next.id)![1]!, same: false, kind: 'unrelated' })
    })
  }
  for (const p of pairs) if (p.a.split !== p.b.split) throw new Error(`[bench/clusters] pair ${p.a.issue}/${p.b.issue} crosses the split`)
  return pairs
}
