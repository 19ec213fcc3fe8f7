import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Request signing, one scheme for every signed HTTP request Intake sends or takes: the api channel
 * (integrator → Intake, Intake → callback) and the event webhooks (Intake → subscriber):
 *   X-Intake-Timestamp: unix seconds
 *   X-Intake-Signature: v1=<hex HMAC-SHA256(secret, `${timestamp}.${raw body}`)>
 * The timestamp is inside the signed bytes, so an old request cannot be replayed with a new time.
 */
export const TIMESTAMP_HEADER = 'x-intake-timestamp'
export const SIGNATURE_HEADER = 'x-intake-signature'

export function computeSignature(secret: string, timestamp: string, body: Uint8Array | string): string {
  return 'v1=' + createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')
}

/** Headers for a signed request; what an integrator's client (or a test) sends. */
export function signRequest(secret: string, body: string, nowMs: number = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000))
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: computeSignature(secret, timestamp, body) }
}

export type SignatureCheck = { ok: true } | { ok: false; code: 'missing_signature' | 'stale_timestamp' | 'bad_signature'; message: string }

/**
 * Check a signed request against any of the secrets (several during a rotation), in constant time,
 * refusing timestamps outside the tolerance so a captured request cannot be replayed later.
 */
export function verifySignature(
  secrets: readonly string[],
  headers: Headers,
  body: Uint8Array,
  nowMs: number,
  toleranceSeconds: number,
): SignatureCheck {
  const timestamp = headers.get(TIMESTAMP_HEADER)
  const presented = headers.get(SIGNATURE_HEADER)
  if (!timestamp || !presented) {
    return { ok: false, code: 'missing_signature', message: `send ${TIMESTAMP_HEADER} and ${SIGNATURE_HEADER} headers` }
  }
  const seconds = Number(timestamp)
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowMs / 1000 - seconds) > toleranceSeconds) {
    return { ok: false, code: 'stale_timestamp', message: `the timestamp is more than ${toleranceSeconds}s from our clock` }
  }
  const given = Buffer.from(presented)
  const match = secrets.some((secret) => {
    const expected = Buffer.from(computeSignature(secret, timestamp, body))
    return expected.length === given.length && timingSafeEqual(expected, given)
  })
  return match ? { ok: true } : { ok: false, code: 'bad_signature', message: 'the signature does not match the body' }
}
