import { addDuration, availableSteps, RETURN_REASONS, type Case, type CaseEvent, type ClusterView, type Identity, type LifecycleStep, type Office, type StaffUser, type WorkCalendar } from '@intake/core'
import type { Dict, Lang } from './i18n.ts'
import { formatTime } from './format.ts'

/** The longest reply and note the forms take (characters). */
export const MAX_REPLY = 4000
export const MAX_NOTE = 2000

/** Status changes made in place, one button each. */
export const IN_PLACE_STEPS = ['accept', 'start', 'resolve', 'close', 'reopen'] as const
export type InPlaceStep = (typeof IN_PLACE_STEPS)[number]

/** Working days an extension may ask for, from the current deadline. */
export const EXTENSION_DAYS = ['1', '2', '3', '5', '10', '15'] as const

/**
 * The steps this identity may take on the case now: core's `availableSteps` with the identity's
 * permissions — the table (`STEP_PERMISSIONS`) the case page's POST routes and the API check too.
 */
export function stepsFor(identity: Identity, kase: Case, deps: { offices: Parameters<typeof availableSteps>[2]['offices'] }, extensionPending: boolean): Set<LifecycleStep> {
  const actor = { id: identity.actor, role: identity.role ?? 'admin', officeId: identity.officeId }
  return new Set(availableSteps(kase, actor, { offices: deps.offices, extensionPending, permissions: identity.permissions }))
}

/** The office whose dispatch or transfer brought the case to its office: where a return sends it. */
export function returnsTo(events: readonly CaseEvent[], kase: Case): string | undefined {
  const brought = events.filter((e) => (e.type === 'dispatched' || e.type === 'transferred') && e.data.to === kase.officeId).at(-1)
  return brought && typeof brought.data.from === 'string' ? brought.data.from : undefined
}

/** The new deadline an extension of `days` working days would give. */
export const extendedDeadline = (kase: Case, days: string, now: number, calendar: WorkCalendar) => addDuration(kase.deadlineAt ?? now, `${days} working days`, calendar)

export interface StepsPanelProps {
  t: Dict
  lang: Lang
  kase: Case
  steps: Set<LifecycleStep>
  action: (name: string) => string
  csrf: string
  officeName: (id: string) => string
  /** Offices below the case's office (dispatch). */
  below: readonly Office[]
  /** Every other office (transfer). */
  others: readonly Office[]
  returnTo: string | undefined
  /** People of the case's office it may be assigned to (the office file's staff and its console accounts). */
  assignable: Array<Pick<StaffUser, 'id' | 'name'>>
  canAssign: boolean
  pending: CaseEvent | undefined
  now: number
  calendar: WorkCalendar
  timeZone: string
}

/** The actions aside: one form per step this person may take, plain HTML that works without script. */
export function StepsPanel(p: StepsPanelProps) {
  const { t, kase } = p
  const Hidden = () => <input type="hidden" name="_csrf" value={p.csrf} />
  const inPlace = IN_PLACE_STEPS.filter((s) => p.steps.has(s))
  const time = (at: number | null) => formatTime(at, p.lang, p.timeZone)
  const nothing = inPlace.length === 0 && !['dispatch', 'transfer', 'return', 'request_extension', 'decide_extension'].some((s) => p.steps.has(s as LifecycleStep)) && !p.canAssign
  return (
    <section class="panel" aria-labelledby="h-actions">
      <h2 id="h-actions">{t.actions}</h2>
      <p class="hint">{nothing ? t.noSteps : t.stepsIntro}</p>
      {inPlace.length ? (
        <form method="post" action={p.action('step')}>
          <Hidden />
          <label for="step-note">{t.stepNote}</label>
          <input type="text" id="step-note" name="note" maxlength={MAX_NOTE} />
          <div class="buttons">
            {inPlace.map((s) => (
              <button type="submit" name="transition" value={s} class={s === 'accept' || s === 'resolve' ? undefined : 'secondary'}>
                {t.steps[s]}
              </button>
            ))}
          </div>
        </form>
      ) : null}
      {p.steps.has('dispatch') && p.below.length ? (
        <form method="post" action={p.action('dispatch')}>
          <Hidden />
          <label for="dispatch-to">{t.dispatchTo}</label>
          <select id="dispatch-to" name="officeId">
            {p.below.map((o) => <option value={o.id}>{p.officeName(o.id)}</option>)}
          </select>
          <label for="dispatch-note">{t.note}</label>
          <input type="text" id="dispatch-note" name="note" maxlength={MAX_NOTE} />
          <div><button type="submit">{t.dispatch}</button></div>
        </form>
      ) : null}
      {p.steps.has('transfer') && p.others.length ? (
        <form method="post" action={p.action('transfer')}>
          <Hidden />
          <label for="transfer-to">{t.transferTo}</label>
          <select id="transfer-to" name="officeId">
            {p.others.map((o) => <option value={o.id}>{p.officeName(o.id)}</option>)}
          </select>
          <label for="transfer-reason">{t.reason}</label>
          <input type="text" id="transfer-reason" name="reason" maxlength={MAX_NOTE} required />
          <div><button type="submit" class="secondary">{t.transfer}</button></div>
        </form>
      ) : null}
      {p.steps.has('return') && p.returnTo ? (
        <form method="post" action={p.action('return')}>
          <Hidden />
          <p class="hint" id="return-hint">→ {p.officeName(p.returnTo)}</p>
          <label for="return-reason">{t.reason}</label>
          <select id="return-reason" name="reason" aria-describedby="return-hint">
            {RETURN_REASONS.map((r) => <option value={r}>{t.returnReasons[r]}</option>)}
          </select>
          <label for="return-note">{t.note}</label>
          <input type="text" id="return-note" name="note" maxlength={MAX_NOTE} />
          <div><button type="submit" class="secondary">{t.returnCase}</button></div>
        </form>
      ) : null}
      {p.canAssign && p.assignable.length ? (
        <form method="post" action={p.action('assign')}>
          <Hidden />
          <label for="assign-to">{t.assignTo}</label>
          <select id="assign-to" name="staffId">
            <option value="">{t.byPolicy}</option>
            {p.assignable.map((u) => <option value={u.id} selected={kase.assigneeId === u.id}>{u.name}</option>)}
          </select>
          <div><button type="submit" class="secondary">{t.assign}</button></div>
        </form>
      ) : null}
      {p.pending ? (
        <div class="pending" id="extension-pending">
          <h3>{t.extensionPending}</h3>
          <p>{t.extensionAsked(p.pending.actor, time(p.pending.data.deadlineAt as number), String(p.pending.data.reason ?? ''))}</p>
          {p.steps.has('decide_extension') ? (
            <form method="post" action={p.action('extension/decision')}>
              <Hidden />
              <label for="decision-note">{t.extensionDecisionNote}</label>
              <input type="text" id="decision-note" name="note" maxlength={MAX_NOTE} />
              <div class="buttons">
                <button type="submit" name="decision" value="approve">{t.approve}</button>
                <button type="submit" name="decision" value="refuse" class="secondary">{t.refuse}</button>
              </div>
            </form>
          ) : (
            <p class="hint">{t.extensionWaitsAbove}</p>
          )}
        </div>
      ) : null}
      {p.steps.has('request_extension') ? (
        <form method="post" action={p.action('extension')}>
          <Hidden />
          <h3>{t.extension}</h3>
          <label for="extension-days">{t.extendBy}</label>
          <select id="extension-days" name="days">
            {EXTENSION_DAYS.map((d) => <option value={d}>{t.extendOption(Number(d), time(extendedDeadline(kase, d, p.now, p.calendar)))}</option>)}
          </select>
          <label for="extension-reason">{t.extensionReason}</label>
          <p class="hint" id="extension-hint">{t.extensionWaitsAbove}</p>
          <textarea id="extension-reason" name="reason" maxlength={MAX_NOTE} required aria-describedby="extension-hint"></textarea>
          <div><button type="submit" class="secondary">{t.requestExtension}</button></div>
        </form>
      ) : null}
    </section>
  )
}

export interface ClusterPanelProps {
  t: Dict
  kase: Case
  /** The cluster, members outside the viewer's scope left out. */
  view: ClusterView | undefined
  canLink: boolean
  action: (name: string) => string
  csrf: string
  officeName: (id: string) => string
}

/** The case's cluster (并案): its members as links, linking by tracking code, taking this case out. */
export function ClusterPanel(p: ClusterPanelProps) {
  const { t } = p
  const Hidden = () => <input type="hidden" name="_csrf" value={p.csrf} />
  return (
    <section class="panel" aria-labelledby="h-cluster">
      <h2 id="h-cluster">{t.cluster}</h2>
      {p.view ? (
        <>
          <p class="muted">
            {t.clusterMembers(p.view.members.length)} · <a href={`/console/cases?cluster=${encodeURIComponent(p.view.cluster.id)}`}>{t.clusterList}</a>
          </p>
          <ul id="cluster-members">
            {p.view.members.map((m) => (
              <li>
                {m.id === p.kase.id ? (
                  <strong>{m.trackingCode} ({t.thisCase})</strong>
                ) : (
                  <a href={`/console/cases/${encodeURIComponent(m.id)}`}>{m.trackingCode}</a>
                )}{' '}
                · {t.statuses[m.status]} · {m.channelId} · {p.officeName(m.officeId)}
              </li>
            ))}
          </ul>
          {p.canLink ? (
            <form method="post" action={p.action('cluster/unlink')}>
              <Hidden />
              <button type="submit" class="secondary">{t.unlink}</button>
            </form>
          ) : null}
        </>
      ) : (
        <p class="muted">{t.notInCluster}</p>
      )}
      {p.canLink && !p.view ? (
        <form method="post" action={p.action('cluster/link')}>
          <Hidden />
          <label for="cluster-code">{t.linkWith}</label>
          <p class="hint" id="cluster-hint">{t.linkHint}</p>
          <input type="text" id="cluster-code" name="trackingCode" maxlength={40} required aria-describedby="cluster-hint" autocomplete="off" />
          <div><button type="submit" class="secondary">{t.link}</button></div>
        </form>
      ) : null}
    </section>
  )
}
