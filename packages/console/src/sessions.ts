import { timingSafeEqual } from 'node:crypto'
import type { Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { newSecret, secretHash, type StaffSession, type StaffUser, type Store } from '@intake/core'

/**
 * Console sessions live in the store (revocable: disabling a user or resetting a password ends them),
 * keyed by the SHA-256 of a random id that only the browser's cookie holds. The cookie is HttpOnly,
 * SameSite=Lax, Secure (and `__Host-`) when the console is served over TLS. A session ends after
 * `idleMinutes` without a request and after `absoluteHours` whatever happens.
 */
export interface SessionOptions {
  idleMinutes?: number
  absoluteHours?: number
}

export interface SessionPolicy {
  idleMs: number
  absoluteMs: number
  secure: boolean
  cookie: string
}

export function sessionPolicy({ idleMinutes = 30, absoluteHours = 12 }: SessionOptions, publicUrl: string): SessionPolicy {
  if (!(idleMinutes > 0) || !(absoluteHours > 0)) throw new Error('[console] session idleMinutes and absoluteHours must be positive')
  const secure = publicUrl.startsWith('https:')
  // __Host- makes the browser refuse the cookie unless it is Secure, path=/ and host-only.
  return { idleMs: idleMinutes * 60_000, absoluteMs: absoluteHours * 3_600_000, secure, cookie: secure ? '__Host-intake_console' : 'intake_console' }
}

/** Touching the session on every request would write on every page view; once a minute is enough for the idle timeout. */
const TOUCH_EVERY_MS = 60_000

export async function startSession(c: Context, store: Store, policy: SessionPolicy, user: StaffUser, now: number): Promise<StaffSession> {
  const id = newSecret()
  const session: StaffSession = { idHash: secretHash(id), userId: user.id, csrfToken: newSecret(), createdAt: now, lastSeenAt: now, expiresAt: now + policy.absoluteMs }
  await store.saveSession(session)
  setCookie(c, policy.cookie, id, { path: '/', httpOnly: true, sameSite: 'Lax', secure: policy.secure })
  return session
}

export type SessionLookup =
  | { ok: true; session: StaffSession; user: StaffUser }
  | { ok: false; reason: 'none' | 'unknown' | 'expired' | 'disabled' }

export async function currentSession(c: Context, store: Store, policy: SessionPolicy, now: number): Promise<SessionLookup> {
  const id = getCookie(c, policy.cookie)
  if (!id) return { ok: false, reason: 'none' }
  const idHash = secretHash(id)
  const session = await store.findSession(idHash)
  // A forged or revoked id finds nothing: the same answer as no cookie, without saying which.
  if (!session) return { ok: false, reason: 'unknown' }
  if (now >= session.expiresAt || now - session.lastSeenAt >= policy.idleMs) {
    await store.deleteSessions({ idHash })
    return { ok: false, reason: 'expired' }
  }
  const user = await store.getUser(session.userId)
  if (!user || user.disabled) {
    await store.deleteSessions({ idHash })
    return { ok: false, reason: 'disabled' }
  }
  if (now - session.lastSeenAt >= TOUCH_EVERY_MS) await store.touchSession(idHash, now)
  return { ok: true, session, user }
}

export async function endSession(c: Context, store: Store, policy: SessionPolicy): Promise<void> {
  const id = getCookie(c, policy.cookie)
  if (id) await store.deleteSessions({ idHash: secretHash(id) })
  deleteCookie(c, policy.cookie, { path: '/', secure: policy.secure })
}

export function sameToken(expected: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false
  const a = Buffer.from(secretHash(expected))
  const b = Buffer.from(secretHash(presented))
  return timingSafeEqual(a, b)
}

/**
 * The sign-in form comes before any session: its CSRF token is a double-submit cookie (a login CSRF
 * would sign the victim in as the attacker).
 */
const SIGN_IN_CSRF = 'intake_signin_csrf'

export function signInCsrf(c: Context, policy: SessionPolicy): string {
  const existing = getCookie(c, SIGN_IN_CSRF)
  if (existing && existing.length >= 32) return existing
  const token = newSecret()
  setCookie(c, SIGN_IN_CSRF, token, { path: '/console', httpOnly: true, sameSite: 'Strict', secure: policy.secure })
  return token
}

export function signInCsrfOk(c: Context, presented: unknown): boolean {
  const cookie = getCookie(c, SIGN_IN_CSRF)
  return !!cookie && sameToken(cookie, presented)
}
