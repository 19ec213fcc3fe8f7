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

/** The n-grams a text is compared on (a set: repeating a word does not make a text more alike). */
export function textShingles(text: string): Set<string> {
  let normalized = text.normalize('NFKC').toLowerCase()
  for (const f of FILLER) normalized = normalized.replaceAll(f, ' ')
  const out = new Set<string>()
  for (const m of normalized.matchAll(SPLIT)) {
    const run = m[0]
    if (CJK.test(run[0]!)) {
      if (run.length === 1) out.add(run)
      for (let i = 0; i + 1 < run.length; i++) out.add(run.slice(i, i + 2))
    } else {
      if (FILLER_WORDS.has(run)) continue
      const w = `_${run}_`
      for (let i = 0; i + 2 < w.length; i++) out.add(w.slice(i, i + 3))
    }
  }
  return out
}

/** Dice coefficient of two shingle sets, 0 (nothing shared) to 1 (the same). */
export function shingleSimilarity(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0
  const [small, large] = a.size <= b.size ? [a, b] : [b, a]
  let shared = 0
  for (const s of small) if (large.has(s)) shared++
  return (2 * shared) / (a.size + b.size)
}

/** `shingleSimilarity` of two texts. */
export function textSimilarity(a: string, b: string): number {
  return shingleSimilarity(textShingles(a), textShingles(b))
}
