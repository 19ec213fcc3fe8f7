import type { Context } from 'hono'
import { getConnInfo } from '@hono/node-server/conninfo'

/**
 * The client's address, for throttling: the socket's peer. `X-Forwarded-For` is honoured only when
 * the deployment says a proxy it trusts sets it (`trustProxy`); otherwise anyone could pick a fresh
 * address per request and never be throttled.
 */
export function clientAddress(c: Context, trustProxy = false): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim()
    if (forwarded) return forwarded
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    // No socket (app.request in tests, another runtime): one shared budget.
    return 'unknown'
  }
}
