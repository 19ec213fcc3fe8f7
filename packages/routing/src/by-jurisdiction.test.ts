import { describe, expect, it } from 'vitest'
import { buildOfficeDirectory, Office, type OfficeDirectory, type OfficeInput } from '@intake/core'
import { byJurisdiction, type ByJurisdictionOptions } from './by-jurisdiction.ts'
import { RoutingConfigError } from './errors.ts'
import { demoOffices } from './demo-fixtures.ts'
import { caseDraft, routingContext, testStrategy } from './kit/index.ts'

testStrategy({
  name: 'jurisdiction',
  strategy: byJurisdiction(),
  offices: demoOffices,
  cases: [
    { draft: { text: '伽师县巴仁镇的路灯坏了一个月了，晚上走路很危险' }, expect: { officeId: 'jiashi-bairen', reasonIncludes: 'most specific: 巴仁镇' } },
    {
      draft: { text: '我在疏勒县巴仁乡打工，老板拖欠工资三个月', category: 'labour' },
      expect: { officeId: 'shule-labour', reasonIncludes: 'for category labour' },
    },
    { draft: { text: '巴仁镇中学门口的下水道堵了' }, expect: { officeId: 'jiashi-bairen' } },
    {
      title: '巴仁 alone may be 巴仁镇 (伽师县) or 巴仁乡 (疏勒县): the prefecture above both',
      draft: { text: '巴仁的自来水停了三天了' },
      expect: { officeId: 'kashgar', reasonIncludes: 'which may be 巴仁镇 or 巴仁乡' },
    },
    {
      title: '巴仁 with 伽师 in the text is the Jiashi one',
      draft: { text: '我是伽师人，巴仁这边的自来水停了三天了' },
      expect: { officeId: 'jiashi-bairen', reasonIncludes: 'settled by 伽师' },
    },
    { title: '巴仁 with 疏勒 in the text is the Shule one', draft: { text: '疏勒这边巴仁的自来水停了三天了' }, expect: { officeId: 'shule-bairen' } },
    {
      title: 'ambiguous 巴仁 with category labour: the prefecture labour bureau',
      draft: { text: '巴仁的砖厂老板欠了我们半年工资', category: 'labour' },
      expect: { officeId: 'kashgar-labour' },
    },
    {
      draft: { text: '伽师县一家棉花加工厂拖欠工资', category: 'labour' },
      expect: { officeId: 'jiashi-labour', reasonIncludes: 'matched place 伽师县 → office 伽师县人力资源和社会保障局 (jiashi-labour) for category labour' },
    },
    {
      draft: { text: '伽师县法院的判决一直不执行，我要申诉', category: 'judicial' },
      expect: { officeId: 'jiashi-procuratorate', reasonIncludes: 'matched place 伽师县 → office 伽师县人民检察院 (jiashi-procuratorate)' },
    },
    {
      title: 'labour in 巴仁镇: the nearest labour bureau above the town',
      draft: { text: '巴仁镇的建筑工地拖欠农民工工资', category: 'labour' },
      expect: { officeId: 'jiashi-labour' },
    },
    {
      title: 'housing in 巴仁镇: the town government, which handles what its county government does',
      draft: { text: '巴仁镇安置房漏水，物业不管', category: 'housing' },
      expect: { officeId: 'jiashi-bairen', reasonIncludes: 'for category housing' },
    },
    {
      title: 'environment in 莎车镇: the county handles no environment matters, its branch does',
      draft: { text: '莎车镇东边的工厂夜里偷偷排污', category: 'environment' },
      expect: { officeId: 'shache-environment' },
    },
    { draft: { text: '莎车镇老城区的房屋拆迁补偿一直没发', category: 'housing' }, expect: { officeId: 'shache-town' } },
    {
      title: 'no office lists the category: the place’s own office',
      draft: { text: '巴仁镇集市旁边的燃气管道有味道', category: 'public-safety' },
      expect: { officeId: 'jiashi-bairen', reasonIncludes: 'no office serving it lists category public-safety' },
    },
    {
      title: 'places in different branches: the prefecture, which covers both',
      draft: { text: '我是疏勒县人，在莎车县的工地上干活' },
      expect: { officeId: 'kashgar', reasonIncludes: 'different branches' },
    },
    {
      draft: { text: '我是疏勒县人，在莎车县的工地上干活，工资一直没给', category: 'labour' },
      expect: { officeId: 'kashgar-labour' },
    },
    {
      title: 'the place field wins over another county in the text',
      draft: { place: { text: '伽师县' }, text: '疏勒县的亲戚说伽师这边也能办，卫生院的医生态度很差' },
      expect: { officeId: 'jiashi', reasonIncludes: 'ignored 疏勒县' },
    },
    {
      title: 'the text refines the place field',
      draft: { place: { text: '伽师县' }, text: '西克尔库勒镇的卫生院没有医生值班' },
      expect: { officeId: 'jiashi-xikeerkule' },
    },
    {
      title: 'a short form in the place field, settled by the text',
      draft: { place: { text: '巴仁' }, text: '疏勒县这边的路坑坑洼洼' },
      expect: { officeId: 'shule-bairen' },
    },
    { title: 'an official code in the place field', draft: { place: { code: '653129100' }, text: '路灯不亮' }, expect: { officeId: 'jiashi-bairen' } },
    {
      title: 'a village code under a listed town code',
      draft: { place: { code: '653125103201' }, text: '村里的水渠坏了' },
      expect: { officeId: 'shache-huangdi', reasonIncludes: 'code 653125103201, within 荒地镇' },
    },
    { draft: { subject: '疏勒镇 供暖问题', text: '暖气片一直不热，家里老人受不了' }, expect: { officeId: 'shule-town' } },
    { draft: { text: '疏勒的公交车太少了，早上等一个小时' }, expect: { officeId: 'shule' } },
    { draft: { text: '东湖街道的夜市噪音太大' }, expect: { officeId: 'kashgar-city-dongwu' } },
    { draft: { text: '喀什市东湖那边的路灯不亮' }, expect: { officeId: 'kashgar-city-dongwu' } },
    { draft: { text: '荒地乡的学校没有暖气', category: 'education' }, expect: { officeId: 'kashgar-city-huangdi' } },
    { title: '荒地 near 莎车 is 荒地镇', draft: { text: '莎车这边荒地的卫生院关门了' }, expect: { officeId: 'shache-huangdi' } },
    { draft: { text: 'The street lights on the main road in Jiashi have been out for weeks.' }, expect: { officeId: 'jiashi' } },
    { draft: { subject: 'Flooded road', text: 'The road near the Yarkant bazaar floods every time it rains.' }, expect: { officeId: 'shache' } },
    { draft: { text: 'I work at a cotton mill in SHULE and have not been paid since May.', category: 'labour' }, expect: { officeId: 'shule-labour' } },
    { draft: { text: '铁日木乡到县城的班车停运了' }, expect: { officeId: 'jiashi-tierimu' } },
  ],
  quiet: [
    '你好，请问12345热线几点下班？',
    '我想咨询一下办理身份证需要带什么材料',
    'My neighbour plays loud music every night.',
    'The Shulerville bus is always late.',
    { subject: 'Question', text: 'How do I renew my business licence?' },
    '我家院子里的石榴树被人砍了',
  ],
})

describe('byJurisdiction: confidence', () => {
  const ctx = routingContext(demoOffices)
  const decide = byJurisdiction()

  it('counts the place field above the text, a full name above a short form, an ambiguity lowest', async () => {
    const form = await decide(caseDraft({ place: { text: '伽师县' }, text: '路灯坏了' }), ctx)
    const name = await decide(caseDraft('伽师县的路灯坏了'), ctx)
    const short = await decide(caseDraft('伽师的路灯坏了'), ctx)
    const ambiguous = await decide(caseDraft('巴仁的路灯坏了'), ctx)
    expect([form?.officeId, name?.officeId, short?.officeId]).toEqual(['jiashi', 'jiashi', 'jiashi'])
    expect(form!.confidence).toBeGreaterThan(name!.confidence)
    expect(name!.confidence).toBeGreaterThan(short!.confidence)
    expect(short!.confidence).toBeGreaterThan(ambiguous!.confidence)
  })

  it('lowers confidence when the places named are in different branches', async () => {
    const one = await decide(caseDraft('疏勒县的工地'), ctx)
    const two = await decide(caseDraft('疏勒县和莎车县的工地'), ctx)
    expect(two?.officeId).toBe('kashgar')
    expect(two!.confidence).toBeLessThan(one!.confidence)
  })

  it('never sends a case to the intake desk by remit', async () => {
    for (const category of ['labour', 'housing', 'other', undefined]) {
      const decision = await decide(caseDraft({ text: '喀什地区的问题', category }), ctx)
      expect(decision?.officeId).not.toBe('kashgar-hotline')
    }
  })
})

const tree = (offices: OfficeInput[]) => buildOfficeDirectory(offices.map((o) => Office.parse(o)))

describe('byJurisdiction: hand-made trees', () => {
  it('matches English names on word boundaries and derives short forms with English suffixes', async () => {
    const city = tree([
      { id: 'springfield', name: 'City of Springfield', jurisdiction: { places: [{ name: 'Springfield' }] }, intakeDesk: true },
      { id: 'riverside', name: 'Riverside District Office', parentId: 'springfield', jurisdiction: { places: [{ name: 'Riverside District' }] } },
      { id: 'north-end', name: 'North End District Office', parentId: 'springfield', jurisdiction: { places: [{ name: 'North End District' }] } },
    ])
    const decide = byJurisdiction()
    const ctx = routingContext(city)
    expect((await decide(caseDraft('Pothole on 5th street in riverside, please fix'), ctx))?.officeId).toBe('riverside')
    expect((await decide(caseDraft('Graffiti on the NORTH END library'), ctx))?.officeId).toBe('north-end')
    expect(await decide(caseDraft('The Riversidewalk cafe is noisy'), ctx)).toBeUndefined()
  })

  it('treats an office that lists its parent’s place like a bureau: the county by default, the office by remit', async () => {
    const county = tree([
      { id: 'county', name: 'Jiashi County', jurisdiction: { places: [{ name: '伽师县' }] }, remit: ['housing'], intakeDesk: true },
      { id: 'procuratorate', name: 'Jiashi Procuratorate', parentId: 'county', jurisdiction: { places: [{ name: '伽师县' }] }, remit: ['judicial'] },
    ])
    const decide = byJurisdiction()
    const ctx = routingContext(county)
    expect((await decide(caseDraft('伽师县的路'), ctx))?.officeId).toBe('county')
    expect((await decide(caseDraft({ text: '伽师县法院判决不执行', category: 'judicial' }), ctx))?.officeId).toBe('procuratorate')
  })

  it('does not decide when the places named share no office above them', async () => {
    const twoRoots = tree([
      { id: 'north', name: 'North County', jurisdiction: { places: [{ name: '北县' }, { name: '甲镇' }] }, intakeDesk: true },
      { id: 'south', name: 'South County', jurisdiction: { places: [{ name: '南县' }] } },
    ])
    const decide = byJurisdiction()
    const ctx = routingContext(twoRoots)
    expect((await decide(caseDraft('北县的路'), ctx))?.officeId).toBe('north')
    expect(await decide(caseDraft('北县和南县之间的路'), ctx)).toBeUndefined()
  })

  it('leaves out the short forms a deployment says are ordinary words', async () => {
    const text = '村口有一片荒地被人倒了建筑垃圾'
    const ctx = routingContext(demoOffices)
    expect((await byJurisdiction()(caseDraft(text), ctx))?.officeId).toBe('kashgar')
    expect(await byJurisdiction({ ignoreShortForms: ['荒地'] })(caseDraft(text), ctx)).toBeUndefined()
    expect((await byJurisdiction({ ignoreShortForms: ['荒地'] })(caseDraft('荒地镇的路'), ctx))?.officeId).toBe('shache-huangdi')
  })

  it('builds its index once per office directory and keeps directories apart', async () => {
    let reads = 0
    const counting = (directory: OfficeDirectory): OfficeDirectory => ({
      ...directory,
      get all() {
        reads++
        return directory.all
      },
    })
    const demo = counting(buildOfficeDirectory(demoOffices))
    const decide = byJurisdiction()
    await decide(caseDraft({ text: '伽师县拖欠工资', category: 'labour' }), routingContext(demo))
    const afterFirst = reads
    expect(afterFirst).toBeGreaterThan(0)
    for (const text of ['疏勒县拖欠工资', '莎车县拖欠工资', '巴仁镇拖欠工资']) {
      await decide(caseDraft({ text, category: 'labour' }), routingContext(demo))
    }
    expect(reads).toBe(afterFirst)

    const other = tree([{ id: 'solo', name: 'Solo Town', jurisdiction: { places: [{ name: '伽师县' }] }, intakeDesk: true }])
    expect((await decide(caseDraft('伽师县的路'), routingContext(other)))?.officeId).toBe('solo')
    expect((await decide(caseDraft('伽师县的路'), routingContext(demo)))?.officeId).toBe('jiashi')
  })
})

describe('byJurisdiction: misconfiguration fails at the factory', () => {
  it.each<[string, unknown]>([
    ['no suffixes', { suffixes: [] }],
    ['a blank suffix', { suffixes: ['县', ' '] }],
    ['a blank short form to ignore', { ignoreShortForms: [''] }],
    ['an unknown option', { sufixes: ['县'] }],
  ])('%s', (_title, options) => {
    expect(() => byJurisdiction(options as ByJurisdictionOptions)).toThrow(RoutingConfigError)
  })
})
