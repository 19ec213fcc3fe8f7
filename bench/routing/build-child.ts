/**
 * One fresh process per measurement of bench/routing: builds a place list (chinaDivisions) once and
 * reports its cost as one JSON line on stdout. Run by run.ts as
 *   node --expose-gc --import tsx bench/routing/build-child.ts [within]
 * The baseline is this same process after its imports and before building, so the figures are what
 * the place list adds to a process that already runs the routing code.
 */
import { setTimeout } from 'node:timers'
import { chinaDivisions } from '../../packages/routing/src/china-divisions.ts'

const within = process.argv[2] || undefined
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('[bench/routing] run with node --expose-gc')

gc()
const before = process.memoryUsage()
const cpu0 = process.cpuUsage()
const t0 = performance.now()
const list = chinaDivisions(within ? { within } : {}).load()
const buildMs = performance.now() - t0
const cpu = process.cpuUsage(cpu0)
const peak = process.memoryUsage()
// Array buffers are freed by a background thread after a full GC: give it a moment, collect again.
gc()
await new Promise((resolve) => setTimeout(resolve, 300))
gc()
const after = process.memoryUsage()

console.log(
  JSON.stringify({
    within: within ?? 'national',
    buildMs,
    buildCpuMs: (cpu.user + cpu.system) / 1000,
    baseline: { rss: before.rss, heapUsed: before.heapUsed, external: before.external },
    atEnd: { rss: peak.rss },
    afterGc: { rss: after.rss, heapUsed: after.heapUsed, external: after.external, arrayBuffers: after.arrayBuffers },
    maxRss: process.resourceUsage().maxRSS * 1024,
    stats: list.stats,
  }),
)
