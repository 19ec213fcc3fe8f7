/**
 * Finding words and place names in citizens' messages, in any script.
 *
 * Chinese (and other scripts written without spaces) match by substring: there is no word boundary
 * to look for. Scripts written with spaces (Latin, Cyrillic, the Arabic script of Uyghur) match
 * case-insensitively on word boundaries, so "bus" does not match "business".
 */

const LETTER_OR_DIGIT = /[\p{L}\p{M}\p{Nd}]/u
const UNSPACED_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u
const HAN = /\p{Script=Han}/u

/** Whether a character belongs to a word of a script that separates words with spaces. */
export function isWordCharacter(ch: string | undefined): boolean {
  return ch !== undefined && LETTER_OR_DIGIT.test(ch) && !UNSPACED_SCRIPT.test(ch)
}

/**
 * Folds what does not change meaning: full-width Latin (ｂｕｓ, common from Chinese input methods)
 * via NFKC, letter case, runs of whitespace. Text and terms must both go through it.
 */
export function normalizeForMatching(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ')
}

export function containsHan(text: string): boolean {
  return HAN.test(text)
}

/** Length in characters (code points), not UTF-16 units: 𠮷 is one character. */
export function characterCount(text: string): number {
  let count = text.length
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const before = text.charCodeAt(i - 1)
      if (before >= 0xd800 && before <= 0xdbff) count--
    }
  }
  return count
}

/** The character that ends just before `end`, a surrogate pair kept whole. */
function characterBefore(text: string, end: number): string | undefined {
  if (end <= 0) return undefined
  const low = text.charCodeAt(end - 1)
  const pair = end >= 2 && low >= 0xdc00 && low <= 0xdfff
  return text.slice(pair ? end - 2 : end - 1, end)
}

function characterAt(text: string, index: number): string | undefined {
  const cp = text.codePointAt(index)
  return cp === undefined ? undefined : String.fromCodePoint(cp)
}

/**
 * Whether `term` may match at `start` in `text` (both normalised): a term that begins or ends with
 * a letter of a spaced script needs a word boundary there.
 */
function onWordBoundaries(text: string, term: string, start: number): boolean {
  const end = start + term.length
  if (isWordCharacter(characterAt(term, 0)) && isWordCharacter(characterBefore(text, start))) return false
  if (isWordCharacter(characterBefore(term, term.length)) && isWordCharacter(characterAt(text, end))) return false
  return true
}

/** Whether the match [start, end) of `text` sits on word boundaries where its first or last character needs one. */
export function isOnWordBoundaries(text: string, start: number, end: number): boolean {
  if (isWordCharacter(characterAt(text, start)) && isWordCharacter(characterBefore(text, start))) return false
  if (isWordCharacter(characterBefore(text, end)) && isWordCharacter(characterAt(text, end))) return false
  return true
}

/** Where `term` first occurs in `text` (both normalised) at or after `from`, or -1. */
export function indexOfTerm(text: string, term: string, from = 0): number {
  if (term.length === 0) return -1
  for (let i = text.indexOf(term, from); i !== -1; i = text.indexOf(term, i + 1)) {
    if (onWordBoundaries(text, term, i)) return i
  }
  return -1
}

export interface TermHit<T> {
  /** UTF-16 offsets in the normalised text. */
  start: number
  end: number
  term: string
  values: readonly T[]
}

/**
 * Many terms matched against a text in one pass: every hit is a whole term, the longest term wins
 * where hits overlap (伽师县 over 伽师), and hits never overlap each other.
 */
export class TermIndex<T> {
  private readonly valuesByTerm = new Map<string, T[]>()
  /** Terms by their first UTF-16 unit, longest first, so a scan only tries plausible terms. */
  private readonly termsByFirstUnit = new Map<string, string[]>()

  constructor(entries: Iterable<{ term: string; value: T }>) {
    for (const { term, value } of entries) {
      const key = normalizeForMatching(term).trim()
      if (key.length === 0) continue
      const values = this.valuesByTerm.get(key)
      if (values) values.push(value)
      else this.valuesByTerm.set(key, [value])
    }
    for (const term of this.valuesByTerm.keys()) {
      const first = term[0]!
      const list = this.termsByFirstUnit.get(first) ?? []
      list.push(term)
      this.termsByFirstUnit.set(first, list)
    }
    for (const list of this.termsByFirstUnit.values()) list.sort((a, b) => b.length - a.length || (a < b ? -1 : 1))
  }

  get size(): number {
    return this.valuesByTerm.size
  }

  /** Hits in the order they occur in the text. */
  find(text: string): TermHit<T>[] {
    const normalized = normalizeForMatching(text)
    const hits: TermHit<T>[] = []
    for (let i = 0; i < normalized.length; i++) {
      for (const term of this.termsByFirstUnit.get(normalized[i]!) ?? []) {
        if (normalized.startsWith(term, i) && onWordBoundaries(normalized, term, i)) {
          hits.push({ start: i, end: i + term.length, term, values: this.valuesByTerm.get(term)! })
        }
      }
    }
    hits.sort((a, b) => b.end - b.start - (a.end - a.start) || a.start - b.start)
    const taken: TermHit<T>[] = []
    for (const hit of hits) {
      if (taken.every((t) => hit.end <= t.start || hit.start >= t.end)) taken.push(hit)
    }
    return taken.sort((a, b) => a.start - b.start)
  }
}
