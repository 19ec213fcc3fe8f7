import { isWorkingDay, type WorkCalendar } from '../deadlines/index.ts'

const HOUR = 3_600_000

/**
 * A clock that only runs on working days: `clock(b) - clock(a)` is the working time between a and b,
 * counting the hours that fall on working days of the calendar (its weekends, holidays and make-up
 * working days). The calendar knows working days, not office hours, so a working day counts whole.
 * Precise to the hour: a zone with a half-hour offset is off by at most half an hour at a day's edge.
 *
 * Built once for the span asked (one calendar lookup per hour, 8,760 a year), then O(1) per
 * instant: the median of a year's handling times reads up to a million pairs.
 */
export function workingClock(cal: WorkCalendar, from: number, to: number): (at: number) => number {
  const first = Math.floor(Math.min(from, to) / HOUR)
  const hours = Math.floor(Math.max(from, to) / HOUR) - first + 1
  const working = new Uint8Array(hours)
  const before = new Float64Array(hours + 1)
  for (let h = 0; h < hours; h++) {
    working[h] = isWorkingDay((first + h) * HOUR, cal) ? 1 : 0
    before[h + 1] = before[h]! + (working[h] ? HOUR : 0)
  }
  return (at: number) => {
    const h = Math.floor(at / HOUR) - first
    if (h < 0) return 0
    if (h >= hours) return before[hours]!
    return before[h]! + (working[h] ? at - (first + h) * HOUR : 0)
  }
}
