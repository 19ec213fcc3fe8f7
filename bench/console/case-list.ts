/**
 * bench/console/case-list: the console's case list for an office holding 100,000 cases (plus 20,000
 * elsewhere), rendered server-side — session check, scoped keyset query, count, masking, JSX — against
 * a baseline measured in the same run: the same scoped store query alone (listCases with the
 * office's subtree). Prints medians and p95 of each; asserts nothing. Every case carries
 * `--events` events (default 5); 3% of them were escalated and 2% asked for an extension (half of
 * those decided), for the supervision filters (escalated, extension pending).
 *
 *   npx tsx bench/console/case-list.ts [--cases 100000] [--requests 200] [--events 5]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import type BetterSqlite3 from 'better-sqlite3'
import { addUser, createIntake, createLogger, memoryBlobStore, subtreeOf } from '@intake/core'
import { staffConsole } from '@intake/console'
import { webForm } from '@intake/channels/web-form'
import { sqliteStore } from '@intake/storage/sqlite'
import { demoRouting } from '../../examples/county-hotline/routing.ts'
import { consoleCookie, medianOf } from '../support/console-bench.ts'

// better-sqlite3 is the storage package's dependency: load the same copy it uses.
const Database = createRequire(fileURLToPath(import.meta.resolve('@intake/storage/sqlite')))('better-sqlite3') as typeof BetterSqlite3
const { values } = parseArgs({ options: { cases: { type: 'string', default: '100000' }, requests: { type: 'string', default: '200' }, events: { type: 'string', default: '5' } } })
const EVENTS = Number(values.events)
const CASES = Number(values.cases)
const REQUESTS = Number(values.requests)
const BASE = 'http://bench.test'
const dir = mkdtempSync(join(tmpdir(), 'intake-bench-console-'))
const file = join(dir, 'intake.db')

const intake = createIntake(
  {
    store: sqliteStore({ file }),
    offices: join(import.meta.dirname, '..', '..', 'examples', 'county-hotline', 'offices.yaml'),
    channels: { web: webForm() },
    routing: demoRouting(),
    apiKeys: ['bench-api-key-0123456789'],
    blobs: memoryBlobStore(),
    server: { publicUrl: BASE },
    console: staffConsole(),
  },
  { env: {}, log: createLogger({ level: 'error' }) },
)
await intake.start()

// Fill the file directly: 100,000 cases at the county (and its townships), 20,000 at other offices.
const raw = new Database(file)
const insert = raw.prepare(`insert into cases (id, tracking_code, status, office_id, category, urgency, channel_id, citizen_id, citizen_name, contact, anonymous, summary, place, language, deadline_at, created_at, updated_at, resolved_at, rating, assignee_id, assigned_at)
  values (?, ?, ?, ?, 'transport', 'normal', 'sms', ?, null, null, 0, ?, null, 'zh-CN', ?, ?, ?, null, null, null, null)`)
const county = subtreeOf(intake.offices, 'jiashi')
const others = intake.offices.all.map((o) => o.id).filter((id) => !county.includes(id))
const insertEvent = raw.prepare(`insert into case_events (case_id, at, type, actor, public, data) values (?, ?, ?, 'system', 0, '{}')`)
const statuses = ['received', 'dispatched', 'accepted', 'in_progress', 'replied', 'resolved', 'closed']
const t0 = Date.UTC(2026, 0, 1)
const fillStarted = performance.now()
raw.transaction(() => {
  for (let i = 0; i < CASES + CASES / 5; i++) {
    const office = i < CASES ? county[i % county.length]! : others[i % others.length]!
    const at = t0 + i * 60_000
    insert.run(`case-${String(i).padStart(7, '0')}`, `T${i.toString(36).toUpperCase().padStart(8, '0')}`, statuses[i % statuses.length], office, `+86138${String(i).padStart(8, '0')}`, `伽师县某路段路面坑洼 #${i}`, at + 5 * 86_400_000, at, at)
    const id = `case-${String(i).padStart(7, '0')}`
    for (let e = 0; e < EVENTS; e++) insertEvent.run(id, at + e, e === 0 ? 'received' : 'status_changed')
    if (i % 100 < 3) insertEvent.run(id, at + EVENTS, 'escalated')
    if (i % 100 >= 3 && i % 100 < 5) insertEvent.run(id, at + EVENTS, 'extension_requested')
    if (i % 100 === 4) insertEvent.run(id, at + EVENTS + 1, 'extension_decided')
  }
})()
raw.exec('analyze')
raw.close()
console.log(`filled ${CASES + CASES / 5} cases in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s`)

await addUser(intake.store, intake.offices, { login: 'bench', name: 'Bench', officeId: 'jiashi', role: 'caseworker', password: 'bench-password-1' }, 'bench', Date.now())
const cookie = await consoleCookie(intake, BASE, 'bench', 'bench-password-1')
const time = (label: string, run: () => Promise<unknown>) => medianOf(label, { requests: REQUESTS, warmUp: 10 }, run)

const page = async (query: string) => {
  const res = await intake.app.request(`${BASE}/console/cases${query}`, { headers: { cookie } })
  if (res.status !== 200) throw new Error(`console answered ${res.status}`)
  return res.text()
}
const html = await page('')
const next = /href="\/console\/cases\?([^"]*cursor=[^"]+)"/.exec(html)![1]!.replaceAll('&amp;', '&')
const scope = { officeIds: county }

const baseline = await time('baseline: store.listCases (subtree, 50)', () => intake.store.listCases({ officeIds: scope.officeIds, limit: 50 }))
await time('baseline: store.countCases (subtree)', () => intake.store.countCases({ officeIds: scope.officeIds }))
await time('baseline: store.listCases (subtree, replied)', () => intake.store.listCases({ officeIds: scope.officeIds, status: 'replied', limit: 50 }))
await time('baseline: store.countCases (subtree, replied, ≤10000)', () => intake.store.countCases({ officeIds: scope.officeIds, status: 'replied' }, 10_000))
const list = await time('console: GET /console/cases (first page)', () => page(''))
await time('console: GET /console/cases (second page)', () => page(`?${next}`))
await time('console: GET /console/cases?status=replied', () => page('?status=replied'))
await time('console: GET /console/cases?due=overdue', () => page('?due=overdue'))
await time('baseline: store.listCases (subtree, escalated)', () => intake.store.listCases({ officeIds: scope.officeIds, escalated: true, limit: 50 }))
await time('baseline: store.countCases (subtree, escalated, ≤10000)', () => intake.store.countCases({ officeIds: scope.officeIds, escalated: true }, 10_000))
await time('console: GET /console/cases?attention=escalated', () => page('?attention=escalated'))
await time('console: GET /console/cases?attention=extension', () => page('?attention=extension'))
console.log(`\ncase list of an office with ${CASES} cases: median ${list.toFixed(1)} ms (target ≤ 100 ms); ${(list / baseline).toFixed(1)}× the bare store query`)

await intake.stop()
await intake.store.close()
rmSync(dir, { recursive: true, force: true })
