/**
 * bench/routing: byJurisdiction at national scale — building the gazetteer of China's ~665,000
 * administrative divisions, finding place names in a 200-character message, and the whole routing
 * chain without the LLM — against baselines measured in the same run.
 *
 *   node --expose-gc --import tsx bench/routing/run.ts [--messages 2000] [--rounds 5] [--skip-build]
 *
 * (`npx tsx bench/routing/run.ts` works too; with --expose-gc each timed section starts after a
 * full collection, so one section's garbage is not collected in the next one's time.)
 *
 * - build: each place list is built in a fresh process (build-child.ts): wall and CPU time, RSS
 *   before (the baseline: the same process with the routing code imported) and after, heap.
 * - match: per message, the automaton alone (list.scan), the gazetteer's findInText (normalising,
 *   both automatons, coverage), and two baselines over the same terms: a Map of every term with a
 *   sliding window (every substring of 2–maxLen characters looked up) and a naive loop of
 *   String.includes over all terms (on a few messages only: it is slow).
 * - chain: runRoutingChain(byTrackingCode, byKeywords (the county-hotline rules), byJurisdiction,
 *   toIntakeDesk) per case, on the county-hotline offices with the office tree's own places (the
 *   same-run baseline), the Xinjiang list and the national list; then on a national office tree
 *   (a root and 31 province offices), where every place of the list is covered — the worst case
 *   for words that are also village names — and byJurisdiction alone on both trees.
 * Figures go to stdout and bench/results/routing-<time>.json. Nothing here asserts a time.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { buildOfficeDirectory, Office, runRoutingChain, type RoutingStrategy } from '@intake/core'
import { byJurisdiction } from '../../packages/routing/src/by-jurisdiction.ts'
import { demoRouting } from '../../examples/county-hotline/routing.ts'
import { byKeywords } from '../../packages/routing/src/by-keywords.ts'
import { byTrackingCode } from '../../packages/routing/src/by-tracking-code.ts'
import { chinaDivisions } from '../../packages/routing/src/china-divisions.ts'
import { demoKeywordRules, demoOffices, earlierCase } from '../../packages/routing/src/demo-fixtures.ts'
import { ADMINISTRATIVE_SUFFIXES, buildGazetteer } from '../../packages/routing/src/gazetteer.ts'
import { caseDraft, routingContext } from '../../packages/routing/src/kit/index.ts'
import { nameForms, prepareSuffixes } from '../../packages/routing/src/place-names.ts'
import { toIntakeDesk } from '../../packages/routing/src/to-intake-desk.ts'
import { normalizeForMatching } from '../../packages/routing/src/text-match.ts'
import { benchMessage, ENGLISH } from './messages.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    'skip-build': { type: 'boolean', default: false },
  },
  strict: true,
})
const messageCount = Number(args.messages)
const rounds = Number(args.rounds)
if (!(messageCount > 0) || !(rounds > 0)) throw new Error('[bench/routing] --messages and --rounds must be positive')

const MB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`
const results: Record<string, unknown> = {
  at: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  loadavgAtStart: loadavg(),
}

// ---------------------------------------------------------------------------------------------
// build: fresh processes
if (!args['skip-build']) {
  console.log('\n## build (fresh process each)\n')
  console.log('| list | places | terms | trie nodes | wall ms | CPU ms | RSS before | RSS after (gc) | added | heap after | arrays |')
  console.log('|---|---|---|---|---|---|---|---|---|---|---|')
  const builds: unknown[] = []
  for (const within of ['', '65', '6531']) {
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'build-child.ts'), within], {
      cwd: ROOT,
      encoding: 'utf8',
    })
    if (child.status !== 0) throw new Error(`[bench/routing] build-child failed: ${child.stderr}`)
    const figures = JSON.parse(child.stdout.trim().split('\n').pop()!)
    builds.push(figures)
    const { stats } = figures
    console.log(
      `| ${figures.within} | ${stats.places} | ${stats.terms} | ${stats.automatonNodes} | ${figures.buildMs.toFixed(0)} | ${figures.buildCpuMs.toFixed(0)} | ${MB(figures.baseline.rss)} | ${MB(figures.afterGc.rss)} | ${MB(figures.afterGc.rss - figures.baseline.rss)} | ${MB(figures.afterGc.heapUsed)} | ${MB(figures.afterGc.arrayBuffers)} |`,
    )
  }
  results.build = builds
}

// ---------------------------------------------------------------------------------------------
// helpers
function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}
interface Timing {
  medianUs: number
  p99Us: number
  meanUs: number
  samples: number
}
function summarise(samples: number[]): Timing {
  const sorted = Float64Array.from(samples).sort()
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length
  return { medianUs: percentile(sorted, 0.5), p99Us: percentile(sorted, 0.99), meanUs: mean, samples: samples.length }
}
function timeSync(inputs: readonly string[], fn: (input: string) => unknown, repeat: number): Timing {
  for (const input of inputs.slice(0, 200)) fn(input) // warm-up
  const samples: number[] = []
  for (let r = 0; r < repeat; r++) {
    for (const input of inputs) {
      const t0 = process.hrtime.bigint()
      fn(input)
      samples.push(Number(process.hrtime.bigint() - t0) / 1000)
    }
  }
  return summarise(samples)
}
const row = (name: string, t: Timing, note = '') =>
  console.log(`| ${name} | ${t.medianUs.toFixed(1)} | ${t.p99Us.toFixed(1)} | ${t.meanUs.toFixed(1)} | ${t.samples} | ${note} |`)

// ---------------------------------------------------------------------------------------------
// match
const FILLER = '另外，我们小区门口的垃圾桶好几天没有人清理了，天气热了以后味道很大，苍蝇蚊子也多，希望有关部门一并处理。谢谢！'
function message200(n: number): string {
  let text = benchMessage(n).text
  while (text.length < 200) text += FILLER
  return text.slice(0, 200)
}
const texts = Array.from({ length: Math.min(messageCount, 1000) }, (_, n) => message200(n))

const t0 = performance.now()
const national = chinaDivisions().load()
const loadMs = performance.now() - t0
const directory = buildOfficeDirectory(demoOffices)
const gazetteer = buildGazetteer(directory, { suffixes: ADMINISTRATIVE_SUFFIXES, ignoreShortForms: [], places: national })

console.log(`\n## match: ${texts.length} messages of 200 characters × ${rounds} rounds (national list loaded here in ${loadMs.toFixed(0)} ms)\n`)
console.log('| what | median µs | p99 µs | mean µs | samples | note |')
console.log('|---|---|---|---|---|---|')
let rawHits = 0
const scanOnly = timeSync(
  texts,
  (text) => {
    let hits = 0
    national.scan(text, () => hits++)
    rawHits += hits
  },
  rounds,
)
row('automaton scan (list.scan)', scanOnly, `${(rawHits / texts.length / (rounds + 1)).toFixed(1)} raw hits a message`)
const find = timeSync(texts, (text) => gazetteer.findInText(text), rounds)
row('gazetteer.findInText', find, 'normalise + office names + list + coverage')

// Baselines, in a block so that their Map and term list can be collected before the chain runs.
{
// Baseline 1: every term in a Map, every substring of 2..maxLen characters looked up.
const suffixes = prepareSuffixes(ADMINISTRATIVE_SUFFIXES)
const tb = performance.now()
const terms = new Map<string, number>()
for (let i = 0; i < national.size; i++) {
  if (!national.named(i)) continue
  const name = normalizeForMatching(national.name(i)).trim()
  terms.set(name, (terms.get(name) ?? 0) + 1)
  const forms = nameForms(name, suffixes)
  for (const f of [...forms.informal, ...(forms.short ? [forms.short] : [])]) terms.set(f, (terms.get(f) ?? 0) + 1)
}
let maxLength = 0
for (const term of terms.keys()) maxLength = Math.max(maxLength, term.length)
const mapBuildMs = performance.now() - tb
const windowLength = Math.min(maxLength, 20)
const mapWindow = timeSync(
  texts,
  (text) => {
    const normalized = normalizeForMatching(text)
    let hits = 0
    for (let i = 0; i < normalized.length; i++) {
      for (let length = 2; length <= windowLength && i + length <= normalized.length; length++) {
        if (terms.has(normalized.slice(i, i + length))) hits++
      }
    }
    return hits
  },
  rounds,
)
row('baseline: Map + sliding window', mapWindow, `${terms.size} terms, window 2–${windowLength} (longest term ${maxLength}); Map built in ${mapBuildMs.toFixed(0)} ms`)
const termList = [...terms.keys()]
const naive = timeSync(
  texts.slice(0, 20),
  (text) => {
    const normalized = normalizeForMatching(text)
    let hits = 0
    for (const term of termList) if (normalized.includes(term)) hits++
    return hits
  },
  1,
)
row('baseline: String.includes over all terms', naive, '20 messages only')
results.match = { loadMs, scanOnly, findInText: find, baselineMapWindow: { ...mapWindow, buildMs: mapBuildMs, terms: terms.size }, baselineIncludes: naive }
terms.clear()
}
const gc = (globalThis as { gc?: () => void }).gc
gc?.()

// ---------------------------------------------------------------------------------------------
// chain
const ctx = routingContext(directory, { cases: [earlierCase('K7F3-9Q28', 'jiashi-bairen')] })
const drafts = Array.from({ length: messageCount }, (_, n) => {
  const m = benchMessage(n)
  if (n % 50 === 49) return caseDraft({ text: ENGLISH })
  return caseDraft({ text: message200(n), ...(m.place ? { place: { text: m.place } } : {}) })
})
// The worst case for words that are also village names: a national office tree (a root and the 31
// provinces), where every place of the list is covered, so every reading found must be weighed.
const nationalOffices = buildOfficeDirectory(
  [
    { id: 'china', name: '全国12345热线', jurisdiction: { codes: [] as string[], places: [] } },
    { id: 'china-desk', name: '全国12345热线受理台', parentId: 'china', intakeDesk: true },
    ...Array.from({ length: national.size }, (_, i) => i)
      .filter((i) => national.depth(i) === 0)
      .map((i) => ({ id: `p${national.code(i)}`, name: `${national.name(i)}人民政府`, parentId: 'china', jurisdiction: { codes: [national.code(i)], places: [] } })),
  ].map((o) => Office.parse(o)),
)
const nationalCtx = routingContext(nationalOffices)
const chainOf = (jurisdiction: RoutingStrategy) => [byTrackingCode(), byKeywords({ rules: demoKeywordRules }), jurisdiction, toIntakeDesk()]
const variants: [string, RoutingStrategy[], typeof ctx][] = [
  ['county-hotline offices, office tree only (baseline)', chainOf(byJurisdiction()), ctx],
  ['county-hotline offices, Xinjiang list (within 65)', chainOf(byJurisdiction({ places: chinaDivisions({ within: '65' }) })), ctx],
  ['county-hotline offices, national list', chainOf(byJurisdiction({ places: chinaDivisions() })), ctx],
  ['national offices (31 provinces), national list', chainOf(byJurisdiction({ places: chinaDivisions() })), nationalCtx],
  // What `pnpm start` runs: urgency, the 12345 category placed by jurisdiction, then the place alone.
  ['the demo chain (county-hotline routing.ts, Xinjiang list)', demoRouting(), ctx],
]

console.log(`\n## chain: ${drafts.length} cases × ${rounds} rounds (200-character texts, a quarter with a place field)\n`)
console.log('| chain | median µs | p99 µs | mean µs | samples | decided by (first round) |')
console.log('|---|---|---|---|---|---|')
const chainResults: Record<string, unknown> = {}
for (const [name, chain, ctx] of variants) {
  gc?.()
  await runRoutingChain(chain, drafts[0]!, ctx) // builds the index (and loads the list) outside the timing
  for (const draft of drafts.slice(0, 200)) await runRoutingChain(chain, draft, ctx)
  const samples: number[] = []
  const by: Record<string, number> = {}
  for (let r = 0; r < rounds; r++) {
    for (const draft of drafts) {
      const t = process.hrtime.bigint()
      const result = await runRoutingChain(chain, draft, ctx)
      samples.push(Number(process.hrtime.bigint() - t) / 1000)
      if (r === 0) by[result.decision.strategy] = (by[result.decision.strategy] ?? 0) + 1
    }
  }
  const timing = summarise(samples)
  row(name, timing, Object.entries(by).map(([strategy, n]) => `${strategy} ${n}`).join(', '))
  chainResults[name] = { ...timing, decisions: by }
}
for (const [name, aloneCtx] of [
  ['byJurisdiction alone: county-hotline offices, national list', ctx],
  ['byJurisdiction alone: national offices, national list', nationalCtx],
] as const) {
  gc?.()
  const alone = byJurisdiction({ places: chinaDivisions() })
  await alone(drafts[0]!, aloneCtx)
  for (const draft of drafts.slice(0, 200)) await alone(draft, aloneCtx)
  const samples: number[] = []
  for (let r = 0; r < rounds; r++) {
    for (const draft of drafts) {
      const t = process.hrtime.bigint()
      await alone(draft, aloneCtx)
      samples.push(Number(process.hrtime.bigint() - t) / 1000)
    }
  }
  const timing = summarise(samples)
  row(name, timing)
  chainResults[name] = timing
}
results.chain = chainResults
results.loadavgAtEnd = loadavg()

const memory = process.memoryUsage()
console.log(`\nthis process at the end: RSS ${MB(memory.rss)}, heap ${MB(memory.heapUsed)}, array buffers ${MB(memory.arrayBuffers)}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`)

const stamp = new Date().toISOString().replace(/[:.]/g, '').slice(0, 17)
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true })
const out = join(ROOT, 'bench', 'results', `routing-${stamp}.json`)
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`)
console.log(`figures: ${out}`)
