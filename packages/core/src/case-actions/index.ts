import type { CaseChange, OutboundWrite, Store } from '../contracts/store.ts'
import { OPEN_STATUSES, type Case, type CaseEventInput, type CaseMessage, type CaseStatus, type Office } from '../model/index.ts'
import type { OfficeDirectory } from '../offices/index.ts'
import type { Landing, Messaging } from '../messaging/index.ts'
import type { LifecycleContext } from '../lifecycle/context.ts'
import { allowedFrom, checkTransition, transitionTo, type Role, type Transition } from '../lifecycle/state-machine.ts'
import type { Lifecycle } from '../lifecycle/service.ts'
import { landed } from '../lifecycle/timer-plan.ts'
import { deadlineSet, landingDeadlines, statusChanged } from '../lifecycle/transitions.ts'
import { forwardWrite } from '../forwarding/forward-message.ts'

/**
 * What staff (and rules) do with a case once it is in: dispatch it down the office tree (派单),
 * transfer it to another office (转办), return it to whoever sent it (退回), give it to one person
 * inside the office. Each is one atomic case change with its event; an urgent case that lands in
 * an office is announced to that office at once.
 */

/** Why an office sends a case back (退回). */
export const RETURN_REASONS = ['not_our_remit', 'outside_jurisdiction', 'insufficient_information', 'duplicate', 'other'] as const
export type ReturnReason = (typeof RETURN_REASONS)[number]

export type ActionResult =
  | { ok: true; case: Case; message?: CaseMessage }
  | { ok: false; status: 400 | 403 | 404 | 409 | 422; code: string; message: string; allowed?: readonly string[] }

export interface CaseActionsDeps {
  store: Store
  offices: OfficeDirectory
  messaging: Messaging
  now: () => number
  /** The channel urgent-case alerts go out on (office contact `alert` is the address there). */
  alertChannel?: string
  onOutboxQueued?: () => void
  /** Deadlines and timers of the office a case moves to (the lifecycle); without it, none change. */
  lifecycle?: LifecycleContext
  /** The lifecycle's transitions, for status changes named by status (the console, the API). */
  transition?: Lifecycle['transition']
}

export interface CaseActions {
  dispatch(caseId: string, input: { officeId: string; actor: string; role?: Role; note?: string }): Promise<ActionResult>
  transfer(caseId: string, input: { officeId: string; actor: string; role?: Role; reason: string }): Promise<ActionResult>
  returnCase(caseId: string, input: { actor: string; role?: Role; reason: ReturnReason; note?: string }): Promise<ActionResult>
  /** To one person (`staffId`: the office file's staff or a console account of the office), or by the office's assignment policy when none is given. */
  assign(caseId: string, input: { actor: string; staffId?: string }): Promise<ActionResult>
  /** Answer the citizen on the case's channel (through the outbox); an open case is answered (答复: `replied`). */
  reply(caseId: string, input: { text: string; actor: string; role?: Role }): Promise<ActionResult>
  /** An internal note: on the record, never shown to the citizen. */
  note(caseId: string, input: { text: string; actor: string }): Promise<ActionResult>
  /** Move the case to a status through the lifecycle's state machine (accept, start, resolve, close, reopen). */
  changeStatus(caseId: string, input: { status: CaseStatus; actor: string; role?: Role; note?: string }): Promise<ActionResult>
  /** The assignee, event and alert for a case landing in an office (used at intake as well). */
  landing(kase: Case, officeId: string, at: number, actor: string): Promise<Landing>
}

/** The staff of an office who may get a case now: on duty, in the order the offices file lists them. */
export function staffOnDuty(office: Office, duty: Record<string, boolean>): Office['staff'] {
  return office.staff.filter((s) => duty[s.id] ?? s.onDuty)
}

/**
 * Round-robin goes to the next person on duty after whoever got the last case; least-open goes to
 * whoever has the fewest open cases here (ties: the order of the offices file).
 */
export function pickAssignee(
  office: Office,
  duty: Record<string, boolean>,
  load: { openCases: Record<string, number>; lastAssigneeId: string | null },
): string | null {
  const onDuty = staffOnDuty(office, duty)
  if (office.assignment === 'none' || onDuty.length === 0) return null
  if (office.assignment === 'least-open') {
    let best = onDuty[0]!
    for (const s of onDuty) if ((load.openCases[s.id] ?? 0) < (load.openCases[best.id] ?? 0)) best = s
    return best.id
  }
  const order = office.staff.map((s) => s.id)
  const last = load.lastAssigneeId ? order.indexOf(load.lastAssigneeId) : -1
  for (let step = 1; step <= order.length; step++) {
    const candidate = order[(last + step + order.length) % order.length]!
    if (onDuty.some((s) => s.id === candidate)) return candidate
  }
  return null
}

export function createCaseActions(deps: CaseActionsDeps): CaseActions {
  const { store, offices, messaging, now } = deps

  /** The office that announces urgent cases for `office`: itself, or the nearest above with an alert address. */
  const alertContact = (officeId: string) => offices.lineage(officeId).find((o) => o.contact.alert)

  /**
   * Assignments made here in the last second, by office. A case is written after its landing, and a
   * group commit holds many cases, so messages arriving together all land before the first is
   * committed and the store's load does not count them yet: without these, each would be given to
   * the same person. (Least-open may count a pick twice for up to a second once it is committed.)
   */
  const recentPicks = new Map<string, Array<{ staffId: string; at: number }>>()
  const RECENT_PICKS_MS = 1_000
  /** The store's load plus this process's recent picks. Synchronous: nothing may pick in between until the push. */
  function withRecentPicks(officeId: string, load: Awaited<ReturnType<Store['assignmentLoad']>>, at: number) {
    const recent = (recentPicks.get(officeId) ?? []).filter((p) => p.at > at - RECENT_PICKS_MS)
    recentPicks.set(officeId, recent)
    if (recent.length === 0) return load
    const openCases = { ...load.openCases }
    for (const p of recent) openCases[p.staffId] = (openCases[p.staffId] ?? 0) + 1
    return { openCases, lastAssigneeId: recent.at(-1)!.staffId }
  }

  /**
   * Someone on duty at `office` by its policy. A store shared by several processes decides inside
   * itself (pickAssignee), counting every process's picks; otherwise this process's picks that may
   * not be committed yet are counted here.
   */
  async function pickFor(office: Office, at: number, caseId: string): Promise<string | null> {
    const duty = await store.listDuty()
    if (store.pickAssignee) return store.pickAssignee(office.id, caseId, at, (load) => pickAssignee(office, duty, load))
    const stored = await store.assignmentLoad(office.id)
    const staffId = pickAssignee(office, duty, withRecentPicks(office.id, stored, at))
    if (staffId) recentPicks.get(office.id)!.push({ staffId, at })
    return staffId
  }

  const landing: CaseActions['landing'] = async (kase, officeId, at, actor) => {
    const office = offices.get(officeId)!
    const events: CaseEventInput[] = []
    const outbound: OutboundWrite[] = []
    let assigneeId: string | null = null
    if (office.assignment !== 'none' && office.staff.length) {
      assigneeId = await pickFor(office, at, kase.id)
      if (assigneeId) {
        events.push({ caseId: kase.id, at, type: 'assigned', actor, public: false, data: { officeId, staffId: assigneeId, policy: office.assignment } })
      }
    }
    const contact = kase.urgency === 'urgent' && deps.alertChannel ? alertContact(officeId) : undefined
    if (contact && deps.alertChannel) {
      const landed = { ...kase, officeId }
      const write = messaging.outbound(landed, 'alert', messaging.render('alert', landed, { summary: kase.summary }), 'system', at, undefined, 'alert')
      const to = { channelId: deps.alertChannel, id: contact.contact.alert! }
      outbound.push({
        message: { ...write.message, channelId: deps.alertChannel },
        outbox: { ...write.outbox, channelId: deps.alertChannel, payload: { ...write.outbox.payload, channelId: deps.alertChannel, to } },
      })
      events.push({ caseId: kase.id, at, type: 'alerted', actor: 'system', public: false, data: { officeId: contact.id, channelId: deps.alertChannel, to: to.id } })
    }
    // The office works in another system: the case goes there too (the id it gives comes back as a `forwarded` event).
    if (office.forwardTo) outbound.push(forwardWrite(messaging, kase, { ...office, forwardTo: office.forwardTo }, at))
    return { assigneeId, events, outbound }
  }

  async function load(caseId: string): Promise<Case | ActionResult> {
    const kase = await store.getCase(caseId)
    return kase ?? { ok: false, status: 404, code: 'not_found', message: 'case not found' }
  }

  function closed(kase: Case): ActionResult | undefined {
    if (kase.status === 'resolved' || kase.status === 'closed') {
      return { ok: false, status: 409, code: 'case_closed', message: `a ${kase.status} case is not dispatched or transferred; reopen it first` }
    }
    return undefined
  }

  /**
   * Move the case to another office with its event and `status_changed`, assigning and alerting
   * there; the office's acceptance deadline and deadline policy apply from now on (timers re-planned).
   */
  async function move(kase: Case, to: Office, event: CaseEventInput, transition: Transition, actor: string, role: Role): Promise<ActionResult> {
    const check = checkTransition(kase.status, transition, { id: actor, role })
    if (!check.ok) return { ok: false, status: check.status, code: check.code, message: `[case-actions] ${check.message}`, allowed: check.allowed }
    const at = event.at
    const arrived = await landing(kase, to.id, at, actor)
    const change: CaseChange = {
      caseId: kase.id,
      at,
      patch: { officeId: to.id, status: check.to, assigneeId: arrived.assigneeId },
      events: [event, statusChanged(kase, check.to, transition, actor, at), ...arrived.events],
      outbound: arrived.outbound,
    }
    const lc = deps.lifecycle
    if (lc) {
      const deadlines = landingDeadlines(lc, kase, to.id, at)
      Object.assign(change.patch!, deadlines, { acceptedAt: null })
      change.events.push(deadlineSet(kase, at, deadlines.deadlineAt, 'policy', deadlines.acceptDeadlineAt))
      change.timers = landed(deadlines, at, lc.settings, lc.policy.calendar)
    }
    const updated = await store.applyCaseChange(change)
    if (arrived.outbound.length) deps.onOutboxQueued?.()
    return { ok: true, case: updated }
  }

  const officeOr422 = (id: string): Office | ActionResult =>
    offices.get(id) ?? { ok: false, status: 422, code: 'unknown_office', message: `no office "${id}"` }

  return {
    landing,

    async reply(caseId, { text, actor, role = 'admin' }) {
      const kase = await load(caseId)
      if ('ok' in kase) return kase
      // A reply on an open case is the answer (答复): the status moves, and acceptance is met.
      const answers = OPEN_STATUSES.includes(kase.status) && kase.status !== 'replied'
      if (answers) {
        const check = checkTransition(kase.status, 'answer', { id: actor, role })
        if (!check.ok) return { ok: false, status: check.status, code: check.code, message: check.message, allowed: check.allowed }
      }
      const at = now()
      const out = messaging.outbound(kase, 'reply', messaging.render('reply', kase, { text }), actor, at, await messaging.threadOf(kase), 'reply')
      const firstAcceptance = answers && kase.acceptedAt === null
      const updated = await store.applyCaseChange({
        caseId,
        at,
        patch: answers ? { status: 'replied', ...(firstAcceptance ? { acceptedAt: at } : {}) } : undefined,
        events: [
          { caseId, at, type: 'replied', actor, public: true, data: { messageId: out.message.id, text } },
          ...(answers ? [statusChanged(kase, 'replied', 'answer', actor, at)] : []),
        ],
        outbound: [out],
        ...(firstAcceptance ? { timers: { cancel: ['accept_due'], timers: [] } } : {}),
      })
      deps.onOutboxQueued?.()
      return { ok: true, case: updated, message: out.message }
    },

    async note(caseId, { text, actor }) {
      const kase = await load(caseId)
      if ('ok' in kase) return kase
      const at = now()
      const updated = await store.applyCaseChange({ caseId, at, events: [{ caseId, at, type: 'note', actor, public: false, data: { text } }] })
      return { ok: true, case: updated }
    },

    async changeStatus(caseId, { status, actor, role = 'admin', note }) {
      const kase = await load(caseId)
      if ('ok' in kase) return kase
      if (!deps.transition) return { ok: false, status: 409, code: 'no_lifecycle', message: 'status changes need the lifecycle' }
      // The state machine decides (lifecycle/state-machine.ts); this names a status, not a transition.
      const transition = transitionTo(kase.status, status)
      if (!transition || transition === 'answer') {
        const allowed = allowedFrom(kase.status)
        const why = status === 'dispatched' ? ' (dispatch naming the office)' : status === 'replied' ? ' (answer with a reply)' : ''
        return { ok: false, status: 409, code: 'invalid_transition', message: `a ${kase.status} case cannot become ${status}${why}; possible: ${allowed.join(', ')}`, allowed }
      }
      const check = checkTransition(kase.status, transition, { id: actor, role })
      if (!check.ok) return { ok: false, status: check.status, code: check.code, message: check.message, allowed: check.allowed }
      const result = await deps.transition(kase.id, transition, { actor: { id: actor, role }, ...(note ? { note } : {}), reason: transition === 'close' || transition === 'reopen' ? 'staff' : undefined })
      return result.ok ? { ok: true, case: result.case } : { ok: false, status: result.status, code: result.code, message: result.message, ...(result.allowed ? { allowed: result.allowed } : {}) }
    },

    async dispatch(caseId, { officeId, actor, role = 'admin', note }) {
      const kase = await load(caseId)
      if ('ok' in kase) return kase
      const to = officeOr422(officeId)
      if ('ok' in to) return to
      const refused = closed(kase)
      if (refused) return refused
      if (to.id === kase.officeId || !offices.covers(kase.officeId, to.id)) {
        return { ok: false, status: 422, code: 'not_below', message: `dispatch goes down the tree: "${to.id}" is not below "${kase.officeId}" (use transfer to send it sideways)` }
      }
      const at = now()
      const event: CaseEventInput = { caseId, at, type: 'dispatched', actor, public: true, data: { from: kase.officeId, to: to.id, officeId: to.id, officeName: to.name, ...(note ? { note } : {}) } }
      return move(kase, to, event, 'dispatch', actor, role)
    },

    async transfer(caseId, { officeId, actor, role = 'admin', reason }) {
      const kase = await load(caseId)
      if ('ok' in kase) return kase
      const to = officeOr422(officeId)
      if ('ok' in to) return to
      const refused = closed(kase)
      if (refused) return refused
      if (to.id === kase.officeId) return { ok: false, status: 422, code: 'same_office', message: 'the case is already with that office' }
      const at = now()
      const event: CaseEventInput = { caseId, at, type: 'transferred', actor, public: true, data: { from: kase.officeId, to: to.id, officeId: to.id, officeName: to.name, reason } }
      return move(kase, to, event, 'transfer', actor, role)
    },

    async returnCase(caseId, { actor, role = 'admin', reason, note }) {
      const kase = await load(caseId)
      if ('ok' in kase) return kase
      const refused = closed(kase)
      if (refused) return refused
      // Back to whoever sent it here: the latest dispatch or transfer that brought it to this office.
      const events = await store.listEvents(caseId)
      const brought = events.filter((e) => (e.type === 'dispatched' || e.type === 'transferred') && e.data.to === kase.officeId).at(-1)
      const from = brought && typeof brought.data.from === 'string' ? offices.get(brought.data.from) : undefined
      if (!from) return { ok: false, status: 409, code: 'nothing_to_return_to', message: 'this case was not dispatched or transferred to its office, so there is no one to return it to' }
      const at = now()
      const event: CaseEventInput = { caseId, at, type: 'returned', actor, public: false, data: { from: kase.officeId, to: from.id, reason, ...(note ? { note } : {}) } }
      return move(kase, from, event, 'return', actor, role)
    },

    async assign(caseId, { actor, staffId }) {
      const kase = await load(caseId)
      if ('ok' in kase) return kase
      const office = offices.get(kase.officeId)!
      const at = now()
      let assigneeId: string | null
      if (staffId) {
        // The office file's staff, or a console account of this office (not disabled).
        const user = office.staff.some((s) => s.id === staffId) ? undefined : await store.getUser(staffId)
        if (!office.staff.some((s) => s.id === staffId) && !(user && user.officeId === office.id && !user.disabled)) {
          return { ok: false, status: 422, code: 'unknown_staff', message: `"${staffId}" is not on the staff of ${office.name}` }
        }
        assigneeId = staffId
      } else {
        assigneeId = await pickFor(office, at, caseId)
        if (!assigneeId) return { ok: false, status: 409, code: 'no_one_on_duty', message: `no one at ${office.name} is on duty to take the case` }
      }
      const updated = await store.applyCaseChange({
        caseId,
        at,
        patch: { assigneeId },
        events: [{ caseId, at, type: 'assigned', actor, public: false, data: { officeId: office.id, staffId: assigneeId, policy: staffId ? 'by-hand' : office.assignment } }],
      })
      return { ok: true, case: updated }
    },
  }
}
