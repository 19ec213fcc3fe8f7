import type { Urgency } from '../model/index.ts'

/**
 * Deadlines from policy strings: `2h`, `90m`, `3 days`, `5 working days`.
 * Working days skip Saturdays, Sundays and listed holidays, and count listed make-up working days
 * (China's 调休 weekends), in the deployment's time zone.
 */
export type DeadlinePolicy = Record<Urgency, string>

export interface WorkCalendar {
  /** IANA zone, e.g. `Asia/Shanghai`. */
  timeZone: string
  /** `YYYY-MM-DD` dates that are not working days. */
  holidays?: readonly string[]
  /** `YYYY-MM-DD` weekend dates that are working days. */
  workingWeekends?: readonly string[]
}

const HOUR = 3_600_000
const DAY = 24 * HOUR
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(m|min|minutes?|h|hours?|d|days?|working days?|工作日|天|小时)\s*$/i

export type ParsedDuration = { kind: 'fixed'; ms: number } | { kind: 'working-days'; days: number }

export function parseDuration(text: string): ParsedDuration {
  const m = PATTERN.exec(text)
  if (!m) throw new Error(`[deadlines] cannot read duration "${text}" (try "2h", "3 days" or "5 working days")`)
  const n = Number(m[1])
  const unit = m[2]!.toLowerCase()
  if (unit.startsWith('working') || unit === '工作日') {
    if (!Number.isInteger(n)) throw new Error(`[deadlines] working days must be whole: "${text}"`)
    return { kind: 'working-days', days: n }
  }
  if (unit.startsWith('m')) return { kind: 'fixed', ms: n * 60_000 }
  if (unit.startsWith('h') || unit === '小时') return { kind: 'fixed', ms: n * HOUR }
  return { kind: 'fixed', ms: n * DAY }
}

// Building an Intl.DateTimeFormat costs ~100 µs; a deadline looks at several days, so keep one per zone.
const formatters = new Map<string, Intl.DateTimeFormat>()

function localDate(at: number, timeZone: string): { ymd: string; weekday: number } {
  let format = formatters.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short' })
    formatters.set(timeZone, format)
  }
  const parts = format.formatToParts(new Date(at))
  const get = (t: string) => parts.find((p) => p.type === t)!.value
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday'))
  return { ymd: `${get('year')}-${get('month')}-${get('day')}`, weekday }
}

export function isWorkingDay(at: number, cal: WorkCalendar): boolean {
  const { ymd, weekday } = localDate(at, cal.timeZone)
  if (cal.holidays?.includes(ymd)) return false
  if (cal.workingWeekends?.includes(ymd)) return true
  return weekday !== 0 && weekday !== 6
}

// Every UTC offset in use is a multiple of 15 minutes, so a 15-minute UTC bucket never spans a local
// midnight: all cases received in one bucket get the same number of calendar days. Looking the
// calendar up once per bucket takes the Intl work (~50 µs a case) off the intake path.
const QUARTER = 15 * 60_000
const calendarDaysCache = new WeakMap<WorkCalendar, Map<string, number>>()

/** The deadline for a case of this urgency received at `from`. */
export function deadlineFor(urgency: Urgency, from: number, policy: DeadlinePolicy, cal: WorkCalendar): number {
  const d = parseDuration(policy[urgency])
  if (d.kind === 'fixed') return from + d.ms
  let cache = calendarDaysCache.get(cal)
  if (!cache) calendarDaysCache.set(cal, (cache = new Map()))
  const key = `${d.days}:${Math.floor(from / QUARTER)}`
  let days = cache.get(key)
  if (days === undefined) {
    days = (walkWorkingDays(from, d.days, cal) - from) / DAY
    if (cache.size > 10_000) cache.clear()
    cache.set(key, days)
  }
  return from + days * DAY
}

function walkWorkingDays(from: number, workingDays: number, cal: WorkCalendar): number {
  let at = from
  let left = workingDays
  // Steps of 24h keep the local time of day; time zones used by offices here have no DST jumps
  // larger than an hour, which a deadline can absorb.
  while (left > 0) {
    at += DAY
    if (isWorkingDay(at, cal)) left--
  }
  return at
}

export function validateDeadlinePolicy(policy: DeadlinePolicy): void {
  for (const [k, v] of Object.entries(policy)) {
    try {
      parseDuration(v)
    } catch (err) {
      throw new Error(`deadlines.${k}: ${(err as Error).message}`)
    }
  }
}
