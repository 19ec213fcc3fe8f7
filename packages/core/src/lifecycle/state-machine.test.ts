import { describe, expect, it } from 'vitest'
import { allowedFrom, checkTransition, transitionTo } from './state-machine.ts'

const admin = { id: 'a', role: 'admin' as const }

describe('the state machine', () => {
  it('follows the loop and reopens from resolved or closed', () => {
    expect(checkTransition('received', 'dispatch', admin)).toEqual({ ok: true, to: 'dispatched' })
    expect(checkTransition('dispatched', 'accept', admin)).toEqual({ ok: true, to: 'accepted' })
    expect(checkTransition('accepted', 'start', admin)).toEqual({ ok: true, to: 'in_progress' })
    expect(checkTransition('in_progress', 'answer', admin)).toEqual({ ok: true, to: 'replied' })
    expect(checkTransition('replied', 'resolve', admin)).toEqual({ ok: true, to: 'resolved' })
    expect(checkTransition('resolved', 'close', admin)).toEqual({ ok: true, to: 'closed' })
    expect(checkTransition('closed', 'reopen', admin)).toEqual({ ok: true, to: 'accepted' })
  })

  it('an impossible transition is a 409 naming the possible ones; a role that may not is a 403', () => {
    expect(checkTransition('closed', 'accept', admin)).toMatchObject({ ok: false, status: 409, code: 'invalid_transition', allowed: ['reopen'] })
    expect(checkTransition('received', 'close', admin)).toMatchObject({ ok: false, status: 409, allowed: allowedFrom('received') })
    expect(checkTransition('resolved', 'reopen', { id: 'c', role: 'caseworker' })).toMatchObject({ ok: false, status: 403, code: 'forbidden' })
    expect(checkTransition('received', 'accept', { id: 's', role: 'supervisor' })).toMatchObject({ ok: false, status: 403 })
  })

  it('maps the old status route to transitions', () => {
    expect(transitionTo('received', 'resolved')).toBe('resolve')
    expect(transitionTo('resolved', 'in_progress')).toBe('reopen')
    expect(transitionTo('received', 'dispatched')).toBeUndefined()
  })
})
