/**
 * LINE signs every webhook with the channel secret: `X-Line-Signature` is the base64 HMAC-SHA256 of
 * the raw request body (https://developers.line.biz/en/docs/messaging-api/verify-webhook-signature/).
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export const SIGNATURE_HEADER = 'x-line-signature'

export const lineSignature = (channelSecret: string, body: string | Uint8Array): string => createHmac('sha256', channelSecret).update(body).digest('base64')

/** Constant-time: a forged signature takes as long to refuse as a nearly right one. */
export function verifyLineSignature(channelSecret: string, body: Uint8Array, given: string | null): boolean {
  if (!given) return false
  const expected = Buffer.from(lineSignature(channelSecret, body))
  const actual = Buffer.from(given)
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}
