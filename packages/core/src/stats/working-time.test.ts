import { describe, expect, it } from 'vitest'
import { workingClock } from './working-time.ts'

const HOUR = 3_600_000
const FRI = Date.UTC(2025, 0, 10, 9) // Friday 09:00 UTC

describe('workingClock', () => {
  it('skips weekends and holidays, and counts a make-up working Saturday', () => {
    const span = (cal: Parameters<typeof workingClock>[0], from: number, to: number) => {
      const clock = workingClock(cal, from, to)
      return (clock(to) - clock(from)) / HOUR
    }
    // Fri 09:00 → Mon 09:00: 15 h of Friday, 9 h of Monday.
    expect(span({ timeZone: 'UTC' }, FRI, FRI + 72 * HOUR)).toBe(24)
    expect(span({ timeZone: 'UTC', holidays: ['2025-01-13'] }, FRI, FRI + 72 * HOUR)).toBe(15)
    expect(span({ timeZone: 'UTC', workingWeekends: ['2025-01-11'] }, FRI, FRI + 72 * HOUR)).toBe(48)
    // In Shanghai, Friday 09:00 UTC is 17:00: 7 h of Friday, then Monday until 17:00.
    expect(span({ timeZone: 'Asia/Shanghai' }, FRI, FRI + 72 * HOUR)).toBe(24)
  })
})
