import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import type { Hono, MiddlewareHandler } from 'hono'
import { localText, type Branding } from '../config/branding.ts'

/**
 * Headers every response carries. No page runs inline script (styles may be inline: the citizen
 * pages set a few), nothing may frame a page (clickjacking on the console's forms), and referrers
 * never carry a case URL to another site.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

const HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Content-Security-Policy', CONTENT_SECURITY_POLICY],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'same-origin'],
  ['X-Frame-Options', 'DENY'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
]

export function securityHeaders(): MiddlewareHandler {
  return async function securityHeaders(c, next) {
    await next()
    // Set on the response's own headers: `c.header` after the handler rebuilds the response around a
    // stream of its body, which costs the intake path more than everything else in Hono together.
    // A response with immutable headers (one passed through from fetch) is rebuilt as before.
    try {
      const headers = c.res.headers
      for (const [name, value] of HEADERS) headers.set(name, value)
    } catch {
      for (const [name, value] of HEADERS) c.header(name, value)
    }
  }
}

const TYPES: Record<string, string> = { '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon' }

/** /favicon.ico from the branding's file, or a plain mark with the agency's first letter. */
export function mountFavicon(app: Hono, branding: Branding, locale: string): void {
  let body: Uint8Array | string
  let type: string
  if (branding.faviconFile) {
    body = readFileSync(branding.faviconFile)
    type = TYPES[extname(branding.faviconFile).toLowerCase()] ?? 'application/octet-stream'
  } else {
    const letter = [...(localText(branding.agencyName, locale) ?? 'I')][0]!.replace(/[<>&"']/g, '')
    body = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b5cad"/><text x="16" y="23" font-size="20" text-anchor="middle" fill="#fff" font-family="sans-serif">${letter}</text></svg>`
    type = 'image/svg+xml'
  }
  const serve = () => new Response(body as BodyInit, { headers: { 'content-type': type, 'cache-control': 'public, max-age=86400' } })
  app.get('/favicon.ico', serve)
  app.get('/favicon.svg', serve)
}
