/**
 * bench/console/dashboard: the console's dashboard over a year of 1,000,000 cases (SQLite), rendered
 * server-side — session check, the volumes of the last 30 days per day, channel, office, category
 * and status, the three rates per office from the statistics, four ECharts SVGs and their tables —
 * against a baseline measured in the same run: the store queries the page makes, alone
 * (Store.caseVolumes and statsReport with the same period and scope). Two users: an administrator of
 * the whole city (every case) and a county's caseworker (its subtree). Prints medians and p95;
 * asserts nothing.
 *
 *   npx tsx bench/console/dashboard.ts [--cases 1000000] [--requests 20] [--fresh]
 *
 * The year's database is bench/stats's (bench/support/year-of-cases.ts), built on first use.
 */
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { addUser, createIntake, createLogger, memoryBlobStore, statsReport, subtreeOf, type Intake } from '@intake/core'
import { staffConsole } from '@intake/console'
import { webForm } from '@intake/channels/web-form'
import { sqliteStore } from '@intake/storage/sqlite'
import { consoleCookie, medianOf } from '../support/console-bench.ts'
import { calendar, DAY, officeInputs, YEAR_END, yearOfCases } from '../support/year-of-cases.ts'

const { values } = parseArgs({ options: { cases: { type: 'string', default: '1000000' }, requests: { type: 'string', default: '20' }, fresh: { type: 'boolean', default: false } } })
const CASES = Number(values.cases)
const REQUESTS = Number(values.requests)
const BASE = 'http://bench.test'
const { file } = await yearOfCases(CASES, values.fresh)
// The last day of the year: the dashboard's 30 days are the year's last 30.
const now = () => YEAR_END - 1

const intake: Intake = createIntake(
  {
    store: sqliteStore({ file }),
    offices: officeInputs,
    channels: { web: webForm() },
    routing: [],
    apiKeys: ['bench-api-key-0123456789'],
    blobs: memoryBlobStore(),
    server: { publicUrl: BASE },
    calendar,
    console: staffConsole(),
  },
  { env: {}, now, log: createLogger({ level: 'error' }) },
)
await intake.start()

async function signIn(login: string, officeId: string, role: 'admin' | 'caseworker') {
  if (!(await intake.store.findUserByLogin(login))) await addUser(intake.store, intake.offices, { login, name: login, officeId, role, password: 'bench-password-1' }, 'bench', now())
  return consoleCookie(intake, BASE, login, 'bench-password-1')
}
// Warm-up: statements compiled, pages cached, ECharts loaded.
const time = (label: string, run: () => Promise<unknown>) => medianOf(label, { requests: REQUESTS, warmUp: 2 }, run)

const dashboard = (cookie: string) => async () => {
  const res = await intake.app.request(`${BASE}/console/dashboard`, { headers: { cookie } })
  if (res.status !== 200) throw new Error(`dashboard answered ${res.status}`)
  return res.text()
}
/** What the page asks the store, alone, with the user's scope (a user's is always its office's subtree): the 30 days' volumes and the rates per office (no median: the page shows none). */
const queries = (officeId: string, scope: { officeIds: string[] } | undefined) => async () => {
  const until = now()
  const since = until - 30 * DAY
  await intake.store.caseVolumes({ scope, since, until: until + 1, utcOffsetMinutes: 480 })
  await statsReport({ store: intake.store, offices: intake.offices, calendar: intake.config.calendar, utcOffsetMs: 480 * 60_000 }, { groupBy: 'office', from: since, to: until + 1, officeId, median: false }, until)
}

console.log(`${CASES} cases over 2025, dashboard of the last 30 days, ${REQUESTS} requests each after a warm-up (${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' ')})\n`)
const cityCookie = await signIn('bench.admin', 'city', 'admin')
const countyCookie = await signIn('bench.county', 'county-03', 'caseworker')
const county = { officeIds: subtreeOf(intake.offices, 'county-03') }
const sample = await dashboard(cityCookie)()
const total = /id="volume-total">([^<]+)</.exec(sample)?.[1]
console.log(`the city's page: ${total}, ${(sample.length / 1024).toFixed(0)} KiB, ${(sample.match(/<svg/g) ?? []).length} charts\n`)

const baseCity = await time('baseline: caseVolumes + statsReport(per office), whole city', queries('city', { officeIds: subtreeOf(intake.offices, 'city') }))
const city = await time('console: GET /console/dashboard, city administrator', dashboard(cityCookie))
const baseCounty = await time('baseline: caseVolumes + statsReport(per office), county-03', queries('county-03', county))
const countyPage = await time('console: GET /console/dashboard, county-03 caseworker', dashboard(countyCookie))
console.log(`\ndashboard over ${CASES} cases: city ${city.toFixed(0)} ms (${(city / baseCity).toFixed(2)}× its queries), county ${countyPage.toFixed(0)} ms (${(countyPage / baseCounty).toFixed(2)}×); target ≤ 1000 ms; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)

await intake.stop()
await intake.store.close()
