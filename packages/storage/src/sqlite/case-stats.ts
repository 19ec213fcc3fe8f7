import type Database from 'better-sqlite3'
import {
  OPEN_STATUSES,
  STATS_EVENT_TYPES,
  foldStatsEvent,
  statsRowForCase,
  type CaseEventInput,
  type CaseStatsRow,
  type CaseStatus,
  type StatsCounts,
  type StatsSelection,
} from '@intake/core'

/**
 * The per-case stats rows (table case_stats, see schema.ts) in SQLite.
 *
 * Dimensions follow the case by triggers: whatever writes a case (intake, an action, a timer, a
 * migration's rebuild) keeps its stats row in step, in the same transaction, with no code path to
 * forget. Drizzle's schema cannot declare triggers, so migrate() creates them after the migrations
 * (again after any migration that rebuilt the cases table and dropped them).
 * Facts are folded from events in TypeScript (core stats/projection.ts, shared with other drivers)
 * by insertEvents, for the few event types that change them.
 */
export const CASE_STATS_TRIGGERS = [
  `create trigger if not exists case_stats_on_case_insert after insert on cases begin
     insert into case_stats (case_id, office_id, channel_id, category, place_code, status, received_at, deadline_at, reopen_count)
     values (new.id, new.office_id, new.channel_id, new.category, new.place_code, new.status, new.created_at, new.deadline_at, 0)
     on conflict (case_id) do nothing;
   end`,
  `create trigger if not exists case_stats_on_case_update after update of office_id, channel_id, category, place_code, status, deadline_at on cases begin
     update case_stats set office_id = new.office_id, channel_id = new.channel_id, category = new.category,
       place_code = new.place_code, status = new.status, deadline_at = new.deadline_at
     where case_id = new.id;
   end`,
]

const ROW_COLUMNS = `case_id as caseId, office_id as officeId, channel_id as channelId, category, place_code as placeCode, status,
  received_at as receivedAt, deadline_at as deadlineAt, accept_deadline_at as acceptDeadlineAt, accepted_at as acceptedAt,
  first_resolved_at as firstResolvedAt, resolved_at as resolvedAt, resolved_on_time as resolvedOnTime, closed_at as closedAt,
  rating, satisfied, reopen_count as reopenCount`

export function prepareStatsStatements(client: Database.Database) {
  return {
    row: client.prepare(`select ${ROW_COLUMNS} from case_stats where case_id = ?`),
    writeFacts: client.prepare(
      `update case_stats set deadline_at = @deadlineAt, accept_deadline_at = @acceptDeadlineAt, accepted_at = @acceptedAt,
         first_resolved_at = @firstResolvedAt, resolved_at = @resolvedAt, resolved_on_time = @resolvedOnTime, closed_at = @closedAt,
         rating = @rating, satisfied = @satisfied, reopen_count = @reopenCount
       where case_id = @caseId`,
    ),
  }
}
export type StatsStatements = ReturnType<typeof prepareStatsStatements>

type RawRow = Omit<CaseStatsRow, 'resolvedOnTime' | 'satisfied'> & { resolvedOnTime: number | null; satisfied: number | null }

const fromRaw = (r: RawRow): CaseStatsRow => ({
  ...r,
  resolvedOnTime: r.resolvedOnTime === null ? null : r.resolvedOnTime === 1,
  satisfied: r.satisfied === null ? null : r.satisfied === 1,
})

const toRaw = (r: CaseStatsRow) => ({
  ...r,
  resolvedOnTime: r.resolvedOnTime === null ? null : r.resolvedOnTime ? 1 : 0,
  satisfied: r.satisfied === null ? null : r.satisfied ? 1 : 0,
})

/** Fold the events that change stats facts into their cases' rows (inside the caller's transaction). */
export function foldStatsEvents(s: StatsStatements, events: readonly CaseEventInput[]): void {
  for (const event of events) {
    if (!STATS_EVENT_TYPES.has(event.type)) continue
    const raw = s.row.get(event.caseId) as RawRow | undefined
    if (!raw) continue
    const row = fromRaw(raw)
    foldStatsEvent(row, event)
    s.writeFacts.run(toRaw(row))
  }
}

const OPEN = OPEN_STATUSES.map((st) => `'${st}'`).join(', ')

/** Counts per group over the stats rows, and the received/resolved pairs of resolved cases for the median. */
export function queryCaseStats(client: Database.Database, sel: StatsSelection): StatsCounts[] {
  const where = ['received_at >= @from', 'received_at < @to']
  const params: Record<string, unknown> = { from: sel.from, to: sel.to, now: sel.now }
  if (sel.officeIds) {
    if (sel.officeIds.length === 0) return []
    sel.officeIds.forEach((id, i) => (params[`o${i}`] = id))
    where.push(`office_id in (${sel.officeIds.map((_, i) => `@o${i}`).join(', ')})`)
  }
  if (sel.channelId !== undefined) (params.channelId = sel.channelId), where.push('channel_id = @channelId')
  if (sel.category !== undefined) (params.category = sel.category), where.push('category = @category')
  if (sel.placeCode !== undefined) {
    // A prefix range rather than LIKE: the index on place_code serves it, and no wildcard in a code can widen it.
    params.placeLo = sel.placeCode
    params.placeHi = sel.placeCode + '\uffff'
    where.push('place_code >= @placeLo and place_code < @placeHi')
  }
  const offset = Math.trunc(Number(sel.utcOffsetMs ?? 0))
  params.digits = sel.placeDigits ?? 1000
  const key = {
    none: 'null',
    office: 'office_id',
    channel: 'channel_id',
    category: 'category',
    place: 'substr(place_code, 1, @digits)',
    // The local day's number: integer arithmetic per row (strftime per row cost more than the rest
    // of the query); days are named, and merged into months, below. The offset is written into the
    // SQL: better-sqlite3 binds every number as a REAL, and a REAL offset made the division a
    // fraction — one group per millisecond, merged into days only in JavaScript.
    month: `(received_at + ${offset}) / 86400000`,
    day: `(received_at + ${offset}) / 86400000`,
  }[sel.groupBy]
  const filter = where.join(' and ')
  const counts = client
    .prepare(
      `select ${key} as key, count(*) as received,
         ifnull(sum(accepted_at is not null and (accept_deadline_at is null or accepted_at <= accept_deadline_at)), 0) as acceptedInTime,
         ifnull(sum(resolved_at is not null), 0) as resolved,
         ifnull(sum(resolved_on_time = 1), 0) as resolvedOnTime,
         ifnull(sum(first_resolved_at is not null), 0) as everResolved,
         ifnull(sum(reopen_count > 0), 0) as reopened,
         ifnull(sum(rating is not null), 0) as rated,
         ifnull(sum(satisfied = 1), 0) as satisfied,
         ifnull(sum(status = 'closed' and rating is null), 0) as closedNotRated,
         ifnull(sum(status in (${OPEN}) and deadline_at < @now), 0) as overdue
       from case_stats where ${filter} group by 1 order by 1`,
    )
    .all(params) as Array<Omit<StatsCounts, 'spans'>>
  const groups = new Map(counts.map((c) => [c.key, { ...c, spans: [] as number[] }]))
  // Without a median to compute, no row per resolved case is read.
  if (sel.spans !== false) {
    const spans = client
      .prepare(`select ${key} as key, received_at, resolved_at from case_stats where ${filter} and resolved_at is not null`)
      .raw()
      .iterate(params) as IterableIterator<[string | null, number, number]>
    let current: { key: string | null; list: number[] } | undefined
    for (const [k, received, resolved] of spans) {
      if (current?.key !== k) current = { key: k, list: groups.get(k)!.spans }
      current.list.push(received, resolved)
    }
  }
  if (sel.groupBy === 'day' || sel.groupBy === 'month') return byPeriod([...groups.values()], sel.groupBy)
  return [...groups.values()]
}

/** Day numbers named `YYYY-MM-DD`, or merged into `YYYY-MM`. */
export function byPeriod(days: StatsCounts[], period: 'day' | 'month'): StatsCounts[] {
  const out = new Map<string, StatsCounts>()
  for (const d of days) {
    const date = new Date(Number(d.key) * 86_400_000).toISOString()
    const key = period === 'day' ? date.slice(0, 10) : date.slice(0, 7)
    const into = out.get(key)
    if (!into) {
      out.set(key, { ...d, key })
      continue
    }
    for (const k of ['received', 'acceptedInTime', 'resolved', 'resolvedOnTime', 'everResolved', 'reopened', 'rated', 'satisfied', 'closedNotRated', 'overdue'] as const) into[k] += d[k]
    for (const x of d.spans) into.spans.push(x)
  }
  return [...out.values()]
}

/**
 * Recompute every stats row from its case and its events (inside the caller's transaction). Cases
 * are read in id order a chunk at a time, with their events in one range read each (the events'
 * case index, in append order): two sequential scans, not a query per case.
 */
export function rebuildCaseStats(client: Database.Database): number {
  client.prepare('delete from case_stats').run()
  const chunk = client.prepare(
    `select id, office_id as officeId, channel_id as channelId, category, place_code as placeCode, status,
       created_at as createdAt, deadline_at as deadlineAt from cases where id > ? order by id limit ?`,
  )
  const types = [...STATS_EVENT_TYPES].map((t) => `'${t}'`).join(', ')
  const eventsOf = client.prepare(
    `select case_id as caseId, type, at, data from case_events where case_id >= ? and case_id <= ? and type in (${types}) order by case_id, id`,
  )
  const insert = client.prepare(
    `insert into case_stats (case_id, office_id, channel_id, category, place_code, status, received_at, deadline_at, accept_deadline_at,
       accepted_at, first_resolved_at, resolved_at, resolved_on_time, closed_at, rating, satisfied, reopen_count)
     values (@caseId, @officeId, @channelId, @category, @placeCode, @status, @receivedAt, @deadlineAt, @acceptDeadlineAt,
       @acceptedAt, @firstResolvedAt, @resolvedAt, @resolvedOnTime, @closedAt, @rating, @satisfied, @reopenCount)`,
  )
  type CaseRow = { id: string; officeId: string; channelId: string; category: string | null; placeCode: string | null; status: CaseStatus; createdAt: number; deadlineAt: number | null }
  type EventRow = { caseId: string; type: string; at: number; data: string }
  const CHUNK = 5000
  let after = ''
  let n = 0
  for (;;) {
    const cases = chunk.all(after, CHUNK) as CaseRow[]
    if (cases.length === 0) return n
    // Grouped by case in a map: SQLite's text order need not be JavaScript's for every id.
    const byCase = new Map<string, EventRow[]>()
    for (const ev of eventsOf.all(cases[0]!.id, cases.at(-1)!.id) as EventRow[]) {
      const list = byCase.get(ev.caseId)
      if (list) list.push(ev)
      else byCase.set(ev.caseId, [ev])
    }
    for (const c of cases) {
      const row = statsRowForCase(c)
      const mine = byCase.get(c.id) ?? []
      // With deadline_set events, the deadline in force at each step comes from them; the case's
      // own (current) one is where it ends, since a staff edit may have moved it without an event.
      if (mine.some((ev) => ev.type === 'deadline_set')) row.deadlineAt = null
      for (const ev of mine) foldStatsEvent(row, { type: ev.type as CaseEventInput['type'], at: ev.at, data: JSON.parse(ev.data) })
      row.deadlineAt = c.deadlineAt
      insert.run(toRaw(row))
      n++
    }
    after = cases.at(-1)!.id
  }
}
