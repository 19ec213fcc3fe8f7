import { describe, expect, it } from 'vitest'
import { characterCount, indexOfTerm, isOnWordBoundaries, normalizeForMatching, TermIndex } from './text-match.ts'

const find = (text: string, term: string) => indexOfTerm(normalizeForMatching(text), normalizeForMatching(term))

describe('indexOfTerm', () => {
  it('matches Chinese inside running text', () => {
    expect(find('老板拖欠工资三个月', '工资')).toBe(4)
  })

  it('matches Latin words whole and in any case', () => {
    expect(find('The BUS is late', 'bus')).toBe(4)
    expect(find('my business is closed', 'bus')).toBe(-1)
    expect(find('an omnibus law', 'bus')).toBe(-1)
    expect(find('bus, again', 'bus')).toBe(0)
  })

  it('treats Chinese next to a Latin word as a boundary', () => {
    expect(find('我在Jiashi打工', 'jiashi')).toBe(2)
  })

  it('matches the Arabic script of Uyghur on word boundaries', () => {
    expect(find('قەشقەر شەھىرى', 'قەشقەر')).toBe(0)
    expect(find('قەشقەرلىك', 'قەشقەر')).toBe(-1)
  })

  it('folds full-width letters and runs of whitespace', () => {
    expect(find('ｓｔｒｅｅｔ\n  ｌｉｇｈｔ broken', 'street light')).toBe(0)
  })
})

describe('TermIndex', () => {
  const index = new TermIndex([
    { term: '伽师县', value: 'county' },
    { term: '伽师', value: 'short' },
    { term: '巴仁镇', value: 'town' },
    { term: '巴仁', value: 'town-short' },
    { term: 'Shule', value: 'shule' },
    { term: '𠮷野', value: 'astral' },
  ])

  it('prefers the longest term and never overlaps', () => {
    expect(index.find('伽师县巴仁镇的路灯，伽师的人都知道').map((h) => [h.term, h.values])).toEqual([
      ['伽师县', ['county']],
      ['巴仁镇', ['town']],
      ['伽师', ['short']],
    ])
  })

  it('keeps word boundaries for Latin terms and whole characters outside the BMP', () => {
    expect(index.find('Shulers and SHULE and 𠮷野家').map((h) => h.term)).toEqual(['shule', '𠮷野'])
  })
})

describe('characterCount and isOnWordBoundaries', () => {
  it('counts characters, a surrogate pair as one', () => {
    expect([characterCount('伽师'), characterCount('𠮷野'), characterCount('ab'), characterCount('')]).toEqual([2, 2, 2, 0])
  })

  it('wants boundaries only where a match begins or ends with a letter of a spaced script', () => {
    const text = normalizeForMatching('Shulers in 伽师县 and Shule')
    expect(isOnWordBoundaries(text, 0, 5)).toBe(false) // "shule" inside "shulers"
    expect(isOnWordBoundaries(text, 19, 24)).toBe(true)
    expect(isOnWordBoundaries(text, 11, 13)).toBe(true) // 伽师 inside 伽师县: Chinese has no boundaries
  })
})
