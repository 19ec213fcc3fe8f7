import type { Permission } from '../access/roles.ts'
import type { Case } from '../model/index.ts'
import type { OfficeDirectory } from '../offices/index.ts'
import { decidesAbove, DECIDE_EXTENSION_PERMISSIONS, MAY_DECIDE_EXTENSION, MAY_REQUEST_EXTENSION, REQUEST_EXTENSION_PERMISSIONS } from './extension.ts'
import { RULES, TRANSITIONS, type Actor, type Transition } from './state-machine.ts'

/** A step on a case: a transition of the state machine, or one of the extension's two. */
export type LifecycleStep = Transition | 'request_extension' | 'decide_extension'

/**
 * The permission each step needs (any one of them): the state machine's table and the extension's.
 * The API's routes and the console's forms check this one table; the roles that may take a step are
 * the roles holding its permission (`rolesHolding`), so a role is offered exactly what it is allowed.
 */
export const STEP_PERMISSIONS: Readonly<Record<LifecycleStep, readonly Permission[]>> = {
  ...(Object.fromEntries(TRANSITIONS.map((t) => [t, RULES[t].permissions])) as Record<Transition, readonly Permission[]>),
  request_extension: REQUEST_EXTENSION_PERMISSIONS,
  decide_extension: DECIDE_EXTENSION_PERMISSIONS,
}

const OPEN: readonly Case['status'][] = ['received', 'dispatched', 'accepted', 'in_progress', 'replied']

/**
 * The steps `actor` may take on `kase` now, read from the state machine's table (`RULES`) and the
 * extension's roles: what a console offers as buttons, so it never shows one the lifecycle would
 * refuse. (Where a step needs more — an office below to dispatch to, someone who sent the case to
 * return it to — the caller checks that too.) With `permissions` (an API token's, which acts as an
 * administrator with only its scopes), the steps those permissions do not cover are left out.
 *
 * @example
 * availableSteps({ status: 'dispatched', officeId: 'township' }, { id: 'u1', role: 'caseworker' }, { offices, extensionPending: false })
 * // ['accept', 'start', 'answer', 'resolve', 'request_extension']
 */
export function availableSteps(
  kase: Pick<Case, 'status' | 'officeId'>,
  actor: Actor,
  ctx: { offices: OfficeDirectory; extensionPending: boolean; permissions?: ReadonlySet<Permission> },
): LifecycleStep[] {
  const steps: LifecycleStep[] = TRANSITIONS.filter((t) => RULES[t].from.includes(kase.status) && RULES[t].roles.includes(actor.role))
  const open = OPEN.includes(kase.status)
  if (open && !ctx.extensionPending && MAY_REQUEST_EXTENSION.includes(actor.role)) steps.push('request_extension')
  if (open && ctx.extensionPending && MAY_DECIDE_EXTENSION.includes(actor.role) && decidesAbove(ctx, actor, kase)) steps.push('decide_extension')
  const held = ctx.permissions
  return held ? steps.filter((s) => STEP_PERMISSIONS[s].some((p) => held.has(p))) : steps
}
