/**
 * A multi-pattern automaton (Aho–Corasick) over UTF-16 code units, packed in typed arrays.
 *
 * Why packed: the national gazetteer has ~600,000 distinct terms and ~800,000 trie nodes. As JS
 * objects (a Map of children per node) that is several hundred MB and seconds of GC; as arrays it is
 * ~20 bytes a node. Why Aho–Corasick: one pass over the text finds every occurrence of every term,
 * whatever the number of terms, so a 200-character message costs the same with 30 or 600,000 names.
 *
 * Layout: nodes are numbered in the order terms create them (root = 0). The children of node n are edges edgeStart[n] .. edgeStart[n+1]-1, sorted by code
 * unit, so a transition is a binary search; the root's transitions are a direct 65,536-entry table
 * because the root has thousands of children (every first character of a Chinese place name) and
 * is where the scan spends most of its steps.
 */
export class AhoCorasick {
  /** Number of terms; term ids are numbered from 0 in the order terms were first added. */
  readonly termCount: number
  readonly nodeCount: number
  private readonly rootNext: Int32Array
  private readonly edgeStart: Uint32Array
  private readonly edgeChar: Uint16Array
  private readonly edgeTarget: Uint32Array
  private readonly fail: Uint32Array
  /** The term that ends at a node, or -1. */
  private readonly termAt: Int32Array
  /** The nearest node on the failure chain (not the node itself) where a term ends, or 0. */
  private readonly outLink: Uint32Array
  /** Length in code units of each term (its node's depth). */
  private readonly termLength: Uint16Array

  /**
   * An automaton of `terms`, term ids being their indexes. Terms must be non-empty and distinct
   * (normalise them first: the automaton compares code units). For many terms, or terms with
   * repeats, use AhoCorasickBuilder.
   */
  static of(terms: readonly string[]): AhoCorasick {
    const builder = new AhoCorasickBuilder()
    for (const term of terms) {
      const before = builder.termCount
      if (builder.add(term) !== before) throw new Error(`[aho-corasick] duplicate term "${term}"`)
    }
    return builder.build()
  }

  /** @internal Use AhoCorasick.of or AhoCorasickBuilder. */
  constructor(trie: Trie) {
    const { nodeCount, parent, charOf, depth, termAt, termLength } = trie
    this.termCount = trie.termCount
    this.nodeCount = nodeCount
    this.termAt = termAt
    this.termLength = termLength

    // Children of each node as one sorted run of edges (CSR); the root's also in a direct table.
    const edgeStart = new Uint32Array(nodeCount + 1)
    for (let node = 1; node < nodeCount; node++) edgeStart[parent[node]! + 1]!++
    for (let node = 0; node < nodeCount; node++) edgeStart[node + 1]! += edgeStart[node]!
    const fill = edgeStart.slice(0, nodeCount)
    const edgeChar = new Uint16Array(Math.max(nodeCount - 1, 0))
    const edgeTarget = new Uint32Array(Math.max(nodeCount - 1, 0))
    const rootNext = new Int32Array(0x10000)
    for (let node = 1; node < nodeCount; node++) {
      const p = parent[node]!
      const slot = fill[p]!++
      edgeChar[slot] = charOf[node]!
      edgeTarget[slot] = node
      if (p === 0) rootNext[charOf[node]!] = node
    }
    for (let node = 1; node < nodeCount; node++) sortEdges(edgeChar, edgeTarget, edgeStart[node]!, edgeStart[node + 1]!)
    this.rootNext = rootNext
    this.edgeStart = edgeStart
    this.edgeChar = edgeChar
    this.edgeTarget = edgeTarget

    // Failure links in breadth-first order (by depth): a node's link is computed from its parent's.
    const fail = new Uint32Array(nodeCount)
    const outLink = new Uint32Array(nodeCount)
    this.fail = fail
    this.outLink = outLink
    const byDepth = countingSortByDepth(depth, nodeCount)
    for (let k = 0; k < byDepth.length; k++) {
      const node = byDepth[k]!
      if (depth[node]! <= 1) continue
      const c = charOf[node]!
      let f = fail[parent[node]!]!
      let target = this.step(f, c)
      while (target < 0 && f !== 0) {
        f = fail[f]!
        target = this.step(f, c)
      }
      const link = target < 0 ? 0 : target
      fail[node] = link
      outLink[node] = termAt[link]! >= 0 ? link : outLink[link]!
    }
  }

  /** The child of `node` by code unit `c`, or -1. */
  private step(node: number, c: number): number {
    if (node === 0) {
      const target = this.rootNext[c]!
      return target === 0 ? -1 : target
    }
    let lo = this.edgeStart[node]!
    let hi = this.edgeStart[node + 1]! - 1
    const chars = this.edgeChar
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const m = chars[mid]!
      if (m === c) return this.edgeTarget[mid]!
      if (m < c) lo = mid + 1
      else hi = mid - 1
    }
    return -1
  }

  /**
   * Calls `onMatch(term, start, end)` for every occurrence of every term in `text` (UTF-16
   * offsets, end exclusive), in order of `end`, longer terms first at the same end.
   */
  scan(text: string, onMatch: (term: number, start: number, end: number) => void): void {
    const fail = this.fail
    const termAt = this.termAt
    const outLink = this.outLink
    const termLength = this.termLength
    let state = 0
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      let target = this.step(state, c)
      while (target < 0 && state !== 0) {
        state = fail[state]!
        target = this.step(state, c)
      }
      state = target < 0 ? 0 : target
      let node = termAt[state]! >= 0 ? state : outLink[state]!
      while (node !== 0) {
        const term = termAt[node]!
        onMatch(term, i + 1 - termLength[term]!, i + 1)
        node = outLink[node]!
      }
    }
  }

  /** Bytes held by the automaton's arrays. */
  get byteLength(): number {
    return [this.rootNext, this.edgeStart, this.edgeChar, this.edgeTarget, this.fail, this.termAt, this.outLink, this.termLength].reduce(
      (sum, array) => sum + array.byteLength,
      0,
    )
  }
}

/** What AhoCorasickBuilder hands to the automaton: the trie, node by node. */
interface Trie {
  termCount: number
  nodeCount: number
  parent: Uint32Array
  charOf: Uint16Array
  depth: Uint16Array
  termAt: Int32Array
  termLength: Uint16Array
}

/**
 * Adds terms one by one into a trie held in typed arrays, with an open-addressing hash table of
 * (node, code unit) → child. No string is kept, hashed or sorted: for 600,000 terms that is what
 * makes building take a fraction of a second rather than seconds (a Map of strings and a sort of
 * 600,000 strings cost ~2 s each here).
 */
export class AhoCorasickBuilder {
  private nodes = 1
  private terms = 0
  private parent = new Uint32Array(1024)
  private charOf = new Uint16Array(1024)
  private depth = new Uint16Array(1024)
  private termAt = new Int32Array(1024).fill(-1)
  private termLength = new Uint16Array(1024)
  /** Hash table: key (parent * 65536 + code unit + 1, 0 = empty slot) → child node. */
  private keys = new Float64Array(2048)
  private values = new Uint32Array(2048)

  get termCount(): number {
    return this.terms
  }

  /** Adds a term (non-empty) and returns its id; a term added before keeps its id. */
  add(term: string): number {
    if (term.length === 0) throw new Error('[aho-corasick] terms must not be empty')
    if (term.length > 0xffff) throw new Error('[aho-corasick] a term is longer than 65,535 code units')
    let node = 0
    for (let i = 0; i < term.length; i++) node = this.child(node, term.charCodeAt(i))
    let id = this.termAt[node]!
    if (id < 0) {
      id = this.terms++
      this.termAt[node] = id
      if (id >= this.termLength.length) this.termLength = grow(this.termLength, this.termLength.length * 2)
      this.termLength[id] = term.length
    }
    return id
  }

  build(): AhoCorasick {
    const n = this.nodes
    const automaton = new AhoCorasick({
      termCount: this.terms,
      nodeCount: n,
      parent: this.parent.subarray(0, n),
      charOf: this.charOf.subarray(0, n),
      depth: this.depth.subarray(0, n),
      termAt: this.termAt.slice(0, n),
      termLength: this.termLength.slice(0, this.terms),
    })
    // The builder is spent: let its arrays go.
    this.keys = new Float64Array(0)
    this.values = new Uint32Array(0)
    return automaton
  }

  private child(node: number, c: number): number {
    const key = node * 65536 + c + 1
    const mask = this.keys.length - 1
    let slot = (Math.imul(node, 0x9e3779b1) ^ Math.imul(c + 1, 0x85ebca6b)) & mask
    for (;;) {
      const k = this.keys[slot]!
      if (k === key) return this.values[slot]!
      if (k === 0) break
      slot = (slot + 1) & mask
    }
    const created = this.nodes++
    if (created >= this.parent.length) {
      const size = this.parent.length * 2
      this.parent = grow(this.parent, size)
      this.charOf = grow(this.charOf, size)
      this.depth = grow(this.depth, size)
      const termAt = new Int32Array(size).fill(-1)
      termAt.set(this.termAt)
      this.termAt = termAt
    }
    this.parent[created] = node
    this.charOf[created] = c
    this.depth[created] = this.depth[node]! + 1
    this.keys[slot] = key
    this.values[slot] = created
    // Keep the table at most half full.
    if (this.nodes * 2 > this.keys.length) this.rehash()
    return created
  }

  private rehash(): void {
    const oldKeys = this.keys
    const oldValues = this.values
    const keys = new Float64Array(oldKeys.length * 2)
    const values = new Uint32Array(oldKeys.length * 2)
    const mask = keys.length - 1
    for (let i = 0; i < oldKeys.length; i++) {
      const key = oldKeys[i]!
      if (key === 0) continue
      const node = Math.floor((key - 1) / 65536)
      const c = key - 1 - node * 65536
      let slot = (Math.imul(node, 0x9e3779b1) ^ Math.imul(c + 1, 0x85ebca6b)) & mask
      while (keys[slot] !== 0) slot = (slot + 1) & mask
      keys[slot] = key
      values[slot] = oldValues[i]!
    }
    this.keys = keys
    this.values = values
  }
}

function grow<T extends Uint32Array | Uint16Array>(array: T, size: number): T {
  const bigger = new (array.constructor as new (n: number) => T)(size)
  bigger.set(array)
  return bigger
}

/** Sorts edges [from, to) by code unit; runs are short (a node has few children), so insertion sort. */
function sortEdges(chars: Uint16Array, targets: Uint32Array, from: number, to: number): void {
  for (let i = from + 1; i < to; i++) {
    const c = chars[i]!
    const t = targets[i]!
    let j = i - 1
    while (j >= from && chars[j]! > c) {
      chars[j + 1] = chars[j]!
      targets[j + 1] = targets[j]!
      j--
    }
    chars[j + 1] = c
    targets[j + 1] = t
  }
}

function countingSortByDepth(depth: Uint16Array, count: number): Uint32Array {
  let maxDepth = 0
  for (let n = 0; n < count; n++) if (depth[n]! > maxDepth) maxDepth = depth[n]!
  const start = new Uint32Array(maxDepth + 2)
  for (let n = 0; n < count; n++) start[depth[n]! + 1]!++
  for (let d = 0; d <= maxDepth; d++) start[d + 1]! += start[d]!
  const out = new Uint32Array(count)
  for (let n = 0; n < count; n++) out[start[depth[n]!]!++] = n
  return out
}
