import { httpGet, storeAttachment, type Attachment, type BlobStore, type HttpClientError } from '@intake/core'

/**
 * MMS and WhatsApp media. The webhook names each item (MediaUrlN, MediaContentTypeN); the bytes stay
 * at Twilio, behind HTTP Basic auth with the account SID and auth token when the account enforces
 * it (https://www.twilio.com/docs/usage/security#http-authentication, "HTTP Basic Authentication
 * for media access"). A media URL answers with a redirect to a short-lived copy on Twilio's CDN.
 */
export interface MediaItem {
  url: string
  contentType: string
}

export interface MediaFetchOptions {
  accountSid: string
  authToken: string
  /** Origins that may see the credentials: Twilio's API and, in tests, its stand-in. */
  trustedOrigins: readonly string[]
  maxBytes: number
  timeoutMs: number
  blobs: BlobStore
}

export type MediaResult = { ok: true; attachment: Attachment } | { ok: false; reason: string }

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/heic': 'heic',
  'video/mp4': 'mp4',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/amr': 'amr',
  'text/vcard': 'vcf',
  'application/pdf': 'pdf',
}
const MAX_REDIRECTS = 3

/** Download one media item into the blob store. Failures are values: the message still becomes a case. */
export async function fetchMedia(item: MediaItem, index: number, opts: MediaFetchOptions): Promise<MediaResult> {
  let url: URL
  try {
    url = new URL(item.url)
  } catch {
    return { ok: false, reason: 'not a URL' }
  }
  const deadline = Date.now() + opts.timeoutMs
  const basic = 'Basic ' + Buffer.from(`${opts.accountSid}:${opts.authToken}`).toString('base64')
  try {
    for (let hop = 0; ; hop++) {
      if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: `unsupported scheme ${url.protocol}` }
      // Redirects are followed by hand so the credentials go only where they belong, never to the CDN.
      const headers: Record<string, string> = opts.trustedOrigins.includes(url.origin) ? { authorization: basic } : {}
      const res = await httpGet(url.href, { headers, maxBytes: opts.maxBytes, timeoutMs: Math.max(1, deadline - Date.now()) })
      const location = res.headers.location
      if (res.status >= 300 && res.status < 400 && location) {
        if (hop >= MAX_REDIRECTS) return { ok: false, reason: 'too many redirects' }
        url = new URL(location, url)
        continue
      }
      if (res.status < 200 || res.status >= 300) return { ok: false, reason: `HTTP ${res.status}` }
      const contentType = (res.headers['content-type'] ?? item.contentType).split(';')[0]!.trim() || 'application/octet-stream'
      const extension = EXTENSIONS[contentType] ?? 'bin'
      return { ok: true, attachment: await storeAttachment(opts.blobs, { bytes: new Uint8Array(res.body), contentType, filename: `media-${index + 1}.${extension}` }) }
    }
  } catch (err) {
    const e = err as HttpClientError
    if (e.code === 'too_large') return { ok: false, reason: `larger than ${opts.maxBytes} bytes` }
    return { ok: false, reason: e.code === 'timeout' ? `no answer within ${opts.timeoutMs} ms` : (e.code ?? e.message) }
  }
}
