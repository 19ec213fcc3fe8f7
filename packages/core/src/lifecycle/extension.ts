import type { Permission } from '../access/roles.ts'
import type { CaseChange } from '../contracts/store.ts'
import type { Case, CaseEvent } from '../model/index.ts'
import type { LifecycleContext, LifecycleRefusal } from './context.ts'
import { officeAlert, showTime } from './office-alert.ts'
import { rolesHolding, type Actor, type Role } from './state-machine.ts'
import { deadlineMoved } from './timer-plan.ts'
import { deadlineSet } from './transitions.ts'

/**
 * Extension (延期): the handling office asks for a later deadline with a reason; the office above it
 * approves or refuses. Both are events; an approved one moves the deadline and its timers. One
 * request at a time; only an open case can be extended.
 */
const OPEN: readonly Case['status'][] = ['received', 'dispatched', 'accepted', 'in_progress', 'replied']
/** Asked for by whoever works the case (the `status` permission: a caseworker, a lead). */
export const REQUEST_EXTENSION_PERMISSIONS: readonly Permission[] = ['status']
/**
 * Decided by a lead (dispatch) or supervisor (supervise) of an office above the handling one (its
 * parent, or higher): any one of these permissions, the API's and the console's check.
 */
export const DECIDE_EXTENSION_PERMISSIONS: readonly Permission[] = ['dispatch', 'supervise']
export const MAY_REQUEST_EXTENSION: readonly Role[] = rolesHolding(REQUEST_EXTENSION_PERMISSIONS)
export const MAY_DECIDE_EXTENSION: readonly Role[] = rolesHolding(DECIDE_EXTENSION_PERMISSIONS)
const MAY_REQUEST = MAY_REQUEST_EXTENSION
const MAY_DECIDE = MAY_DECIDE_EXTENSION

/** Whether `actor` acts for an office above the one handling `kase` (or for none: above them all). */
export function decidesAbove(ctx: Pick<LifecycleContext, 'offices'>, actor: Actor, kase: Pick<Case, 'officeId'>): boolean {
  if (actor.officeId === undefined || actor.officeId === null) return true
  return actor.officeId !== kase.officeId && ctx.offices.covers(actor.officeId, kase.officeId)
}

/** The request still waiting for a decision, if any. */
export function pendingExtension(events: readonly CaseEvent[]): CaseEvent | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    if (events[i]!.type === 'extension_decided') return undefined
    if (events[i]!.type === 'extension_requested') return events[i]
  }
  return undefined
}

function refuseClosed(kase: Case): LifecycleRefusal | undefined {
  if (OPEN.includes(kase.status)) return undefined
  return { ok: false, status: 409, code: 'case_closed', message: `[lifecycle] a ${kase.status} case has no deadline to extend; reopen it first` }
}

const forbidden = (actor: Actor, what: string, roles: readonly Role[]): LifecycleRefusal => ({
  ok: false,
  status: 403,
  code: 'forbidden',
  message: `[lifecycle] a ${actor.role} may not ${what} (${roles.join(', ')} may)`,
})

export async function requestExtension(
  ctx: LifecycleContext,
  kase: Case,
  input: { actor: Actor; reason: string; deadlineAt: number },
  at: number,
): Promise<CaseChange | LifecycleRefusal> {
  const closed = refuseClosed(kase)
  if (closed) return closed
  if (!MAY_REQUEST.includes(input.actor.role)) return forbidden(input.actor, 'ask for an extension', MAY_REQUEST)
  if (kase.deadlineAt !== null && input.deadlineAt <= kase.deadlineAt) {
    return { ok: false, status: 422, code: 'not_later', message: '[lifecycle] an extension asks for a deadline later than the current one' }
  }
  if (pendingExtension(await ctx.store.listEvents(kase.id))) {
    return { ok: false, status: 409, code: 'extension_pending', message: '[lifecycle] an extension request is already waiting for a decision' }
  }
  const parent = ctx.offices.get(kase.officeId)?.parentId ?? kase.officeId
  const alert = officeAlert(ctx, kase, parent, 'extensionRequested', { text: input.reason, deadline: showTime(input.deadlineAt, kase, ctx.policy.calendar.timeZone) }, at)
  return {
    caseId: kase.id,
    at,
    events: [
      { caseId: kase.id, at, type: 'extension_requested', actor: input.actor.id, public: false, data: { reason: input.reason, deadlineAt: input.deadlineAt, officeId: kase.officeId } },
      ...alert.events,
    ],
    outbound: alert.outbound,
  }
}

export async function decideExtension(
  ctx: LifecycleContext,
  kase: Case,
  input: { actor: Actor; approved: boolean; note?: string; deadlineAt?: number },
  at: number,
): Promise<CaseChange | LifecycleRefusal> {
  const closed = refuseClosed(kase)
  if (closed) return closed
  if (!MAY_DECIDE.includes(input.actor.role)) return forbidden(input.actor, 'decide on an extension', MAY_DECIDE)
  if (!decidesAbove(ctx, input.actor, kase)) {
    return { ok: false, status: 403, code: 'not_above', message: `[lifecycle] an extension is decided by an office above the handling office "${kase.officeId}"` }
  }
  const pending = pendingExtension(await ctx.store.listEvents(kase.id))
  if (!pending) return { ok: false, status: 409, code: 'no_extension_pending', message: '[lifecycle] no extension request is waiting for a decision' }
  const note = input.note ? { note: input.note } : {}
  if (!input.approved) {
    return { caseId: kase.id, at, events: [{ caseId: kase.id, at, type: 'extension_decided', actor: input.actor.id, public: false, data: { approved: false, ...note } }] }
  }
  const deadlineAt = input.deadlineAt ?? (pending.data.deadlineAt as number)
  return {
    caseId: kase.id,
    at,
    patch: { deadlineAt },
    events: [
      { caseId: kase.id, at, type: 'extension_decided', actor: input.actor.id, public: false, data: { approved: true, deadlineAt, ...note } },
      deadlineSet(kase, at, deadlineAt, 'extension'),
    ],
    timers: deadlineMoved({ deadlineAt }, at, ctx.settings, ctx.policy.calendar),
  }
}
