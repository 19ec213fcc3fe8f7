import { describe, expect, it } from 'vitest'
import { runRoutingChain } from '@intake/core'
import { byUrgency, DEFAULT_URGENCY_SIGNALS } from './by-urgency.ts'
import { byJurisdiction } from './by-jurisdiction.ts'
import { toIntakeDesk } from './to-intake-desk.ts'
import { RoutingConfigError } from './errors.ts'
import { demoOffices } from './demo-fixtures.ts'
import { caseDraft, routingContext, testStrategy } from './kit/index.ts'

testStrategy({
  name: 'urgency',
  strategy: byUrgency(),
  offices: demoOffices,
  cases: [
    {
      draft: { text: '伽师县巴仁镇农贸市场旁边的饭馆燃气泄漏，有人受伤了，快派人来' },
      expect: { urgency: 'urgent', reasonIncludes: 'danger to life or safety: "燃气泄漏", "有人受伤" → urgent', confidence: { min: 0.8 } },
    },
    { draft: { text: '疏勒镇幸福路一栋民房着火了，里面好像还有老人' }, expect: { urgency: 'urgent', reasonIncludes: '"着火"' } },
    { draft: { text: '我父亲的降压药快吃完了，村卫生室一直说没货' }, expect: { urgency: 'urgent', reasonIncludes: 'medicine running out: "药快吃完"' } },
    { draft: { text: '封路以后买不到药，我妈有糖尿病，已经断药三天了' }, expect: { urgency: 'urgent', reasonIncludes: '"断药"' } },
    {
      title: 'wages and a protest, apart in the message',
      draft: { text: '工地老板拖欠工资半年了，明天我们三十多个工人准备去县政府门口拉横幅' },
      expect: { urgency: 'urgent', reasonIncludes: 'risk of collective action: "拖欠工资 + 拉横幅"' },
    },
    { draft: { text: '再不给工钱，我们就堵路' }, expect: { urgency: 'urgent', reasonIncludes: '"工钱 + 堵路"' } },
    { draft: { text: 'Gas leak on the corner of Mission and 24th, you can smell gas from the street' }, expect: { urgency: 'urgent', reasonIncludes: '"gas leak", "smell gas"' } },
    { draft: { subject: 'URGENT', text: 'Downed power line sparking on Oak St, kids walk here' }, expect: { urgency: 'urgent' } },
    { draft: { text: 'My neighbour is 80 and ran out of insulin yesterday.' }, expect: { urgency: 'urgent', reasonIncludes: 'medicine running out' } },
    { draft: { text: 'Unpaid wages for four months; all of us will protest at the mill on Monday.' }, expect: { urgency: 'urgent', reasonIncludes: 'risk of collective action' } },
    { title: 'wages alone are not urgent', draft: { text: '老板拖欠工资三个月了' }, expect: { none: true } },
    { title: 'a petition about land alone is not about wages', draft: { text: '宅基地纠纷，我准备去上访' }, expect: { none: true } },
    { title: 'a fire hazard is for inspection, not an emergency', draft: { text: '小区消防通道被占，存在火灾隐患' }, expect: { none: true } },
    { title: 'a fire hydrant is not a fire', draft: { text: 'The fire hydrant on 3rd Street is leaking.' }, expect: { none: true } },
  ],
  quiet: [
    '伽师县巴仁镇的路灯坏了一个月了',
    '请问办理居住证需要带什么材料？',
    'Firefox keeps crashing on the library computer.',
    'I was fired last week and want to know about unemployment benefits.',
    'The pothole on Market Street is getting bigger.',
  ],
})

describe('byUrgency in the chain', () => {
  it('passes the urgency on: the next strategy places the case, and the case is urgent', async () => {
    const { decision, trail } = await runRoutingChain(
      [byUrgency(), byJurisdiction(), toIntakeDesk()],
      caseDraft('伽师县巴仁镇一家饭馆起火了'),
      routingContext(demoOffices),
    )
    expect(decision).toMatchObject({ officeId: 'jiashi-bairen', strategy: 'jurisdiction', urgency: 'urgent' })
    expect(trail[0]?.decision?.reason).toBe('danger to life or safety: "起火" → urgent')
  })
})

describe('byUrgency options', () => {
  it('takes signals of the deployment, added to the defaults', async () => {
    const decide = byUrgency({ signals: [...DEFAULT_URGENCY_SIGNALS, { name: 'flood', words: ['洪水', 'flash flood'] }] })
    const ctx = routingContext(demoOffices)
    expect((await decide(caseDraft('河边洪水上来了'), ctx))?.reason).toBe('flood: "洪水" → urgent')
    expect((await decide(caseDraft('有人受伤'), ctx))?.urgency).toBe('urgent')
  })

  it('can mark a kind of message complex rather than urgent', async () => {
    const decide = byUrgency({ signals: [{ name: 'several agencies', words: ['多部门'], urgency: 'complex' }] })
    expect(await decide(caseDraft('这个问题涉及多部门'), routingContext(demoOffices))).toMatchObject({ officeId: '', urgency: 'complex' })
  })

  it.each<[string, object]>([
    ['no signals', { signals: [] }],
    ['a signal without words', { signals: [{ name: 'x' }] }],
    ['together with one list', { signals: [{ name: 'x', together: [['a']] }] }],
    ['a misspelt key', { signals: [{ name: 'x', word: ['a'] }] }],
    ['a confidence above 1', { confidence: 2 }],
  ])('refuses %s at the factory', (_title, options) => {
    expect(() => byUrgency(options as never)).toThrow(RoutingConfigError)
  })
})
