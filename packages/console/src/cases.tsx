import type { Hono } from 'hono'
import { z } from 'zod'
import { CaseStatus, maskCase, OPEN_STATUSES, type CaseFilterInput } from '@intake/core'
import type { ConsoleDeps, ConsoleEnv } from './app.tsx'
import { formatTime, iso } from './format.ts'

const DUE_SOON_MS = 24 * 3_600_000
/** The list header counts up to this many ("10000+"); beyond it the number says nothing a caseworker needs. */
const COUNT_UP_TO = 10_000

const ListQuery = z.object({
  status: CaseStatus.optional().catch(undefined),
  due: z.enum(['overdue', 'soon']).optional().catch(undefined),
  category: z.string().max(100).optional(),
  channel: z.string().max(100).optional(),
  mine: z.literal('1').optional().catch(undefined),
  /** Escalated (督办) or waiting for an extension decision (延期). */
  attention: z.enum(['escalated', 'extension']).optional().catch(undefined),
  cluster: z.string().max(100).optional(),
  cursor: z.string().max(200).optional(),
})

/** The office's cases (its subtree), newest first, with filters and keyset paging. */
export function caseListRoutes(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  const pageSize = deps.options.pageSize ?? 50

  app.get('/cases', async (c) => {
    const t = c.get('t')
    const lang = c.get('lang')
    const identity = c.get('identity')
    const q = ListQuery.parse(c.req.query())
    const now = deps.now()
    const filter: CaseFilterInput = {
      officeIds: identity.scope?.officeIds,
      status: q.status,
      category: q.category || undefined,
      channelId: q.channel || undefined,
      assigneeId: q.mine ? c.get('user').id : undefined,
      clusterId: q.cluster || undefined,
      ...(q.attention === 'escalated' ? { escalated: true } : q.attention === 'extension' ? { extensionPending: true } : {}),
      ...(q.due === 'overdue' ? { overdueAt: now } : q.due === 'soon' ? { dueAfter: now, dueBefore: now + DUE_SOON_MS } : {}),
    }
    let page
    try {
      ;[page] = await Promise.all([deps.store.listCases({ ...filter, limit: pageSize, cursor: q.cursor })])
    } catch (err) {
      if ((err as { code?: string }).code === 'invalid_cursor') return deps.refuse(c, 400, 'invalid cursor')
      throw err
    }
    const total = await deps.store.countCases(filter, COUNT_UP_TO)
    const keep = new URLSearchParams(Object.entries({ status: q.status, due: q.due, category: q.category, channel: q.channel, mine: q.mine, attention: q.attention, cluster: q.cluster }).filter(([, v]) => v) as Array<[string, string]>)
    const office = (id: string) => deps.offices.get(id)?.names[lang === 'en' ? 'en' : 'zh-CN'] ?? deps.offices.get(id)?.name ?? id
    const channels = [...new Set(page.cases.map((k) => k.channelId))]

    return deps.page(c, {
      title: t.cases,
      section: 'cases',
      body: (
        <>
          <h1>{t.cases}</h1>
          <form method="get" action="/console/cases" class="filters" aria-label={t.filters}>
            <div>
              <label for="f-status">{t.status}</label>
              <select id="f-status" name="status">
                <option value="">{t.any}</option>
                {CaseStatus.options.map((s) => (
                  <option value={s} selected={q.status === s}>
                    {t.statuses[s]}
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label for="f-due">{t.deadline}</label>
              <select id="f-due" name="due">
                <option value="">{t.any}</option>
                <option value="overdue" selected={q.due === 'overdue'}>
                  {t.overdue}
                </option>
                <option value="soon" selected={q.due === 'soon'}>
                  {t.dueSoon}
                </option>
              </select>
            </div>
            <div>
              <label for="f-category">{t.category}</label>
              <input type="text" id="f-category" name="category" value={q.category ?? ''} />
            </div>
            <div>
              <label for="f-channel">{t.channel}</label>
              <input type="text" id="f-channel" name="channel" value={q.channel ?? ''} list="channels" />
              <datalist id="channels">{channels.map((ch) => <option value={ch} />)}</datalist>
            </div>
            <div>
              <label for="f-attention">{t.supervision}</label>
              <select id="f-attention" name="attention">
                <option value="">{t.any}</option>
                <option value="escalated" selected={q.attention === 'escalated'}>
                  {t.escalated}
                </option>
                <option value="extension" selected={q.attention === 'extension'}>
                  {t.extensionPending}
                </option>
              </select>
            </div>
            <div>
              <label for="f-cluster">{t.cluster_filter}</label>
              <input type="text" id="f-cluster" name="cluster" value={q.cluster ?? ''} />
            </div>
            <div>
              <label class="check" for="f-mine">
                <input type="checkbox" id="f-mine" name="mine" value="1" checked={!!q.mine} /> {t.assignedToMe}
              </label>
            </div>
            <div>
              <button type="submit">{t.apply}</button>
            </div>
          </form>
          <p class="muted" id="total">{total >= COUNT_UP_TO ? t.totalAtLeast(COUNT_UP_TO) : t.total(total)}</p>
          {page.cases.length === 0 ? (
            <p>{t.noCases}</p>
          ) : (
            <table class="cases">
              <caption class="skip">{t.cases}</caption>
              <thead>
                <tr>
                  <th scope="col">{t.trackingCode}</th>
                  <th scope="col">{t.summary}</th>
                  <th scope="col">{t.status}</th>
                  <th scope="col">{t.office}</th>
                  <th scope="col">{t.citizen}</th>
                  <th scope="col">{t.deadline}</th>
                  <th scope="col">{t.received}</th>
                </tr>
              </thead>
              <tbody>
                {page.cases.map((raw) => {
                  const k = maskCase(raw)
                  const overdue = k.deadlineAt !== null && k.deadlineAt < now && OPEN_STATUSES.includes(k.status)
                  return (
                    <tr>
                      <td>
                        <a href={`/console/cases/${encodeURIComponent(k.id)}`}>{k.trackingCode}</a>
                      </td>
                      <td>{k.summary.length > 80 ? `${k.summary.slice(0, 80)}…` : k.summary}</td>
                      <td>
                        <span class="badge">{t.statuses[k.status]}</span>
                      </td>
                      <td>{office(k.officeId)}</td>
                      <td>
                        {k.channelId} · {k.citizen.id}
                      </td>
                      <td>
                        {k.deadlineAt ? <time datetime={iso(k.deadlineAt)}>{formatTime(k.deadlineAt, lang, deps.timeZone)}</time> : '—'}{' '}
                        {overdue ? <span class="badge overdue">{t.overdue}</span> : null}
                      </td>
                      <td>
                        <time datetime={iso(k.createdAt)}>{formatTime(k.createdAt, lang, deps.timeZone)}</time>
                      </td>
                    </tr>
                  )
                })}
              </tbody>
            </table>
          )}
          <nav class="pager" aria-label={t.next}>
            {q.cursor ? <a href={`/console/cases?${keep}`}>{t.first}</a> : null}
            {page.nextCursor ? <a href={`/console/cases?${new URLSearchParams([...keep, ['cursor', page.nextCursor]])}`} rel="next">{t.next}</a> : null}
          </nav>
        </>
      ),
    })
  })
}
