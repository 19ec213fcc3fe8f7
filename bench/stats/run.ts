/**
 * bench/stats: the figures of one office subtree over a year of 1,000,000 cases on SQLite, through
 * the same code the API runs (statsReport → Store.caseStats → computeFigures), against a bare
 * baseline measured in the same run: `select count(*)` of the same cases on the cases table.
 *
 *   npx tsx bench/stats/run.ts [--cases 1000000] [--rounds 5] [--fresh]
 *
 * The database (bench/support/year-of-cases.ts) is built once into bench/.tmp/stats/ (git-ignored)
 * and reused; --fresh rebuilds it, timing `intake stats rebuild` at that size. Nothing here asserts
 * a time; figures go to stdout and bench/results/stats-<time>.json.
 */
import { writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { statsReport } from '@intake/core'
import { sqliteStore } from '@intake/storage/sqlite'
import { loadBetterSqlite3 } from '../support/workspace-deps.ts'
import { calendar, HOUR, NOW, offices, YEAR_END, YEAR_START, yearOfCases } from '../support/year-of-cases.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const { values: args } = parseArgs({
  options: { cases: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '5' }, fresh: { type: 'boolean', default: false } },
  strict: true,
})
const N = Number(args.cases)
const ROUNDS = Number(args.rounds)
if (!(N > 0) || !(ROUNDS > 0)) throw new Error('[bench/stats] --cases and --rounds must be positive')

const results: Record<string, unknown> = { at: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, loadavg: loadavg(), cases: N }
const { file, build } = await yearOfCases(N, args.fresh)
if (build) results.build = build
const Database = await loadBetterSqlite3()

const store = sqliteStore({ file })
await store.migrate()
const bare = new Database(file, { readonly: true })
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const ms = (x: number) => `${x.toFixed(0)} ms`

async function timed(label: string, run: () => Promise<unknown> | unknown) {
  await run() // warm: statements compiled, pages in the cache
  const times: number[] = []
  let last: unknown
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now()
    last = await run()
    times.push(performance.now() - t0)
  }
  const row = { median: median(times), max: Math.max(...times) }
  console.log(`${label.padEnd(62)} median ${ms(row.median).padStart(7)}  max ${ms(row.max).padStart(7)}`)
  return { ...row, last }
}

const subtree = (id: string) => offices.all.filter((o) => offices.covers(id, o.id)).map((o) => o.id)
const countBare = (ids: string[]) =>
  bare.prepare(`select count(*) from cases where office_id in (${ids.map(() => '?').join(',')}) and created_at >= ? and created_at < ?`).pluck().get(...ids, YEAR_START, YEAR_END)

const deps = { store, offices, calendar, utcOffsetMs: 8 * HOUR }
const year = { from: YEAR_START, to: YEAR_END }
const figures: Record<string, unknown> = {}
console.log(`\n${N} cases, ${ROUNDS} rounds each after a warm-up (${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)})\n`)
const county = subtree('county-03')
figures.baselineCounty = await timed(`baseline: count(*) of county-03's subtree (${county.length} offices)`, () => countBare(county))
figures.county = await timed('stats: county-03 subtree, the year', () => statsReport(deps, { ...year, officeId: 'county-03', groupBy: 'none' }, NOW))
figures.countyByOffice = await timed('stats: county-03 subtree, the year, per office', () => statsReport(deps, { ...year, officeId: 'county-03', groupBy: 'office' }, NOW))
figures.countyByMonth = await timed('stats: county-03 subtree, the year, per month', () => statsReport(deps, { ...year, officeId: 'county-03', groupBy: 'month' }, NOW))
figures.town = await timed('stats: one township, the year', () => statsReport(deps, { ...year, officeId: 'county-03-town-04', groupBy: 'none' }, NOW))
figures.baselineCity = await timed('baseline: count(*) of the whole city', () => countBare(subtree('city')))
figures.city = await timed('stats: the whole city (every case), the year', () => statsReport(deps, { ...year, officeId: 'city', groupBy: 'none' }, NOW))
figures.cityByCategory = await timed('stats: the whole city, per category', () => statsReport(deps, { ...year, groupBy: 'category' }, NOW))

const sample = (figures.county as { last: { rows: unknown[] } }).last.rows[0]
console.log('\ncounty-03 over the year:', sample)
for (const v of Object.values(figures)) delete (v as { last?: unknown }).last
results.figures = figures
results.sample = sample
const out = join(ROOT, 'bench', 'results', `stats-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}.json`)
writeFileSync(out, JSON.stringify(results, null, 2))
console.log(`\nwritten to ${out}`)
bare.close()
await store.close()
