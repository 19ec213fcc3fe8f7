/**
 * A year of cases in a SQLite file, shared by bench/stats and bench/console/dashboard: built once
 * into bench/.tmp/stats/ (git-ignored) and reused; `fresh` rebuilds it.
 *
 * Building it: the store's migrations, then cases and their events inserted with plain SQL in
 * large transactions (the case_stats rows come from the store's trigger as each case is
 * inserted), then `Store.rebuildCaseStats()` folds the events into the rows — timed, as the cost of
 * `intake stats rebuild` at that size.
 *
 * The year: 2025 in Asia/Shanghai. Offices: a city, 10 counties, 10 townships each (111). Cases:
 * 90% at a township, 10% at a county; five channels, eight categories, a 9-digit place code of the
 * township. Every case gets its deadlines (deadline_set: 5 days, acceptance 2 hours); 95% are
 * accepted within 0–4 hours; 90% resolved within 1–8 days; 70% of those rated 1–5; 3% reopened and
 * resolved again. Deterministic (a seeded generator).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { buildOfficeDirectory, Office, type OfficeInput } from '@intake/core'
import { sqliteStore } from '@intake/storage/sqlite'
import { loadBetterSqlite3 } from './workspace-deps.ts'

const ROOT = join(import.meta.dirname, '..', '..')
export const HOUR = 3_600_000
export const DAY = 24 * HOUR
export const YEAR_START = Date.parse('2025-01-01T00:00:00+08:00')
export const YEAR_END = Date.parse('2026-01-01T00:00:00+08:00')
/** Ten days after the year: every case of it has had time to be handled. */
export const NOW = YEAR_END + 10 * DAY
const CHANNELS = ['sms', 'wechat', 'tg', 'web', 'email']
const CATEGORIES = ['roads', 'water', 'labour', 'housing', 'environment', 'health', 'education', 'other']

export const officeInputs: OfficeInput[] = [{ id: 'city', name: '市', intakeDesk: true }]
for (let c = 1; c <= 10; c++) {
  const county = `county-${String(c).padStart(2, '0')}`
  officeInputs.push({ id: county, name: `县${c}`, parentId: 'city', jurisdiction: { codes: [`6531${String(c).padStart(2, '0')}`], places: [] } })
  for (let t = 1; t <= 10; t++) officeInputs.push({ id: `${county}-town-${String(t).padStart(2, '0')}`, name: `县${c}镇${t}`, parentId: county })
}
export const offices = buildOfficeDirectory(officeInputs.map((o) => Office.parse(o)))
export const calendar = { timeZone: 'Asia/Shanghai', holidays: [], workingWeekends: [] }

// mulberry32: small, seeded, good enough to spread cases.
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The year's file (built now unless it exists), what building it cost, and the offices it holds. */
export async function yearOfCases(N: number, fresh = false): Promise<{ file: string; build?: { seedSeconds: number; rebuildSeconds: number; rebuiltCases: number } }> {
const dir = join(ROOT, 'bench', '.tmp', 'stats')
mkdirSync(dir, { recursive: true })
const file = join(dir, `stats-${N}.db`)
const Database = await loadBetterSqlite3()
if (!fresh && existsSync(file)) return { file }
{
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
  console.log(`built ${N} cases in ${((seeded - started) / 1000).toFixed(1)} s; intake stats rebuild (Store.rebuildCaseStats) over them: ${((done - seeded) / 1000).toFixed(1)} s`)
  return { file, build: { seedSeconds: (seeded - started) / 1000, rebuildSeconds: (done - seeded) / 1000, rebuiltCases: rebuilt.cases } }
}
}


