import { describe, expect, it } from 'vitest'
import { memoryLogger, Office, runRoutingChain } from '@intake/core'
import { byCategory, categorizer, defaultTaxonomy, loadTaxonomy, type TaxonomyCategoryInput } from './by-category.ts'
import { byJurisdiction } from './by-jurisdiction.ts'
import { toIntakeDesk } from './to-intake-desk.ts'
import { RoutingConfigError } from './errors.ts'
import { demoOffices } from './demo-fixtures.ts'
import { caseDraft, routingContext, testStrategy } from './kit/index.ts'

const jurisdiction = byJurisdiction()

testStrategy({
  name: 'category',
  strategy: byCategory({ within: jurisdiction }),
  offices: demoOffices,
  cases: [
    {
      title: 'wages in a county: the county’s labour bureau, not the prefecture’s',
      draft: { text: '我在伽师县一个建筑工地干活，老板拖欠工资三个月了' },
      expect: { officeId: 'jiashi-labour', reasonIncludes: 'matched "拖欠工资" → category labour; place: matched place 伽师县' },
    },
    { title: 'wages in a town: its county’s labour bureau', draft: { text: '巴仁镇的轧花厂欠薪' }, expect: { officeId: 'jiashi-labour' } },
    {
      title: 'wages in 喀什市, which has no labour bureau: the prefecture’s',
      draft: { text: '喀什市东湖街道一家餐厅不发工资' },
      expect: { officeId: 'kashgar-labour', reasonIncludes: '喀什地区人力资源和社会保障局 (kashgar-labour) handles labour there' },
    },
    { title: 'pollution in a town of 莎车县: the county’s environment branch', draft: { text: '莎车县荒地镇的化工厂晚上偷偷排污' }, expect: { officeId: 'shache-environment' } },
    { title: 'a street light in a town: the town (it handles what its county handles)', draft: { text: '伽师县巴仁镇学校门口的路灯坏了' }, expect: { officeId: 'jiashi-bairen' } },
    {
      title: 'a court matter where no office lists it: the place’s own office',
      draft: { text: '疏勒县法院的判决一直不执行' },
      expect: { officeId: 'shule', reasonIncludes: 'no office serving it lists judicial: 疏勒县人民政府 (shule)' },
    },
    { draft: { text: '伽师县法院判决以后一直执行不了，我要申诉' }, expect: { officeId: 'jiashi-procuratorate' } },
    { title: 'the place field of the form counts', draft: { text: '家里停水三天了', place: { text: '疏勒县疏勒镇' } }, expect: { officeId: 'shule-town' } },
    { title: 'an English message with an alias', draft: { text: 'Unpaid wages at the cotton mill in Jiashi since March' }, expect: { officeId: 'jiashi-labour' } },
    {
      title: 'no place: only the category, passed on',
      draft: { text: '老板拖欠工资三个月了，包工头也找不到人' },
      // 拖欠工资 2 + 包工头 1.5 + 老板 (weak) 0.33 = 3.83: 0.7, +0.1 for two phrases, +0.05 × 1.83.
      expect: { category: 'labour', reasonIncludes: 'matched "拖欠工资", "包工头" → category labour; no place found', confidence: { min: 0.89, max: 0.89 } },
    },
    {
      title: 'a category from an earlier strategy',
      draft: { text: '疏勒镇卫生院的医生态度太差', category: 'health' },
      expect: { officeId: 'shule-town', reasonIncludes: 'category health from an earlier strategy' },
    },
    { title: 'weak words only: a lower confidence', draft: { text: '伽师县有个学校的事想反映' }, expect: { officeId: 'jiashi', reasonIncludes: '(weak)', confidence: { max: 0.5 } } },
    { title: 'an earlier category and no place: nothing to add', draft: { text: '工资的事', category: 'labour' }, expect: { none: true } },
  ],
  quiet: ['伽师县巴仁镇', '谢谢你们上次的帮助', 'Firefox keeps crashing on the library computer.', 'The busker at the night market was great.'],
})

describe('categorizer', () => {
  const categorize = categorizer(defaultTaxonomy())

  it.each<[string, string, string[]?]>([
    ['老板拖欠工资三个月', 'labour', ['拖欠工资']],
    ['法院判决了老板付工资，到现在不执行', 'judicial'],
    ['工地塌方，工人被埋', 'public-safety'],
    ['楼上漏水，物业不管', 'housing', ['漏水', '物业']],
    ['小区门口有人乱摆摊，流浪狗也多', 'urban-management'],
    ['流浪狗咬人', 'urban-management', ['流浪狗']],
    ['家里停水三天了', 'utilities'],
    ['超市卖过期食品', 'market-regulation'],
    ['低保什么时候发', 'social-assistance'],
    ['棉花收购价压得太低', 'agriculture'],
    ['The street light on Oak St is out', 'transport'],
    ['Loud music from the bar every night', 'environment'],
    ['学校门口的红绿灯坏了', 'transport'],
  ])('%s → %s', (text, id, matched) => {
    const found = categorize(text)
    expect(found?.category.id).toBe(id)
    if (matched) expect(found?.matched).toEqual(matched)
  })

  it('counts weak phrases for little: alone they decide, weakly', () => {
    expect(categorize('学校的事')).toMatchObject({ weak: true, category: { id: 'education' } })
    expect(categorize('谢谢')).toBeUndefined()
  })

  it('scores every category: longer phrases weigh more and hide the phrases inside them; priority breaks near-ties only', () => {
    const taxonomy: TaxonomyCategoryInput[] = [
      { id: 'a', phrases: ['路', '灯'] },
      { id: 'b', phrases: ['路灯'] },
      { id: 'c', phrases: ['路灯坏'], priority: -1 },
      { id: 'd', phrases: ['路'], priority: 5 },
      { id: 'e', phrases: [{ phrase: '边', weight: 0.9 }] },
    ]
    const categorize = categorizer(taxonomy)
    // 路灯坏 (1.5) hides 路灯, 路 and 灯 where it occurs: its low priority does not matter.
    expect(categorize('路灯坏了')).toMatchObject({ category: { id: 'c' }, score: 1.5, nearTie: false })
    // 路灯 hides 路 and 灯 too; apart, they make a's 2 over d's 1.
    expect(categorize('路灯不亮')).toMatchObject({ category: { id: 'b' }, score: 1 })
    expect(categorize('路上的灯不亮')).toMatchObject({ category: { id: 'a' }, score: 2, runnerUp: { id: 'd', score: 1 } })
    // 路: a and d score 1 each, e 0.9: a near-tie, which d's priority breaks.
    expect(categorize('路边')).toMatchObject({ category: { id: 'd' }, nearTie: true })
  })

  it('weighs a phrase in the subject twice', () => {
    const categorize = categorizer([
      { id: 'roads', phrases: ['坑洼'] },
      { id: 'schools', phrases: ['补课'] },
    ])
    expect(categorize('补课的孩子每天走这条路，到处坑洼')?.category.id).toBe('roads') // a tie, the earlier category
    expect(categorize('补课的孩子每天走这条路，到处坑洼', '学校乱补课')?.category.id).toBe('schools')
  })

  it.each<[string, string]>([
    // The misfiled examples: the topic, not the circumstance, decides.
    ['去学校的那条路上全是坑洼，孩子们上学很不方便', 'transport'],
    ['我们学校的教师工资已经拖欠三个月了', 'education'],
    ['小区电梯经常坏，存在安全隐患', 'market-regulation'],
    // The new categories.
    ['村干部优亲厚友，低保都给了自己亲戚', 'discipline'],
    ['乡里挪用扶贫款给干部发奖金', 'discipline'],
    ['景区强制购物，导游态度恶劣', 'culture-tourism-sport'],
    ['丈夫经常家暴，我想离婚', 'family-civil'],
    ['前夫一直不给孩子的抚养费', 'family-civil'],
    ['网上传我们县要封城，是真的吗', 'online-rumours'],
    ['The tour guide forced us into shops at the scenic area', 'culture-tourism-sport'],
    ['The village head embezzled the relief funds — this is corruption', 'discipline'],
  ])('%s → %s', (text, id) => {
    expect(categorize(text)?.category.id).toBe(id)
  })

  it('finds phrases that begin outside the Basic Multilingual Plane (rare characters in names)', () => {
    const categorize = categorizer([{ id: 'shop', phrases: ['𠮷野家'] }, { id: 'other', phrases: ['其他'] }])
    expect(categorize('𠮷野家的饭菜不卫生')?.category.id).toBe('shop')
    expect(categorize('吉野家的饭菜不卫生')).toBeUndefined()
  })
})

describe('byCategory', () => {
  it('places a whole-city deployment with the placeOffice hook', async () => {
    const offices = [
      Office.parse({ id: 'springfield', name: 'City of Springfield', jurisdiction: { places: [{ name: 'Springfield' }] } }),
      Office.parse({ id: 'springfield-311', name: 'Springfield 311', parentId: 'springfield', intakeDesk: true }),
      Office.parse({ id: 'public-works', name: 'Public Works', parentId: 'springfield', remit: ['transport'] }),
      Office.parse({ id: 'water', name: 'Water Department', parentId: 'springfield', remit: ['utilities'] }),
    ]
    const decide = byCategory({ placeOffice: () => 'springfield' })
    const ctx = routingContext(offices)
    expect(await decide(caseDraft('Big pothole on Evergreen Terrace'), ctx)).toMatchObject({ officeId: 'public-works', category: 'transport' })
    expect(await decide(caseDraft('No water since this morning'), ctx)).toMatchObject({ officeId: 'water', category: 'utilities' })
    // No department lists environment and the place is only the city: the 311 desk dispatches it by hand.
    expect(await decide(caseDraft('Loud music next door'), ctx)).toMatchObject({ officeId: 'springfield-311', category: 'environment' })
    expect((await decide(caseDraft('Loud music next door'), ctx))?.reason).toContain("no office lists environment and the place is only City of Springfield's territory: the intake desk Springfield 311 (springfield-311) dispatches it")
    // A city whose government takes such cases itself says so.
    const toCity = byCategory({ placeOffice: () => 'springfield', unlistedAtRoot: 'place-office' })
    expect(await toCity(caseDraft('Loud music next door'), ctx)).toMatchObject({ officeId: 'springfield', category: 'environment' })
  })

  it("with unlisted 'pass-on', leaves a category no department lists to the next strategies; a desk listing a remit handles it", async () => {
    const offices = [
      Office.parse({ id: 'springfield', name: 'City of Springfield', jurisdiction: { places: [{ name: 'Springfield' }] } }),
      Office.parse({ id: 'springfield-311', name: 'Springfield 311', parentId: 'springfield', intakeDesk: true, remit: ['other'] }),
      Office.parse({ id: 'public-works', name: 'Public Works', parentId: 'springfield', remit: ['transport'] }),
    ]
    const taxonomy = defaultTaxonomy().map((c) => (c.id === 'other' ? { ...c, phrases: ['thank you'] } : c))
    const decide = byCategory({ taxonomy, placeOffice: () => 'springfield', unlisted: 'pass-on' })
    const ctx = routingContext(offices)
    expect(await decide(caseDraft('Loud music next door'), ctx)).toEqual({
      officeId: '',
      strategy: 'category',
      reason: 'matched "loud music" → category environment; no office serving City of Springfield lists it',
      confidence: 0.7,
      category: 'environment',
    })
    expect(await decide(caseDraft('Thank you for your help last week'), ctx)).toMatchObject({ officeId: 'springfield-311', category: 'other' })
  })

  it('warns and goes on to `within` when placeOffice names an unknown office', async () => {
    const log = memoryLogger()
    const decide = byCategory({ placeOffice: () => 'atlantis', within: jurisdiction })
    const decision = await decide(caseDraft('疏勒县的路灯坏了'), { ...routingContext(demoOffices), log })
    expect(decision?.officeId).toBe('shule')
    expect(log.lines.join('\n')).toContain('"officeId":"atlantis"')
  })

  it('in the chain: the category only, placed later by byJurisdiction with the same remit rules', async () => {
    const chain = [byCategory(), jurisdiction, toIntakeDesk()]
    const { decision } = await runRoutingChain(chain, caseDraft('莎车镇有人偷排废水'), routingContext(demoOffices))
    expect(decision).toMatchObject({ officeId: 'shache-environment', strategy: 'jurisdiction', category: 'environment' })
  })

  it('ships a taxonomy with the demo’s categories', () => {
    const ids = defaultTaxonomy().map((c) => c.id)
    for (const remit of new Set(demoOffices.flatMap((o) => o.remit))) expect(ids).toContain(remit)
    expect(defaultTaxonomy().find((c) => c.id === 'labour')?.names).toEqual({ zh: '劳动和社会保障', en: 'Labour, wages and social insurance' })
  })

  it.each<[string, string, RegExp]>([
    ['not YAML', '- id: [labour', /not valid YAML/],
    ['not a list', 'id: labour', /invalid taxonomy/],
    ['a bad id', '- { id: Labour Bureau, phrases: [欠薪] }', /kebab-case/],
    ['a duplicate', '- { id: labour, phrases: [欠薪] }\n- { id: labour, phrases: [工资] }', /duplicate category "labour"/],
    ['a misspelt key', '- { id: labour, phrase: [欠薪] }', /phrase/],
  ])('loadTaxonomy refuses %s', (_title, text, message) => {
    expect(() => loadTaxonomy(text)).toThrow(RoutingConfigError)
    expect(() => loadTaxonomy(text)).toThrow(message)
  })

  it('refuses a within that is not a strategy', () => {
    expect(() => byCategory({ within: 'byJurisdiction' as never })).toThrow(/expected a routing strategy\n  → at within/)
  })
})
