/**
 * bench/timers: 100,000 lifecycle timers due at once, worked off by the timer worker on SQLite.
 *
 *   npx tsx bench/timers/run.ts [--timers 100000] [--writer inline|thread|both]
 *
 * Each timer is a reminder (`remind`, '1 working day before') on its own case at an office with an
 * alert address: firing it reads the case, builds the alert (message + outbox row), the `reminded`
 * and `alerted` events and the next link of the deadline's chain, and commits all of it with the
 * timer's removal — the work a real reminder does. The baseline, measured in the same run on a copy
 * of the same database, is the floor of any timer table: select the due rows and delete them in
 * batches of the same size, in one transaction each, with better-sqlite3 and no handler at all.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createIntake, createLogger, memoryBlobStore, type ChannelAdapter } from '@intake/core'
import { sqliteStore } from '@intake/storage/sqlite'
import { loadBetterSqlite3 } from '../support/workspace-deps.ts'

const Database = await loadBetterSqlite3()

const args = process.argv.slice(2)
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1]! : fallback
}
const COUNT = Number(arg('timers', '100000'))
const WRITERS = arg('writer', 'both') === 'both' ? ['inline', 'thread'] : [arg('writer', 'inline')]
const BATCH = 500
const T0 = Date.parse('2026-11-20T10:00:00+08:00')
const OFFICE = 'jiashi-bairen'

const dir = mkdtempSync(join(tmpdir(), 'intake-bench-timers-'))
const template = join(dir, 'template.db')

/** A sink for alerts: the bench measures the timers, not a provider. */
const alerts: ChannelAdapter = { kind: 'bench-sink', capabilities: {}, send: async (m) => ({ ok: true, providerId: m.id }) }

function config(file: string, writer: 'inline' | 'thread') {
  return {
    store: sqliteStore({ file, writer }),
    offices: join(import.meta.dirname, '..', '..', 'examples', 'county-hotline', 'offices.yaml'),
    channels: { alerts },
    routing: [],
    apiKeys: ['bench-api-key-0123456789'],
    blobs: memoryBlobStore(),
    alerts: { channel: 'alerts' },
    calendar: { country: 'CN' },
    lifecycle: { timers: { batchSize: BATCH } },
  }
}

/** The schema by migration, then the cases and their due reminders in one transaction. */
async function seed(): Promise<void> {
  const store = sqliteStore({ file: template })
  await store.migrate()
  await store.close()
  const db = new Database(template)
  db.pragma('journal_mode = WAL')
  const insertCase = db.prepare(
    `insert into cases (id, tracking_code, status, office_id, category, urgency, channel_id, citizen_id, anonymous, summary, language,
       deadline_at, created_at, updated_at, accept_deadline_at, accepted_at, reopen_count)
     values (?, ?, 'accepted', '${OFFICE}', null, 'normal', 'sms', ?, 0, '巴仁镇路灯不亮', 'zh-CN', ?, ?, ?, null, ?, 0)`,
  )
  const insertTimer = db.prepare(`insert into timers (id, case_id, kind, point, due_at, lease_until, version) values (?, ?, 'remind', '1 working day before', ?, null, 1)`)
  db.transaction(() => {
    for (let i = 0; i < COUNT; i++) {
      const id = `case-${String(i).padStart(7, '0')}`
      insertCase.run(id, `B${String(i).padStart(8, '0')}`, `+86139${String(i).padStart(8, '0')}`, T0 + 86_400_000, T0 - 4 * 86_400_000, T0 - 4 * 86_400_000, T0 - 4 * 86_400_000)
      insertTimer.run(`${id}|remind|1 working day before`, id, T0 - 1000)
    }
  })()
  db.close()
}

/** The floor: select the due ids and delete them, BATCH at a time, one transaction each. */
function baseline(file: string): number {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  const due = db.prepare(`select id from timers where due_at <= ? and (lease_until is null or lease_until < ?) order by due_at, id limit ${BATCH}`).pluck()
  const del = db.prepare(`delete from timers where id = ?`)
  const started = performance.now()
  let n = 0
  for (;;) {
    const ids = due.all(T0, T0) as string[]
    if (ids.length === 0) break
    db.transaction(() => ids.forEach((id) => del.run(id)))()
    n += ids.length
  }
  const seconds = (performance.now() - started) / 1000
  db.close()
  if (n !== COUNT) throw new Error(`[bench/timers] baseline deleted ${n}, expected ${COUNT}`)
  return seconds
}

async function worker(file: string, writer: 'inline' | 'thread'): Promise<{ seconds: number; fired: number }> {
  const intake = createIntake(config(file, writer), { env: {}, now: () => T0, log: createLogger({ level: 'error' }) })
  await intake.store.migrate()
  await intake.store.saveOffices(intake.config.offices)
  const started = performance.now()
  const fired = await intake.timers.drain()
  const seconds = (performance.now() - started) / 1000
  const check = new Database(file, { readonly: true })
  const left = check.prepare(`select count(*) from timers where kind = 'remind'`).pluck().get() as number
  const reminded = check.prepare(`select count(*) from case_events where type = 'reminded'`).pluck().get() as number
  const queued = check.prepare(`select count(*) from outbox`).pluck().get() as number
  const next = check.prepare(`select count(*) from timers where kind = 'deadline_due'`).pluck().get() as number
  check.close()
  await intake.store.close()
  if (fired !== COUNT || left !== 0 || reminded !== COUNT || queued !== COUNT || next !== COUNT) {
    throw new Error(`[bench/timers] fired ${fired}, left ${left}, reminded ${reminded}, alerts queued ${queued}, next planned ${next}; expected ${COUNT} each and none left`)
  }
  return { seconds, fired }
}

try {
  await seed()
  const rows: string[] = []
  copyFileSync(template, join(dir, 'baseline.db'))
  const base = baseline(join(dir, 'baseline.db'))
  rows.push(`baseline (select + delete, no handler)  ${base.toFixed(2)} s  ${Math.round(COUNT / base).toLocaleString('en')} timers/s`)
  for (const writer of WRITERS as Array<'inline' | 'thread'>) {
    const file = join(dir, `${writer}.db`)
    copyFileSync(template, file)
    const { seconds } = await worker(file, writer)
    rows.push(`timer worker, writer ${writer.padEnd(6)}          ${seconds.toFixed(2)} s  ${Math.round(COUNT / seconds).toLocaleString('en')} timers/s  (${((COUNT / seconds / (COUNT / base)) * 100).toFixed(0)}% of baseline)`)
  }
  console.log(`${COUNT.toLocaleString('en')} reminders due at once, batches of ${BATCH}, SQLite synchronous=FULL`)
  for (const r of rows) console.log(r)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
