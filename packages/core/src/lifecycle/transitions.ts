import type { CaseChange, OutboundWrite } from '../contracts/store.ts'
import type { Case, CaseEventInput } from '../model/index.ts'
import { addDuration } from '../deadlines/index.ts'
import type { LifecycleContext, LifecycleRefusal } from './context.ts'
import { checkTransition, type Actor, type Transition } from './state-machine.ts'
import { firstLink, resolvedPlan } from './timer-plan.ts'

/**
 * Status changes made in place — accept, start, answer, resolve, close, reopen — each checked
 * against the state machine and built as one case change with its `status_changed` event, its
 * deadline effects and its timers. (Dispatch, transfer and return move the case between offices:
 * case-actions builds those, with `landingDeadlines` below.)
 */
export interface TransitionInput {
  actor: Actor
  /** On close: rated | not_rated | staff; on reopen: rating | staff | citizen. */
  reason?: string
  note?: string
}

/** Whether a survey can reach the citizen on the case's channel: a web form answers on the status page only. */
export function canReachCitizen(ctx: LifecycleContext, kase: Case): boolean {
  const adapter = ctx.channels[kase.channelId]
  return adapter !== undefined && adapter.kind !== 'web-form'
}

/**
 * The `status_changed` event. Public (the status page shows the new status) unless a specific public
 * event already tells the citizen the same (dispatched, transferred, replied).
 */
export const statusChanged = (
  kase: Case,
  to: Case['status'],
  transition: Transition,
  actor: string,
  at: number,
  reason?: string,
  note?: string,
  shown = !['dispatch', 'transfer', 'return', 'answer'].includes(transition),
): CaseEventInput => ({
  caseId: kase.id,
  at,
  type: 'status_changed',
  actor,
  public: shown,
  data: { from: kase.status, to, transition, ...(reason ? { reason } : {}), ...(note ? { note } : {}) },
})

export const deadlineSet = (
  kase: Pick<Case, 'id'>,
  at: number,
  deadlineAt: number | null,
  reason: 'policy' | 'extension' | 'supervision' | 'reopen',
  acceptDeadlineAt?: number | null,
): CaseEventInput => ({
  caseId: kase.id,
  at,
  type: 'deadline_set',
  actor: 'system',
  public: true,
  data: { deadlineAt, ...(acceptDeadlineAt !== undefined ? { acceptDeadlineAt } : {}), reason },
})

/**
 * The change a transition makes to `kase` at `at`, or why it may not be made. `outbound` carries
 * what the citizen is sent (the resolution notice); the caller adds anything else.
 */
export async function transitionChange(
  ctx: LifecycleContext,
  kase: Case,
  transition: Exclude<Transition, 'dispatch' | 'transfer' | 'return'>,
  input: TransitionInput,
  at: number,
): Promise<CaseChange | LifecycleRefusal> {
  const check = checkTransition(kase.status, transition, input.actor)
  if (!check.ok) return { ok: false, status: check.status, code: check.code, message: `[lifecycle] ${check.message}`, allowed: check.allowed }
  const to = check.to
  const events: CaseEventInput[] = [statusChanged(kase, to, transition, input.actor.id, at, input.reason, input.note)]
  const outbound: OutboundWrite[] = []
  const change: CaseChange = { caseId: kase.id, at, patch: { status: to }, events, outbound }
  const firstAcceptance = kase.acceptedAt === null
  switch (transition) {
    case 'accept':
    case 'start':
    case 'answer':
      if (firstAcceptance) {
        change.patch!.acceptedAt = at
        change.timers = { cancel: ['accept_due'], timers: [] }
      }
      break
    case 'resolve':
      change.patch!.resolvedAt = at
      if (firstAcceptance) change.patch!.acceptedAt = at
      outbound.push(ctx.messaging.outbound(kase, 'notice', ctx.messaging.render('resolved', kase), input.actor.id, at, await ctx.messaging.threadOf(kase), 'resolved'))
      change.timers = resolvedPlan(at, canReachCitizen(ctx, kase), ctx.settings, ctx.policy.calendar)
      break
    case 'close':
      change.timers = { cancel: 'all', timers: [] }
      break
    case 'reopen': {
      // 重办: the same office, accepted at once (it already knows the case), with a fresh deadline.
      const within = ctx.settings.survey.reopenWithin
      const deadlineAt = within ? addDuration(at, within, ctx.policy.calendar) : ctx.policy.deadlineFor(kase, at)
      Object.assign(change.patch!, { acceptedAt: at, acceptDeadlineAt: null, resolvedAt: null, rating: null, deadlineAt, reopenCount: kase.reopenCount + 1 })
      events.push(deadlineSet(kase, at, deadlineAt, 'reopen'))
      change.timers = { cancel: 'all', timers: firstLink(deadlineAt, at, ctx.settings, ctx.policy.calendar) }
      break
    }
  }
  return change
}

/** For a case landing in `officeId` at `at`: its acceptance deadline, and its deadline by that office's policy from when it came in. */
export function landingDeadlines(ctx: LifecycleContext, kase: Case, officeId: string, at: number): Pick<Case, 'deadlineAt' | 'acceptDeadlineAt'> {
  return {
    deadlineAt: ctx.policy.deadlineFor({ ...kase, officeId }, kase.createdAt),
    acceptDeadlineAt: ctx.policy.acceptBy(officeId, at),
  }
}
