import type { Branding } from '../config/branding.ts'
import { Hono } from 'hono'
import { html } from 'hono/html'
import type { Store } from '../contracts/store.ts'
import type { Case, CaseEvent, CaseStatus } from '../model/index.ts'
import type { OfficeDirectory } from '../offices/index.ts'
import { parseTrackingCode } from '../tracking-code/index.ts'
import { clientKey, type LookupThrottle } from '../throttle/index.ts'
import { clientAddress } from './client-address.ts'
import { formatTime, pageLanguage, renderPage, type Html, type PageLanguage } from './page.ts'

const T = {
  'zh-CN': {
    title: '诉求进度查询',
    lookup: '输入编号查询',
    codeLabel: '编号',
    codeHint: '例如 K7F3-9Q28，在回执中可以找到',
    search: '查询',
    mistyped: '这个编号好像输错了一个字符，请再核对一下。',
    malformed: '编号是 8 位字母和数字，例如 K7F3-9Q28。',
    notFound: '没有找到这个编号的诉求。',
    throttled: (minutes: number) => `查询次数太多了，请 ${minutes} 分钟后再试。`,
    status: '当前状态',
    office: '办理单位',
    deadline: '办理时限',
    received: '提交时间',
    timeline: '办理过程',
    events: {
      received: '诉求已受理',
      routed: (o: string) => `已转交${o}办理`,
      acknowledged: '回执已发送',
      follow_up: '您补充了信息',
      dispatched: (o: string) => `已派单至${o}`,
      transferred: (o: string) => `已转办至${o}`,
      replied: '办理单位答复',
      rated: '您已评价',
    },
    statuses: { received: '已受理', dispatched: '已派单', accepted: '已接单', in_progress: '办理中', replied: '已答复', resolved: '已办结', closed: '已结束' },
  },
  en: {
    title: 'Case status',
    lookup: 'Look up a case',
    codeLabel: 'Tracking code',
    codeHint: 'For example K7F3-9Q28; it is in the acknowledgement you received',
    search: 'Look up',
    mistyped: 'That code looks mistyped (one character does not check out). Please check it again.',
    malformed: 'A tracking code is 8 letters and digits, like K7F3-9Q28.',
    notFound: 'No case has that tracking code.',
    throttled: (minutes: number) => `Too many lookups from your address. Please try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
    status: 'Status',
    office: 'Handled by',
    deadline: 'Due by',
    received: 'Received',
    timeline: 'What has happened',
    events: {
      received: 'Your message was received',
      routed: (o: string) => `Passed to ${o}`,
      acknowledged: 'Acknowledgement sent',
      follow_up: 'You added information',
      dispatched: (o: string) => `Dispatched to ${o}`,
      transferred: (o: string) => `Transferred to ${o}`,
      replied: 'Reply from the office',
      rated: 'You rated the answer',
    },
    statuses: { received: 'Received', dispatched: 'Dispatched', accepted: 'Accepted', in_progress: 'In progress', replied: 'Replied', resolved: 'Resolved', closed: 'Closed' },
  },
} satisfies Record<PageLanguage, unknown>

export interface StatusPageDeps {
  branding?: Branding
  store: Store
  offices: OfficeDirectory
  locale: string
  timeZone: string
  /** Lookups per client address; wrong codes spend from a smaller budget (see throttle/). */
  throttle?: LookupThrottle
  /** Read the client address from X-Forwarded-For (set only behind a proxy you trust). */
  trustProxy?: boolean
  /** The rating form for a resolved case waiting for its rating (lifecycle/rating-page.ts). */
  ratingForm?: (kase: Case, lang: PageLanguage) => Html | ''
}

/**
 * The citizen's status page, /status/:code: the case's public timeline and the office's replies.
 * Only events marked public are shown, with office names rather than staff ids; no contact data.
 */
export function createStatusPages(deps: StatusPageDeps): Hono {
  const app = new Hono()

  const officeName = (id: unknown, lang: PageLanguage) => {
    const o = typeof id === 'string' ? deps.offices.get(id) : undefined
    if (!o) return ''
    return lang === 'en' ? (o.names.en ?? o.name) : o.name
  }

  const lookupForm = (lang: PageLanguage, value = '', error?: string): Html => {
    const t = T[lang]
    return html`<h1>${t.lookup}</h1>
<form method="get" action="/status">
<label for="code">${t.codeLabel}</label>
<p class="hint" id="code-hint">${t.codeHint}</p>
<input type="text" id="code" name="code" value="${value}" autocomplete="off" autocapitalize="characters" aria-describedby="code-hint" required>
<input type="hidden" name="lang" value="${lang === 'en' ? 'en' : 'zh'}">
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<button type="submit">${t.search}</button>
</form>`
  }

  app.get('/status', (c) => {
    const lang = pageLanguage(c, deps.locale)
    const code = c.req.query('code')
    if (code) return c.redirect(`/status/${encodeURIComponent(code.trim())}?lang=${lang === 'en' ? 'en' : 'zh'}`, 303)
    return c.html(renderPage({ lang, title: T[lang].title, body: lookupForm(lang), langSwitchPath: '/status', branding: deps.branding }))
  })

  app.get('/status/:code', async (c) => {
    const lang = pageLanguage(c, deps.locale)
    const t = T[lang]
    const typed = c.req.param('code')
    const parsed = parseTrackingCode(typed)
    const page = (status: 200 | 400 | 404 | 429, body: Html) =>
      c.html(renderPage({ lang, title: t.title, body, langSwitchPath: `/status/${encodeURIComponent(typed)}`, branding: deps.branding }), status)
    const keys = [clientKey(clientAddress(c, deps.trustProxy))]
    if (deps.throttle) {
      const verdict = await deps.throttle.attempt(keys)
      if (!verdict.allowed) {
        c.header('Retry-After', String(Math.ceil(verdict.retryAfterMs / 1000)))
        return page(429, lookupForm(lang, typed, t.throttled(Math.max(1, Math.ceil(verdict.retryAfterMs / 60_000)))))
      }
    }
    if (!parsed.ok) {
      await deps.throttle?.miss(keys)
      return page(400, lookupForm(lang, typed, parsed.reason === 'check_mismatch' ? t.mistyped : t.malformed))
    }
    const kase = await deps.store.getCaseByTrackingCode(parsed.code)
    if (!kase) {
      await deps.throttle?.miss(keys)
      return page(404, lookupForm(lang, parsed.code, t.notFound))
    }
    const [events, messages] = await Promise.all([deps.store.listEvents(kase.id), deps.store.listMessages(kase.id)])
    const replyText = new Map(messages.filter((m) => m.direction === 'out').map((m) => [m.id, m.text]))
    const when = (at: number) => formatTime(at, lang, deps.timeZone)
    const line = (e: CaseEvent): Html | undefined => {
      const ev = t.events
      switch (e.type) {
        case 'received':
          return html`${ev.received}`
        case 'routed':
          return html`${ev.routed(officeName(e.data.officeId, lang))}`
        case 'acknowledged':
          return html`${ev.acknowledged}`
        case 'follow_up':
          return html`${ev.follow_up}`
        case 'dispatched':
          return html`${ev.dispatched(officeName(e.data.officeId, lang))}`
        case 'transferred':
          return html`${ev.transferred(officeName(e.data.officeId, lang))}`
        case 'replied': {
          const text = typeof e.data.text === 'string' ? e.data.text : replyText.get(String(e.data.messageId)) ?? ''
          return html`${ev.replied}<div class="reply">${text}</div>`
        }
        case 'status_changed':
          return html`${t.statuses[e.data.to as CaseStatus] ?? ''}`
        case 'rated':
          return html`${ev.rated}`
        default:
          return undefined
      }
    }
    const items = events.filter((e) => e.public).map((e) => ({ at: e.at, body: line(e) })).filter((x) => x.body)
    return page(
      200,
      html`<h1>${t.title}</h1>
<p><span class="code" aria-label="${t.codeLabel}">${kase.trackingCode}</span></p>
<div class="card">
<p><strong>${t.status}:</strong> <span data-testid="case-status">${t.statuses[kase.status]}</span></p>
<p><strong>${t.office}:</strong> ${officeName(kase.officeId, lang)}</p>
<p><strong>${t.received}:</strong> ${when(kase.createdAt)}</p>
${kase.deadlineAt ? html`<p><strong>${t.deadline}:</strong> ${when(kase.deadlineAt)}</p>` : ''}
</div>
<h2>${t.timeline}</h2>
<ol class="timeline">${items.map((i) => html`<li><time>${when(i.at)}</time>${i.body}</li>`)}</ol>
${deps.ratingForm?.(kase, lang) ?? ''}`,
    )
  })

  return app
}
