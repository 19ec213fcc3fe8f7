import type { Store } from '../contracts/store.ts'
import type { WorkCalendar } from '../deadlines/index.ts'
import type { OfficeDirectory } from '../offices/index.ts'
import { computeFigures, type StatsCounts, type StatsFigures, type StatsQuery } from './figures.ts'

const YEAR = 365 * 86_400_000

export interface StatsReport {
  /** Cases received in [from, to). */
  from: number
  to: number
  /** The instant "overdue now" was judged at. */
  now: number
  officeId: string | null
  groupBy: StatsQuery['groupBy']
  rows: StatsFigures[]
}

export class StatsQueryError extends Error {
  readonly code: 'unknown_office' | 'invalid_period'
  constructor(code: 'unknown_office' | 'invalid_period', message: string) {
    super(`[stats] ${message}`)
    this.code = code
  }
}

/**
 * The figures for a selection of cases. An office means the office and its subtree; grouped by
 * office, each row is one office of that subtree with the figures of its own subtree (a county's
 * row counts its townships' cases too), so a parent's row is never less than a child's.
 * Default period: the year up to now. With `scope` (the caller's office subtree) nothing outside it
 * is counted, and an office outside it is unknown, as another office's case is.
 */
export async function statsReport(
  deps: { store: Store; offices: OfficeDirectory; calendar: WorkCalendar; utcOffsetMs?: number },
  query: Omit<StatsQuery, 'format'> & {
    /** `false`: no median handling time (null in every row), so no span per resolved case is read (the dashboard's rates). */
    median?: boolean
    /** The offices the caller may see (undefined: all). */
    scope?: readonly string[]
  },
  now: number,
): Promise<StatsReport> {
  const to = query.to ?? now
  const from = query.from ?? to - YEAR
  if (from >= to) throw new StatsQueryError('invalid_period', `from (${from}) must be before to (${to})`)
  let officeIds: string[] | undefined = query.scope ? [...query.scope] : undefined
  if (query.officeId !== undefined) {
    if (!deps.offices.get(query.officeId) || (query.scope && !query.scope.includes(query.officeId))) throw new StatsQueryError('unknown_office', `no office "${query.officeId}"`)
    officeIds = deps.offices.all.filter((o) => deps.offices.covers(query.officeId!, o.id) && (!query.scope || query.scope.includes(o.id))).map((o) => o.id)
  }
  const selection = {
    from,
    to,
    now,
    ...(officeIds ? { officeIds } : {}),
    ...(query.channelId !== undefined ? { channelId: query.channelId } : {}),
    ...(query.category !== undefined ? { category: query.category } : {}),
    ...(query.placeCode !== undefined ? { placeCode: query.placeCode } : {}),
    ...(query.placeDigits !== undefined ? { placeDigits: query.placeDigits } : {}),
    ...(deps.utcOffsetMs !== undefined ? { utcOffsetMs: deps.utcOffsetMs } : {}),
    groupBy: query.groupBy,
    ...(query.median === false ? { spans: false } : {}),
  }
  let groups = await deps.store.caseStats(selection)
  if (query.groupBy === 'office') groups = subtreeTotals(groups, deps.offices, officeIds)
  return { from, to, now, officeId: query.officeId ?? null, groupBy: query.groupBy, rows: computeFigures(groups, deps.calendar) }
}

/** Each office's counts with everything below it added, for the offices in scope (tree order). */
function subtreeTotals(own: readonly StatsCounts[], offices: OfficeDirectory, scope: readonly string[] | undefined): StatsCounts[] {
  const byOffice = new Map(own.map((g) => [g.key, g]))
  const inScope = scope ? offices.all.filter((o) => scope.includes(o.id)) : offices.all
  const rows: StatsCounts[] = []
  for (const office of inScope) {
    const parts = inScope.filter((o) => offices.covers(office.id, o.id)).map((o) => byOffice.get(o.id)).filter((g): g is StatsCounts => g !== undefined)
    if (parts.length === 0) continue
    const sum = (k: Exclude<keyof StatsCounts, 'key' | 'spans'>) => parts.reduce((n, g) => n + g[k], 0)
    rows.push({
      key: office.id,
      received: sum('received'),
      acceptedInTime: sum('acceptedInTime'),
      resolved: sum('resolved'),
      resolvedOnTime: sum('resolvedOnTime'),
      everResolved: sum('everResolved'),
      reopened: sum('reopened'),
      rated: sum('rated'),
      satisfied: sum('satisfied'),
      closedNotRated: sum('closedNotRated'),
      overdue: sum('overdue'),
      spans: parts.flatMap((g) => g.spans),
    })
  }
  return rows
}
