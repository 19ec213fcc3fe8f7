import twilio from 'twilio'
import type { RawRequest, Verification } from '@intake/core'

/**
 * Twilio's webhook signature (https://www.twilio.com/docs/usage/security#validating-requests):
 *   X-Twilio-Signature = base64(HMAC-SHA1(authToken, url + every POST parameter name+value, sorted by name))
 * or, for a JSON body, the URL carries `bodySHA256=<hex SHA-256 of the body>` and only the URL is
 * signed. The URL is the one configured in the Twilio console — the public one, with its scheme,
 * host and query string — not the one a proxy hands on, so it is built from configuration.
 * Checking is left to the official SDK (`validateRequest` / `validateRequestWithBody`), which also
 * tries the URL with and without the default port and compares in constant time.
 */
export const SIGNATURE_HEADER = 'x-twilio-signature'

export type FormParams = Record<string, string | string[]>

const FORM = /^\s*application\/x-www-form-urlencoded\s*(;|$)/i

export const isForm = (req: RawRequest) => FORM.test(req.headers.get('content-type') ?? '')

/** POST parameters as the SDK signs them: a repeated name keeps all its values. */
export function formParams(body: string): FormParams {
  const params: FormParams = {}
  for (const [name, value] of new URLSearchParams(body)) {
    const seen = params[name]
    params[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value]
  }
  return params
}

/** The URL Twilio signed: the channel's public base, the route, and the query string as received. */
export function signedUrl(publicBase: string, routePath: string, received: URL): string {
  return `${publicBase.replace(/\/+$/, '')}${routePath}${received.search}`
}

export function verifyTwilioSignature(authToken: string, req: RawRequest, url: string): Verification {
  const signature = req.headers.get(SIGNATURE_HEADER)
  if (!signature) {
    return { ok: false, error: { status: 403, code: 'missing_signature', message: `send the ${SIGNATURE_HEADER} header` } }
  }
  let valid: boolean
  if (/[?&]bodySHA256=/.test(url)) {
    valid = twilio.validateRequestWithBody(authToken, signature, url, req.text())
  } else {
    // A body that is not a form carries no signed parameters (Twilio signs the URL alone then).
    valid = twilio.validateRequest(authToken, signature, url, isForm(req) ? formParams(req.text()) : {})
  }
  return valid ? { ok: true } : { ok: false, error: { status: 403, code: 'bad_signature', message: 'the X-Twilio-Signature does not match this request' } }
}
