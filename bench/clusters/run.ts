/**
 * Precision and recall of duplicate clusters on the labelled appeal pairs (appeals.ts, pairs.ts).
 *
 *   npx tsx bench/clusters/run.ts                  # the default options, both parts
 *   npx tsx bench/clusters/run.ts --sweep          # thresholds on the tuning part only
 *   npx tsx bench/clusters/run.ts --threshold 0.3  # another threshold, both parts
 *
 * Two measures: `decision` asks the matcher's rule of each labelled pair on its own (same
 * category, same place, similarity ≥ threshold); `clustering` feeds each part's reports in arrival
 * order through intake's choice (`bestDuplicate` over the earlier open reports, joining the best
 * one's cluster) and asks whether the pair's two reports ended up in one cluster — transitive
 * joins included, as intake makes them. The category is taken as given (routing's job).
 */
import { join } from 'node:path'
import {
  bestDuplicate,
  buildOfficeDirectory,
  ClusterOptions,
  clusterKeysOf,
  duplicateScore,
  loadOffices,
  thresholdFor,
  placeNamesOf,
  type ClusterCandidate,
  type ClusterKeys,
} from '@intake/core'
import { ISSUES } from './appeals.ts'
import { buildPairs, reportsOf, type Pair, type Report } from './pairs.ts'

const args = process.argv.slice(2)
const flag = (name: string) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const options = ClusterOptions.parse(flag('--threshold') ? { threshold: Number(flag('--threshold')) } : {})
type Thresholds = typeof options.threshold

const demo = join(import.meta.dirname, '..', '..', 'examples', 'county-hotline')
const names = placeNamesOf(buildOfficeDirectory(loadOffices(join(demo, 'offices.yaml'), demo)))
const keysCache = new Map<Report, ClusterKeys | undefined>()
const keysOf = (r: Report) => {
  if (!keysCache.has(r)) keysCache.set(r, clusterKeysOf({ category: r.category, text: r.text, ...(r.place ? { place: r.place } : {}) }, names))
  return keysCache.get(r)
}
const pairs = buildPairs()

function decide(p: Pair, threshold: Thresholds): boolean {
  const [a, b] = [keysOf(p.a), keysOf(p.b)]
  return !!a && !!b && duplicateScore(a, b, options) >= thresholdFor(a.text, { threshold })
}

/** Each part's reports in turn (first reports of every issue, then the second ones…), clustered as intake does. */
function clusterPart(split: Report['split'], threshold: Thresholds): Map<string, string> {
  const issues = ISSUES.filter((i) => i.split === split).map(reportsOf)
  const order: Report[] = []
  for (let k = 0; k < Math.max(...issues.map((r) => r.length)); k++) for (const r of issues) if (r[k]) order.push(r[k]!)
  const clusterOf = new Map<string, string>()
  const seen: Array<{ report: Report; candidate: ClusterCandidate }> = []
  order.forEach((report, n) => {
    const keys = keysOf(report)
    clusterOf.set(idOf(report), `single-${n}`)
    if (!keys) return
    const candidates = seen.filter((s) => s.candidate.category === keys.category).map((s) => ({ ...s.candidate, clusterId: clusterOf.get(idOf(s.report))!.startsWith('c-') ? clusterOf.get(idOf(s.report))! : null }))
    const best = bestDuplicate(keys, candidates, { ...options, threshold })
    if (best) {
      const other = seen.find((s) => s.candidate.caseId === best.candidate.caseId)!.report
      const id = best.candidate.clusterId ?? `c-${n}`
      clusterOf.set(idOf(other), id)
      clusterOf.set(idOf(report), id)
    }
    seen.unshift({ report, candidate: { ...keys, caseId: String(n), clusterId: null, createdAt: n } })
  })
  // Read the final cluster of every report (an earlier one may have been joined after it was read).
  return new Map(order.map((r) => [idOf(r), clusterOf.get(idOf(r))!]))
}
const idOf = (r: Report) => `${r.issue}#${r.index}`

interface Score {
  tp: number
  fp: number
  fn: number
  tn: number
}
const score = (list: Pair[], predict: (p: Pair) => boolean): Score => {
  const s = { tp: 0, fp: 0, fn: 0, tn: 0 }
  for (const p of list) {
    const said = predict(p)
    if (said && p.same) s.tp++
    else if (said) s.fp++
    else if (p.same) s.fn++
    else s.tn++
  }
  return s
}
const pct = (n: number, d: number) => (d === 0 ? '—' : `${((100 * n) / d).toFixed(1)}%`)
const line = (label: string, s: Score) =>
  `${label.padEnd(28)} pairs ${String(s.tp + s.fp + s.fn + s.tn).padStart(3)} (${String(s.tp + s.fn).padStart(3)} same)  precision ${pct(s.tp, s.tp + s.fp).padStart(6)}  recall ${pct(s.tp, s.tp + s.fn).padStart(6)}  (tp ${s.tp}, fp ${s.fp}, fn ${s.fn})`

const bySplit = (split: Report['split']) => pairs.filter((p) => p.a.split === split)
console.log(`pairs: ${pairs.length} (${pairs.filter((p) => p.same).length} same); tuning ${bySplit('tuning').length}, held-out ${bySplit('held-out').length}`)
console.log(`kinds: ${JSON.stringify(Object.fromEntries(['same', 'same-place-other-matter', 'same-matter-other-place', 'other-category', 'unrelated'].map((k) => [k, pairs.filter((p) => p.kind === k).length])))}`)

if (args.includes('--sweep')) {
  // One threshold per script (Chinese bigrams, other trigrams), each swept on its own language's pairs.
  console.log('\nthreshold sweep on the TUNING part only (decision / clustering):')
  for (const lang of ['zh', 'en'] as const) {
    const list = bySplit('tuning').filter((p) => p.a.lang === lang)
    for (let t = 0.1; t <= 0.501; t += 0.025) {
      const threshold = { han: t, other: t }
      const d = score(list, (p) => decide(p, threshold))
      const clusters = clusterPart('tuning', threshold)
      const c = score(list, (p) => clusters.get(idOf(p.a)) === clusters.get(idOf(p.b)))
      // F0.5 weighs precision twice: a wrong join sends one citizen the answer meant for another matter.
      const f05 = (s: Score) => ((1.25 * s.tp) / (1.25 * s.tp + 0.25 * s.fn + s.fp)).toFixed(3)
      console.log(`  ${lang} ${t.toFixed(3)}  decision P ${pct(d.tp, d.tp + d.fp).padStart(6)} R ${pct(d.tp, d.tp + d.fn).padStart(6)} F0.5 ${f05(d)}   clustering P ${pct(c.tp, c.tp + c.fp).padStart(6)} R ${pct(c.tp, c.tp + c.fn).padStart(6)} F0.5 ${f05(c)}`)
    }
  }
} else {
  console.log(`\noptions: threshold ${JSON.stringify(options.threshold)}, distance ${options.distanceMetres} m`)
  for (const split of ['tuning', 'held-out'] as const) {
    const list = bySplit(split)
    const clusters = clusterPart(split, options.threshold)
    console.log(`\n${split}:`)
    for (const lang of [undefined, 'zh', 'en'] as const) {
      const part = lang ? list.filter((p) => p.a.lang === lang) : list
      console.log('  ' + line(`decision${lang ? ` (${lang})` : ''}`, score(part, (p) => decide(p, options.threshold))))
      console.log('  ' + line(`clustering${lang ? ` (${lang})` : ''}`, score(part, (p) => clusters.get(idOf(p.a)) === clusters.get(idOf(p.b)))))
    }
    const wrong = list.filter((p) => decide(p, options.threshold) !== p.same)
    const counts = new Map<string, number>()
    for (const p of wrong) counts.set(p.kind, (counts.get(p.kind) ?? 0) + 1)
    const kinds = [...counts].map(([k, n]) => `${k} ${n}`)
    console.log(`  decision errors by kind: ${kinds.join(', ') || 'none'}`)
  }
}
