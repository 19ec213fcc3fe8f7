/**
 * SMS segmentation (3GPP TS 23.038 alphabets, TS 23.040 concatenation), as Twilio bills and sends it:
 * - GSM-7 when every character is in the GSM 03.38 default alphabet: 160 septets in one SMS, 153
 *   per segment once concatenated (the User Data Header takes 7). Characters of the extension table
 *   (`^ { } \ [ ] ~ | €` and form feed) are sent as ESC + character and take two septets.
 * - UCS-2 (UTF-16 on the wire) as soon as one character is outside it — any Chinese text: 70 code
 *   units in one SMS, 67 per segment concatenated. A character beyond the BMP (an emoji, 𠮷) takes
 *   two code units.
 * A segment never splits an escape pair or a surrogate pair, so a segment may carry one unit less.
 */

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà'
const GSM7_EXTENSION = '\f^{}\\[~]|€'
const BASIC = new Set(GSM7_BASIC)
const EXTENSION = new Set(GSM7_EXTENSION)

export type SmsEncoding = 'GSM-7' | 'UCS-2'

export interface SegmentCount {
  encoding: SmsEncoding
  /** Septets (GSM-7) or UTF-16 code units (UCS-2) the text takes. */
  units: number
  /** SMS parts the text is sent as (0 for an empty text). */
  segments: number
}

const LIMITS: Record<SmsEncoding, { single: number; concatenated: number }> = {
  'GSM-7': { single: 160, concatenated: 153 },
  'UCS-2': { single: 70, concatenated: 67 },
}

/** True when every character of the text has a GSM-7 encoding (basic or extension table). */
export function isGsm7(text: string): boolean {
  for (const ch of text) if (!BASIC.has(ch) && !EXTENSION.has(ch)) return false
  return true
}

function unitWeights(text: string, encoding: SmsEncoding): number[] {
  const weights: number[] = []
  for (const ch of text) {
    if (encoding === 'GSM-7') weights.push(EXTENSION.has(ch) ? 2 : 1)
    else weights.push(ch.length) // 2 for a surrogate pair
  }
  return weights
}

/**
 * How many SMS segments a text is sent as.
 *
 * @example
 * countSegments('Hello')                // { encoding: 'GSM-7', units: 5, segments: 1 }
 * countSegments('路灯坏了'.repeat(18))    // { encoding: 'UCS-2', units: 72, segments: 2 }
 */
export function countSegments(text: string): SegmentCount {
  const encoding: SmsEncoding = isGsm7(text) ? 'GSM-7' : 'UCS-2'
  const weights = unitWeights(text, encoding)
  const units = weights.reduce((a, b) => a + b, 0)
  const { single, concatenated } = LIMITS[encoding]
  if (units === 0) return { encoding, units, segments: 0 }
  if (units <= single) return { encoding, units, segments: 1 }
  let segments = 1
  let used = 0
  for (const w of weights) {
    if (used + w > concatenated) {
      segments++
      used = 0
    }
    used += w
  }
  return { encoding, units, segments }
}

/**
 * The text as it fits in `maxSegments` SMS: unchanged when it fits, otherwise cut at a character
 * boundary and ended with an ellipsis and the link (the case's status page), where the rest can be
 * read. The ellipsis is ASCII for a GSM-7 text, so shortening never switches it to UCS-2 (which
 * would cost more than half its room).
 */
export function fitToSegments(text: string, maxSegments: number, link: string): string {
  return shorten(text, link, (candidate) => countSegments(candidate).segments <= maxSegments)
}

/** The same for channels that limit characters instead of segments (WhatsApp: 1600 through Twilio). */
export function fitToLength(text: string, maxChars: number, link: string): string {
  return shorten(text, link, (candidate) => Array.from(candidate).length <= maxChars)
}

function shorten(text: string, link: string, fits: (candidate: string) => boolean): string {
  if (fits(text)) return text
  const chars = Array.from(text)
  const ellipsis = isGsm7(text) ? '...' : '…'
  const withLink = (k: number) => `${chars.slice(0, k).join('').trimEnd()}${ellipsis} ${link}`
  // Whether a prefix fits only gets worse as it grows (more units, or a switch to UCS-2), so the
  // longest prefix that fits is found by bisection.
  let lo = 0
  let hi = chars.length - 1
  if (!fits(withLink(0))) {
    // Not even the link fits: keep as much text as the room allows, without it.
    hi = chars.length
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2)
      if (fits(chars.slice(0, mid).join(''))) lo = mid
      else hi = mid - 1
    }
    return chars.slice(0, lo).join('')
  }
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (fits(withLink(mid))) lo = mid
    else hi = mid - 1
  }
  return withLink(lo)
}
