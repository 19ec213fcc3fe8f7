import type { PlannedTimer, TimerKind, TimerPlan } from '../contracts/store.ts'
import { addDuration, subtractDuration, type WorkCalendar } from '../deadlines/index.ts'
import type { Case } from '../model/index.ts'
import type { LifecycleSettings } from './settings.ts'

/**
 * Which timers a case has. The deadline's timers form a chain — the reminders before it, the one at
 * it, escalation level 1 and level 2 after it — and only the next one is planned: each plans its
 * successor when it fires, so intake writes two timer rows per case (acceptance and the first link),
 * and moving a deadline replaces one row instead of five.
 */
export const DEADLINE_KINDS: readonly TimerKind[] = ['remind', 'deadline_due', 'escalate']
export const SURVEY_KINDS: readonly TimerKind[] = ['survey', 'survey_expire']

/** The deadline's chain, in order. Reminder points read `1 working day before`; escalation points are the level. */
export function deadlineChain(deadlineAt: number, settings: LifecycleSettings, cal: WorkCalendar): PlannedTimer[] {
  const chain: PlannedTimer[] = settings.reminders
    .map((p) => ({ kind: 'remind', point: `${p} before`, dueAt: subtractDuration(deadlineAt, p, cal) }))
    .sort((a, b) => a.dueAt - b.dueAt)
  chain.push({ kind: 'deadline_due', point: 'due', dueAt: deadlineAt })
  const level1 = addDuration(deadlineAt, settings.escalation.after, cal)
  chain.push({ kind: 'escalate', point: '1', dueAt: level1 })
  if (settings.escalation.secondLevelAfter) chain.push({ kind: 'escalate', point: '2', dueAt: addDuration(level1, settings.escalation.secondLevelAfter, cal) })
  return chain
}

/** The first link still ahead at `now` (reminders already past are skipped; the deadline and escalation never are). */
export function firstLink(deadlineAt: number | null, now: number, settings: LifecycleSettings, cal: WorkCalendar): PlannedTimer[] {
  if (deadlineAt === null) return []
  const first = deadlineChain(deadlineAt, settings, cal).find((t) => t.kind !== 'remind' || t.dueAt > now)
  return first ? [first] : []
}

/** The link after the one that fired. */
export function nextLink(deadlineAt: number | null, fired: Pick<PlannedTimer, 'kind' | 'point'>, now: number, settings: LifecycleSettings, cal: WorkCalendar): PlannedTimer[] {
  if (deadlineAt === null) return []
  const chain = deadlineChain(deadlineAt, settings, cal)
  const i = chain.findIndex((t) => t.kind === fired.kind && t.point === fired.point)
  const next = chain.slice(i + 1).find((t) => t.kind !== 'remind' || t.dueAt > now)
  return i >= 0 && next ? [next] : []
}

/** A new or moved deadline: the deadline's chain starts again (acceptance is left as it is). */
export function deadlineMoved(kase: Pick<Case, 'deadlineAt'>, now: number, settings: LifecycleSettings, cal: WorkCalendar): TimerPlan {
  return { cancel: DEADLINE_KINDS, timers: firstLink(kase.deadlineAt, now, settings, cal) }
}

/** A case landing in an office (intake, dispatch, transfer, return): acceptance and the deadline, afresh. */
export function landed(kase: Pick<Case, 'deadlineAt' | 'acceptDeadlineAt'>, now: number, settings: LifecycleSettings, cal: WorkCalendar): TimerPlan {
  return {
    cancel: ['accept_due', ...DEADLINE_KINDS],
    timers: [...(kase.acceptDeadlineAt !== null ? [{ kind: 'accept_due', point: '', dueAt: kase.acceptDeadlineAt }] : []), ...firstLink(kase.deadlineAt, now, settings, cal)],
  }
}

/** Resolved: everything stops; the survey (when the citizen can be reached) and its expiry are planned. */
export function resolvedPlan(at: number, reachable: boolean, settings: LifecycleSettings, cal: WorkCalendar): TimerPlan {
  return {
    cancel: 'all',
    timers: [
      ...(reachable ? [{ kind: 'survey', point: '', dueAt: addDuration(at, settings.survey.delay, cal) }] : []),
      { kind: 'survey_expire', point: '', dueAt: addDuration(at, settings.survey.expireAfter, cal) },
    ],
  }
}
