/**
 * bench/stats: the figures of one office subtree over a year of 1,000,000 cases on SQLite, through
 * the same code the API runs (statsReport → Store.caseStats → computeFigures), against a bare
 * baseline measured in the same run: `select count(*)` of the same cases on the cases table.
 *
 *   npx tsx bench/stats/run.ts [--cases 1000000] [--rounds 5] [--fresh]
 *
 * The database is built once into bench/.tmp/stats/ (git-ignored) and reused; --fresh rebuilds it.
 * Building it: the store's migrations, then cases and their events inserted with plain SQL in
 * large transactions (the case_stats rows come from the store's trigger as each case is
 * inserted), then `Store.rebuildCaseStats()` folds the events into the rows — timed, as the cost of
 * `intake stats rebuild` at that size. Nothing here asserts a time; figures go to stdout and
 * bench/results/stats-<time>.json.
 *
 * The year: 2025 in Asia/Shanghai. Offices: a city, 10 counties, 10 townships each (111). Cases:
 * 90% at a township, 10% at a county; five channels, eight categories, a 9-digit place code of the
 * township. Every case gets its deadlines (deadline_set: 5 days, acceptance 2 hours); 95% are
 * accepted within 0–4 hours; 90% resolved within 1–8 days; 70% of those rated 1–5; 3% reopened and
 * resolved again. Deterministic (a seeded generator).
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { buildOfficeDirectory, Office, statsReport, type OfficeInput } from '@intake/core'
import { sqliteStore } from '@intake/storage/sqlite'
import { loadBetterSqlite3 } from '../support/workspace-deps.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const { values: args } = parseArgs({
  options: { cases: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '5' }, fresh: { type: 'boolean', default: false } },
  strict: true,
})
const N = Number(args.cases)
const ROUNDS = Number(args.rounds)
if (!(N > 0) || !(ROUNDS > 0)) throw new Error('[bench/stats] --cases and --rounds must be positive')

const HOUR = 3_600_000
const DAY = 24 * HOUR
const YEAR_START = Date.parse('2025-01-01T00:00:00+08:00')
const YEAR_END = Date.parse('2026-01-01T00:00:00+08:00')
const NOW = YEAR_END + 10 * DAY
const CHANNELS = ['sms', 'wechat', 'tg', 'web', 'email']
const CATEGORIES = ['roads', 'water', 'labour', 'housing', 'environment', 'health', 'education', 'other']

const officeInputs: OfficeInput[] = [{ id: 'city', name: '市', intakeDesk: true }]
for (let c = 1; c <= 10; c++) {
  const county = `county-${String(c).padStart(2, '0')}`
  officeInputs.push({ id: county, name: `县${c}`, parentId: 'city', jurisdiction: { codes: [`6531${String(c).padStart(2, '0')}`], places: [] } })
  for (let t = 1; t <= 10; t++) officeInputs.push({ id: `${county}-town-${String(t).padStart(2, '0')}`, name: `县${c}镇${t}`, parentId: county })
}
const offices = buildOfficeDirectory(officeInputs.map((o) => Office.parse(o)))
const calendar = { timeZone: 'Asia/Shanghai', holidays: [], workingWeekends: [] }

// mulberry32: small, seeded, good enough to spread cases.
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const dir = join(ROOT, 'bench', '.tmp', 'stats')
mkdirSync(dir, { recursive: true })
const file = join(dir, `stats-${N}.db`)
const Database = await loadBetterSqlite3()
const results: Record<string, unknown> = { at: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, loadavg: loadavg(), cases: N }

if (args.fresh || !existsSync(file)) {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true })
  const store = sqliteStore({ file, synchronous: 'normal' })
  await store.migrate()
  await store.close()
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = OFF')
  const insertCase = db.prepare(
    `insert into cases (id, tracking_code, status, office_id, category, urgency, channel_id, citizen_id, anonymous, summary, place_code, place_name, language, deadline_at, created_at, updated_at, resolved_at, rating)
     values (?, ?, ?, ?, ?, 'normal', ?, ?, 0, 'bench case', ?, ?, 'zh-CN', ?, ?, ?, ?, ?)`,
  )
  const insertEvent = db.prepare(`insert into case_events (case_id, at, type, actor, public, data) values (?, ?, ?, 'bench', 0, ?)`)
  const random = rng(20251203)
  const towns = offices.all.filter((o) => o.id.includes('-town-'))
  const counties = offices.all.filter((o) => o.parentId === 'city')
  const started = performance.now()
  const BATCH = 50_000
  for (let from = 0; from < N; from += BATCH) {
    db.transaction(() => {
      for (let i = from; i < Math.min(N, from + BATCH); i++) {
        const id = `c${String(i).padStart(8, '0')}`
        const atTown = random() < 0.9
        const office = atTown ? towns[Math.floor(random() * towns.length)]! : counties[Math.floor(random() * counties.length)]!
        const countyCode = `6531${office.id.slice(7, 9)}`
        const place = atTown ? `${countyCode}${office.id.slice(-2).padStart(3, '0')}` : countyCode
        const created = YEAR_START + Math.floor(random() * (YEAR_END - YEAR_START))
        const deadline = created + 5 * DAY
        const events: [number, string, unknown][] = [[created, 'deadline_set', { deadlineAt: deadline, acceptDeadlineAt: created + 2 * HOUR, reason: 'policy' }]]
        let status = 'received'
        let resolvedAt: number | null = null
        let rating: number | null = null
        if (random() < 0.95) {
          const accepted = created + Math.floor(random() * 4 * HOUR)
          events.push([accepted, 'status_changed', { from: 'received', to: 'accepted', transition: 'accept' }])
          status = 'accepted'
          if (random() < 0.9) {
            resolvedAt = accepted + DAY + Math.floor(random() * 7 * DAY)
            events.push([resolvedAt, 'status_changed', { from: 'accepted', to: 'resolved', transition: 'resolve' }])
            status = 'resolved'
            if (random() < 0.7) {
              rating = 1 + Math.floor(random() * 5)
              events.push([resolvedAt + DAY, 'rated', { rating, satisfied: rating > 2 }])
              status = 'closed'
            }
            if (random() < 0.03) {
              events.push([resolvedAt + 2 * DAY, 'status_changed', { from: status, to: 'accepted', transition: 'reopen', reason: 'rating' }])
              resolvedAt += 5 * DAY
              events.push([resolvedAt, 'status_changed', { from: 'accepted', to: 'resolved', transition: 'resolve' }])
              status = 'resolved'
            }
          }
        }
        const code = `B${String(i).padStart(7, '0')}`
        insertCase.run(id, code, status, office.id, CATEGORIES[Math.floor(random() * CATEGORIES.length)], CHANNELS[Math.floor(random() * CHANNELS.length)], `citizen-${i}`, place, office.name, deadline, created, events.at(-1)![0], resolvedAt, rating)
        for (const [at, type, data] of events) insertEvent.run(id, at, type, JSON.stringify(data))
      }
    })()
  }
  db.close()
  const seeded = performance.now()
  const rebuildStore = sqliteStore({ file, synchronous: 'normal' })
  await rebuildStore.migrate()
  const rebuilt = await rebuildStore.rebuildCaseStats()
  const done = performance.now()
  await rebuildStore.close()
  results.build = { seedSeconds: (seeded - started) / 1000, rebuildSeconds: (done - seeded) / 1000, rebuiltCases: rebuilt.cases }
  console.log(`built ${N} cases in ${((seeded - started) / 1000).toFixed(1)} s; intake stats rebuild (Store.rebuildCaseStats) over them: ${((done - seeded) / 1000).toFixed(1)} s`)
}

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
