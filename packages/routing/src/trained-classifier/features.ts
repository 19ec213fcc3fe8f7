/**
 * The features a trained classifier reads: character 1–3-grams of the message (Chinese words are
 * two or three characters, and a dispatcher's cues — 欠薪, 工地, 噪音 — are among them) plus whole
 * words of the scripts that separate them by spaces (311 English), hashed into a fixed number of
 * buckets so that the model needs no vocabulary and its size does not grow with the data.
 *
 * Chinese words are not segmented: Intl.Segmenter measured 267 µs per 405-character message here,
 * more than the whole prediction budget, and the 2- and 3-grams already hold the words.
 */

/** How a text becomes features; saved with the model, so prediction reads it exactly as training did. */
export interface FeatureSpec {
  /** log2 of the number of buckets (18 → 262,144). */
  bits: number
  /** The longest character n-gram (3). */
  maxN: number
  /** Whole words (runs of letters or digits of a spaced script) as features too. */
  words: boolean
}

export const DEFAULT_FEATURE_SPEC: FeatureSpec = { bits: 18, maxN: 3, words: true }

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193
/** A different start for word features, so that the word "a" and the character "a" differ. */
const WORD_OFFSET = 0x050c5d1f

/** The text as the model reads it: NFKC, lower case, every digit a 0 (a date or an amount says little), spaces collapsed. */
export function normalizeForModel(subject: string | undefined, text: string): string {
  const joined = subject ? `${subject}\n${text}` : text
  return joined.normalize('NFKC').toLowerCase().replace(/[0-9]/g, '0').replace(/\s+/g, ' ').trim()
}

function isSpace(c: number): boolean {
  return c === 32
}

/** A letter or digit of a script written with spaces (Latin, Cyrillic, Greek…), not Han. */
export function isWordUnit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 0xc0 && c <= 0x24f) || (c >= 0x370 && c <= 0x4ff)
}

/**
 * Calls `emit(bucket, start, end)` for every feature of the normalised text, in order: the n-grams
 * starting at each position (none spans a space), then the words. `start`/`end` index the text, so
 * a caller can name the feature (`text.slice(start, end)`).
 */
export function forEachFeature(text: string, spec: FeatureSpec, emit: (bucket: number, start: number, end: number, word: boolean) => void): void {
  const shift = 32 - spec.bits
  const n = text.length
  for (let i = 0; i < n; i++) {
    let h = FNV_OFFSET
    for (let k = 0; k < spec.maxN && i + k < n; k++) {
      const c = text.charCodeAt(i + k)
      if (isSpace(c)) break
      h = Math.imul(h ^ c, FNV_PRIME)
      // The high bits of FNV mix better than the low ones.
      emit(h >>> shift, i, i + k + 1, false)
    }
  }
  if (!spec.words) return
  let i = 0
  while (i < n) {
    if (!isWordUnit(text.charCodeAt(i))) {
      i++
      continue
    }
    let j = i
    let h = WORD_OFFSET
    while (j < n && isWordUnit(text.charCodeAt(j))) {
      h = Math.imul(h ^ text.charCodeAt(j), FNV_PRIME)
      j++
    }
    // Single letters are already 1-grams.
    if (j - i > 1) emit(h >>> shift, i, j, true)
    i = j
  }
}

/** One message as a sparse vector: bucket ids and their values (sublinear tf × idf, length 1). */
export interface SparseVector {
  indices: Int32Array
  values: Float32Array
}

/**
 * Turns texts into TF-IDF vectors. Holds a scratch array as long as the buckets, so one
 * vectoriser serves one thread; `vectorize` is synchronous and never re-entered.
 */
export class Vectorizer {
  private readonly counts: Float32Array
  private readonly touched: Int32Array
  private touchedCount = 0

  constructor(
    readonly spec: FeatureSpec,
    /** idf per bucket; undefined while counting document frequencies. */
    public idf?: Float32Array,
  ) {
    this.counts = new Float32Array(2 ** spec.bits)
    this.touched = new Int32Array(2 ** spec.bits)
  }

  /** The distinct buckets of a normalised text (for document frequencies). */
  buckets(text: string): Int32Array {
    this.collect(text)
    const out = this.touched.slice(0, this.touchedCount)
    this.reset()
    return out
  }

  vectorize(text: string): SparseVector {
    this.collect(text)
    const m = this.touchedCount
    const indices = this.touched.slice(0, m)
    indices.sort()
    const values = new Float32Array(m)
    let norm = 0
    for (let j = 0; j < m; j++) {
      const b = indices[j]!
      const v = (1 + Math.log(this.counts[b]!)) * (this.idf ? this.idf[b]! : 1)
      values[j] = v
      norm += v * v
    }
    this.reset()
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm)
      for (let j = 0; j < m; j++) values[j]! *= inv
    }
    return { indices, values }
  }

  /** Calls `fn(bucket, count)` once for each distinct bucket of a normalised text (training's single pass). */
  forEachCount(text: string, fn: (bucket: number, count: number) => void): void {
    this.collect(text)
    for (let j = 0; j < this.touchedCount; j++) fn(this.touched[j]!, this.counts[this.touched[j]!]!)
    this.reset()
  }

  private collect(text: string): void {
    const counts = this.counts
    forEachFeature(text, this.spec, (b) => {
      if (counts[b] === 0) this.touched[this.touchedCount++] = b
      counts[b]!++
    })
  }

  private reset(): void {
    for (let j = 0; j < this.touchedCount; j++) this.counts[this.touched[j]!] = 0
    this.touchedCount = 0
  }
}
