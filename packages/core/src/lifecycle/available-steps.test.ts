import { describe, expect, it } from 'vitest'
import { Office } from '../model/index.ts'
import { buildOfficeDirectory } from '../offices/index.ts'
import { ROLE_PERMISSIONS } from '../access/roles.ts'
import { availableSteps, STEP_PERMISSIONS } from './available-steps.ts'
import { checkTransition } from './state-machine.ts'

const offices = buildOfficeDirectory([
  Office.parse({ id: 'county', name: 'County', intakeDesk: true }),
  Office.parse({ id: 'town', name: 'Town', parentId: 'county' }),
  Office.parse({ id: 'other', name: 'Other county' }),
])
const at = (status: 'received' | 'accepted' | 'resolved', officeId = 'town') => ({ status, officeId })

describe('the steps a person may take now', () => {
  it('are the state machine table\'s transitions for the role, and an extension request on an open case', () => {
    expect(availableSteps(at('received'), { id: 'w', role: 'caseworker', officeId: 'town' }, { offices, extensionPending: false })).toEqual([
      'accept', 'start', 'answer', 'resolve', 'request_extension',
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

describe('one rule for who may take a step', () => {
  it("the state machine's roles are the roles holding the step's permission: each role is offered exactly what its permissions allow", () => {
    const statuses = ['received', 'dispatched', 'accepted', 'in_progress', 'replied', 'resolved', 'closed'] as const
    for (const role of ['caseworker', 'lead', 'supervisor', 'admin'] as const) {
      for (const status of statuses) {
        for (const extensionPending of [false, true]) {
          const actor = { id: 'x', role, officeId: 'county' }
          const ctx = { offices, extensionPending }
          const byTable = availableSteps({ status, officeId: 'town' }, actor, ctx)
          const byPermissions = availableSteps({ status, officeId: 'town' }, actor, { ...ctx, permissions: new Set(ROLE_PERMISSIONS[role]) })
          expect(byTable, `${role} on ${status}`).toEqual(byPermissions)
        }
      }
    }
  })

  it('a 403 names the roles that may: a supervisor neither dispatches nor closes, a caseworker does not return', () => {
    expect(checkTransition('received', 'dispatch', { id: 's', role: 'supervisor' })).toMatchObject({ status: 403, message: 'a supervisor may not dispatch a case (lead, admin, system may)' })
    expect(checkTransition('resolved', 'close', { id: 's', role: 'supervisor' })).toMatchObject({ status: 403, message: 'a supervisor may not close a case (lead, admin, system may)' })
    expect(checkTransition('dispatched', 'return', { id: 'w', role: 'caseworker' })).toMatchObject({ status: 403, message: 'a caseworker may not return a case (lead, admin may)' })
    expect(STEP_PERMISSIONS.close).toEqual(['approve'])
  })
})
