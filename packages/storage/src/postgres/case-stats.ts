/**
 * The per-case stats rows (table case_stats) in PostgreSQL, as ../sqlite/case-stats.ts keeps them
 * in SQLite: the case's dimensions follow it by triggers (created by migrate(): drizzle's schema
 * cannot declare them), and the facts are folded from events in TypeScript (core's
 * stats/projection.ts) inside the transaction that writes the events.
 */
import { eq, inArray, sql } from 'drizzle-orm'
import type { NodePgDatabase } from 'drizzle-orm/node-postgres'
import type pg from 'pg'
import {
  OPEN_STATUSES,
  STATS_EVENT_TYPES,
  foldStatsEvent,
  statsRowForCase,
  type CaseEventInput,
  type CaseStatsRow,
  type StatsCounts,
  type StatsSelection,
} from '@intake/core'
import { byPeriod } from '../sqlite/case-stats.ts'
import { caseStats } from './schema.ts'

/** Run after the migrations, under their lock; `create or replace` makes it idempotent. */
export const CASE_STATS_TRIGGERS = `
create or replace function intake_case_stats_on_insert() returns trigger language plpgsql as $$
begin
  insert into case_stats (case_id, office_id, channel_id, category, place_code, status, received_at, deadline_at, reopen_count)
  values (new.id, new.office_id, new.channel_id, new.category, new.place_code, new.status, new.created_at, new.deadline_at, 0)
  on conflict (case_id) do nothing;
  return null;
end $$;
create or replace trigger case_stats_on_case_insert after insert on cases
  for each row execute function intake_case_stats_on_insert();
create or replace function intake_case_stats_on_update() returns trigger language plpgsql as $$
begin
  update case_stats set office_id = new.office_id, channel_id = new.channel_id, category = new.category,
    place_code = new.place_code, status = new.status, deadline_at = new.deadline_at
  where case_id = new.id;
  return null;
end $$;
create or replace trigger case_stats_on_case_update after update of office_id, channel_id, category, place_code, status, deadline_at on cases
  for each row execute function intake_case_stats_on_update();`

type Q = Pick<NodePgDatabase<Record<string, never>>, 'select' | 'update' | 'insert' | 'delete' | 'execute'>

/** Fold the events that change stats facts into their cases' rows (inside the caller's transaction). */
export async function foldStatsEvents(q: Q, events: readonly CaseEventInput[]): Promise<void> {
  const relevant = events.filter((e) => STATS_EVENT_TYPES.has(e.type) && e.caseId)
  if (relevant.length === 0) return
  const ids = [...new Set(relevant.map((e) => e.caseId))]
  // Locked: two processes folding events into one case's row take turns.
  const rows = await q.select().from(caseStats).where(inArray(caseStats.caseId, ids)).for('update')
  const byId = new Map(rows.map((r) => [r.caseId, r as CaseStatsRow]))
  for (const event of relevant) {
    const row = byId.get(event.caseId)
    if (row) foldStatsEvent(row, event)
  }
  for (const row of byId.values()) {
    const { caseId, officeId: _o, channelId: _c, category: _g, placeCode: _p, status: _s, receivedAt: _r, ...facts } = row
    await q.update(caseStats).set(facts).where(eq(caseStats.caseId, caseId))
  }
}

/** A new case's stats row with its own events folded in, to insert with the case. */
export function newCaseStatsRow(kase: Parameters<typeof statsRowForCase>[0], events: readonly CaseEventInput[]): CaseStatsRow {
  const row = statsRowForCase(kase)
  for (const event of events) if (event.caseId === kase.id && STATS_EVENT_TYPES.has(event.type)) foldStatsEvent(row, event)
  return row
}

const OPEN = OPEN_STATUSES.map((st) => `'${st}'`).join(', ')

/** Counts per group over the stats rows, and the received/resolved pairs of resolved cases for the median. */
export async function queryCaseStats(pool: pg.Pool, sel: StatsSelection): Promise<StatsCounts[]> {
  const params: unknown[] = []
  const p = (v: unknown) => {
    params.push(v)
    return `$${params.length}`
  }
  const where = [`received_at >= ${p(sel.from)}::bigint`, `received_at < ${p(sel.to)}::bigint`]
  if (sel.officeIds) {
    if (sel.officeIds.length === 0) return []
    where.push(`office_id = any(${p(sel.officeIds)}::text[])`)
  }
  if (sel.channelId !== undefined) where.push(`channel_id = ${p(sel.channelId)}`)
  if (sel.category !== undefined) where.push(`category = ${p(sel.category)}`)
  if (sel.placeCode !== undefined) {
    // A prefix range in byte order rather than LIKE: no wildcard in a code can widen it.
    where.push(`place_code collate "C" >= ${p(sel.placeCode)} and place_code collate "C" < ${p(sel.placeCode + '\uffff')}`)
  }
  const offset = Number(sel.utcOffsetMs ?? 0)
  const digits = Number(sel.placeDigits ?? 1000)
  const key = {
    none: 'null::text',
    office: 'office_id',
    channel: 'channel_id',
    category: 'category',
    place: `substr(place_code, 1, ${digits})`,
    month: `((received_at + ${offset}) / 86400000)::int`,
    day: `((received_at + ${offset}) / 86400000)::int`,
  }[sel.groupBy]
  const filter = where.join(' and ')
  const now = p(sel.now)
  const counts = await pool.query<Omit<StatsCounts, 'spans'>>(
    `select ${key} as key, count(*)::int as received,
       count(*) filter (where accepted_at is not null and (accept_deadline_at is null or accepted_at <= accept_deadline_at))::int as "acceptedInTime",
       count(*) filter (where resolved_at is not null)::int as resolved,
       count(*) filter (where resolved_on_time)::int as "resolvedOnTime",
       count(*) filter (where first_resolved_at is not null)::int as "everResolved",
       count(*) filter (where reopen_count > 0)::int as reopened,
       count(*) filter (where rating is not null)::int as rated,
       count(*) filter (where satisfied)::int as satisfied,
       count(*) filter (where status = 'closed' and rating is null)::int as "closedNotRated",
       count(*) filter (where status in (${OPEN}) and deadline_at < ${now}::bigint)::int as overdue
     from case_stats where ${filter} group by 1 order by 1`,
    params,
  )
  const groups = new Map(counts.rows.map((c) => [c.key, { ...c, spans: [] as number[] }]))
  // Without a median to compute, no row per resolved case is read.
  if (sel.spans !== false) {
    const spans = await pool.query<{ key: string | null; received: string; resolved: string }>(
      `select ${key} as key, received_at as received, resolved_at as resolved from case_stats where ${filter} and resolved_at is not null`,
      params.slice(0, params.length - 1),
    )
    for (const s of spans.rows) groups.get(s.key)?.spans.push(Number(s.received), Number(s.resolved))
  }
  if (sel.groupBy === 'day' || sel.groupBy === 'month') return byPeriod([...groups.values()], sel.groupBy)
  return [...groups.values()]
}

/** Recompute every stats row from its case and its events (inside the caller's transaction). */
export async function rebuildCaseStats(q: Q): Promise<number> {
  await q.execute(sql`delete from case_stats`)
  const types = sql.join([...STATS_EVENT_TYPES].map((t) => sql`${t}`), sql`, `)
  const cases = await q.execute<{ id: string; officeId: string; channelId: string; category: string | null; placeCode: string | null; status: CaseStatsRow['status']; createdAt: string; deadlineAt: string | null }>(
    sql`select id, office_id as "officeId", channel_id as "channelId", category, place_code as "placeCode", status,
          created_at as "createdAt", deadline_at as "deadlineAt" from cases order by id`,
  )
  const events = await q.execute<{ caseId: string; type: string; at: string; data: Record<string, unknown> }>(
    sql`select case_id as "caseId", type, at, data from case_events where type in (${types}) order by case_id, id`,
  )
  const byCase = new Map<string, typeof events.rows>()
  for (const ev of events.rows) {
    const list = byCase.get(ev.caseId)
    if (list) list.push(ev)
    else byCase.set(ev.caseId, [ev])
  }
  const rows: CaseStatsRow[] = []
  for (const c of cases.rows) {
    const deadlineAt = c.deadlineAt === null ? null : Number(c.deadlineAt)
    const row = statsRowForCase({ ...c, createdAt: Number(c.createdAt), deadlineAt })
    const mine = byCase.get(c.id) ?? []
    // As in SQLite: with deadline_set events the deadline in force at each step comes from them;
    // the case's own (current) one is where it ends.
    if (mine.some((ev) => ev.type === 'deadline_set')) row.deadlineAt = null
    for (const ev of mine) foldStatsEvent(row, { type: ev.type as CaseEventInput['type'], at: Number(ev.at), data: ev.data })
    row.deadlineAt = deadlineAt
    rows.push(row)
  }
  for (let i = 0; i < rows.length; i += 1000) await q.insert(caseStats).values(rows.slice(i, i + 1000))
  return rows.length
}

