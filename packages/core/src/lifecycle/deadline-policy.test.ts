import { describe, expect, it } from 'vitest'
import { COUNTRY_CALENDARS } from '../deadlines/calendars/cn.ts'
import { addDuration, isWorkingDay, subtractDuration } from '../deadlines/index.ts'
import { Office } from '../model/index.ts'
import { buildOfficeDirectory } from '../offices/index.ts'
import { deadlinePolicy } from './deadline-policy.ts'

const cn = COUNTRY_CALENDARS.CN!
const at = (iso: string) => Date.parse(iso)

describe("China's official calendar (State Council notices 2024–2026)", () => {
  it('knows holidays and make-up working days', () => {
    expect(isWorkingDay(at('2026-02-16T10:00:00+08:00'), cn)).toBe(false) // 春节 2026
    expect(isWorkingDay(at('2026-02-14T10:00:00+08:00'), cn)).toBe(true) // Saturday worked
    expect(isWorkingDay(at('2025-01-26T10:00:00+08:00'), cn)).toBe(true) // Sunday worked
    expect(isWorkingDay(at('2025-10-08T10:00:00+08:00'), cn)).toBe(false) // 国庆中秋 2025
    expect(isWorkingDay(at('2024-05-11T10:00:00+08:00'), cn)).toBe(true)
    expect(isWorkingDay(at('2024-06-10T10:00:00+08:00'), cn)).toBe(false) // 端午 2024
  })

  it('5 working days over the 2026 National Day holiday', () => {
    // Wed 30 Sep + 5 working days: 1–7 Oct off; then Thu 8, Fri 9, Sat 10 (worked), Mon 12, Tue 13
    expect(addDuration(at('2026-09-30T10:00:00+08:00'), '5 working days', cn)).toBe(at('2026-10-13T10:00:00+08:00'))
  })

  it('working hours count office hours of working days only', () => {
    expect(addDuration(at('2026-11-20T17:00:00+08:00'), '2 working hours', cn)).toBe(at('2026-11-23T10:00:00+08:00')) // Fri 17:00 → Mon 10:00
    expect(addDuration(at('2026-11-21T11:00:00+08:00'), '2 working hours', cn)).toBe(at('2026-11-23T11:00:00+08:00')) // Saturday → Monday
    expect(subtractDuration(at('2026-11-23T10:00:00+08:00'), '1 working day', cn)).toBe(at('2026-11-20T10:00:00+08:00'))
  })
})

describe('deadline policy: the most specific wins', () => {
  const offices = buildOfficeDirectory(
    [
      { id: 'city', name: 'City', intakeDesk: true, deadlines: { categories: { roads: { urgent: '4h' } } } },
      { id: 'town', name: 'Town', parentId: 'city', deadlines: { normal: '3 working days', accept: '1h' } },
      { id: 'bureau', name: 'Bureau', parentId: 'city' },
    ].map((o) => Office.parse(o)),
  )
  const policy = deadlinePolicy(offices, { base: { urgent: '2h', normal: '5 working days', complex: '15 working days' }, accept: '2 working hours', categories: { roads: { normal: '10 working days' } } }, cn)
  it('office category > office > parent office > deployment category > deployment', () => {
    expect(policy.durationFor({ officeId: 'town', category: null, urgency: 'normal' }).duration).toBe('3 working days')
    expect(policy.durationFor({ officeId: 'town', category: 'roads', urgency: 'urgent' }).duration).toBe('4h')
    expect(policy.durationFor({ officeId: 'bureau', category: 'roads', urgency: 'normal' }).duration).toBe('10 working days')
    expect(policy.durationFor({ officeId: 'bureau', category: null, urgency: 'complex' }).duration).toBe('15 working days')
    expect(policy.acceptBy('town', at('2026-11-20T10:00:00+08:00'))).toBe(at('2026-11-20T11:00:00+08:00'))
    expect(policy.acceptBy('bureau', at('2026-11-20T10:00:00+08:00'))).toBe(at('2026-11-20T12:00:00+08:00'))
  })
})
