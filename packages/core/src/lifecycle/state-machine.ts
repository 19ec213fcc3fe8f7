import type { CaseStatus } from '../model/index.ts'

/**
 * The case's states in one place (LIFECYCLE-CONTRACT.md): which transition leads from which status
 * to which, and who may make it. Every change of status goes through `checkTransition`, and every
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
  roles: readonly Role[]
  /** What it does to the deadlines (documentation, and the timer planner's switch). */
  deadlines: 'recount' | 'accepted' | 'none' | 'stop' | 'survey' | 'cancel' | 'renew'
}

const WORKING: readonly CaseStatus[] = ['received', 'dispatched', 'accepted', 'in_progress', 'replied']
const STAFF: readonly Role[] = ['caseworker', 'lead', 'supervisor', 'admin']

export const RULES: Record<Transition, Rule> = {
  // 派单 / 转办: a new office, a new acceptance deadline; the case's deadline by that office's policy.
  dispatch: { from: WORKING, to: 'dispatched', roles: ['lead', 'supervisor', 'admin', 'system'], deadlines: 'recount' },
  transfer: { from: WORKING, to: 'dispatched', roles: ['lead', 'supervisor', 'admin'], deadlines: 'recount' },
  // 退回: back to whoever sent it, who must dispatch it again.
  return: { from: WORKING, to: 'received', roles: STAFF, deadlines: 'recount' },
  // 接单: the acceptance deadline is met.
  accept: { from: ['received', 'dispatched'], to: 'accepted', roles: ['caseworker', 'lead', 'admin'], deadlines: 'accepted' },
  start: { from: ['received', 'dispatched', 'accepted', 'replied'], to: 'in_progress', roles: ['caseworker', 'lead', 'admin'], deadlines: 'accepted' },
  // 答复: a staff reply to the citizen.
  answer: { from: WORKING, to: 'replied', roles: ['caseworker', 'lead', 'admin'], deadlines: 'accepted' },
  // 办结: reminders and escalation stop; the survey is planned.
  resolve: { from: WORKING, to: 'resolved', roles: ['caseworker', 'lead', 'admin'], deadlines: 'survey' },
  // Closed by staff, by a good rating, or by no answer to the survey.
  close: { from: ['resolved'], to: 'closed', roles: ['lead', 'supervisor', 'admin', 'system'], deadlines: 'cancel' },
  // 重办: back to the same office, accepted, with a new deadline.
  reopen: { from: ['resolved', 'closed'], to: 'accepted', roles: ['lead', 'supervisor', 'admin', 'system'], deadlines: 'renew' },
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
