import type { CaseChange } from '../contracts/store.ts'
import type { Case } from '../model/index.ts'
import type { LifecycleContext, LifecycleRefusal } from './context.ts'
import { officeAlert, showTime } from './office-alert.ts'
import type { Actor, Role } from './state-machine.ts'
import { deadlineMoved } from './timer-plan.ts'
import { deadlineSet } from './transitions.ts'

/**
 * A supervision note (督办意见): the supervising office (by default the one above the handling
 * office) writes to the handling office, optionally with a new deadline. The handling office is sent
 * the note on its alert channel; a new deadline moves the case's timers.
 */
const OPEN: readonly Case['status'][] = ['received', 'dispatched', 'accepted', 'in_progress', 'replied']
const MAY_SUPERVISE: readonly Role[] = ['supervisor', 'admin']

export function superviseChange(
  ctx: LifecycleContext,
  kase: Case,
  input: { actor: Actor; note: string; deadlineAt?: number; officeId?: string },
  at: number,
): CaseChange | LifecycleRefusal {
  if (!OPEN.includes(kase.status)) {
    return { ok: false, status: 409, code: 'case_closed', message: `[lifecycle] a ${kase.status} case is not supervised; reopen it first` }
  }
  if (!MAY_SUPERVISE.includes(input.actor.role)) {
    return { ok: false, status: 403, code: 'forbidden', message: `[lifecycle] a ${input.actor.role} may not write a supervision note (${MAY_SUPERVISE.join(', ')} may)` }
  }
  const supervising = input.officeId ?? ctx.offices.get(kase.officeId)?.parentId ?? kase.officeId
  if (!ctx.offices.get(supervising)) return { ok: false, status: 422, code: 'unknown_office', message: `[lifecycle] no office "${supervising}"` }
  if (input.officeId && (input.officeId === kase.officeId || !ctx.offices.covers(input.officeId, kase.officeId))) {
    return { ok: false, status: 422, code: 'not_above', message: `[lifecycle] "${input.officeId}" is not above the handling office "${kase.officeId}"` }
  }
  const deadlineAt = input.deadlineAt ?? kase.deadlineAt
  const moved = input.deadlineAt !== undefined && input.deadlineAt !== kase.deadlineAt
  const alert = officeAlert(ctx, kase, kase.officeId, 'supervision', { text: input.note, deadline: showTime(deadlineAt, kase, ctx.policy.calendar.timeZone) }, at)
  return {
    caseId: kase.id,
    at,
    ...(moved ? { patch: { deadlineAt }, timers: deadlineMoved({ deadlineAt }, at, ctx.settings, ctx.policy.calendar) } : {}),
    events: [
      {
        caseId: kase.id,
        at,
        type: 'supervision_note',
        actor: input.actor.id,
        public: false,
        data: { officeId: supervising, note: input.note, ...(input.deadlineAt !== undefined ? { deadlineAt: input.deadlineAt } : {}) },
      },
      ...(moved ? [deadlineSet(kase, at, deadlineAt, 'supervision')] : []),
      ...alert.events,
    ],
    outbound: alert.outbound,
  }
}
