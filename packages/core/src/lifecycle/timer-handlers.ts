import type { CaseChange, DueTimer } from '../contracts/store.ts'
import { OPEN_STATUSES, type Case } from '../model/index.ts'
import type { LifecycleContext } from './context.ts'
import { officeAlert, showTime } from './office-alert.ts'
import { nextLink } from './timer-plan.ts'
import { transitionChange } from './transitions.ts'

/**
 * What each kind of timer does when it comes due: the case change to make with it (events,
 * messages, the next timer), or nothing when the case has moved on. The change is applied in the
 * same transaction that removes the timer, so it happens once.
 */
export type TimerHandler = (ctx: LifecycleContext, timer: DueTimer, kase: Case, at: number) => Promise<CaseChange | undefined> | CaseChange | undefined

const isOpen = (kase: Case) => OPEN_STATUSES.includes(kase.status)

/** The office `level` steps above the handling office (the top of the tree when it is higher than that). */
function supervisingOffice(ctx: LifecycleContext, officeId: string, level: number): string {
  const lineage = ctx.offices.lineage(officeId)
  return (lineage[Math.min(level, lineage.length - 1)] ?? lineage[0])?.id ?? officeId
}

const reminder: TimerHandler = (ctx, timer, kase, at) => {
  if (!isOpen(kase)) return undefined
  const deadline = showTime(kase.deadlineAt, kase, ctx.policy.calendar.timeZone)
  const alert = officeAlert(ctx, kase, kase.officeId, 'reminder', { point: timer.point, deadline, summary: kase.summary }, at)
  return {
    caseId: kase.id,
    at,
    events: [{ caseId: kase.id, at, type: 'reminded', actor: 'system', public: false, data: { officeId: kase.officeId, point: timer.point, ...alert.sentTo } }],
    outbound: alert.outbound,
    timers: { timers: nextLink(kase.deadlineAt, timer, at, ctx.settings, ctx.policy.calendar) },
  }
}

export const DEFAULT_TIMER_HANDLERS: Record<string, TimerHandler> = {
  accept_due(ctx, _timer, kase, at) {
    if (kase.acceptedAt !== null || !['received', 'dispatched'].includes(kase.status)) return undefined
    ctx.metrics?.count('acceptance_overdue', { office: kase.officeId })
    const alert = officeAlert(ctx, kase, kase.officeId, 'acceptanceOverdue', { summary: kase.summary }, at)
    return {
      caseId: kase.id,
      at,
      events: [{ caseId: kase.id, at, type: 'acceptance_overdue', actor: 'system', public: false, data: { officeId: kase.officeId, ...alert.sentTo } }],
      outbound: alert.outbound,
    }
  },

  remind: reminder,
  deadline_due: reminder,

  escalate(ctx, timer, kase, at) {
    if (!isOpen(kase)) return undefined
    const level = Number(timer.point) || 1
    const officeId = supervisingOffice(ctx, kase.officeId, level)
    const handling = ctx.offices.get(kase.officeId)
    const deadline = showTime(kase.deadlineAt, kase, ctx.policy.calendar.timeZone)
    ctx.metrics?.count('escalated', { level: String(level) })
    const alert = officeAlert(ctx, kase, officeId, 'escalation', { level: String(level), handlingOffice: handling?.name ?? kase.officeId, deadline, summary: kase.summary }, at)
    return {
      caseId: kase.id,
      at,
      events: [
        { caseId: kase.id, at, type: 'escalated', actor: 'system', public: false, data: { level, officeId, handlingOfficeId: kase.officeId, ...alert.sentTo } },
      ],
      outbound: alert.outbound,
      timers: { timers: nextLink(kase.deadlineAt, timer, at, ctx.settings, ctx.policy.calendar) },
    }
  },

  async survey(ctx, _timer, kase, at) {
    if (kase.status !== 'resolved' || kase.rating !== null) return undefined
    const survey = ctx.messaging.outbound(kase, 'notice', ctx.messaging.render('survey', kase), 'system', at, await ctx.messaging.threadOf(kase), 'survey')
    return {
      caseId: kase.id,
      at,
      events: [{ caseId: kase.id, at, type: 'survey_sent', actor: 'system', public: true, data: { channelId: kase.channelId, messageId: survey.message.id } }],
      outbound: [survey],
    }
  },

  async survey_expire(ctx, _timer, kase, at) {
    if (kase.status !== 'resolved' || kase.rating !== null) return undefined
    const change = await transitionChange(ctx, kase, 'close', { actor: { id: 'system', role: 'system' }, reason: 'not_rated' }, at)
    return 'ok' in change ? undefined : change
  },
}
