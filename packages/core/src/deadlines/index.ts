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
  /** Office hours on a working day, local `HH:MM`, for durations in working hours (default 09:00–18:00). */
  workingHours?: { start: string; end: string }
}

const HOUR = 3_600_000
const DAY = 24 * HOUR
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(m|min|minutes?|h|hours?|d|days?|working days?|working hours?|工作日|工作小时|天|小时)\s*$/i

export type ParsedDuration = { kind: 'fixed'; ms: number } | { kind: 'working-days'; days: number } | { kind: 'working-hours'; ms: number }

export function parseDuration(text: string): ParsedDuration {
  const m = PATTERN.exec(text)
  if (!m) throw new Error(`[deadlines] cannot read duration "${text}" (try "2h", "3 days" or "5 working days")`)
  const n = Number(m[1])
  const unit = m[2]!.toLowerCase()
  if (unit.startsWith('working h') || unit === '工作小时') return { kind: 'working-hours', ms: n * HOUR }
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

/**
 * Answers by zone and quarter of an hour: every zone's offset (and every change of it) is a whole
 * number of quarter hours, so all instants of one UTC quarter hour share a local date and, within
 * a minute, a local clock. Every case's deadline walks the same few days, so nearly all are hits.
 */
const MAX_MEMO = 4096
function memo<T>(cache: Map<string, T>, key: string, compute: () => T): T {
  let value = cache.get(key)
  if (value === undefined) {
    if (cache.size >= MAX_MEMO) cache.clear()
    cache.set(key, (value = compute()))
  }
  return value
}
const QUARTER_HOUR = 15 * 60_000
const localDates = new Map<string, { ymd: string; weekday: number }>()

function localDate(at: number, timeZone: string): { ymd: string; weekday: number } {
  return memo(localDates, `${timeZone} ${Math.floor(at / QUARTER_HOUR)}`, () => formatLocalDate(at, timeZone))
}

function formatLocalDate(at: number, timeZone: string): { ymd: string; weekday: number } {
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
  return addDuration(from, policy[urgency], cal)
}

const parsedCache = new Map<string, ParsedDuration>()
const parsed = (text: string) => {
  let d = parsedCache.get(text)
  if (!d) parsedCache.set(text, (d = parseDuration(text)))
  return d
}

/**
 * `from` plus a policy duration on the calendar: fixed time, whole working days (same time of day),
 * or working hours (office hours of working days only).
 *
 * @example addDuration(Date.parse('2026-11-20T17:00:00+08:00'), '2 working hours', cal) // Mon 23 Nov 10:00
 */
export function addDuration(from: number, text: string, cal: WorkCalendar): number {
  const d = parsed(text)
  if (d.kind === 'fixed') return from + d.ms
  if (d.kind === 'working-hours') return addWorkingHours(from, d.ms, cal)
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

/**
 * The instant `text` before `at` (a reminder "1 working day" before a deadline): fixed time back,
 * whole working days back (same time of day), or working hours back.
 */
export function subtractDuration(at: number, text: string, cal: WorkCalendar): number {
  const d = parsed(text)
  if (d.kind === 'fixed') return at - d.ms
  if (d.kind === 'working-days') {
    let t = at
    for (let left = d.days; left > 0; ) {
      t -= DAY
      if (isWorkingDay(t, cal)) left--
    }
    return t
  }
  // Working hours back: walk back an hour at a time over office hours (reminders are a few hours).
  let t = at
  let left = d.ms
  while (left > 0) {
    const step = Math.min(left, QUARTER)
    t -= step
    if (isOfficeTime(t, cal)) left -= step
  }
  return t
}

const hm = (s: string) => {
  const [h, m] = s.split(':').map(Number)
  return h! * 60 + (m ?? 0)
}
const OFFICE_DEFAULT = { start: '09:00', end: '18:00' }
const clockFormatters = new Map<string, Intl.DateTimeFormat>()

/** Minutes since local midnight. */
const localClocks = new Map<string, number>()
function localMinutes(at: number, timeZone: string): number {
  return memo(localClocks, `${timeZone} ${Math.floor(at / 60_000)}`, () => formatLocalMinutes(at, timeZone))
}

function formatLocalMinutes(at: number, timeZone: string): number {
  let format = clockFormatters.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    clockFormatters.set(timeZone, format)
  }
  const [h, m] = format.format(new Date(at)).split(':').map(Number)
  return h! * 60 + m!
}

function isOfficeTime(at: number, cal: WorkCalendar): boolean {
  const hours = cal.workingHours ?? OFFICE_DEFAULT
  const minutes = localMinutes(at, cal.timeZone)
  return minutes >= hm(hours.start) && minutes < hm(hours.end) && isWorkingDay(at, cal)
}

// Acceptance deadlines are computed once per case at intake: cache them per minute of arrival.
const workingHoursCache = new WeakMap<WorkCalendar, Map<string, number>>()

function addWorkingHours(from: number, ms: number, cal: WorkCalendar): number {
  let cache = workingHoursCache.get(cal)
  if (!cache) workingHoursCache.set(cal, (cache = new Map()))
  const minute = Math.floor(from / 60_000)
  const key = `${ms}:${minute}`
  const known = cache.get(key)
  if (known !== undefined) return from + known
  const hours = cal.workingHours ?? OFFICE_DEFAULT
  const start = hm(hours.start)
  const end = hm(hours.end)
  let at = minute * 60_000
  let left = ms
  for (let guard = 0; guard < 400; guard++) {
    const now = localMinutes(at, cal.timeZone)
    if (!isWorkingDay(at, cal) || now >= end) {
      at += (24 * 60 - now + start) * 60_000 // the next day's opening
      continue
    }
    if (now < start) {
      at += (start - now) * 60_000
      continue
    }
    const open = (end - now) * 60_000
    if (left <= open) {
      at += left
      break
    }
    left -= open
    at += (24 * 60 - now + start) * 60_000
  }
  const offset = at - minute * 60_000
  if (cache.size > 10_000) cache.clear()
  cache.set(key, offset)
  return from - (from % 60_000) + offset
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
