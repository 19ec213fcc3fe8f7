import type { CaseChange, Store } from '../contracts/store.ts'
import { OPEN_STATUSES, type Case, type CaseStatus } from '../model/index.ts'
import type { Messaging } from '../messaging/index.ts'
import type { MessageTemplates } from '../templates/index.ts'
import type { LifecycleContext } from './context.ts'
import { resolvedPlan } from './timer-plan.ts'
import { canReachCitizen } from './transitions.ts'

/**
 * What the office says to a whole cluster. Every member gets it on their own channel, in their own
 * language, through the outbox, with their own tracking code: one matter, many citizens.
 * - `reply`: the office's answer (答复), rendered with the `reply` template; open members become `replied`.
 * - `status`: a status change (e.g. resolve, 办结) with the notice each member is sent, named by its
 *   template (`resolved`) and values. Members already past it (resolved or closed) are left alone.
 */
export type ClusterNotice =
  | { kind: 'reply'; text: string; actor: string }
  | {
      kind: 'status'
      to: CaseStatus
      /** The lifecycle transition (LIFECYCLE-CONTRACT.md): answer, resolve, accept, … */
      transition: string
      actor: string
      note?: string
      /** The notice to send; none for a change the citizen is not told about. */
      template?: keyof MessageTemplates
      values?: Record<string, string>
    }

export interface ClusterFanOutDeps {
  store: Store
  messaging: Messaging
  onOutboxQueued?: () => void
  /** With it, a member resolved here gets its survey planned and its deadline's timers stopped (timer-plan.ts). */
  lifecycle?: LifecycleContext
}

export type ClusterFanOutResult =
  | { ok: true; clusterId: string; changed: Case[]; skipped: Array<{ caseId: string; reason: string }> }
  | { ok: false; status: 404; code: 'cluster_not_found'; message: string }

/**
 * Send `notice` to every member of `clusterId` (but `exceptCaseId`, when the caller has already
 * changed that case itself), as one atomic write: either every member is changed and has their
 * message queued, or none. Call it from any transition on a clustered case to carry it to the others.
 *
 * @example
 * await notifyCluster(deps, kase.clusterId, { kind: 'reply', text: '桥已修复', actor: 'staff-1' }, now())
 */
export async function notifyCluster(deps: ClusterFanOutDeps, clusterId: string, notice: ClusterNotice, at: number, options: { exceptCaseId?: string } = {}): Promise<ClusterFanOutResult> {
  const view = await deps.store.getCluster(clusterId)
  if (!view) return { ok: false, status: 404, code: 'cluster_not_found', message: `no cluster "${clusterId}"` }
  const changes: CaseChange[] = []
  const skipped: Array<{ caseId: string; reason: string }> = []
  for (const member of view.members) {
    if (member.id === options.exceptCaseId) continue
    const change = await changeFor(deps.messaging, member, notice, clusterId, at)
    if (deps.lifecycle && !('reason' in change) && notice.kind === 'status' && notice.to === 'resolved') {
      change.timers = resolvedPlan(at, canReachCitizen(deps.lifecycle, member), deps.lifecycle.settings, deps.lifecycle.policy.calendar)
      if (member.acceptedAt === null) change.patch = { ...change.patch, acceptedAt: at }
    }
    if ('reason' in change) skipped.push({ caseId: member.id, reason: change.reason })
    else changes.push(change)
  }
  const changed = changes.length ? await deps.store.applyCaseChanges(changes) : []
  if (changes.some((c) => c.outbound?.length)) deps.onOutboxQueued?.()
  return { ok: true, clusterId, changed, skipped }
}

async function changeFor(messaging: Messaging, member: Case, notice: ClusterNotice, clusterId: string, at: number): Promise<CaseChange | { reason: string }> {
  const thread = await messaging.threadOf(member)
  if (notice.kind === 'reply') {
    const out = messaging.outbound(member, 'reply', messaging.render('reply', member, { text: notice.text }), notice.actor, at, thread)
    return {
      caseId: member.id,
      at,
      ...(OPEN_STATUSES.includes(member.status) ? { patch: { status: 'replied' as const } } : {}),
      events: [{ caseId: member.id, at, type: 'replied', actor: notice.actor, public: true, data: { messageId: out.message.id, text: notice.text, clusterId } }],
      outbound: [out],
    }
  }
  if (member.status === notice.to) return { reason: `already ${notice.to}` }
  if (!OPEN_STATUSES.includes(member.status)) return { reason: `the case is ${member.status}` }
  const out = notice.template ? [messaging.outbound(member, 'notice', messaging.render(notice.template, member, notice.values), notice.actor, at, thread)] : []
  return {
    caseId: member.id,
    at,
    patch: { status: notice.to, ...(notice.to === 'resolved' ? { resolvedAt: at } : {}) },
    events: [
      {
        caseId: member.id,
        at,
        type: 'status_changed',
        actor: notice.actor,
        public: true,
        data: { from: member.status, to: notice.to, transition: notice.transition, clusterId, ...(notice.note ? { note: notice.note } : {}) },
      },
    ],
    outbound: out,
  }
}
