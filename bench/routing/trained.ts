/**
 * bench/routing/trained.ts: the trained classifier (byTrainedClassifier) on real 12345 messages —
 * accuracy by 5-fold cross-validation with the keyword taxonomy alone as the same run's anchor,
 * training time and memory at 100,000 messages, prediction time per message, and the demo chain
 * with the classifier in it — against baselines measured in the same run.
 *
 *   node --expose-gc --import tsx bench/routing/trained.ts [--folds 5] [--skip-speed] [--skip-accuracy] [--skip-train]
 *
 * Data: Taidi 2020 (../shared/fixtures/taidi2020 next to the repository, or INTAKE_SHARED_DIR):
 * 6,840 subjects and 5,676 texts with their first-level category. It has no licence to redistribute:
 * read from there, never copied into the project, no model trained on it is written anywhere but
 * a temporary directory. Without it the script says so and exits 0.
 *
 * - accuracy: the rows as route-eval reads them (text, expected_office: the bureau whose remit lists
 *   the label, bench/routing/taidi-offices.yaml), crossValidateRouting with the chain
 *   byTrainedClassifier → byCategory (shipped taxonomy) → intake desk; the anchor is the same
 *   chain without the classifier; then byBestOf(classifier, byCategory) → desk.
 * - train: a fresh process (trained-child.ts) trains on 100,000 messages (the 12,516 rows cycled
 *   eight times) and reports wall time and peak RSS; its RSS after loading the rows is the baseline.
 * - predict: per message, the model's read + predict, the strategy with its reason (explain), and
 *   the keyword categoriser on the same texts (baseline).
 * - demo chain: examples/county-hotline/routing.ts per message, with and without a classifier
 *   (trained in memory on the demo's eval.csv) in front of byCategory.
 * Figures go to stdout and bench/results/trained-<time>.json. Nothing here asserts a time.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { buildOfficeDirectory, loadOffices, runRoutingChain, silentLogger, type RoutingStrategy } from '@intake/core'
import { crossValidateRouting, readEvalRows, type EvalReport, type EvalRow } from '../../packages/core/src/cli/route-eval.ts'
import { byBestOf } from '../../packages/routing/src/by-best-of.ts'
import { byCategory, categorizer, defaultTaxonomy } from '../../packages/routing/src/by-category.ts'
import { byTrainedClassifier } from '../../packages/routing/src/by-trained-classifier.ts'
import { toIntakeDesk } from '../../packages/routing/src/to-intake-desk.ts'
import { Predictor, trainLinearModel } from '../../packages/routing/src/trained-classifier/linear-model.ts'
import { caseDraft, routingContext } from '../../packages/routing/src/kit/index.ts'
import { demoRouting } from '../../examples/county-hotline/routing.ts'
import { byJurisdiction } from '../../packages/routing/src/by-jurisdiction.ts'
import { xinjiangPlaces } from '../../examples/county-hotline/routing.ts'
import { benchMessage } from './messages.ts'
import { TAIDI_DIR, taidiRows } from './taidi-data.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const { values: args } = parseArgs({
  options: {
    folds: { type: 'string', default: '5' },
    'skip-speed': { type: 'boolean', default: false },
    'skip-accuracy': { type: 'boolean', default: false },
    'skip-train': { type: 'boolean', default: false },
  },
  strict: true,
})

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)]!
const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`
const pct = (x: number) => `${(x * 100).toFixed(1)}%`

async function main() {
  if (!existsSync(TAIDI_DIR)) {
    console.log(`bench/routing/trained: skipped — ${TAIDI_DIR} is absent (set INTAKE_SHARED_DIR to the shared fixtures' parent)`)
    return
  }
  const results: Record<string, unknown> = { at: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, load: loadavg() }
  const rows = taidiRows()
  console.log(`taidi2020: ${rows.length} messages, ${cpus().length} × ${cpus()[0]?.model}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  const offices = buildOfficeDirectory(loadOffices('taidi-offices.yaml', import.meta.dirname))
  const bureauOf = new Map(offices.all.filter((o) => o.remit.length > 0).map((o) => [o.remit[0]!, o.id]))
  const tmp = mkdtempSync(join(tmpdir(), 'intake-bench-trained-'))

  try {
    if (!args['skip-accuracy']) {
      const csv = ['text,expected_office', ...rows.map((r) => `"${r.text.replace(/"/g, '""')}",${bureauOf.get(r.label)}`)].join('\n')
      const evalRows: EvalRow[] = readEvalRows(csv, offices)
      const city = () => 'a-city'
      const chain: RoutingStrategy[] = [
        byTrainedClassifier({ model: join(tmp, 'never-written.json'), placeOffice: city }),
        byCategory({ placeOffice: city, unlisted: 'pass-on' }),
        toIntakeDesk(),
      ]
      const started = performance.now()
      const report = await crossValidateRouting(evalRows, { routing: chain, offices, log: silentLogger, folds: Number(args.folds) })
      const s = (performance.now() - started) / 1000
      const line = (name: string, r: EvalReport) =>
        `${name.padEnd(34)} office (= first-level category) ${r.office.correct}/${r.office.total} = ${pct(r.office.accuracy)}, to the desk ${(r.decidedBy['intake-desk'] ?? 0)} = ${pct((r.decidedBy['intake-desk'] ?? 0) / r.messages)}`
      console.log(`\naccuracy, ${args.folds}-fold cross-validation (${s.toFixed(1)} s)`)
      console.log(line('classifier → keywords → desk', report))
      console.log(line('anchor: keywords → desk', report.anchor!))
      console.log('\nper class (classifier chain | anchor)           precision  recall |  precision  recall')
      for (const o of report.offices) {
        const a = report.anchor!.offices.find((x) => x.officeId === o.officeId)
        const p = (x: number | null | undefined) => (x == null ? '—' : pct(x)).padStart(9)
        console.log(`  ${o.officeId.padEnd(18)} ${String(o.expected).padStart(6)}  ${p(o.precision)} ${p(o.recall)} | ${p(a?.precision)} ${p(a?.recall)}`)
      }
      console.log(`decided by: ${JSON.stringify(report.decidedBy)}; anchor: ${JSON.stringify(report.anchor!.decidedBy)}`)
      // The two weighed against each other by confidence (byBestOf) instead of the classifier first.
      const bestOfChain: RoutingStrategy[] = [
        byBestOf({ strategies: [byTrainedClassifier({ model: join(tmp, 'never-written.json'), placeOffice: city }), byCategory({ placeOffice: city, unlisted: 'pass-on' })] }),
        toIntakeDesk(),
      ]
      const combined = await crossValidateRouting(evalRows, { routing: bestOfChain, offices, log: silentLogger, folds: Number(args.folds) })
      console.log(line('best of (classifier, keywords) → desk', combined))
      results.accuracy = {
        folds: Number(args.folds),
        seconds: s,
        chain: { office: report.office, decidedBy: report.decidedBy, offices: report.offices },
        bestOf: { office: combined.office, decidedBy: combined.decidedBy },
        anchor: { office: report.anchor!.office, decidedBy: report.anchor!.decidedBy, offices: report.anchor!.offices },
      }
    }

    if (!args['skip-speed']) {
      // Training at 100,000 messages, in a fresh process for an honest peak RSS.
      if (!args['skip-train']) {
      const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'trained-child.ts'), '100000'], {
        cwd: ROOT,
        encoding: 'utf8',
      })
      if (child.status !== 0) throw new Error(`trained-child failed: ${child.stderr}`)
      const train = JSON.parse(child.stdout) as { examples: number; loadedRssMb: number; peakRssMb: number; trainSeconds: number; cpuSeconds: number; temperature: number }
      console.log(`\ntrain on ${train.examples} messages (fresh process): ${train.trainSeconds.toFixed(1)} s wall, ${train.cpuSeconds.toFixed(1)} s CPU, peak RSS ${train.peakRssMb} MB (${train.loadedRssMb} MB after loading the rows, before training); load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
      results.train = train
      }

      // Prediction: train on 80%, time the other 20%.
      const cut = Math.floor(rows.length * 0.8)
      const order = rows.map((_, i) => i).sort((a, b) => ((a * 2654435761) >>> 0) - ((b * 2654435761) >>> 0))
      const fit = order.slice(0, cut).map((i) => ({ text: rows[i]!.text, category: rows[i]!.label }))
      const test = order.slice(cut).map((i) => rows[i]!.text)
      const model = trainLinearModel(fit)
      const predictor = new Predictor(model)
      const modelFile = join(tmp, 'taidi.model.json')
      const strategy = await byTrainedClassifier({ model: modelFile }).learner.trainedOn(fit)
      const categorize = categorizer(defaultTaxonomy())
      const ctx = routingContext(offices)
      const time = async (fn: (text: string) => unknown | Promise<unknown>) => {
        for (const t of test.slice(0, 200)) await fn(t) // warm-up
        gc()
        const out: number[] = []
        for (const t of test) {
          const s0 = performance.now()
          await fn(t)
          out.push(performance.now() - s0)
        }
        return out
      }
      const predictTimes = await time((t) => predictor.predict('category', predictor.read(undefined, t).vector))
      const strategyTimes = await time((t) => strategy(caseDraft(t), ctx))
      const keywordTimes = await time((t) => categorize(t))
      const chars = median(test.map((t) => t.length))
      console.log(`\npredict (${test.length} held-out messages, median ${chars} characters)`)
      console.log(`  model read + predict            ${us(median(predictTimes))} median (p99 ${us(p99(predictTimes))})`)
      console.log(`  byTrainedClassifier with reason ${us(median(strategyTimes))} median (p99 ${us(p99(strategyTimes))})`)
      console.log(`  baseline: keyword categoriser   ${us(median(keywordTimes))} median (p99 ${us(p99(keywordTimes))})`)
      results.predict = {
        messages: test.length,
        medianChars: chars,
        modelUs: [median(predictTimes) * 1000, p99(predictTimes) * 1000],
        strategyUs: [median(strategyTimes) * 1000, p99(strategyTimes) * 1000],
        keywordsUs: [median(keywordTimes) * 1000, p99(keywordTimes) * 1000],
      }

      // The demo chain with and without a classifier trained on the demo's own eval set.
      const demoOffices = buildOfficeDirectory(loadOffices('examples/county-hotline/offices.yaml', ROOT))
      const demoRows = readEvalRows(readFileSync(join(ROOT, 'examples/county-hotline/eval.csv'), 'utf8'), demoOffices)
      xinjiangPlaces.load()
      const jurisdiction = byJurisdiction({ places: xinjiangPlaces })
      const classifier = await byTrainedClassifier({ model: join(tmp, 'demo.json'), within: jurisdiction }).learner.trainedOn(
        demoRows.map((r) => ({ text: r.text, category: r.expectedCategory, officeId: r.expectedOffice })),
      )
      const plain = demoRouting()
      const withModel = [...plain.slice(0, 2), classifier, ...plain.slice(2)]
      const demoCtx = routingContext(demoOffices)
      const messages = Array.from({ length: 2000 }, (_, i) => {
        const m = benchMessage(i)
        return caseDraft({ text: m.text, ...(m.place ? { place: { text: m.place } } : {}) })
      })
      const chainTime = async (chain: RoutingStrategy[]) => {
        for (const m of messages.slice(0, 200)) await runRoutingChain(chain, m, demoCtx)
        gc()
        const out: number[] = []
        for (const m of messages) {
          const s0 = performance.now()
          await runRoutingChain(chain, m, demoCtx)
          out.push(performance.now() - s0)
        }
        return out
      }
      const without = await chainTime(plain)
      const withIt = await chainTime(withModel)
      console.log(`\nthe demo chain, ${messages.length} bench messages (bench/routing/messages.ts)`)
      console.log(`  with the classifier (trained on eval.csv in memory) ${us(median(withIt))} median (p99 ${us(p99(withIt))})`)
      console.log(`  baseline: the demo chain as shipped                 ${us(median(without))} median (p99 ${us(p99(without))})`)
      results.demoChain = { withUs: [median(withIt) * 1000, p99(withIt) * 1000], withoutUs: [median(without) * 1000, p99(without) * 1000] }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  const out = join(ROOT, 'bench', 'results')
  mkdirSync(out, { recursive: true })
  const file = join(out, `trained-${new Date().toISOString().replace(/[:.]/g, '').slice(0, 17)}.json`)
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`)
  console.log(`\n${file}`)
}

await main()
