import { describe, expect, it } from 'vitest'
import { AhoCorasick, AhoCorasickBuilder } from './aho-corasick.ts'

type Match = [term: number, start: number, end: number]

function scanAll(automaton: AhoCorasick, text: string): Match[] {
  const out: Match[] = []
  automaton.scan(text, (term, start, end) => out.push([term, start, end]))
  return out
}

/** Every occurrence of every term, by brute force: what the automaton must find. */
function bruteForce(terms: readonly string[], text: string): Match[] {
  const out: Match[] = []
  terms.forEach((term, id) => {
    for (let i = text.indexOf(term); i !== -1; i = text.indexOf(term, i + 1)) out.push([id, i, i + term.length])
  })
  return out
}

const byPosition = (a: Match, b: Match) => a[2] - b[2] || a[1] - b[1] || a[0] - b[0]

/** A small deterministic generator (mulberry32), so the random cases are the same every run. */
function random(seed: number): () => number {
  let s = seed
  return () => {
    s = (s + 0x6d2b79f5) | 0
    let t = Math.imul(s ^ (s >>> 15), 1 | s)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('AhoCorasick', () => {
  it('finds every occurrence, nested and overlapping ones too, in order of end (longer first)', () => {
    const automaton = AhoCorasick.of(['伽师县', '伽师', '师县', '巴仁镇', '巴仁', '县巴'])
    expect(scanAll(automaton, '伽师县巴仁镇，伽师')).toEqual([
      [1, 0, 2],
      [0, 0, 3],
      [2, 1, 3],
      [5, 2, 4],
      [4, 3, 5],
      [3, 3, 6],
      [1, 7, 9],
    ])
  })

  it('finds what brute force finds, on random texts over a small alphabet', () => {
    const next = random(20231)
    const alphabet = ['巴', '仁', '镇', '伽', '师', 'a', 'b', '𠮷']
    const word = (max: number) => Array.from({ length: 1 + Math.floor(next() * max) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('')
    for (let round = 0; round < 50; round++) {
      const terms = [...new Set(Array.from({ length: 40 }, () => word(5)))]
      const automaton = AhoCorasick.of(terms)
      const text = word(200)
      expect(scanAll(automaton, text).sort(byPosition)).toEqual(bruteForce(terms, text).sort(byPosition))
    }
  })

  it('numbers terms in the order first added and gives a repeated term its id again', () => {
    const builder = new AhoCorasickBuilder()
    expect([builder.add('新村'), builder.add('新村镇'), builder.add('新村'), builder.add('新')]).toEqual([0, 1, 0, 2])
    expect(builder.termCount).toBe(3)
    const automaton = builder.build()
    expect(scanAll(automaton, '新村镇')).toEqual([
      [2, 0, 1],
      [0, 0, 2],
      [1, 0, 3],
    ])
  })

  it('grows past its first tables (thousands of terms with shared prefixes)', () => {
    const terms = Array.from({ length: 5000 }, (_, i) => `村${i.toString(36)}号`)
    const automaton = AhoCorasick.of(terms)
    expect(automaton.termCount).toBe(5000)
    expect(scanAll(automaton, '住在村zz号和村a号')).toEqual([
      [terms.indexOf('村zz号'), 2, 6],
      [terms.indexOf('村a号'), 7, 10],
    ])
  })

  it('refuses empty and repeated terms', () => {
    expect(() => AhoCorasick.of(['巴仁', ''])).toThrow(/empty/)
    expect(() => AhoCorasick.of(['巴仁', '巴仁'])).toThrow(/duplicate/)
  })

  it('finds nothing in an empty text or with no terms', () => {
    expect(scanAll(AhoCorasick.of(['巴仁']), '')).toEqual([])
    expect(scanAll(AhoCorasick.of([]), '巴仁')).toEqual([])
  })
})
