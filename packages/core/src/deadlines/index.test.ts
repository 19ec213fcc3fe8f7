import { describe, expect, it } from 'vitest'
import { deadlineFor, parseDuration } from './index.ts'

const policy = { urgent: '2h', normal: '5 working days', complex: '15 working days' }
const cal = { timeZone: 'Asia/Shanghai', holidays: ['2026-10-01', '2026-10-02'], workingWeekends: ['2026-10-10'] }
const at = (iso: string) => Date.parse(iso)

describe('deadlines', () => {
  it('reads the policy strings agencies write', () => {
    expect(parseDuration('2h')).toEqual({ kind: 'fixed', ms: 7_200_000 })
    expect(parseDuration('90 minutes')).toEqual({ kind: 'fixed', ms: 5_400_000 })
    expect(parseDuration('5 working days')).toEqual({ kind: 'working-days', days: 5 })
    expect(parseDuration('3工作日')).toEqual({ kind: 'working-days', days: 3 })
    expect(() => parseDuration('soon')).toThrow(/cannot read duration "soon"/)
  })

  it('gives urgent cases a fixed window', () => {
    expect(deadlineFor('urgent', at('2026-11-20T10:00:00+08:00'), policy, cal)).toBe(at('2026-11-20T12:00:00+08:00'))
  })

  it('skips the weekend: Friday + 5 working days is the next Friday', () => {
    expect(deadlineFor('normal', at('2026-11-20T10:00:00+08:00'), policy, cal)).toBe(at('2026-11-27T10:00:00+08:00'))
  })

  it('skips holidays and counts make-up working weekends', () => {
    // Wed 30 Sep + 5 working days: Oct 1-2 holidays, Oct 3-4 weekend, then Mon 5 .. Fri 9 → Fri 9 Oct
    expect(deadlineFor('normal', at('2026-09-30T09:00:00+08:00'), policy, cal)).toBe(at('2026-10-07T09:00:00+08:00') + 2 * 86_400_000)
    // Thu 8 Oct + 2 working days: Fri 9, Sat 10 (make-up working day)
    expect(deadlineFor('normal', at('2026-10-08T09:00:00+08:00'), { ...policy, normal: '2 working days' }, cal)).toBe(
      at('2026-10-10T09:00:00+08:00'),
    )
  })

  it('gives cases received a second apart across local midnight their own deadlines (the cache keeps them apart)', () => {
    // Friday 23:59:59 and Saturday 00:00:00 in Shanghai, repeated so the second calls hit the cache.
    for (let i = 0; i < 2; i++) {
      expect(deadlineFor('normal', at('2026-11-20T23:59:59+08:00'), policy, cal)).toBe(at('2026-11-27T23:59:59+08:00'))
      expect(deadlineFor('normal', at('2026-11-21T00:00:00+08:00'), policy, cal)).toBe(at('2026-11-27T00:00:00+08:00'))
    }
    // Kathmandu is UTC+5:45: its midnight is not on a UTC hour, only on a quarter.
    const ktm = { timeZone: 'Asia/Kathmandu' }
    expect(deadlineFor('normal', at('2026-11-20T23:59:00+05:45'), policy, ktm)).toBe(at('2026-11-27T23:59:00+05:45'))
    expect(deadlineFor('normal', at('2026-11-21T00:00:00+05:45'), policy, ktm)).toBe(at('2026-11-27T00:00:00+05:45'))
  })
})
