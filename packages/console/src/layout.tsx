import type { Child } from 'hono/jsx'
import { localText, type Branding, type Identity, type StaffUser } from '@intake/core'
import type { Dict, Lang } from './i18n.ts'

export type Section = 'cases' | 'supervision' | 'dead-letters' | 'audit' | 'dashboard' | 'sign-in'

export interface LayoutProps {
  title: string
  lang: Lang
  t: Dict
  branding: Branding
  /** The path of this page, for the language switch. */
  path: string
  section: Section
  user?: StaffUser
  identity?: Identity
  csrf?: string
  children: Child
}

const NAV: Array<{ section: Section; href: string; label: (t: Dict) => string; permission: string | string[] }> = [
  { section: 'cases', href: '/console/cases', label: (t) => t.cases, permission: 'read' },
  // Leads too: they decide the extension requests of the offices below.
  { section: 'supervision', href: '/console/supervision', label: (t) => t.supervision, permission: ['supervise', 'dispatch'] },
  { section: 'dead-letters', href: '/console/dead-letters', label: (t) => t.deadLetters, permission: 'outbox' },
  { section: 'audit', href: '/console/audit', label: (t) => t.audit, permission: 'audit' },
  { section: 'dashboard', href: '/console/dashboard', label: (t) => t.dashboard, permission: 'read' },
]

/** Every console page: the agency's header, the sections this role may open, the footer. No script. */
export function Layout(p: LayoutProps) {
  const agency = localText(p.branding.agencyName, p.lang) ?? 'Intake'
  const footer = localText(p.branding.footer, p.lang)
  const sep = p.path.includes('?') ? '&' : '?'
  const other = p.lang === 'zh-CN' ? 'en' : 'zh-CN'
  return (
    <html lang={p.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{`${p.title} · ${agency}`}</title>
        <link rel="icon" href="/favicon.ico" />
        <link rel="stylesheet" href="/console/assets/console.css" />
      </head>
      <body>
        <a class="skip" href="#main">
          {p.t.skip}
        </a>
        <header class="top">
          <div class="brand">
            {p.branding.logoUrl ? <img src={p.branding.logoUrl} alt="" width="32" height="32" /> : null}
            <span>{agency}</span>
            <span class="muted"> · {p.t.console}</span>
          </div>
          <div class="who">
            <a href={`${p.path}${sep}lang=${other}`} lang={other} hreflang={other}>
              {p.t.language}
            </a>
            {p.user && p.csrf ? (
              <form method="post" action="/console/sign-out" class="inline">
                <input type="hidden" name="_csrf" value={p.csrf} />
                <span class="muted">
                  {p.t.signedInAs} {p.user.name}
                </span>{' '}
                <button type="submit" class="link">
                  {p.t.signOut}
                </button>
              </form>
            ) : null}
          </div>
        </header>
        {p.identity ? (
          <nav aria-label={p.t.console} class="tabs">
            <ul>
              {NAV.filter((n) => [n.permission].flat().some((permission) => p.identity!.permissions.has(permission as never))).map((n) => (
                <li>
                  <a href={n.href} aria-current={n.section === p.section ? 'page' : undefined}>
                    {n.label(p.t)}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
        <main id="main" tabindex={-1}>
          {p.children}
        </main>
        <footer class="foot">
          {p.branding.hotline ? (
            <p>
              {p.t.hotline}: <a href={`tel:${p.branding.hotline.replace(/[^\d+]/g, '')}`}>{p.branding.hotline}</a>
            </p>
          ) : null}
          {p.branding.privacyNotice ? (
            <details>
              <summary>{p.t.privacy}</summary>
              <p>{localText(p.branding.privacyNotice, p.lang)}</p>
            </details>
          ) : null}
          {footer ? <p>{footer}</p> : null}
        </footer>
      </body>
    </html>
  )
}

/** The error summary at the top of a form page (GOV.UK pattern): announced, linked to the field. */
export function ErrorSummary({ message, field }: { message?: string; field?: string }) {
  if (!message) return null
  return (
    <div class="error-summary" role="alert" tabindex={-1}>
      <p>{field ? <a href={`#${field}`}>{message}</a> : message}</p>
    </div>
  )
}

export const CSS = `
:root{--fg:#1b1f24;--muted:#57606a;--accent:#0b5cad;--bg:#f6f8fa;--line:#d0d7de;--err:#b42318;--ok:#1a7f37;--warn:#8a4b00}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}a:focus,button:focus,input:focus,select:focus,textarea:focus,summary:focus{outline:3px solid #ffbf47;outline-offset:1px}
.skip{position:absolute;left:-10000px}.skip:focus{left:.5rem;top:.5rem;background:#fff;padding:.5rem;z-index:2}
.top{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:.5rem;background:var(--accent);color:#fff;padding:.5rem 1rem}
.top a,.top .muted,.top .link{color:#fff}.brand{display:flex;align-items:center;gap:.5rem;font-weight:700}
.who{display:flex;gap:1rem;align-items:center;flex-wrap:wrap}.inline{display:inline}
.tabs ul{list-style:none;margin:0;padding:0 1rem;display:flex;flex-wrap:wrap;gap:.25rem;background:#fff;border-bottom:1px solid var(--line)}
.tabs a{display:block;padding:.6rem .75rem;text-decoration:none;color:var(--fg)}.tabs a[aria-current=page]{border-bottom:3px solid var(--accent);font-weight:700}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.25rem 0 1rem}h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
.muted{color:var(--muted)}.foot{max-width:72rem;margin:2rem auto;padding:1rem;color:var(--muted);border-top:1px solid var(--line)}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}.hint{color:var(--muted);font-size:.9rem;margin:0 0 .25rem}
input[type=text],input[type=password],input[type=search],select,textarea{width:100%;max-width:40rem;padding:.5rem;border:1px solid #6e7781;border-radius:4px;font:inherit;background:#fff;color:var(--fg)}
textarea{min-height:7rem}
button{padding:.55rem 1.1rem;font:inherit;font-weight:600;color:#fff;background:var(--accent);border:0;border-radius:4px;cursor:pointer;margin-top:.5rem}
button.secondary{background:#fff;color:var(--accent);border:1px solid var(--accent)}button.link{background:none;border:0;padding:0;margin:0;text-decoration:underline;font-weight:400}
.error-summary{border:3px solid var(--err);padding:.75rem 1rem;margin:0 0 1rem;background:#fff}.error-summary a,.error{color:var(--err);font-weight:700}
.notice{border-left:5px solid var(--ok);background:#fff;padding:.5rem 1rem}
table{width:100%;border-collapse:collapse;background:#fff}caption{text-align:left;font-weight:700;padding:.5rem 0}
th,td{text-align:left;padding:.5rem;border-bottom:1px solid var(--line);vertical-align:top}th{background:#eef1f4}
.badge{display:inline-block;padding:0 .4rem;border-radius:3px;background:#eef1f4;font-size:.85rem}.badge.overdue{background:#fde8e7;color:var(--err);font-weight:700}
.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;background:#fff;padding:.75rem;border:1px solid var(--line)}.filters label{margin:0}.filters>div{min-width:9rem}
.buttons{display:flex;flex-wrap:wrap;gap:.5rem}.pending{border-left:5px solid var(--warn);padding:.25rem .75rem;margin:.75rem 0}h3{font-size:1.05rem;margin:1rem 0 .25rem}.template-pick{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end}.template-pick label,.template-pick .hint{flex-basis:100%}.template-pick select{flex:1 1 14rem}
.filters .check{display:flex;gap:.35rem;align-items:center;font-weight:400}
.case{display:grid;grid-template-columns:minmax(0,2fr) minmax(0,1fr);gap:1rem}.panel{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.75rem 1rem;margin-bottom:1rem}
.msg{border-left:4px solid var(--line);padding:.25rem .75rem;margin:.75rem 0}.msg.in{border-color:#6e7781}.msg.out{border-color:var(--accent)}
.msg .text{white-space:pre-wrap;word-break:break-word}.msg img{max-width:100%;height:auto}
ol.timeline{list-style:none;padding:0;margin:0}ol.timeline li{border-left:3px solid var(--line);padding:.2rem 0 .6rem .75rem}
dl.facts{display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem;margin:0}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:1rem}figure{margin:0;background:#fff;border:1px solid var(--line);padding:.5rem}figure svg{max-width:100%;height:auto}
.pager{display:flex;gap:1rem;margin:1rem 0}
@media (max-width:48rem){.case{grid-template-columns:1fr}table.cases thead{display:none}table.cases td{display:block;border:0;padding:.15rem .5rem}table.cases tr{display:block;border-bottom:1px solid var(--line);padding:.5rem 0}}
`
