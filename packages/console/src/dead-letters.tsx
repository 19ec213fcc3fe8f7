import type { Hono } from 'hono'
import { maskValue } from '@intake/core'
import type { ConsoleDeps, ConsoleEnv } from './app.tsx'
import { formatTime } from './format.ts'
import { ProviderHealthTable } from './provider-health.tsx'

/** Deliveries that gave up, in the user's subtree, each with a retry button. */
export function deadLetterRoutes(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  app.get('/dead-letters', async (c) => {
    const denied = deps.need(c, 'outbox')
    if (denied) return denied
    const t = c.get('t')
    const lang = c.get('lang')
    const items = await deps.store.listOutbox({ status: 'dead', officeIds: c.get('identity').scope?.officeIds, limit: 200 })
    const csrf = c.get('session').csrfToken
    return deps.page(c, {
      title: t.deadLetters,
      section: 'dead-letters',
      body: (
        <>
          <h1>{t.deadLetters}</h1>
          <p>{t.deadIntro}</p>
          {c.req.query('done') ? <p class="notice" role="status">{t.saved}</p> : null}
          {items.length === 0 ? (
            <p>{t.noDead}</p>
          ) : (
            <table class="cases">
              <caption class="skip">{t.deadLetters}</caption>
              <thead>
                <tr>
                  <th scope="col">{t.trackingCode}</th>
                  <th scope="col">{t.channel}</th>
                  <th scope="col">{t.error}</th>
                  <th scope="col">{t.attempts}</th>
                  <th scope="col">{t.time}</th>
                  <th scope="col">{t.retry}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((o) => (
                  <tr>
                    <td><a href={`/console/cases/${encodeURIComponent(o.caseId)}`}>{o.payload.trackingCode}</a></td>
                    <td>{o.channelId} · {maskValue(o.payload.to.id)}</td>
                    <td>{o.lastError ?? ''}</td>
                    <td>{o.attempts}</td>
                    <td>{formatTime(o.updatedAt, lang, deps.timeZone)}</td>
                    <td>
                      <form method="post" action={`/console/dead-letters/${encodeURIComponent(o.id)}/retry`}>
                        <input type="hidden" name="_csrf" value={csrf} />
                        <button type="submit" class="secondary" aria-label={`${t.retry} ${o.payload.trackingCode}`}>{t.retry}</button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <ProviderHealthTable channels={deps.providerHealth()} t={t} />
        </>
      ),
    })
  })

  app.post('/dead-letters/:id/retry', async (c) => {
    const denied = deps.need(c, 'outbox')
    if (denied) return denied
    const item = await deps.store.retryOutbox(c.req.param('id'), deps.now(), c.get('identity').scope)
    if (!item) return deps.refuse(c, 404, c.get('t').noDead)
    const at = deps.now()
    await deps.store.applyCaseChange({ caseId: item.caseId, at, events: [{ caseId: item.caseId, at, type: 'note', actor: c.get('identity').actor, public: false, data: { text: `retry ${item.id}`, outboxId: item.id } }] })
    deps.wakeOutbox()
    return c.redirect('/console/dead-letters?done=1', 303)
  })
}
