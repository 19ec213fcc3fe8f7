import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import {
  clientAddress,
  memoryLimiters,
  userIdentity,
  verifyPassword,
  type ConsoleContext,
  type Identity,
  type LimiterBackend,
  type LimitPolicy,
  type Permission,
  type StaffSession,
  type StaffUser,
} from '@intake/core'
import { consoleLang, DICTS, type Dict, type Lang } from './i18n.ts'
import { CSS, ErrorSummary, Layout, type Section } from './layout.tsx'
import type { ReplyTemplateInput } from './reply-templates.ts'
import { currentSession, endSession, sameToken, sessionPolicy, signInCsrf, signInCsrfOk, startSession, type SessionOptions } from './sessions.ts'

export interface StaffConsoleOptions {
  sessions?: SessionOptions
  /** Sign-in attempts per account, and failed ones per client address. Default 5 and 20 per 15 minutes, then blocked 15 minutes. */
  signInLimits?: { perAccount?: LimitPolicy; perAddress?: LimitPolicy }
  /** Shared counters for several processes (default: the gateway's `lookups.backend`, else in memory). */
  limiterBackend?: LimiterBackend
  /** Cases per page (default 50). */
  pageSize?: number
  /** Reply templates offered in the reply box (reply-templates.ts); default a few general ones, `[]` none. */
  replyTemplates?: ReplyTemplateInput[]
}

export type ConsoleEnv = {
  Variables: {
    lang: Lang
    t: Dict
    user: StaffUser
    identity: Identity
    session: StaffSession
  }
}

export interface ConsoleDeps extends ConsoleContext {
  options: StaffConsoleOptions
  /** Renders a full page with the signed-in user's header and navigation. */
  page(c: Context<ConsoleEnv>, p: { title: string; section: Section; status?: number; body: unknown }): Response | Promise<Response>
  /** A 4xx page with one message (and nothing else changed). */
  refuse(c: Context<ConsoleEnv>, status: 400 | 403 | 404 | 409 | 413 | 422 | 429, message: string): Response | Promise<Response>
  /** 403 unless the identity holds the permission. */
  need(c: Context<ConsoleEnv>, permission: Permission): Response | Promise<Response> | undefined
}

const DEFAULT_SIGN_IN_LIMITS = {
  perAccount: { points: 5, durationMs: 15 * 60_000, blockMs: 15 * 60_000 },
  perAddress: { points: 20, durationMs: 15 * 60_000, blockMs: 15 * 60_000 },
} satisfies Record<string, LimitPolicy>

/**
 * The console app, mounted at /console: sign-in, then the pages the routes add. Every POST carries
 * the session's CSRF token; every page sets no script and the gateway's security headers.
 */
export function createConsoleApp(ctx: ConsoleContext, options: StaffConsoleOptions, routes: Array<(app: Hono<ConsoleEnv>, deps: ConsoleDeps) => void>): Hono<ConsoleEnv> {
  const policy = sessionPolicy(options.sessions ?? {}, ctx.publicUrl)
  const backend = options.limiterBackend ?? ctx.limiterBackend ?? memoryLimiters
  const perAccount = backend('console-sign-in-account', options.signInLimits?.perAccount ?? DEFAULT_SIGN_IN_LIMITS.perAccount)
  const perAddress = backend('console-sign-in-address', options.signInLimits?.perAddress ?? DEFAULT_SIGN_IN_LIMITS.perAddress)
  const app = new Hono<ConsoleEnv>()

  const deps: ConsoleDeps = {
    ...ctx,
    options,
    page(c, p) {
      const t = c.get('t')
      return html(
        c,
        <Layout title={p.title} lang={c.get('lang')} t={t} branding={ctx.branding} path={c.req.path + (new URL(c.req.url).search.replace(/([?&])lang=[^&]*&?/, '$1').replace(/[?&]$/, ''))} section={p.section} user={c.get('user')} identity={c.get('identity')} csrf={c.get('session')?.csrfToken}>
          {p.body as never}
        </Layout>,
        p.status ?? 200,
      )
    },
    refuse(c, status, message) {
      return deps.page(c, { title: message, section: 'cases', status, body: <><h1>{message}</h1><p><a href="/console/cases">{c.get('t').cases}</a></p></> })
    },
    need(c, permission) {
      return c.get('identity').permissions.has(permission) ? undefined : deps.refuse(c, 403, c.get('t').forbidden)
    },
  }

  app.use(
    '*',
    bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.text('The form is larger than 64 KiB.', 413) }),
  )
  app.use('*', async (c, next) => {
    const lang = consoleLang(c, ctx.locale)
    c.set('lang', lang)
    c.set('t', DICTS[lang])
    await next()
    // Pages show case details: never kept in a shared cache or the back-forward cache of a shared computer.
    c.header('Cache-Control', 'no-store')
  })

  app.get('/assets/console.css', (c) => c.body(CSS, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' }))

  const signInPage = (c: Context<ConsoleEnv>, status: number, opts: { error?: string; login?: string; next?: string } = {}) => {
    const t = c.get('t')
    const csrf = signInCsrf(c, policy)
    return html(
      c,
      <Layout title={t.signInTitle} lang={c.get('lang')} t={t} branding={ctx.branding} path="/console/sign-in" section="sign-in">
        <h1>{t.signInTitle}</h1>
        <ErrorSummary message={opts.error} field="login" />
        <form method="post" action="/console/sign-in">
          <input type="hidden" name="_csrf" value={csrf} />
          <input type="hidden" name="next" value={opts.next ?? '/console/cases'} />
          <label for="login">{t.login}</label>
          <input type="text" id="login" name="login" autocomplete="username" required value={opts.login ?? ''} aria-invalid={opts.error ? 'true' : undefined} />
          <label for="password">{t.password}</label>
          <input type="password" id="password" name="password" autocomplete="current-password" required />
          <div>
            <button type="submit">{t.signIn}</button>
          </div>
        </form>
      </Layout>,
      status,
    )
  }

  app.get('/', (c) => c.redirect('/console/cases', 302))
  app.get('/sign-in', (c) => signInPage(c, 200, { next: safeNext(c.req.query('next')) }))

  app.post('/sign-in', async (c) => {
    const t = c.get('t')
    const form = await c.req.parseBody()
    if (!signInCsrfOk(c, form._csrf)) return signInPage(c, 403, { error: t.formExpired })
    const login = typeof form.login === 'string' ? form.login.trim().slice(0, 200) : ''
    const password = typeof form.password === 'string' ? form.password.slice(0, 200) : ''
    const next = safeNext(form.next)
    const accountKey = `account:${login.toLowerCase()}`
    const addressKey = `address:${clientAddress(c, ctx.trustProxy)}`
    // The account's budget is spent by every attempt and cleared by a success; the address's by
    // failures only — a whole office signs in from one address (its NAT, the agency's proxy), and
    // a morning's sign-ins must not lock it out.
    const verdicts = await Promise.all([perAccount.consume(accountKey), perAddress.peek(addressKey)])
    const refused = verdicts.filter((v) => !v.allowed)
    if (refused.length) {
      const wait = Math.max(...refused.map((v) => (v.allowed ? 0 : v.retryAfterMs)))
      c.header('Retry-After', String(Math.ceil(wait / 1000)))
      await ctx.store.recordAccountEvent({ at: ctx.now(), type: 'sign_in_failed', actor: 'anonymous', subject: login || '(empty)', data: { reason: 'throttled' } })
      return signInPage(c, 429, { error: t.throttled(wait / 1000), login, next })
    }
    const user = login ? await ctx.store.findUserByLogin(login) : undefined
    // Verify against a throwaway hash when there is no such user, so timing does not tell accounts apart.
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH)
    if (!user || !ok) {
      await perAddress.consume(addressKey)
      await ctx.store.recordAccountEvent({ at: ctx.now(), type: 'sign_in_failed', actor: 'anonymous', subject: login || '(empty)', data: { reason: 'credentials' } })
      return signInPage(c, 401, { error: t.badCredentials, login, next })
    }
    if (user.disabled) return signInPage(c, 403, { error: t.disabled, login, next })
    await perAccount.reset(accountKey)
    await startSession(c, ctx.store, policy, user, ctx.now())
    await ctx.store.recordAccountEvent({ at: ctx.now(), type: 'signed_in', actor: user.id, subject: user.id })
    return c.redirect(next, 303)
  })

  // Everything below needs a session.
  app.use('*', async (c, next) => {
    const found = await currentSession(c, ctx.store, policy, ctx.now())
    if (!found.ok) {
      const t = c.get('t')
      // 401 with the sign-in form in place (no redirect), so a script or a test sees the refusal plainly.
      return signInPage(c, 401, { error: found.reason === 'none' ? undefined : t.sessionEnded, next: c.req.method === 'GET' ? safeNext(c.req.path) : undefined })
    }
    if (!ctx.offices.get(found.user.officeId)) return c.text('Your office is no longer in the office tree.', 403)
    c.set('user', found.user)
    c.set('session', found.session)
    c.set('identity', userIdentity(found.user, ctx.offices))
    if (c.req.method === 'POST') {
      const form = await c.req.parseBody()
      if (!sameToken(found.session.csrfToken, form._csrf)) return deps.refuse(c, 403, c.get('t').formExpired)
    }
    return next()
  })

  app.post('/sign-out', async (c) => {
    await ctx.store.recordAccountEvent({ at: ctx.now(), type: 'signed_out', actor: c.get('user').id, subject: c.get('user').id })
    await endSession(c, ctx.store, policy)
    return c.redirect('/console/sign-in', 303)
  })

  for (const route of routes) route(app, deps)
  app.notFound((c) => c.text('Not found', 404))
  return app
}

/** A whole page: the doctype first (JSX cannot write it), then the document. */
async function html(c: Context, page: unknown, status: number): Promise<Response> {
  return c.html(`<!doctype html>${await (page as { toString(): string | Promise<string> }).toString()}`, status as 200)
}

/** Only a path inside the console: never an open redirect. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/console\/[\w\-/?=&%.]+$/.test(next) ? next : '/console/cases'
}

/** A valid scrypt hash of a random password, to spend the same time on unknown logins. */
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
