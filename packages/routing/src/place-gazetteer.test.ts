import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { RoutingConfigError } from './errors.ts'
import { parseCsv, parsePlaceList, placeList, type PlaceGazetteer } from './place-gazetteer.ts'
import { ADMINISTRATIVE_SUFFIXES, nameForms, prepareSuffixes } from './place-names.ts'
import { normalizeForMatching } from './text-match.ts'

const suffixes = prepareSuffixes(ADMINISTRATIVE_SUFFIXES)

/** The places named in a text, as `written→names of the places it may mean`. */
function found(list: PlaceGazetteer, text: string): string[] {
  const normalized = normalizeForMatching(text)
  const out: string[] = []
  list.scan(normalized, (term, start, end) => {
    const places = [...list.readings(term)].map((r) => `${list.name(r >>> 1)}${r & 1 ? '(short)' : ''}`)
    out.push(`${normalized.slice(start, end)}→${places.join('|')}`)
  })
  return out
}

describe('nameForms', () => {
  it.each([
    ['伽师县', '伽师', []],
    ['喀什地区', '喀什', []],
    ['米东区', '米东', []],
    ['东湖街道', '东湖', []],
    ['新疆维吾尔自治区', '新疆', []],
    ['塔什库尔干塔吉克自治县', '塔什库尔干', ['塔什库尔干县']],
    ['伊犁哈萨克自治州', '伊犁', ['伊犁州']],
    ['黔东南苗族侗族自治州', '黔东南', ['黔东南州']],
    ['积石山保安族东乡族撒拉族自治县', '积石山', ['积石山县']],
    ['隆林各族自治县', '隆林', ['隆林县']],
    ['孜热甫夏提塔吉克族乡', '孜热甫夏提', ['孜热甫夏提乡']],
    ['管城回族区', '管城', ['管城区']],
    // A one-character people is only stripped with 族: 白水 is not the 白 people's 水.
    ['白水县', '白水', []],
    ['城区', undefined, []],
    ['Riverside District', 'riverside', []],
  ])('%s → %s', (name, short, informal) => {
    const forms = nameForms(normalizeForMatching(name), suffixes)
    expect(forms.short).toBe(short)
    expect(forms.informal).toEqual(informal)
  })
})

describe('placeList', () => {
  const county = placeList([
    { code: '1', name: '甲县', level: 'county' },
    { code: '101', name: '乙镇', parentCode: '1', level: 'township' },
    { code: '101001', name: '和平村', parentCode: '101', level: 'village' },
    { code: '101002', name: '丙丁村', parentCode: '101', level: 'village', aliases: ['丙丁庄'] },
    { code: '102', name: '胜利乡', parentCode: '1', level: 'township' },
  ])

  it('keeps codes, parents, levels and depths, and finds places by code', () => {
    const village = county.byCode('101002')
    expect(county.name(village)).toBe('丙丁村')
    expect(county.code(county.parent(village))).toBe('101')
    expect([county.level(village), county.depth(village), county.depth(county.byCode('1'))]).toEqual(['village', 2, 0])
    expect(county.byCode('999')).toBe(-1)
    expect(county.stats).toMatchObject({ places: 5 })
  })

  it('indexes names, aliases and short forms, but no short form that is an ordinary word', () => {
    // The raw scan finds nested names too (丙丁 in 丙丁庄); byJurisdiction keeps the longest.
    expect(found(county, '甲县乙镇丙丁庄')).toEqual(['甲县→甲县', '乙镇→乙镇', '丙丁→丙丁村(short)', '丙丁庄→丙丁村'])
    expect(found(county, '丙丁的路')).toEqual(['丙丁→丙丁村(short)'])
    // 和平 and 胜利 are ordinary words (COMMON_WORDS); the full names still count.
    expect(found(county, '和平胜利')).toEqual([])
    expect(found(county, '和平村胜利乡')).toEqual(['和平村→和平村', '胜利乡→胜利乡'])
  })

  it('says which bare mentions need support: a village always, a township as a short form', () => {
    expect(county.supportNeeded(county.byCode('101001'))).toBe(2)
    expect(county.supportNeeded(county.byCode('101'))).toBe(1)
    expect(county.supportNeeded(county.byCode('1'))).toBe(0)
  })

  it('takes its own common words and support rules', () => {
    const list = placeList([{ code: '1', name: '和平村', level: 'village' }], { commonWords: [], support: {} })
    expect(found(list, '和平')).toEqual(['和平→和平村(short)'])
    expect(list.supportNeeded(0)).toBe(0)
  })

  it.each<[string, unknown[], RegExp]>([
    ['a repeated code', [{ code: '1', name: '甲县', level: 'county' }, { code: '1', name: '乙县', level: 'county' }], /code 1 is listed twice/],
    ['an unknown parent', [{ code: '101', name: '乙镇', parentCode: '1', level: 'township' }], /parent code 1 is not in the list/],
    ['a missing name', [{ code: '1', level: 'county' }], /name/],
    ['an unknown field', [{ code: '1', name: '甲县', level: 'county', lat: 1 }], /lat/],
  ])('refuses %s with a clear error', (_title, records, message) => {
    expect(() => placeList(records as never)).toThrow(RoutingConfigError)
    expect(() => placeList(records as never)).toThrow(message)
  })
})

describe('parsePlaceList', () => {
  it('reads a CSV with quoted fields and aliases, and the same list as JSON', () => {
    const csv = 'code,name,parentCode,level,aliases\nc,"Springfield, IL",,city,Springfield|SPFD\nc.n,North End,c,neighbourhood,\n'
    expect(parseCsv(csv)[1]).toEqual(['c', 'Springfield, IL', '', 'city', 'Springfield|SPFD'])
    const fromCsv = parsePlaceList(csv)
    const fromJson = parsePlaceList(
      JSON.stringify([
        { code: 'c', name: 'Springfield, IL', level: 'city', aliases: ['Springfield', 'SPFD'] },
        { code: 'c.n', name: 'North End', parentCode: 'c', level: 'neighbourhood' },
      ]),
    )
    for (const list of [fromCsv, fromJson]) {
      expect(found(list, 'Potholes in the NORTH END of spfd')).toEqual(['north end→North End', 'spfd→Springfield, IL'])
      expect(list.name(list.parent(list.byCode('c.n')))).toBe('Springfield, IL')
    }
  })

  it('matches Latin names case-insensitively on word boundaries', () => {
    const sf = parsePlaceList(readFileSync(new URL('./gazetteer-fixtures/sf-neighbourhoods.csv', import.meta.url), 'utf8'))
    expect(sf.stats.places).toBe(120)
    expect(found(sf, 'POTRERO HILL')).toEqual(['potrero hill→Potrero Hill'])
    expect(found(sf, 'The Castroville bus and the Missionary')).toEqual([])
    expect(found(sf, 'District 10, not District 1')).toEqual(['district 10→Supervisor District 10', 'district 1→Supervisor District 1'])
  })

  it.each<[string, string, RegExp]>([
    ['an empty file', '', /empty CSV/],
    ['a missing column', 'code,name,level\n1,甲县,county\n', /missing column "parentCode"/],
    ['broken JSON', '[{"code": ', /not valid JSON/],
  ])('refuses %s', (_title, text, message) => {
    expect(() => parsePlaceList(text)).toThrow(message)
  })
})
