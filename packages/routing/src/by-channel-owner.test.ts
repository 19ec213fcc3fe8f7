import { describe, expect, it } from 'vitest'
import { memoryLogger, runRoutingChain, type RoutingStrategy } from '@intake/core'
import { byChannelOwner } from './by-channel-owner.ts'
import { byJurisdiction } from './by-jurisdiction.ts'
import { byKeywords } from './by-keywords.ts'
import { toIntakeDesk } from './to-intake-desk.ts'
import { RoutingConfigError } from './errors.ts'
import { demoKeywordRules, demoOffices } from './demo-fixtures.ts'
import { caseDraft, routingContext, testStrategy, type DraftInput } from './kit/index.ts'

// The prefecture and two of its counties each run a WeChat official account (original ids are
// "gh_" and 12 hex digits); 疏勒县 also has an SMS number of its own.
const PREFECTURE_ACCOUNT = 'gh_5f3a9c1e2b7d'
const JIASHI_ACCOUNT = 'gh_8e21d4c07a9f'
const matrix = {
  to: { [PREFECTURE_ACCOUNT]: 'kashgar', [JIASHI_ACCOUNT]: 'jiashi', '+86 998 5512345': 'shule' },
  channels: { 'shache-web': 'shache' },
}
const jurisdiction = byJurisdiction()
const wechat = (to: string, text: string, extra: Partial<DraftInput> = {}): DraftInput => ({
  text,
  channelId: 'wechat',
  to,
  from: { channelId: 'wechat', id: 'oVx1s5-citizen' },
  ...extra,
})

testStrategy({
  name: 'channel-owner',
  strategy: byChannelOwner({ ...matrix, yieldTo: [jurisdiction] }),
  offices: demoOffices,
  cases: [
    {
      title: 'no place in the text: the county whose account it is, with a moderate confidence',
      draft: wechat(JIASHI_ACCOUNT, '家门口的路灯坏了一个月了，晚上出门很不方便'),
      expect: { officeId: 'jiashi', reasonIncludes: `sent to ${JIASHI_ACCOUNT}, the account of 伽师县人民政府`, confidence: { min: 0.6, max: 0.6 } },
    },
    {
      title: 'a town of that county in the text: the town',
      draft: wechat(JIASHI_ACCOUNT, '巴仁镇农贸市场的路灯坏了'),
      expect: { officeId: 'jiashi-bairen', reasonIncludes: 'the content places it within: matched place 巴仁镇' },
    },
    { title: 'another county, clearly named: it yields', draft: wechat(JIASHI_ACCOUNT, '莎车县荒地镇的垃圾好几天没人清理了'), expect: { none: true } },
    {
      title: 'a place above the owner (the prefecture) is vaguer than the account: the owner',
      draft: wechat(JIASHI_ACCOUNT, '喀什地区的公交什么时候通到我们村？'),
      expect: { officeId: 'jiashi' },
    },
    {
      title: 'an ambiguous name (巴仁: a town in 伽师县 and a township in 疏勒县) does not outweigh the account',
      draft: wechat(JIASHI_ACCOUNT, '巴仁那边的路灯坏了'),
      expect: { officeId: 'jiashi' },
    },
    {
      title: 'a category from an earlier strategy: the office handling it in the owner’s area',
      draft: wechat(JIASHI_ACCOUNT, '老板拖欠工资三个月了', { category: 'labour' }),
      expect: { officeId: 'jiashi-labour', reasonIncludes: 'for category labour' },
    },
    {
      title: 'the prefecture’s account',
      draft: wechat(PREFECTURE_ACCOUNT, '你们的热线总是占线'),
      expect: { officeId: 'kashgar', reasonIncludes: 'the account of 喀什地区行政公署' },
    },
    {
      title: 'an SMS number written another way',
      draft: { text: '学校门口天天堵车', channelId: 'sms', to: '+869985512345', from: { channelId: 'sms', id: '+8613900000001' } },
      expect: { officeId: 'shule' },
    },
    {
      title: 'a channel the county runs, without an address',
      draft: { text: 'The clinic in town has no doctor on Fridays', channelId: 'shache-web' },
      expect: { officeId: 'shache', reasonIncludes: 'sent on channel shache-web, run by 莎车县人民政府' },
    },
    { title: 'an account nobody listed', draft: wechat('gh_000000000000', '路灯坏了'), expect: { none: true } },
  ],
  quiet: ['伽师县巴仁镇的路灯坏了', { text: 'sent to the shared web form', channelId: 'web' }, { text: 'shared SMS', channelId: 'sms', to: '+8610690000' }],
})

describe('byChannelOwner', () => {
  const ctx = routingContext(demoOffices)

  it('keeps the owner when the content points elsewhere only weakly', async () => {
    const hunch: RoutingStrategy = async function hunch() {
      return { officeId: 'shule', strategy: 'hunch', reason: 'sounds like 疏勒', confidence: 0.5 }
    }
    const decision = await byChannelOwner({ ...matrix, yieldTo: [hunch] })(caseDraft(wechat(JIASHI_ACCOUNT, '路灯坏了')), ctx)
    expect(decision?.officeId).toBe('jiashi')
  })

  it('asks past a strategy that fails, with a warning', async () => {
    const broken: RoutingStrategy = async function broken() {
      throw new Error('gazetteer offline')
    }
    const log = memoryLogger()
    const decision = await byChannelOwner({ ...matrix, yieldTo: [broken, jurisdiction] })(caseDraft(wechat(JIASHI_ACCOUNT, '莎车县的路')), { ...ctx, log })
    expect(decision).toBeUndefined()
    expect(log.lines.join('\n')).toContain('gazetteer offline')
  })

  it('without yieldTo, decides by the account alone (content strategies go before it)', async () => {
    const decision = await byChannelOwner(matrix)(caseDraft(wechat(JIASHI_ACCOUNT, '莎车县荒地镇的垃圾没人清理')), ctx)
    expect(decision?.officeId).toBe('jiashi')
  })

  it('passes, with a warning, when the owner is not in the directory', async () => {
    const log = memoryLogger()
    const decision = await byChannelOwner({ to: { gh_abc: 'atlantis' } })(caseDraft(wechat('gh_abc', '你好')), { ...ctx, log })
    expect(decision).toBeUndefined()
    expect(log.lines.join('\n')).toContain('"officeId":"atlantis"')
  })

  it('in the chain: yields to the jurisdiction named in the text, and keeps the account for the rest', async () => {
    const chain = [byKeywords({ rules: demoKeywordRules }), byChannelOwner({ ...matrix, yieldTo: [jurisdiction] }), jurisdiction, toIntakeDesk()]
    const elsewhere = await runRoutingChain(chain, caseDraft(wechat(JIASHI_ACCOUNT, '莎车县荒地镇的化工厂排污')), ctx)
    expect(elsewhere.decision).toMatchObject({ officeId: 'shache-environment', strategy: 'jurisdiction', category: 'environment' })
    const home = await runRoutingChain(chain, caseDraft(wechat(JIASHI_ACCOUNT, '我们厂拖欠工资半年了')), ctx)
    expect(home.decision).toMatchObject({ officeId: 'jiashi-labour', strategy: 'channel-owner', category: 'labour' })
  })

  it.each<[string, object]>([
    ['nothing owned', {}],
    ['an office id that is not one', { to: { gh_abc: 'Jiashi County' } }],
    ['a yieldAbove above 1', { to: { gh_abc: 'jiashi' }, yieldAbove: 1.5 }],
    ['a strategy that is not a function', { to: { gh_abc: 'jiashi' }, yieldTo: ['byJurisdiction'] }],
    ['a misspelt key', { to: { gh_abc: 'jiashi' }, confidense: 0.5 }],
  ])('refuses %s at the factory', (_title, options) => {
    expect(() => byChannelOwner(options as never)).toThrow(RoutingConfigError)
  })
})
