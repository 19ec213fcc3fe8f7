import type { Context, Hono } from 'hono'
import type { ConsoleDeps, ConsoleEnv } from './app.tsx'
import { formatTime, iso } from './format.ts'

/** The audit trail of the user's subtree (newest first), account changes for administrators, and the chain check. */
export function auditRoutes(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  const render = async (c: Context<ConsoleEnv>, verdict?: Awaited<ReturnType<typeof deps.store.verifyAudit>>) => {
    const t = c.get('t')
    const lang = c.get('lang')
    const identity = c.get('identity')
    const before = Number(c.req.query('before')) || undefined
    const events = await deps.store.listAuditEvents({ scope: identity.scope, beforeId: before, limit: 100 })
    const accounts = identity.permissions.has('staff') ? await deps.store.listAccountEvents({ limit: 50 }) : []
    const broken = verdict && [verdict.caseEvents, verdict.accountEvents].find((v) => !v.ok)
    return deps.page(c, {
      title: t.audit,
      section: 'audit',
      body: (
        <>
          <h1>{t.audit}</h1>
          <p>{t.auditIntro}</p>
          {verdict ? (
            broken && !broken.ok ? (
              <div class="error-summary" role="alert"><p>{t.chainBroken(broken.message)}</p></div>
            ) : (
              <p class="notice" role="status">{t.chainOk((verdict.caseEvents.ok ? verdict.caseEvents.rows : 0) + (verdict.accountEvents.ok ? verdict.accountEvents.rows : 0))}</p>
            )
          ) : null}
          <form method="post" action="/console/audit/verify">
            <input type="hidden" name="_csrf" value={c.get('session').csrfToken} />
            <button type="submit" class="secondary">{t.verify}</button>
          </form>
          <table>
            <caption>{t.timeline}</caption>
            <thead>
              <tr><th scope="col">#</th><th scope="col">{t.time}</th><th scope="col">{t.event}</th><th scope="col">{t.actor}</th><th scope="col">{t.cases}</th></tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr>
                  <td>{e.id}</td>
                  <td><time datetime={iso(e.at)}>{formatTime(e.at, lang, deps.timeZone)}</time></td>
                  <td>{e.type}</td>
                  <td>{e.actor}</td>
                  <td><a href={`/console/cases/${encodeURIComponent(e.caseId)}`}>{e.caseId}</a></td>
                </tr>
              ))}
            </tbody>
          </table>
          {events.length === 100 ? <p class="pager"><a href={`/console/audit?before=${events.at(-1)!.id}`} rel="next">{t.next}</a></p> : null}
          {accounts.length ? (
            <table>
              <caption>{t.accountEvents}</caption>
              <thead>
                <tr><th scope="col">#</th><th scope="col">{t.time}</th><th scope="col">{t.event}</th><th scope="col">{t.actor}</th><th scope="col">{t.login}</th></tr>
              </thead>
              <tbody>
                {accounts.map((e) => (
                  <tr><td>{e.id}</td><td>{formatTime(e.at, lang, deps.timeZone)}</td><td>{e.type}</td><td>{e.actor}</td><td>{e.subject}</td></tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      ),
    })
  }
  app.get('/audit', (c) => deps.need(c, 'audit') ?? render(c))
  app.post('/audit/verify', async (c) => deps.need(c, 'audit') ?? render(c, await deps.store.verifyAudit()))
}
