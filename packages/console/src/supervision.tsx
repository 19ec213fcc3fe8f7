import type { Hono } from 'hono'
import type { ConsoleDeps, ConsoleEnv } from './app.tsx'
import { formatTime, iso } from './format.ts'

/** 督办: overdue cases in the user's subtree, each with the supervision note form. */
export function supervisionRoutes(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  app.get('/supervision', async (c) => {
    const denied = deps.need(c, 'supervise')
    if (denied) return denied
    const t = c.get('t')
    const lang = c.get('lang')
    const { cases } = await deps.store.listCases({ officeIds: c.get('identity').scope?.officeIds, overdueAt: deps.now(), limit: 100 })
    const csrf = c.get('session').csrfToken
    return deps.page(c, {
      title: t.supervision,
      section: 'supervision',
      body: (
        <>
          <h1>{t.supervision}</h1>
          <p>{t.supervisionIntro}</p>
          {cases.length === 0 ? <p>{t.noCases}</p> : null}
          {cases.map((k) => (
            <section class="panel" aria-labelledby={`s-${k.id}`}>
              <h2 id={`s-${k.id}`}>
                <a href={`/console/cases/${encodeURIComponent(k.id)}`}>{k.trackingCode}</a> <span class="badge overdue">{t.overdue}</span>
              </h2>
              <p>{k.summary}</p>
              <p class="muted">
                {deps.offices.get(k.officeId)?.name ?? k.officeId} · {t.deadline}: <time datetime={iso(k.deadlineAt!)}>{formatTime(k.deadlineAt, lang, deps.timeZone)}</time>
              </p>
              <form method="post" action={`/console/cases/${encodeURIComponent(k.id)}/supervise`}>
                <input type="hidden" name="_csrf" value={csrf} />
                <label for={`supervise-${k.id}`}>{t.supervisionNote}</label>
                <textarea id={`supervise-${k.id}`} name="text" maxlength={2000} required></textarea>
                <label for={`within-${k.id}`}>{t.newDeadline}</label>
                <select id={`within-${k.id}`} name="within">
                  <option value="">{t.keepDeadline}</option>
                  {(['1', '3', '5'] as const).map((d) => <option value={d}>{t.withinDays(Number(d))}</option>)}
                </select>
                <div>
                  <button type="submit">{t.addSupervision}</button>
                </div>
              </form>
            </section>
          ))}
        </>
      ),
    })
  })
}
