import { describe, expect, it } from 'vitest'
import { byKeywords, loadKeywordRules, type KeywordRuleInput } from './by-keywords.ts'
import { RoutingConfigError } from './errors.ts'
import { demoKeywordRules, demoOffices } from './demo-fixtures.ts'
import { caseDraft, routingContext, testStrategy } from './kit/index.ts'

testStrategy({
  name: 'keywords',
  strategy: byKeywords({ rules: demoKeywordRules }),
  offices: demoOffices,
  cases: [
    { draft: { text: '老板拖欠工资三个月了，一分钱都没给' }, expect: { category: 'labour', reasonIncludes: '"拖欠工资", "工资"' } },
    { draft: { text: '我们二十几个农民工准备集体讨薪' }, expect: { category: 'labour', urgency: 'urgent', reasonIncludes: '"集体讨薪"' } },
    {
      title: '"讨薪 上访" matches when both parts occur, apart',
      draft: { text: '讨薪讨了半年没有结果，下个月准备上访' },
      expect: { category: 'labour', urgency: 'urgent', reasonIncludes: '"讨薪 上访"' },
    },
    { title: 'one part of "讨薪 上访" is not enough', draft: { text: '想问一下上访需要走什么程序' }, expect: { none: true } },
    {
      title: 'the urgent health rule outranks the ordinary one',
      draft: { text: '我妈的降压药快吃完了，卫生院说没有药了' },
      expect: { category: 'health', urgency: 'urgent' },
    },
    { title: 'labour (20) outranks environment (10)', draft: { text: '工厂天天排污，还拖欠工资' }, expect: { category: 'labour' } },
    { draft: { text: '公交站旁边的饭馆燃气泄漏，有人受伤了' }, expect: { category: 'public-safety', urgency: 'urgent' } },
    { draft: { subject: '申诉', text: '检察院什么时候答复我的申诉' }, expect: { category: 'judicial' } },
    { draft: { text: '小区物业不管楼上漏水' }, expect: { category: 'housing' } },
    { draft: { text: '孩子入学的事情学校一直推脱' }, expect: { category: 'education' } },
    { draft: { text: '我是低保户，这个月的救助金还没到' }, expect: { category: 'social-assistance' } },
    { draft: { text: 'My landlord refuses to fix the leak in the roof.' }, expect: { category: 'housing' } },
    {
      title: 'equal priority and matched words: the earlier rule (transport before health)',
      draft: { text: 'The BUS to the hospital never comes on time.' },
      expect: { category: 'transport', reasonIncludes: '"bus"' },
    },
    {
      title: 'equal priority: the rule with more matched words',
      draft: { text: 'There is a pothole and the street light is out near the hospital.' },
      expect: { category: 'transport', reasonIncludes: '"pothole", "street light"' },
    },
    { draft: { text: 'Unpaid   wages\nfor three months at the cotton mill.' }, expect: { category: 'labour' } },
    { title: 'full-width Latin from a Chinese keyboard', draft: { text: 'ｎｏｉｓｅ from the bar every night' }, expect: { category: 'environment' } },
    { draft: { text: 'We want to file a public-interest litigation about the river.' }, expect: { category: 'judicial' } },
  ],
  quiet: [
    'I run a small business and need to renew my licence.',
    'The busker at the night market was great, thank you.',
    'Firefox keeps crashing on the library computer.',
    '请问办理居住证需要带什么材料？',
    '谢谢你们上次的帮助',
  ],
})

describe('byKeywords: rules with an office', () => {
  const rules: KeywordRuleInput[] = [
    { words: ['法院'], category: 'judicial', priority: 5 },
    { words: ['检察院', '公益诉讼'], officeId: 'jiashi-procuratorate', category: 'judicial', priority: 5 },
    { words: ['公益诉讼'], officeId: 'kashgar', priority: 5 },
  ]
  const decide = byKeywords({ rules })
  const ctx = routingContext(demoOffices)

  it('decides the office, naming it in the reason', async () => {
    const decision = await decide(caseDraft('想找检察院提起公益诉讼'), ctx)
    expect(decision).toEqual({
      officeId: 'jiashi-procuratorate',
      strategy: 'keywords',
      reason: 'matched "检察院", "公益诉讼" → office 伽师县人民检察院 (jiashi-procuratorate)',
      confidence: 0.8,
      category: 'judicial',
    })
  })

  it('breaks ties on matched words, then on rule order', async () => {
    expect((await decide(caseDraft('公益诉讼怎么提'), ctx))?.officeId).toBe('jiashi-procuratorate')
    expect((await decide(caseDraft('法院判了'), ctx))?.officeId).toBe('')
  })
})

describe('byKeywords: misconfiguration fails at the factory', () => {
  it.each<[string, unknown]>([
    ['no rules', []],
    ['a rule with neither category nor office', [{ words: ['噪音'] }]],
    ['an office id that is not one', [{ words: ['噪音'], officeId: 'Jiashi Labour' }]],
    ['a rule without words', [{ words: [], category: 'environment' }]],
    ['a blank word', [{ words: ['噪音', '  '], category: 'environment' }]],
    ['a misspelt key', [{ words: ['噪音'], category: 'environment', prioirty: 5 }]],
    ['an unknown urgency', [{ words: ['噪音'], category: 'environment', urgency: 'high' }]],
  ])('%s', (_title, rules) => {
    expect(() => byKeywords({ rules: rules as KeywordRuleInput[] })).toThrow(RoutingConfigError)
  })

  it('names the rule and field at fault', () => {
    expect(() => byKeywords({ rules: [{ words: ['a'], category: 'x' }, { words: ['b'], officeId: 'Bad Id' }] })).toThrow(/kebab-case\n  → at \[1\]\.officeId/)
  })
})

describe('loadKeywordRules', () => {
  it('reads the demo rules file', () => {
    expect(demoKeywordRules).toHaveLength(11)
    expect(demoKeywordRules[1]).toEqual({ category: 'labour', urgency: 'urgent', words: ['集体讨薪', '集体上访', '要去上访', '讨薪 上访'], priority: 40 })
  })

  it('gives rules without a priority priority 0', () => {
    expect(loadKeywordRules('- { category: transport, words: [路灯] }')).toEqual([{ category: 'transport', words: ['路灯'], priority: 0 }])
  })

  it('throws a RoutingConfigError for text that is not YAML, or not a list of rules', () => {
    expect(() => loadKeywordRules('- category: [transport')).toThrow(RoutingConfigError)
    expect(() => loadKeywordRules('category: transport')).toThrow(RoutingConfigError)
    expect(() => loadKeywordRules('- { category: transport, words: [路灯], priority: high }')).toThrow(/priority/)
  })
})
