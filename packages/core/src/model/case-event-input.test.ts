import { describe, expect, it } from 'vitest'
import { ZodError } from 'zod'
import { caseEventToAppend } from './case-event-input.ts'
import { CaseEvent, type CaseEventInput } from './index.ts'

const valid: CaseEventInput = { caseId: 'case-1', at: 1_700_000_000_000, type: 'received', actor: 'citizen', public: true, data: { messageId: 'm-1', nested: { a: [1, 2] } } }

describe('caseEventToAppend', () => {
  it('gives what CaseEvent.parse gives (without the id) for events a store appends', () => {
    const inputs: CaseEventInput[] = [
      valid,
      { ...valid, data: undefined },
      { ...valid, id: 42 },
      { ...valid, type: 'clustered', public: false, data: Object.assign(Object.create(null) as object, { clusterId: 'k' }) },
      { ...valid, data: {} },
    ]
    for (const input of inputs) {
      const { id: _id, ...parsed } = CaseEvent.parse(input)
      expect(caseEventToAppend(input)).toEqual(parsed)
    }
  })

  it('refuses what CaseEvent.parse refuses, with its error', () => {
    const bad = [
      { ...valid, type: 'made_up' },
      { ...valid, at: -1 },
      { ...valid, at: 1.5 },
      { ...valid, caseId: 7 },
      { ...valid, public: 'yes' },
      { ...valid, data: ['not', 'an', 'object'] },
      { ...valid, data: new Date(0) },
      { ...valid, data: null },
    ] as unknown as CaseEventInput[]
    for (const input of bad) expect(() => caseEventToAppend(input), JSON.stringify(input)).toThrow(ZodError)
  })
})
