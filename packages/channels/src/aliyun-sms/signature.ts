import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Alibaba Cloud's RPC request signature, version 1.0 (HMAC-SHA1), as SendSms takes it:
 * https://www.alibabacloud.com/help/en/sms/signature-method (阿里云短信「签名机制」,
 * https://help.aliyun.com/document_detail/101343.html).
 *
 *   canonical    = sort(params without Signature by name).map(k => enc(k) + '=' + enc(v)).join('&')
 *   stringToSign = METHOD + '&' + enc('/') + '&' + enc(canonical)
 *   Signature    = base64(HMAC-SHA1(AccessKeySecret + '&', stringToSign))
 *
 * `enc` is RFC 3986 percent-encoding in UTF-8: everything but A–Z a–z 0–9 - _ . ~ is escaped, a
 * space is %20 (not +), `*` is %2A. The docs' worked example (testId / testSecret, SendSms to
 * 15300000001 on 2017-07-12T02:42:19Z) signs to zJDF+Lrzhj/ThnlvIToysFRq6t4= ; the test checks it.
 */
export function percentEncode(value: string): string {
  // encodeURIComponent leaves ! ' ( ) * alone; Alibaba's Java reference (URLEncoder + fix-ups) escapes them.
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

export function canonicalQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k]!)}`)
    .join('&')
}

export function rpcSignature(method: string, params: Record<string, string>, accessKeySecret: string): string {
  const stringToSign = `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonicalQuery(params))}`
  return createHmac('sha1', `${accessKeySecret}&`).update(stringToSign, 'utf8').digest('base64')
}

/** Constant-time check of a presented RPC signature (the stand-in's side of the exchange). */
export function rpcSignatureMatches(method: string, params: Record<string, string>, accessKeySecret: string): boolean {
  const presented = Buffer.from(params.Signature ?? '')
  const expected = Buffer.from(rpcSignature(method, params, accessKeySecret))
  return presented.length === expected.length && timingSafeEqual(presented, expected)
}

/** Alibaba's ISO 8601 UTC timestamp without milliseconds: 2017-07-12T02:42:19Z. */
export const rpcTimestamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
