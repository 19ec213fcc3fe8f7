/**
 * bench/routing/trained.ts's training run in a process of its own: N messages (the Taidi rows
 * cycled), trained once; prints JSON with wall time, peak RSS and the RSS after loading (baseline).
 *
 *   node --import tsx bench/routing/trained-child.ts 100000
 */
import { trainLinearModel } from '../../packages/routing/src/trained-classifier/linear-model.ts'
import { taidiRows } from './taidi-data.ts'

const n = Number(process.argv[2] ?? 100_000)
const rows = taidiRows()
const examples = Array.from({ length: n }, (_, i) => ({ text: rows[i % rows.length]!.text, category: rows[i % rows.length]!.label }))
const loadedRssMb = Math.round(process.memoryUsage().rss / 1024 / 1024)
const started = performance.now()
const cpu = process.cpuUsage()
const model = trainLinearModel(examples)
const trainSeconds = (performance.now() - started) / 1000
const { user, system } = process.cpuUsage(cpu)
const cpuSeconds = (user + system) / 1e6
const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024)
process.stdout.write(JSON.stringify({ examples: n, loadedRssMb, peakRssMb, trainSeconds, cpuSeconds, temperature: model.heads.category!.temperature }))
