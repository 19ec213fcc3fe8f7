import type { Hono } from 'hono'
import { pendingExtension, type Case, type CaseEvent } from '@intake/core'
import type { ConsoleDeps, ConsoleEnv } from './app.tsx'
import { stepsFor } from './case-steps.tsx'
import type { Dict, Lang } from './i18n.ts'
import { formatTime, iso } from './format.ts'

/** Cases per section of the page. */
const LIMIT = 100

/**
 * 督办: in the user's subtree, the extension requests waiting for their decision, the escalated
 * cases still open (level, to whom, since when) and the overdue ones, each with the supervision note
 * form. Supervisors write notes; office leads and supervisors decide extensions of the offices below.
 */
export function supervisionRoutes(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  app.get('/supervision', async (c) => {
    const identity = c.get('identity')
    if (!identity.permissions.has('supervise') && !identity.permissions.has('dispatch')) return deps.refuse(c, 403, c.get('t').forbidden)
    const t = c.get('t')
    const lang = c.get('lang')
    const now = deps.now()
    const officeIds = identity.scope?.officeIds
    // Extensions are decided above the handling office: the user's own office's requests are not theirs.
    const below = officeIds?.filter((id) => id !== identity.officeId)
    const [pending, escalated, overdue] = await Promise.all([
      below && below.length === 0 ? { cases: [] as Case[] } : deps.store.listCases({ officeIds: below, extensionPending: true, limit: LIMIT }),
      deps.store.listCases({ officeIds, escalated: true, limit: LIMIT }),
      deps.store.listCases({ officeIds, overdueAt: now, limit: LIMIT }),
    ])
    const escalatedIds = new Set(escalated.cases.map((k) => k.id))
    const overdueOnly = overdue.cases.filter((k) => !escalatedIds.has(k.id))
    const eventsOf = new Map<string, CaseEvent[]>()
    await Promise.all([...pending.cases, ...escalated.cases].map(async (k) => eventsOf.set(k.id, await deps.store.listEvents(k.id))))
    const view: CardProps['view'] = { t, lang, csrf: c.get('session').csrfToken, now, deps, canSupervise: identity.permissions.has('supervise') }
    const byDeadline = (a: Case, b: Case) => (a.deadlineAt ?? 0) - (b.deadlineAt ?? 0)

    return deps.page(c, {
      title: t.supervision,
      section: 'supervision',
      body: (
        <>
          <h1>{t.supervision}</h1>
          <p>{t.supervisionIntro}</p>

          <h2 id="h-pending">{t.pendingExtensions}</h2>
          {pending.cases.length === 0 ? <p class="muted">{t.noPendingExtensions}</p> : null}
          {pending.cases.map((k) => {
            const request = pendingExtension(eventsOf.get(k.id) ?? [])
            return (
              <Card kase={k} view={view} section="x">
                {request ? <p>{t.extensionAsked(request.actor, formatTime(request.data.deadlineAt as number, lang, deps.timeZone), String(request.data.reason ?? ''))}</p> : null}
                {request && stepsFor(identity, k, deps, true).has('decide_extension') ? <DecisionForm kase={k} view={view} /> : <p class="hint">{t.extensionWaitsAbove}</p>}
              </Card>
            )
          })}

          <h2 id="h-escalated">{t.escalatedCases}</h2>
          {escalated.cases.length === 0 ? <p class="muted">{t.noEscalated}</p> : null}
          {[...escalated.cases].sort(byDeadline).map((k) => {
            const levels = (eventsOf.get(k.id) ?? []).filter((e) => e.type === 'escalated')
            const latest = levels.at(-1)!
            const to = typeof latest.data.officeId === 'string' ? officeName(deps, latest.data.officeId, lang) : '—'
            return (
              <Card kase={k} view={view} section="e">
                <p>
                  <span class="badge overdue">{t.escalationLevel(Number(latest.data.level ?? levels.length))}</span>{' '}
                  {t.escalatedBy(to, formatTime(levels[0]!.at, lang, deps.timeZone))}
                </p>
              </Card>
            )
          })}

          <h2 id="h-overdue">{t.overdueCases}</h2>
          {overdueOnly.length === 0 ? <p class="muted">{t.noOverdue}</p> : null}
          {overdueOnly.sort(byDeadline).map((k) => (
            <Card kase={k} view={view} section="o" />
          ))}
        </>
      ),
    })
  })
}

const officeName = (deps: ConsoleDeps, id: string, lang: Lang) => deps.offices.get(id)?.names[lang] ?? deps.offices.get(id)?.name ?? id

interface CardProps {
  kase: Case
  /** Ids on this page must be unique: a case may be listed in two sections. */
  section: string
  view: { t: Dict; lang: Lang; csrf: string; now: number; deps: ConsoleDeps; canSupervise: boolean }
  children?: unknown
}

/** One case on the page: its code (a link), summary, office and deadline, then the section's part and the note form. */
function Card({ kase: k, section, view, children }: CardProps) {
  const { t, lang, deps } = view
  const id = `${section}-${k.id}`
  const overdue = k.deadlineAt !== null && k.deadlineAt < view.now
  return (
    <section class="panel" aria-labelledby={`s-${id}`}>
      <h3 id={`s-${id}`}>
        <a href={`/console/cases/${encodeURIComponent(k.id)}`}>{k.trackingCode}</a> {overdue ? <span class="badge overdue">{t.overdue}</span> : null}
      </h3>
      <p>{k.summary}</p>
      <p class="muted">
        {officeName(deps, k.officeId, lang)} · {t.statuses[k.status]} · {t.deadline}: {k.deadlineAt !== null ? <time datetime={iso(k.deadlineAt)}>{formatTime(k.deadlineAt, lang, deps.timeZone)}</time> : '—'}
      </p>
      {children as never}
      {view.canSupervise && section !== 'x' ? <SupervisionForm kase={k} view={view} id={id} /> : null}
    </section>
  )
}

function SupervisionForm({ kase: k, view, id }: { kase: Case; view: CardProps['view']; id: string }) {
  const { t } = view
  return (
    <form method="post" action={`/console/cases/${encodeURIComponent(k.id)}/supervise`}>
      <input type="hidden" name="_csrf" value={view.csrf} />
      <label for={`supervise-${id}`}>{t.supervisionNote}</label>
      <textarea id={`supervise-${id}`} name="text" maxlength={2000} required></textarea>
      <label for={`within-${id}`}>{t.newDeadline}</label>
      <select id={`within-${id}`} name="within">
        <option value="">{t.keepDeadline}</option>
        {(['1', '3', '5'] as const).map((d) => <option value={d}>{t.withinDays(Number(d))}</option>)}
      </select>
      <div>
        <button type="submit">{t.addSupervision}</button>
      </div>
    </form>
  )
}

function DecisionForm({ kase: k, view }: { kase: Case; view: CardProps['view'] }) {
  const { t } = view
  return (
    <form method="post" action={`/console/cases/${encodeURIComponent(k.id)}/extension/decision`}>
      <input type="hidden" name="_csrf" value={view.csrf} />
      <label for={`decision-${k.id}`}>{t.extensionDecisionNote}</label>
      <input type="text" id={`decision-${k.id}`} name="note" maxlength={2000} />
      <div class="buttons">
        <button type="submit" name="decision" value="approve">{t.approve}</button>
        <button type="submit" name="decision" value="refuse" class="secondary">{t.refuse}</button>
      </div>
    </form>
  )
}
