import { z } from 'zod'
import type { WorkCalendar } from '../deadlines/index.ts'
import { Timestamp } from '../model/index.ts'
import { workingClock } from './working-time.ts'

export const STATS_GROUPS = ['none', 'office', 'channel', 'category', 'place', 'month', 'day'] as const
export type StatsGroup = (typeof STATS_GROUPS)[number]

/** What the store is asked: cases received in [from, to), narrowed, grouped by one dimension. */
export interface StatsSelection {
  from: number
  to: number
  /** For "overdue now". */
  now: number
  /** The handling offices to count (an office and its subtree, resolved by the caller). */
  officeIds?: readonly string[]
  channelId?: string
  category?: string
  /** A place code prefix: the place and every place below it. */
  placeCode?: string
  groupBy: StatsGroup
  /** With groupBy place: group by the first N characters of the code (6 = county in China's codes). */
  placeDigits?: number
  /** With groupBy month or day: the zone's offset from UTC, so periods are local. */
  utcOffsetMs?: number
  /**
   * `false`: leave every group's `spans` empty, for a caller that shows no median handling time —
   * the store then reads only its counts, not a row per resolved case. Default true.
   */
  spans?: boolean
}

/** The store's answer per group: counts from the per-case rows, and the spans for the median. */
export interface StatsCounts {
  /** The group's value (office id, channel, category, place code prefix, `YYYY-MM`, `YYYY-MM-DD`); `null` for none/unknown. */
  key: string | null
  received: number
  /** Accepted, and by the acceptance deadline when the case had one. */
  acceptedInTime: number
  /** Resolved now (a reopened case is not, until resolved again). */
  resolved: number
  resolvedOnTime: number
  /** Resolved at least once: the reopen rate's denominator. */
  everResolved: number
  reopened: number
  rated: number
  satisfied: number
  /** Closed without a rating (the survey went unanswered, or staff closed it): counted apart from the rated. */
  closedNotRated: number
  overdue: number
  /** receivedAt, resolvedAt of each resolved case, flattened pairs. */
  spans: number[]
}

export interface StatsFigures {
  key: string | null
  received: number
  accepted_in_time: number
  /** 响应率: accepted within the acceptance deadline ÷ received. */
  response_rate: number | null
  resolved: number
  /** 办结率: resolved ÷ received. */
  resolution_rate: number | null
  resolved_on_time: number
  /** 按时办结率: resolved by the deadline ÷ resolved. */
  on_time_resolution_rate: number | null
  rated: number
  satisfied: number
  /** 满意率: satisfied ÷ rated. */
  satisfaction_rate: number | null
  /** Closed with no rating (不评价): not in the satisfaction rate's denominator. */
  closed_not_rated: number
  ever_resolved: number
  reopened: number
  /** 重办率: reopened at least once ÷ resolved at least once. */
  reopen_rate: number | null
  /** Median of received → resolved, in working hours (working days of the calendar), over resolved cases. */
  median_handling_hours: number | null
  /** Open and past the deadline at `now`. */
  overdue_now: number
}

const rate = (n: number, d: number) => (d === 0 ? null : Math.round((n / d) * 10_000) / 10_000)

/** The figures of each group: the rates, and the median handling time on the working clock. */
export function computeFigures(groups: readonly StatsCounts[], calendar: WorkCalendar): StatsFigures[] {
  let lo = Infinity
  let hi = -Infinity
  for (const g of groups) for (let i = 0; i < g.spans.length; i++) (lo = Math.min(lo, g.spans[i]!)), (hi = Math.max(hi, g.spans[i]!))
  const clock = lo <= hi ? workingClock(calendar, lo, Math.max(hi, lo)) : undefined
  return groups.map((g) => {
    let median: number | null = null
    if (clock && g.spans.length) {
      const hours = new Float64Array(g.spans.length / 2)
      for (let i = 0; i < hours.length; i++) hours[i] = (clock(g.spans[2 * i + 1]!) - clock(g.spans[2 * i]!)) / 3_600_000
      hours.sort()
      const mid = hours.length >> 1
      median = hours.length % 2 ? hours[mid]! : (hours[mid - 1]! + hours[mid]!) / 2
      median = Math.round(median * 100) / 100
    }
    return {
      key: g.key,
      received: g.received,
      accepted_in_time: g.acceptedInTime,
      response_rate: rate(g.acceptedInTime, g.received),
      resolved: g.resolved,
      resolution_rate: rate(g.resolved, g.received),
      resolved_on_time: g.resolvedOnTime,
      on_time_resolution_rate: rate(g.resolvedOnTime, g.resolved),
      rated: g.rated,
      satisfied: g.satisfied,
      satisfaction_rate: rate(g.satisfied, g.rated),
      closed_not_rated: g.closedNotRated,
      ever_resolved: g.everResolved,
      reopened: g.reopened,
      reopen_rate: rate(g.reopened, g.everResolved),
      median_handling_hours: median,
      overdue_now: g.overdue,
    }
  })
}

const COLUMNS: (keyof StatsFigures)[] = [
  'key',
  'received',
  'accepted_in_time',
  'response_rate',
  'resolved',
  'resolution_rate',
  'resolved_on_time',
  'on_time_resolution_rate',
  'rated',
  'satisfied',
  'satisfaction_rate',
  'closed_not_rated',
  'ever_resolved',
  'reopened',
  'reopen_rate',
  'median_handling_hours',
  'overdue_now',
]

/** RFC 4180 CSV, one row per group; empty cells for rates without a denominator. */
export function figuresCsv(rows: readonly StatsFigures[], keyName: string): string {
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v)
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
  }
  const head = COLUMNS.map((c) => (c === 'key' ? keyName : c)).join(',')
  return [head, ...rows.map((r) => COLUMNS.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n'
}

/** The query string of GET /api/v1/stats. Unknown parameters are refused (strict). */
export const StatsQuery = z
  .object({
    from: z.coerce.number().pipe(Timestamp).optional(),
    to: z.coerce.number().pipe(Timestamp).optional(),
    officeId: z.string().min(1).optional(),
    channelId: z.string().min(1).optional(),
    category: z.string().min(1).optional(),
    placeCode: z.string().min(1).max(40).optional(),
    groupBy: z.enum(STATS_GROUPS).default('none'),
    placeDigits: z.coerce.number().int().min(1).max(40).optional(),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict()
export type StatsQuery = z.infer<typeof StatsQuery>
