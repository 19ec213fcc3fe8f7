import { html, raw } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import type { Context } from 'hono'
import { localText, type Branding } from '../config/branding.ts'

export type PageLanguage = 'zh-CN' | 'en'
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>

/** The language of a public page: ?lang=, then the browser's Accept-Language, then the deployment's. */
export function pageLanguage(c: Context, fallback: string): PageLanguage {
  const asked = c.req.query('lang') ?? c.req.header('accept-language') ?? fallback
  return /^zh/i.test(asked.trim()) ? 'zh-CN' : /^en/i.test(asked.trim()) ? 'en' : /^zh/i.test(fallback) ? 'zh-CN' : 'en'
}

const STYLE = `
:root{--fg:#1b1f24;--muted:#57606a;--accent:#0b5cad;--bg:#f6f8fa;--ok:#1a7f37;--err:#b42318}
*{box-sizing:border-box}body{margin:0;font:16px/1.6 system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:40rem;margin:0 auto;padding:1rem 1rem 3rem}header{background:var(--accent);color:#fff;padding:.75rem 1rem}
header a{color:#fff}h1{font-size:1.4rem;margin:.5rem 0 1rem}label{display:block;font-weight:600;margin:1rem 0 .25rem}
.hint{color:var(--muted);font-size:.9rem;margin:.1rem 0 .3rem}input[type=text],input[type=email],input[type=tel],textarea{width:100%;padding:.6rem;border:1px solid #8c959f;border-radius:6px;font:inherit;background:#fff}
textarea{min-height:9rem}button{margin-top:1.25rem;padding:.75rem 1.5rem;font:inherit;font-weight:600;color:#fff;background:var(--accent);border:0;border-radius:6px;cursor:pointer}
.code{font:700 1.8rem/1.2 ui-monospace,Menlo,Consolas,monospace;letter-spacing:.08em;background:#fff;border:2px dashed var(--accent);padding:.5rem 1rem;display:inline-block;border-radius:8px}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1rem;margin:1rem 0}ol.timeline{list-style:none;padding:0}
ol.timeline li{border-left:3px solid var(--accent);padding:.25rem 0 .75rem 1rem;margin-left:.25rem}time{color:var(--muted);font-size:.9rem;display:block}
.reply{white-space:pre-wrap;background:var(--bg);padding:.5rem;border-radius:6px}.error{color:var(--err);font-weight:600}
.lang{float:right}fieldset{border:0;padding:0;margin:0}.check{display:flex;gap:.5rem;align-items:center;font-weight:400}
.hp{position:absolute;left:-10000px}
header img{vertical-align:middle;margin-right:.5rem}footer{max-width:40rem;margin:0 auto;padding:1rem;color:var(--muted);font-size:.9rem}
`

/** A public page: mobile-first, labelled, in the citizen's language. Every interpolated value is escaped. */
export function renderPage(opts: { lang: PageLanguage; title: string; body: Html; langSwitchPath?: string; branding?: Branding }): Html {
  const b = opts.branding
  const agency = localText(b?.agencyName, opts.lang) ?? 'Intake'
  const privacy = localText(b?.privacyNotice, opts.lang)
  const footer = localText(b?.footer, opts.lang)
  const hotlineLabel = opts.lang === 'zh-CN' ? '热线' : 'Hotline'
  const privacyLabel = opts.lang === 'zh-CN' ? '隐私说明' : 'Privacy notice'
  const other = opts.lang === 'zh-CN' ? { lang: 'en', label: 'English' } : { lang: 'zh', label: '中文' }
  const sep = opts.langSwitchPath?.includes('?') ? '&' : '?'
  return html`<!doctype html>
<html lang="${opts.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · ${agency}</title>
<link rel="icon" href="/favicon.ico">
<style>${raw(STYLE)}</style>
</head>
<body>
<header>${opts.langSwitchPath ? html`<a class="lang" href="${opts.langSwitchPath}${sep}lang=${other.lang}" lang="${other.lang}">${other.label}</a>` : ''}${b?.logoUrl ? html`<img src="${b.logoUrl}" alt="" width="28" height="28">` : ''}<strong>${agency}</strong>${b?.hotline ? html` · ${hotlineLabel} <a href="tel:${b.hotline.replace(/[^\d+]/g, '')}">${b.hotline}</a>` : ''}</header>
<main>${opts.body}</main>
${b && (privacy || footer) ? html`<footer>${privacy ? html`<details><summary>${privacyLabel}</summary><p>${privacy}</p></details>` : ''}${footer ? html`<p>${footer}</p>` : ''}</footer>` : ''}
</body>
</html>`
}

export function formatTime(at: number, lang: PageLanguage, timeZone: string): string {
  return new Intl.DateTimeFormat(lang, { timeZone, dateStyle: 'medium', timeStyle: 'short' }).format(new Date(at))
}
