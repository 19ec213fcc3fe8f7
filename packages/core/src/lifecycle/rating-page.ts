import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { html } from 'hono/html'
import { pageLanguage, renderPage, type Html, type PageLanguage } from '../app/page.ts'
import type { Case } from '../model/index.ts'
import { parseTrackingCode } from '../tracking-code/index.ts'
import { clientAddress } from '../app/client-address.ts'
import { clientKey, type LookupThrottle } from '../throttle/index.ts'
import type { Lifecycle } from './service.ts'

/**
 * The rating form on the status page, for citizens the survey cannot reach (an anonymous web form
 * leaves no address): a plain POST form, no script, shown while a resolved case waits for its rating.
 * `POST /status/:code/rating` takes `rating` (1–5) and optional `words`, and answers with a page.
 */
const T = {
  'zh-CN': {
    heading: '评价办理结果',
    legend: '您对办理结果满意吗？',
    options: ['1 很不满意', '2 不满意', '3 一般', '4 基本满意', '5 非常满意'],
    words: '意见（可不填）',
    send: '提交评价',
    title: '评价',
    choose: '请选择 1–5 中的一项。',
    back: '返回进度页',
  },
  en: {
    heading: 'Rate how your case was handled',
    legend: 'How satisfied are you with the result?',
    options: ['1 very dissatisfied', '2 dissatisfied', '3 neither', '4 fairly satisfied', '5 very satisfied'],
    words: 'Comments (optional)',
    send: 'Send rating',
    title: 'Rating',
    choose: 'Please choose one of 1–5.',
    back: 'Back to the status page',
  },
} satisfies Record<PageLanguage, unknown>

/** The form, or nothing when the case is not waiting for a rating. */
export function ratingForm(kase: Case, lang: PageLanguage, error?: string): Html | '' {
  if (kase.status !== 'resolved' || kase.rating !== null) return ''
  const t = T[lang]
  return html`<h2 id="rate">${t.heading}</h2>
<form method="post" action="/status/${kase.trackingCode}/rating?lang=${lang === 'en' ? 'en' : 'zh'}">
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<fieldset><legend>${t.legend}</legend>
${t.options.map((label, i) => html`<p><input type="radio" id="rating-${i + 1}" name="rating" value="${i + 1}"><label for="rating-${i + 1}">${label}</label></p>`)}
</fieldset>
<label for="words">${t.words}</label>
<textarea id="words" name="words" maxlength="2000" rows="3"></textarea>
<button type="submit">${t.send}</button>
</form>`
}

/** The status page's own throttle: a rating form must not become a way around it to guess codes. */
export function createRatingPage(lifecycle: Lifecycle, locale: string, guard: { throttle?: LookupThrottle; trustProxy?: boolean } = {}): Hono {
  const app = new Hono()
  const { store, messaging } = lifecycle.context
  app.post('/status/:code/rating', bodyLimit({ maxSize: 16 * 1024, onError: (c) => c.text('too large', 413) }), async (c) => {
    const lang = pageLanguage(c, locale)
    const t = T[lang]
    const keys = [clientKey(clientAddress(c, guard.trustProxy))]
    if (guard.throttle) {
      const verdict = await guard.throttle.attempt(keys)
      if (!verdict.allowed) {
        c.header('Retry-After', String(Math.ceil(verdict.retryAfterMs / 1000)))
        return c.html(renderPage({ lang, title: t.title, body: html`<p role="alert">${lang === 'en' ? 'Too many attempts from your address; please try again later.' : '尝试次数太多了，请稍后再试。'}</p>` }), 429)
      }
    }
    const parsed = parseTrackingCode(c.req.param('code'))
    const kase = parsed.ok ? await store.getCaseByTrackingCode(parsed.code) : undefined
    if (!kase) await guard.throttle?.miss(keys)
    if (!kase) return c.html(renderPage({ lang, title: t.title, body: html`<p>${lang === 'en' ? 'No case has that tracking code.' : '没有找到这个编号的诉求。'}</p>` }), 404)
    const page = (status: 200 | 400 | 409, body: Html) =>
      c.html(renderPage({ lang, title: t.title, body: html`${body}<p><a href="/status/${kase.trackingCode}?lang=${lang === 'en' ? 'en' : 'zh'}">${t.back}</a></p>` }), status)
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>)
    const rating = typeof form.rating === 'string' && /^[1-5]$/.test(form.rating) ? form.rating : undefined
    const words = typeof form.words === 'string' ? form.words.trim().slice(0, 2000) : ''
    if (!rating) return page(400, ratingForm(kase, lang, t.choose) || html`<p>${t.choose}</p>`)
    const outcome = await lifecycle.rateFromPage(kase, words ? `${rating}，${words}` : rating)
    if (outcome.kind === 'unreadable') return page(400, ratingForm(kase, lang, t.choose) || html`<p>${t.choose}</p>`)
    const forCase = { ...kase, language: lang }
    if (outcome.kind === 'too_early') return page(409, html`<p role="status">${messaging.render('ratingTooEarly', forCase)}</p>`)
    if (outcome.kind === 'already_rated') return page(409, html`<p role="status">${messaging.render('alreadyRated', forCase)}</p>`)
    // The same words the citizen would have been sent: the thanks, or that the case went back to the office.
    const answer = outcome.change.outbound?.find((o) => o.message.channelId === kase.channelId)?.message.text ?? ''
    return page(200, html`<p role="status">${answer}</p>`)
  })
  return app
}
