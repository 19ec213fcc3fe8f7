import type { CaseChange, TimerPlan } from '../contracts/store.ts'
import type { Case, CaseEventInput } from '../model/index.ts'
import type { LifecycleContext, LifecycleRefusal } from './context.ts'
import { decideExtension, requestExtension } from './extension.ts'
import { parseRating, ratingChange, type RatingOutcome } from './rating.ts'
import type { Actor, Transition } from './state-machine.ts'
import { superviseChange } from './supervision.ts'
import { landed } from './timer-plan.ts'
import { createTimerWorker, type TimerWorker } from './timer-worker.ts'
import { deadlineSet, transitionChange, type TransitionInput } from './transitions.ts'

export type LifecycleResult = { ok: true; case: Case } | LifecycleRefusal

/**
 * The lifecycle of a case after intake, in one object: status transitions, extension, supervision,
 * the citizen's rating, the deadlines a new case starts with, and the timer worker.
 */
export interface Lifecycle {
  readonly context: LifecycleContext
  readonly timers: TimerWorker
  /** A new case's deadlines, its `deadline_set` event and its first timers (written with the case). */
  startCase(kase: Case, at: number): { deadlineAt: number | null; acceptDeadlineAt: number | null; events: CaseEventInput[]; timers: TimerPlan }
  transition(caseId: string, transition: Exclude<Transition, 'dispatch' | 'transfer' | 'return'>, input: TransitionInput): Promise<LifecycleResult>
  requestExtension(caseId: string, input: { actor: Actor; reason: string; deadlineAt: number }): Promise<LifecycleResult>
  decideExtension(caseId: string, input: { actor: Actor; approved: boolean; note?: string; deadlineAt?: number }): Promise<LifecycleResult>
  supervise(caseId: string, input: { actor: Actor; note: string; deadlineAt?: number; officeId?: string }): Promise<LifecycleResult>
  /** A rating from the status page's form (a message's rating goes through the pipeline). */
  rateFromPage(kase: Case, text: string): Promise<RatingOutcome | { kind: 'unreadable' }>
}

export function createLifecycle(ctx: LifecycleContext): Lifecycle {
  const { store, now } = ctx

  async function apply(caseId: string, build: (kase: Case, at: number) => Promise<CaseChange | LifecycleRefusal> | CaseChange | LifecycleRefusal): Promise<LifecycleResult> {
    const kase = await store.getCase(caseId)
    if (!kase) return { ok: false, status: 404, code: 'not_found', message: 'case not found' }
    const at = now()
    const change = await build(kase, at)
    if ('ok' in change) return change
    const updated = await store.applyCaseChange(change)
    if (change.outbound?.length) ctx.onOutboxQueued?.()
    return { ok: true, case: updated }
  }

  return {
    context: ctx,
    timers: createTimerWorker(ctx),
    startCase(kase, at) {
      const deadlineAt = ctx.policy.deadlineFor(kase, at)
      const acceptDeadlineAt = kase.status === 'accepted' ? null : ctx.policy.acceptBy(kase.officeId, at)
      return {
        deadlineAt,
        acceptDeadlineAt,
        events: [deadlineSet(kase, at, deadlineAt, 'policy', acceptDeadlineAt)],
        timers: { timers: landed({ deadlineAt, acceptDeadlineAt }, at, ctx.settings, ctx.policy.calendar).timers },
      }
    },
    transition: (caseId, transition, input) => apply(caseId, (kase, at) => transitionChange(ctx, kase, transition, input, at)),
    requestExtension: (caseId, input) => apply(caseId, (kase, at) => requestExtension(ctx, kase, input, at)),
    decideExtension: (caseId, input) => apply(caseId, (kase, at) => decideExtension(ctx, kase, input, at)),
    supervise: (caseId, input) => apply(caseId, (kase, at) => superviseChange(ctx, kase, input, at)),
    async rateFromPage(kase, text) {
      const parsed = parseRating(text)
      if (!parsed) return { kind: 'unreadable' }
      const outcome = await ratingChange(ctx, kase, parsed, now())
      // The page answers a refused rating itself; nothing is recorded for it.
      if (outcome.kind === 'rated') {
        await store.applyCaseChange(outcome.change)
        ctx.onOutboxQueued?.()
      }
      return outcome
    },
  }
}
