/**
 * How alike two citizens' words are, for duplicate clusters: the Dice coefficient of their
 * character n-gram sets. Chinese is written without spaces and one character carries a word's
 * weight, so a run of CJK characters gives character bigrams; other scripts give character
 * trigrams inside each word (padded, so short words count and "broken"/"broke" still share most).
 * No dictionary, no model: cheap enough to compare a new case with dozens of candidates at intake.
 */

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/
const SPLIT = /([\u3400-\u9fff\uf900-\ufaff]+)|([\p{L}\p{N}]+)/gu

/**
 * Words that say nothing about the matter (greetings, politeness, "please deal with it"): every
 * appeal has them, so they only make unrelated appeals look alike.
 */
const FILLER = [
  '您好', '你好', '请问', '麻烦', '谢谢', '感谢', '希望', '尽快', '处理', '解决', '有关部门', '相关部门', '反映', '投诉', '市民', '我们', '我家', '你们', '一下',
]
const FILLER_WORDS = new Set([
  'hello', 'hi', 'please', 'thanks', 'thank', 'you', 'the', 'a', 'an', 'and', 'or', 'of', 'to', 'in', 'on', 'at', 'is', 'are', 'was', 'were', 'it', 'this', 'that',
  'there', 'my', 'our', 'we', 'i', 'for', 'with', 'has', 'have', 'been', 'be', 'can', 'someone', 'fix', 'asap', 'look', 'into', 'near', 'by', 'from', 'again',
])

/**
 * The n-grams a text is compared on, as a sorted list of their distinct 32-bit hashes (a set:
 * repeating a word does not make a text more alike). Hashes rather than strings: a new case is
 * compared with up to twenty candidates at intake, and merging two sorted number arrays is an order
 * of magnitude cheaper than probing a set of strings. Two n-grams sharing a hash (about one pair in
 * 40 million for texts of this length) would only nudge a score up by one n-gram.
 */
export type Shingles = Uint32Array

export function textShingles(text: string): Shingles {
  let normalized = text.normalize('NFKC').toLowerCase()
  for (const f of FILLER) if (normalized.includes(f)) normalized = normalized.replaceAll(f, ' ')
  const hashes: number[] = []
  for (const m of normalized.matchAll(SPLIT)) {
    const run = m[0]
    if (CJK.test(run[0]!)) {
      if (run.length === 1) hashes.push(hashOf(run, 0, 1))
      for (let i = 0; i + 1 < run.length; i++) hashes.push(hashOf(run, i, i + 2))
    } else {
      if (FILLER_WORDS.has(run)) continue
      const w = `_${run}_`
      for (let i = 0; i + 2 < w.length; i++) hashes.push(hashOf(w, i, i + 3))
    }
  }
  const sorted = Uint32Array.from(hashes).sort()
  let n = 0
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[n++] = sorted[i]!
  return sorted.subarray(0, n)
}

/** FNV-1a over the UTF-16 code units of s[from, to). */
function hashOf(s: string, from: number, to: number): number {
  let h = 0x811c9dc5
  for (let i = from; i < to; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** Dice coefficient of two shingle sets, 0 (nothing shared) to 1 (the same). */
export function shingleSimilarity(a: Shingles, b: Shingles): number {
  if (a.length === 0 || b.length === 0) return 0
  let shared = 0
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    const x = a[i]!
    const y = b[j]!
    if (x === y) {
      shared++
      i++
      j++
    } else if (x < y) i++
    else j++
  }
  return (2 * shared) / (a.length + b.length)
}

/** `shingleSimilarity` of two texts. */
export function textSimilarity(a: string, b: string): number {
  return shingleSimilarity(textShingles(a), textShingles(b))
}
