import { describe, expect, it } from 'vitest'
import { runRoutingChain, type Urgency } from '@intake/core'
import { byJurisdiction, byKeywords, byTrackingCode, toIntakeDesk } from './index.ts'
import { demoKeywordRules, demoOffices, earlierCase } from './demo-fixtures.ts'
import { caseDraft, routingContext, type DraftInput } from './kit/index.ts'

/** The demo deployment's chain, as examples/county-hotline configures it. */
const chain = [byTrackingCode(), byKeywords({ rules: demoKeywordRules }), byJurisdiction(), toIntakeDesk()]
const ctx = routingContext(demoOffices, { cases: [earlierCase('K7F3-9Q28', 'jiashi-bairen')] })

interface Journey {
  draft: DraftInput
  office: string
  category?: string
  urgency?: Urgency
  /** Each strategy asked, with the office it answered ('' = category only, undefined = no answer). */
  trail: [string, string | undefined][]
}

const PLACED: [string, string | undefined][] = [
  ['byTrackingCode', undefined],
  ['byKeywords', ''],
]

const journeys: Journey[] = [
  {
    draft: { text: '伽师县巴仁镇的路灯坏了一个月了' },
    office: 'jiashi-bairen',
    category: 'transport',
    trail: [...PLACED, ['byJurisdiction', 'jiashi-bairen']],
  },
  {
    draft: { text: '我在疏勒县巴仁乡打工，老板拖欠工资三个月' },
    office: 'shule-labour',
    category: 'labour',
    trail: [...PLACED, ['byJurisdiction', 'shule-labour']],
  },
  {
    draft: { text: '巴仁的路灯坏了，晚上很黑' },
    office: 'kashgar',
    category: 'transport',
    trail: [...PLACED, ['byJurisdiction', 'kashgar']],
  },
  {
    draft: { text: '伽师县法院的判决一直不执行，我要申诉' },
    office: 'jiashi-procuratorate',
    category: 'judicial',
    trail: [...PLACED, ['byJurisdiction', 'jiashi-procuratorate']],
  },
  {
    draft: { text: '莎车镇东边的化工厂夜里排污，臭味很大' },
    office: 'shache-environment',
    category: 'environment',
    trail: [...PLACED, ['byJurisdiction', 'shache-environment']],
  },
  {
    draft: { text: '关于 K7F3-9Q28：修好的路灯又坏了', trackingCodes: ['K7F3-9Q28'] },
    office: 'jiashi-bairen',
    trail: [['byTrackingCode', 'jiashi-bairen']],
  },
  {
    draft: { text: '我们三十多个农民工在莎车县的工地上干了半年，准备集体讨薪' },
    office: 'shache-labour',
    category: 'labour',
    urgency: 'urgent',
    trail: [...PLACED, ['byJurisdiction', 'shache-labour']],
  },
  {
    draft: { text: 'The street light outside the hospital in Shule has been broken since spring.' },
    office: 'shule',
    category: 'transport',
    trail: [...PLACED, ['byJurisdiction', 'shule']],
  },
  {
    draft: { text: '你好，请问12345热线几点下班？' },
    office: 'kashgar-hotline',
    trail: [
      ['byTrackingCode', undefined],
      ['byKeywords', undefined],
      ['byJurisdiction', undefined],
      ['toIntakeDesk', 'kashgar-hotline'],
    ],
  },
  {
    draft: { text: '学校乱收学费，家长意见很大' },
    office: 'kashgar-hotline',
    category: 'education',
    trail: [...PLACED, ['byJurisdiction', undefined], ['toIntakeDesk', 'kashgar-hotline']],
  },
  {
    draft: { text: '疏勒县疏勒镇的卫生院晚上没有医生值班' },
    office: 'shule-town',
    category: 'health',
    trail: [...PLACED, ['byJurisdiction', 'shule-town']],
  },
  {
    draft: { text: '喀什市东湖街道的夜市噪音太大，晚上睡不着' },
    office: 'kashgar-city-dongwu',
    category: 'environment',
    trail: [...PLACED, ['byJurisdiction', 'kashgar-city-dongwu']],
  },
  {
    draft: { text: '伽师县西克尔库勒镇的轧花厂拖欠工资' },
    office: 'jiashi-labour',
    category: 'labour',
    trail: [...PLACED, ['byJurisdiction', 'jiashi-labour']],
  },
  {
    draft: { text: '铁日木乡的低保金三个月没发了' },
    office: 'jiashi-tierimu',
    category: 'social-assistance',
    trail: [...PLACED, ['byJurisdiction', 'jiashi-tierimu']],
  },
  {
    draft: { place: { text: '莎车县荒地镇' }, text: '村里的道路坑洼很多，一下雨就没法走' },
    office: 'shache-huangdi',
    category: 'transport',
    trail: [...PLACED, ['byJurisdiction', 'shache-huangdi']],
  },
  {
    draft: { text: '疏勒镇一栋居民楼燃气泄漏，有人受伤' },
    office: 'shule-town',
    category: 'public-safety',
    urgency: 'urgent',
    trail: [...PLACED, ['byJurisdiction', 'shule-town']],
  },
  {
    draft: { subject: 'Unpaid wages', text: 'My boss at the cotton mill in Yarkant has not paid me since March.' },
    office: 'shache-labour',
    category: 'labour',
    trail: [...PLACED, ['byJurisdiction', 'shache-labour']],
  },
]

describe('the demo routing chain: tracking code, keywords, jurisdiction, intake desk', () => {
  for (const journey of journeys) {
    const text = [journey.draft.place?.text, journey.draft.subject, journey.draft.text].filter(Boolean).join(' | ')
    it(`"${text}" → ${journey.office}`, async () => {
      const { decision, trail } = await runRoutingChain(chain, caseDraft(journey.draft), ctx)
      expect(decision.officeId, decision.reason).toBe(journey.office)
      expect(decision.category).toBe(journey.category)
      expect(decision.urgency).toBe(journey.urgency)
      expect(trail.map((a) => [a.strategy, a.decision?.officeId])).toEqual(journey.trail)
      expect(trail.every((a) => a.error === undefined)).toBe(true)
      for (const attempt of trail) if (attempt.decision) expect(attempt.decision.reason).not.toBe('')
    })
  }

  it('records why: the keyword match and the place, each on its strategy’s line', async () => {
    const { decision, trail } = await runRoutingChain(chain, caseDraft('伽师县有一家棉花加工厂拖欠工资'), ctx)
    expect(trail[1]?.decision?.reason).toBe('matched "拖欠工资", "工资" → category labour')
    expect(decision.reason).toBe('matched place 伽师县 → office 伽师县人力资源和社会保障局 (jiashi-labour) for category labour')
    expect(decision.strategy).toBe('jurisdiction')
  })
})
