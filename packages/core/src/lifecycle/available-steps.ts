import type { Case } from '../model/index.ts'
import type { OfficeDirectory } from '../offices/index.ts'
import { decidesAbove, MAY_DECIDE_EXTENSION, MAY_REQUEST_EXTENSION } from './extension.ts'
import { RULES, TRANSITIONS, type Actor, type Transition } from './state-machine.ts'

/** A step on a case: a transition of the state machine, or one of the extension's two. */
export type LifecycleStep = Transition | 'request_extension' | 'decide_extension'

const OPEN: readonly Case['status'][] = ['received', 'dispatched', 'accepted', 'in_progress', 'replied']

/**
 * The steps `actor` may take on `kase` now, read from the state machine's table (`RULES`) and the
 * extension's roles: what a console offers as buttons, so it never shows one the lifecycle would
 * refuse. (Where a step needs more — an office below to dispatch to, someone who sent the case to
 * return it to — the caller checks that too.)
 *
 * @example
 * availableSteps({ status: 'dispatched', officeId: 'township' }, { id: 'u1', role: 'caseworker' }, { offices, extensionPending: false })
 * // ['return', 'accept', 'start', 'answer', 'resolve', 'request_extension']
 */
export function availableSteps(
  kase: Pick<Case, 'status' | 'officeId'>,
  actor: Actor,
  ctx: { offices: OfficeDirectory; extensionPending: boolean },
): LifecycleStep[] {
  const steps: LifecycleStep[] = TRANSITIONS.filter((t) => RULES[t].from.includes(kase.status) && RULES[t].roles.includes(actor.role))
  const open = OPEN.includes(kase.status)
  if (open && !ctx.extensionPending && MAY_REQUEST_EXTENSION.includes(actor.role)) steps.push('request_extension')
  if (open && ctx.extensionPending && MAY_DECIDE_EXTENSION.includes(actor.role) && decidesAbove(ctx, actor, kase)) steps.push('decide_extension')
  return steps
}
