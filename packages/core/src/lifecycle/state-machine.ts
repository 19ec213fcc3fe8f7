import { ROLE_PERMISSIONS, type Permission } from '../access/roles.ts'
import type { CaseStatus } from '../model/index.ts'

/**
 * The case's states in one place (LIFECYCLE-CONTRACT.md): which transition leads from which status
 * to which, and who may make it — the staff roles holding the transition's permission (access/roles.ts:
 * one rule, read by the API's routes, the console's buttons and this check alike). Every change of status goes through `checkTransition`, and every
 * one is recorded as a `status_changed` event `{ from, to, transition, reason? }`.
 *
 *   received ─dispatch→ dispatched ─accept→ accepted ─start→ in_progress ─answer→ replied ─resolve→ resolved ─close→ closed
 *                                                                           reopen (重办): resolved | closed → accepted
 * Transfer and return move the case between offices (status dispatched / received).
 */
export const TRANSITIONS = ['dispatch', 'transfer', 'return', 'accept', 'start', 'answer', 'resolve', 'close', 'reopen'] as const
export type Transition = (typeof TRANSITIONS)[number]

/** Staff roles. The API's keys act as `admin`; `system` is Intake itself (timers, a citizen's rating). */
export const ROLES = ['caseworker', 'lead', 'supervisor', 'admin', 'system'] as const
export type Role = (typeof ROLES)[number]

/**
 * The role to act with: the one a request asks for when it is not more than the caller has (an
 * admin may act as anyone, a lead as a caseworker), else the caller's own.
 */
export function narrowerRole(ceiling: Role, asked?: Role): Role {
  if (!asked || asked === ceiling) return ceiling
  if (ceiling === 'admin' || ceiling === 'system') return asked
  return ceiling === 'lead' && asked === 'caseworker' ? asked : ceiling
}

/** The person or rule making a change. */
export interface Actor {
  /** Staff id, `system`, `citizen`. */
  id: string
  role: Role
  /**
   * The office they act for, where a step depends on it (an extension is decided above the handling
   * office). Absent or null: Intake itself, or a deployment-wide key, above every office.
   */
  officeId?: string | null
}

interface Rule {
  from: readonly CaseStatus[]
  to: CaseStatus
  /** What a person needs to make it (any one of these): the API's routes and the console check it. */
  permissions: readonly Permission[]
  /** The roles that may: the staff roles holding one of `permissions`, and `system` where Intake makes it itself. */
  roles: readonly Role[]
  /** What it does to the deadlines (documentation, and the timer planner's switch). */
  deadlines: 'recount' | 'accepted' | 'none' | 'stop' | 'survey' | 'cancel' | 'renew'
}

const WORKING: readonly CaseStatus[] = ['received', 'dispatched', 'accepted', 'in_progress', 'replied']
const STAFF = ['caseworker', 'lead', 'supervisor', 'admin'] as const

/** The staff roles holding one of `permissions` (roles.ts), and Intake itself when `system`. */
export function rolesHolding(permissions: readonly Permission[], system = false): Role[] {
  return [...STAFF.filter((r) => ROLE_PERMISSIONS[r].some((p) => permissions.includes(p))), ...(system ? (['system'] as const) : [])]
}

const rule = (from: readonly CaseStatus[], to: CaseStatus, permissions: readonly Permission[], deadlines: Rule['deadlines'], system = false): Rule => ({
  from,
  to,
  permissions,
  roles: rolesHolding(permissions, system),
  deadlines,
})

export const RULES: Record<Transition, Rule> = {
  // 派单 / 转办: a new office, a new acceptance deadline; the case's deadline by that office's policy.
  // An office lead's (and a routing rule's); 退回: back to whoever sent it, who must dispatch it again.
  dispatch: rule(WORKING, 'dispatched', ['dispatch'], 'recount', true),
  transfer: rule(WORKING, 'dispatched', ['dispatch'], 'recount'),
  return: rule(WORKING, 'received', ['dispatch'], 'recount'),
  // 接单: the acceptance deadline is met.
  accept: rule(['received', 'dispatched'], 'accepted', ['status'], 'accepted'),
  start: rule(['received', 'dispatched', 'accepted', 'replied'], 'in_progress', ['status'], 'accepted'),
  // 答复: a staff reply to the citizen.
  answer: rule(WORKING, 'replied', ['reply'], 'accepted'),
  // 办结: reminders and escalation stop; the survey is planned.
  resolve: rule(WORKING, 'resolved', ['status'], 'survey'),
  // 结案 and 重办 are the office lead's approval; Intake closes on a good rating or no answer to the
  // survey, and reopens on a bad rating.
  close: rule(['resolved'], 'closed', ['approve'], 'cancel', true),
  // 重办: back to the same office, accepted, with a new deadline.
  reopen: rule(['resolved', 'closed'], 'accepted', ['approve'], 'renew', true),
}

export type TransitionCheck =
  | { ok: true; to: CaseStatus }
  | { ok: false; status: 403 | 409; code: 'invalid_transition' | 'forbidden'; message: string; allowed: Transition[] }

/** The transitions possible from `status` (for anyone). */
export function allowedFrom(status: CaseStatus): Transition[] {
  return TRANSITIONS.filter((t) => RULES[t].from.includes(status))
}

/**
 * May `actor` make `transition` on a case in `status`? An impossible transition is a 409 naming the
 * ones that are possible; a role that may not make it is a 403.
 */
export function checkTransition(status: CaseStatus, transition: Transition, actor: Actor): TransitionCheck {
  const rule = RULES[transition]
  if (!rule.from.includes(status)) {
    const allowed = allowedFrom(status)
    return {
      ok: false,
      status: 409,
      code: 'invalid_transition',
      message: `a ${status} case cannot be ${transition === 'return' ? 'returned' : `${transition}${transition.endsWith('e') ? 'd' : 'ed'}`}; possible: ${allowed.join(', ') || 'none'}`,
      allowed,
    }
  }
  if (!rule.roles.includes(actor.role)) {
    return { ok: false, status: 403, code: 'forbidden', message: `a ${actor.role} may not ${transition} a case (${rule.roles.join(', ')} may)`, allowed: allowedFrom(status) }
  }
  return { ok: true, to: rule.to }
}

/** The transition the old `POST /cases/:id/status { status }` asks for, from the case's status. */
export function transitionTo(from: CaseStatus, to: CaseStatus): Exclude<Transition, 'dispatch' | 'transfer' | 'return'> | undefined {
  if ((from === 'resolved' || from === 'closed') && (to === 'accepted' || to === 'in_progress' || to === 'received')) return 'reopen'
  const byTarget: Partial<Record<CaseStatus, Exclude<Transition, 'dispatch' | 'transfer' | 'return'>>> = { accepted: 'accept', in_progress: 'start', replied: 'answer', resolved: 'resolve', closed: 'close' }
  return byTarget[to]
}

/**
 * The statuses a person in `role` may move a case to by naming the status (a console's select):
 * accept, start, resolve, close and reopen. Answering, dispatching, transferring and returning
 * have their own forms.
 */
export function nextStatuses(status: CaseStatus, role: Role): CaseStatus[] {
  const named: readonly Transition[] = ['accept', 'start', 'resolve', 'close', 'reopen']
  return named.filter((t) => RULES[t].from.includes(status) && RULES[t].roles.includes(role)).map((t) => RULES[t].to)
}
