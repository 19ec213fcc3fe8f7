import { describe, expect, it } from 'vitest'
import { Office } from '../model/index.ts'
import { buildOfficeDirectory } from '../offices/index.ts'
import { availableSteps } from './available-steps.ts'

const offices = buildOfficeDirectory([
  Office.parse({ id: 'county', name: 'County', intakeDesk: true }),
  Office.parse({ id: 'town', name: 'Town', parentId: 'county' }),
  Office.parse({ id: 'other', name: 'Other county' }),
])
const at = (status: 'received' | 'accepted' | 'resolved', officeId = 'town') => ({ status, officeId })

describe('the steps a person may take now', () => {
  it('are the state machine table\'s transitions for the role, and an extension request on an open case', () => {
    expect(availableSteps(at('received'), { id: 'w', role: 'caseworker', officeId: 'town' }, { offices, extensionPending: false })).toEqual([
      'return', 'accept', 'start', 'answer', 'resolve', 'request_extension',
    ])
    expect(availableSteps(at('resolved'), { id: 'w', role: 'caseworker', officeId: 'town' }, { offices, extensionPending: false })).toEqual([])
    expect(availableSteps(at('resolved'), { id: 'l', role: 'lead', officeId: 'town' }, { offices, extensionPending: false })).toEqual(['close', 'reopen'])
  })

  it('offer the extension decision only above the handling office, and no second request while one waits', () => {
    const decides = (role: 'lead' | 'supervisor' | 'caseworker', officeId: string | null) =>
      availableSteps(at('accepted'), { id: 'x', role, officeId }, { offices, extensionPending: true }).includes('decide_extension')
    expect(decides('lead', 'county')).toBe(true)
    expect(decides('supervisor', 'county')).toBe(true)
    expect(decides('lead', 'town')).toBe(false)
    expect(decides('lead', 'other')).toBe(false)
    expect(decides('caseworker', 'county')).toBe(false)
    expect(decides('supervisor', null)).toBe(true)
    expect(availableSteps(at('accepted'), { id: 'w', role: 'caseworker', officeId: 'town' }, { offices, extensionPending: true })).not.toContain('request_extension')
  })
})
