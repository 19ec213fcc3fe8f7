/**
 * A linear text classifier trained in-process: TF-IDF over hashed character n-grams and words
 * (features.ts), one-vs-rest linear SVMs with the squared hinge loss solved by dual coordinate
 * descent (Hsieh et al., "A Dual Coordinate Descent Method for Large-scale Linear SVM", ICML 2008 —
 * liblinear's default solver, which scikit-learn's LinearSVC wraps), and a temperature fitted on
 * held-out examples that turns the margins into calibrated probabilities (softmax(T · margin)).
 *
 * Written here rather than taken from npm: the JavaScript packages for linear models found are
 * dense (ml-logistic-regression, ml-svm: one weight per feature per example row, hopeless at 2^18
 * features), or bindings to native liblinear (node-gyp, unmaintained). This is ~250 lines, sparse,
 * and deterministic for a seed (the only randomness is the order examples are visited in).
 */
import { DEFAULT_FEATURE_SPEC, normalizeForModel, Vectorizer, forEachFeature, isWordUnit, type FeatureSpec, type SparseVector } from './features.ts'

/** One labelled message. At least one of `category` and `office` is given. */
export interface TrainingExample {
  text: string
  subject?: string
  category?: string
  office?: string
}

export interface TrainOptions {
  /** Seeds the order examples are visited in; the same seed and examples give the same model. Default 1. */
  seed?: number
  /** The SVM's C (higher fits the training set more closely). Default 0.5. */
  c?: number
  /** Passes over the data at most per label. Default 30. */
  maxEpochs?: number
  /** Share of the examples held out to fit the confidence (at most 5,000; then trained on too). Default 0.2. */
  holdout?: number
  features?: Partial<FeatureSpec>
}

export type HeadName = 'category' | 'office'

/** What one head (category, or office) learned. Weights are per seen bucket, label-minor. */
export interface Head {
  labels: string[]
  /** weights[slot * labels.length + label], where slot is the bucket's index among the model's seen buckets. */
  weights: Float32Array
  bias: Float32Array
  /** Multiplies margins before the softmax; fitted on held-out examples. */
  temperature: number
  examples: number
}

export interface LinearModel {
  spec: FeatureSpec
  /** The buckets any training example used, ascending; other buckets weigh nothing. */
  buckets: Int32Array
  idf: Float32Array
  heads: Partial<Record<HeadName, Head>>
  trainedOn: { examples: number; seed: number; c: number }
}

export class TrainingError extends Error {
  readonly code = 'classifier_training_invalid'
  constructor(message: string) {
    super(`[routing/trained-classifier] ${message}`)
    this.name = 'TrainingError'
  }
}

/** mulberry32: a small seeded generator, enough for shuffling. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function shuffle(items: Int32Array, next: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    const t = items[i]!
    items[i] = items[j]!
    items[j] = t
  }
}

/** The examples as compressed sparse rows over the model's slots (seen buckets renumbered 0…m-1). */
interface Rows {
  offsets: Int32Array
  slots: Int32Array
  values: Float32Array
  /** Squared norm of each row, plus 1 for the bias feature. */
  norms: Float64Array
}

/**
 * Hashes every text twice: once to count each row's distinct buckets and the buckets' document
 * frequencies, once to fill arrays of exactly that size (no per-row objects and no growing arrays:
 * at 100,000 messages either would double the memory). Buckets become slots, counts TF-IDF values.
 */
function buildRows(texts: readonly string[], spec: FeatureSpec): { rows: Rows; buckets: Int32Array; idf: Float32Array } {
  const counter = new Vectorizer(spec)
  const offsets = new Int32Array(texts.length + 1)
  const df = new Int32Array(2 ** spec.bits)
  let nnz = 0
  texts.forEach((text, r) => {
    offsets[r] = nnz
    counter.forEachCount(text, (bucket) => {
      df[bucket]!++
      nnz++
    })
  })
  offsets[texts.length] = nnz
  let seen = 0
  for (const d of df) if (d > 0) seen++
  const buckets = new Int32Array(seen)
  const idf = new Float32Array(seen)
  const slotOf = new Int32Array(2 ** spec.bits)
  for (let b = 0, s = 0; b < df.length; b++) {
    if (df[b] === 0) continue
    buckets[s] = b
    // As scikit-learn smooths it: ln((1 + n) / (1 + df)) + 1.
    idf[s] = Math.log((1 + texts.length) / (1 + df[b]!)) + 1
    slotOf[b] = s++
  }
  const slots = new Int32Array(nnz)
  const values = new Float32Array(nnz)
  const norms = new Float64Array(texts.length)
  texts.forEach((text, r) => {
    let at = offsets[r]!
    let norm = 0
    counter.forEachCount(text, (bucket, count) => {
      const slot = slotOf[bucket]!
      const v = (1 + Math.log(count)) * idf[slot]!
      slots[at] = slot
      values[at] = v
      norm += v * v
      at++
    })
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0
    for (let p = offsets[r]!; p < at; p++) values[p]! *= inv
    // The squared norm (1, or 0 for a text without features) plus the bias feature's 1.
    norms[r] = (norm > 0 ? 1 : 0) + 1
  })
  return { rows: { offsets, slots, values, norms }, buckets, idf }
}

/** Margins of every label for one row of `rows`. */
function rowMargins(rows: Rows, r: number, weights: Float32Array, bias: Float32Array, out: Float64Array): void {
  const k = bias.length
  for (let l = 0; l < k; l++) out[l] = bias[l]!
  for (let p = rows.offsets[r]!, end = rows.offsets[r + 1]!; p < end; p++) {
    const base = rows.slots[p]! * k
    const v = rows.values[p]!
    for (let l = 0; l < k; l++) out[l]! += weights[base + l]! * v
  }
}

/** The one-vs-rest state of a head: per label, the dual variables (one per member), the weights (one per slot) and the bias. */
interface HeadState {
  alpha: Float64Array[]
  w: Float64Array[]
  b: Float64Array
}

/**
 * One binary L2-regularised squared-hinge SVM (label `l` against the rest) by dual coordinate
 * descent, with a bias feature of 1, continuing from `state` (zeros, or a warm start). Stops on
 * liblinear's rule: the projected gradient's spread over a pass is under 0.1. (liblinear's
 * shrinking was tried: on these data it made more passes, not fewer. Training all labels side by
 * side in one pass over the rows was tried too: slower in V8 than one label at a time.)
 */
function trainBinary(rows: Rows, members: Int32Array, targets: Int32Array, l: number, state: HeadState, c: number, maxEpochs: number, next: () => number): void {
  const alpha = state.alpha[l]!
  const w = state.w[l]!
  let b = state.b[l]!
  const n = members.length
  const diag = 1 / (2 * c)
  const order = new Int32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  const { offsets, slots, values, norms } = rows
  for (let epoch = 0; epoch < maxEpochs; epoch++) {
    shuffle(order, next)
    let maxPG = -Infinity
    let minPG = Infinity
    for (let k = 0; k < n; k++) {
      const i = order[k]!
      const r = members[i]!
      const y = targets[i] === l ? 1 : -1
      let dot = b
      for (let p = offsets[r]!, end = offsets[r + 1]!; p < end; p++) dot += w[slots[p]!]! * values[p]!
      const g = y * dot - 1 + alpha[i]! * diag
      const pg = alpha[i] === 0 ? Math.min(g, 0) : g
      if (pg > maxPG) maxPG = pg
      if (pg < minPG) minPG = pg
      if (Math.abs(pg) <= 1e-12) continue
      const old = alpha[i]!
      const updated = Math.max(old - g / (norms[r]! + diag), 0)
      alpha[i] = updated
      const d = (updated - old) * y
      if (d === 0) continue
      for (let p = offsets[r]!, end = offsets[r + 1]!; p < end; p++) w[slots[p]!]! += d * values[p]!
      b += d
    }
    if (maxPG - minPG <= 0.1) break
  }
  state.b[l] = b
}

/** One-vs-rest: a binary SVM per label, each from its own seeded order. */
function trainHead(rows: Rows, members: Int32Array, targets: Int32Array, k: number, slotCount: number, c: number, maxEpochs: number, seed: number, start?: HeadState): HeadState {
  const state: HeadState = start ?? {
    alpha: Array.from({ length: k }, () => new Float64Array(members.length)),
    w: Array.from({ length: k }, () => new Float64Array(slotCount)),
    b: new Float64Array(k),
  }
  for (let l = 0; l < k; l++) trainBinary(rows, members, targets, l, state, c, maxEpochs, random(seed * 7919 + l))
  return state
}

function headWeights(state: HeadState, slotCount: number): { weights: Float32Array; bias: Float32Array } {
  const k = state.w.length
  const weights = new Float32Array(slotCount * k)
  for (let l = 0; l < k; l++) {
    const w = state.w[l]!
    for (let s = 0; s < slotCount; s++) weights[s * k + l] = w[s]!
  }
  return { weights, bias: Float32Array.from(state.b) }
}

/** The temperature T minimising the held-out log loss of softmax(T · margins): convex in T, found by golden section on log T. */
function fitTemperature(margins: Float64Array[], truth: Int32Array): number {
  const loss = (t: number) => {
    let sum = 0
    margins.forEach((m, i) => {
      let max = -Infinity
      for (const v of m) max = Math.max(max, t * v)
      let z = 0
      for (const v of m) z += Math.exp(t * v - max)
      sum += max + Math.log(z) - t * m[truth[i]!]!
    })
    return sum
  }
  let lo = Math.log(0.1)
  let hi = Math.log(100)
  const phi = (Math.sqrt(5) - 1) / 2
  for (let i = 0; i < 60; i++) {
    const a = hi - phi * (hi - lo)
    const b = lo + phi * (hi - lo)
    if (loss(Math.exp(a)) <= loss(Math.exp(b))) hi = b
    else lo = a
  }
  return Math.exp((lo + hi) / 2)
}

/** Below this many held-out examples a fitted temperature would be noise; this one is used instead. */
const FALLBACK_TEMPERATURE = 3
const MIN_HOLDOUT = 20
/** At most this many examples are held out to fit the temperature, and this many trained on for it. */
const CALIBRATION_HELD = 5_000
const CALIBRATION_FIT = 20_000

/**
 * Trains a model: a category head if any example has a category, an office head if any has an
 * office (each needs two labels or more).
 */
export function trainLinearModel(examples: readonly TrainingExample[], options: TrainOptions = {}): LinearModel {
  const seed = options.seed ?? 1
  const c = options.c ?? 0.5
  const maxEpochs = options.maxEpochs ?? 30
  const holdout = options.holdout ?? 0.2
  const spec: FeatureSpec = { ...DEFAULT_FEATURE_SPEC, ...options.features }
  if (!Number.isInteger(spec.bits) || spec.bits < 8 || spec.bits > 24) throw new TrainingError(`features.bits must be an integer from 8 to 24, not ${spec.bits}`)
  if (!(c > 0)) throw new TrainingError(`c must be positive, not ${c}`)
  if (examples.length === 0) throw new TrainingError('no examples to train on')

  const { rows, buckets, idf } = buildRows(
    examples.map((e) => normalizeForModel(e.subject, e.text)),
    spec,
  )
  const seen = buckets.length

  const heads: Partial<Record<HeadName, Head>> = {}
  for (const head of ['category', 'office'] as const) {
    const labelled: number[] = []
    examples.forEach((e, i) => {
      if (e[head]?.trim()) labelled.push(i)
    })
    if (labelled.length === 0) continue
    const labels = [...new Set(labelled.map((i) => examples[i]![head]!.trim()))].sort()
    if (labels.length < 2) throw new TrainingError(`the ${head} labels name only "${labels[0]}": a classifier needs two or more`)
    const index = new Map(labels.map((l, i) => [l, i]))
    const members = Int32Array.from(labelled)
    const targets = Int32Array.from(labelled, (i) => index.get(examples[i]![head]!.trim())!)

    // Fit the temperature on a held-out share with a model trained on (at most CALIBRATION_FIT of)
    // the rest; then train on everything, starting from that model (a warm start). The cap keeps
    // a large history's training time near one pass of training: the temperature needs no more.
    let temperature = FALLBACK_TEMPERATURE
    let start: HeadState | undefined
    const order = Int32Array.from(members.keys())
    shuffle(order, random(seed ^ 0x5bd1e995))
    const held = Math.min(Math.floor(members.length * holdout), CALIBRATION_HELD)
    if (held >= MIN_HOLDOUT) {
      const heldPart = order.slice(0, held)
      const fitPart = order.slice(held, held + CALIBRATION_FIT).sort()
      const fit = trainHead(rows, fitPart.map((i) => members[i]!), fitPart.map((i) => targets[i]!), labels.length, seen, c, maxEpochs, seed)
      const { weights, bias } = headWeights(fit, seen)
      const margins = Array.from(heldPart, (i) => {
        const out = new Float64Array(labels.length)
        rowMargins(rows, members[i]!, weights, bias, out)
        return out
      })
      temperature = fitTemperature(margins, heldPart.map((i) => targets[i]!))
      start = {
        alpha: fit.alpha.map((a) => {
          const all = new Float64Array(members.length)
          fitPart.forEach((position, m) => (all[position] = a[m]!))
          return all
        }),
        w: fit.w,
        b: fit.b,
      }
    }
    const state = trainHead(rows, members, targets, labels.length, seen, c, maxEpochs, seed, start)
    const { weights, bias } = headWeights(state, seen)
    heads[head] = { labels, weights, bias, temperature, examples: members.length }
  }
  if (!heads.category && !heads.office) throw new TrainingError('no example has a category or an office')
  return { spec, buckets, idf, heads, trainedOn: { examples: examples.length, seed, c } }
}

/** Letters and digits only: a name in a reason never spans punctuation or a space. */
const NAMEABLE = /^[\p{L}\p{N}]+$/u
/** How many of the strongest features explain looks at. */
const CANDIDATES = 12

/** One feature's part in a prediction, in the calibrated logit's units. */
export interface Contribution {
  feature: string
  weight: number
}

export interface Prediction {
  label: string
  /** Calibrated probability of `label`. */
  probability: number
  /** The next most probable label and its probability. */
  runnerUp?: { label: string; probability: number }
}

/**
 * Reads messages with a trained model. One predictor per model; `predict` is synchronous and
 * keeps scratch arrays between calls.
 */
export class Predictor {
  private readonly vectorizer: Vectorizer
  private readonly slotOf: Int32Array
  /** explain's marks on the buckets it names, zero between calls. */
  private readonly scratchMark: Uint8Array

  constructor(readonly model: LinearModel) {
    const size = 2 ** model.spec.bits
    const idf = new Float32Array(size)
    this.slotOf = new Int32Array(size).fill(-1)
    model.buckets.forEach((b, s) => {
      idf[b] = model.idf[s]!
      this.slotOf[b] = s
    })
    this.vectorizer = new Vectorizer(model.spec, idf)
    this.scratchMark = new Uint8Array(size)
  }

  /** The normalised text and its vector, to pass to `predict` for each head. */
  read(subject: string | undefined, text: string): { text: string; vector: SparseVector } {
    const normalized = normalizeForModel(subject, text)
    return { text: normalized, vector: this.vectorizer.vectorize(normalized) }
  }

  predict(head: HeadName, vector: SparseVector): (Prediction & { probabilities: Float64Array }) | undefined {
    const h = this.model.heads[head]
    if (!h || vector.indices.length === 0) return undefined
    const k = h.labels.length
    const margins = new Float64Array(k)
    for (let l = 0; l < k; l++) margins[l] = h.bias[l]!
    let any = false
    for (let j = 0; j < vector.indices.length; j++) {
      const slot = this.slotOf[vector.indices[j]!]!
      if (slot < 0) continue
      any = true
      const base = slot * k
      const v = vector.values[j]!
      for (let l = 0; l < k; l++) margins[l]! += h.weights[base + l]! * v
    }
    // Nothing the model has seen: its answer would be the biases alone, a guess.
    if (!any) return undefined
    let max = -Infinity
    for (let l = 0; l < k; l++) max = Math.max(max, h.temperature * margins[l]!)
    const probabilities = new Float64Array(k)
    let z = 0
    for (let l = 0; l < k; l++) z += probabilities[l] = Math.exp(h.temperature * margins[l]! - max)
    let best = 0
    let second = -1
    for (let l = 0; l < k; l++) {
      probabilities[l]! /= z
      if (probabilities[l]! > probabilities[best]!) {
        second = best
        best = l
      } else if (l !== best && (second < 0 || probabilities[l]! > probabilities[second]!)) second = l
    }
    return {
      label: h.labels[best]!,
      probability: probabilities[best]!,
      runnerUp: second >= 0 ? { label: h.labels[second]!, probability: probabilities[second]! } : undefined,
      probabilities,
    }
  }

  /**
   * The features of the text that pushed most towards `label` rather than the others on average,
   * largest first: "欠薪 +2.1". Of the dozen strongest, a single character is credited to a longer
   * feature that contains it (资 to 工资), and overlapping names are given once. It runs for every
   * decision, so it looks at the text's vector and scans the text once more, no further.
   */
  explain(head: HeadName, text: string, vector: SparseVector, label: string, limit = 3): Contribution[] {
    const h = this.model.heads[head]
    if (!h || limit === 0) return []
    const k = h.labels.length
    const l = h.labels.indexOf(label)
    if (l < 0) return []
    // The strongest features by their part in the calibrated logit, against the average label (a
    // word every label weighs alike says nothing).
    const top: { bucket: number; weight: number; name: string }[] = []
    for (let j = 0; j < vector.indices.length; j++) {
      const slot = this.slotOf[vector.indices[j]!]!
      if (slot < 0) continue
      const base = slot * k
      let mean = 0
      for (let m = 0; m < k; m++) mean += h.weights[base + m]!
      const weight = h.temperature * (h.weights[base + l]! - mean / k) * vector.values[j]!
      if (weight <= 0 || (top.length === CANDIDATES && weight <= top[top.length - 1]!.weight)) continue
      if (top.length === CANDIDATES) top.pop()
      let at = top.length
      while (at > 0 && top[at - 1]!.weight < weight) at--
      top.splice(at, 0, { bucket: vector.indices[j]!, weight, name: '' })
    }
    if (top.length === 0) return []
    // Name them: the first place each occurs.
    const mark = this.scratchMark
    top.forEach((t, i) => (mark[t.bucket] = i + 1))
    let unnamed = top.length
    forEachFeature(text, this.model.spec, (bucket, start, end) => {
      const i = mark[bucket]!
      if (i === 0 || unnamed === 0) return
      const t = top[i - 1]!
      if (t.name === '') {
        // In a spaced script the word names its letters (pay, not pa).
        let from = start
        let to = end
        if (isWordUnit(text.charCodeAt(start))) while (from > 0 && isWordUnit(text.charCodeAt(from - 1))) from--
        if (isWordUnit(text.charCodeAt(end - 1))) while (to < text.length && isWordUnit(text.charCodeAt(to))) to++
        t.name = text.slice(from, to)
        unnamed--
      }
    })
    for (const t of top) mark[t.bucket] = 0
    // The same name from several features (a word and its n-grams) is one.
    const byName = new Map<string, { bucket: number; weight: number; name: string }>()
    for (const t of top) {
      if (t.name === '' || !NAMEABLE.test(t.name)) continue
      const seen = byName.get(t.name)
      if (seen) seen.weight += t.weight
      else byName.set(t.name, { ...t })
    }
    const named = [...byName.values()]
    // A single character goes to the strongest longer feature that contains it.
    for (const t of named) {
      if ([...t.name].length > 1) continue
      const into = named.find((o) => o !== t && o.name.length > t.name.length && o.name.includes(t.name))
      if (into) {
        into.weight += t.weight
        t.weight = 0
      }
    }
    const ranked = named.filter((t) => t.weight > 0).sort((a, b) => b.weight - a.weight || (a.name < b.name ? -1 : 1))
    const out: Contribution[] = []
    for (const { name: feature, weight } of ranked) {
      if (out.some((o) => o.feature.includes(feature) || feature.includes(o.feature))) continue
      out.push({ feature, weight })
      if (out.length === limit) break
    }
    return out
  }
}
