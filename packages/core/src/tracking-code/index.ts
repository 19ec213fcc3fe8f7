import { randomInt } from 'node:crypto'

/**
 * Tracking codes: eight characters shown as `K7F3-9Q28`, from an alphabet without the look-alikes
 * 0/O, 1/I/L. Seven random characters and one check character (weighted sum mod 31, a prime, with
 * distinct weights), so any single mistyped character and any swap of two neighbours is detected
 * instead of matching another case. 31^7 ≈ 2.75e10 codes.
 */
export const TRACKING_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ'
const BASE = TRACKING_ALPHABET.length // 31
const VALUE = new Map([...TRACKING_ALPHABET].map((ch, i) => [ch, i]))

function checkCharacter(body: string): string {
  let sum = 0
  for (let i = 0; i < body.length; i++) sum += (i + 1) * VALUE.get(body[i]!)!
  // choose c so that sum + 8*c ≡ 0 (mod 31); 8's inverse mod 31 is 4 (8*4 = 32 ≡ 1)
  const c = (((BASE - (sum % BASE)) % BASE) * 4) % BASE
  return TRACKING_ALPHABET[c]!
}

/** A new code; `random(n)` returns an integer in [0, n) (injectable for deterministic tests). */
export function newTrackingCode(random: (n: number) => number = randomInt): string {
  let body = ''
  for (let i = 0; i < 7; i++) body += TRACKING_ALPHABET[random(BASE)]
  const code = body + checkCharacter(body)
  return `${code.slice(0, 4)}-${code.slice(4)}`
}

export type TrackingCodeCheck =
  | { ok: true; code: string }
  | { ok: false; reason: 'malformed' | 'check_mismatch' }

/**
 * Normalise what a citizen typed (case, spaces, dash) and verify the check character.
 * `k7f3 9q2m` → `K7F3-9Q28`.
 */
export function parseTrackingCode(input: string): TrackingCodeCheck {
  const raw = input.toUpperCase().replace(/[\s-]/g, '')
  if (raw.length !== 8 || [...raw].some((ch) => !VALUE.has(ch))) return { ok: false, reason: 'malformed' }
  if (checkCharacter(raw.slice(0, 7)) !== raw[7]) return { ok: false, reason: 'check_mismatch' }
  return { ok: true, code: `${raw.slice(0, 4)}-${raw.slice(4)}` }
}

const IN_TEXT = /(?<![A-Z0-9])([2-9A-HJKMNP-Z]{4})-([2-9A-HJKMNP-Z]{4})(?![A-Z0-9])/gi

/**
 * Tracking codes written in free text or a subject line. Only the dashed form counts in free text
 * (a bare eight-letter word is too often an ordinary word). Codes whose check character fails are
 * returned separately so the caller can say "that code looks mistyped".
 */
export function findTrackingCodes(text: string): { valid: string[]; mistyped: string[] } {
  const valid: string[] = []
  const mistyped: string[] = []
  for (const m of text.matchAll(IN_TEXT)) {
    const parsed = parseTrackingCode(m[1]! + m[2]!)
    if (parsed.ok) valid.includes(parsed.code) || valid.push(parsed.code)
    else mistyped.push(m[0])
  }
  return { valid, mistyped }
}
