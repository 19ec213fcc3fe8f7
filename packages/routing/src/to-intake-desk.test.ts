import { describe, expect, it } from 'vitest'
import { Office } from '@intake/core'
import { toIntakeDesk } from './to-intake-desk.ts'
import { demoOffices } from './demo-fixtures.ts'
import { caseDraft, routingContext, testStrategy } from './kit/index.ts'

testStrategy({
  name: 'intake-desk',
  strategy: toIntakeDesk(),
  offices: demoOffices,
  cases: [
    { draft: { text: '你好，请问12345热线几点下班？' }, expect: { officeId: 'kashgar-hotline', reasonIncludes: 'awaits dispatch by hand' } },
    { draft: { text: '伽师县巴仁镇的路灯坏了一个月了' }, expect: { officeId: 'kashgar-hotline' } },
    { draft: { subject: 'Help', text: 'Who do I talk to about my neighbour’s dog?', category: 'other' }, expect: { officeId: 'kashgar-hotline' } },
  ],
  quiet: { skip: 'the intake desk is the last resort of a chain: it decides every draft by design' },
})

describe('toIntakeDesk', () => {
  it('decides whichever office the directory marks as the intake desk, with confidence 0', async () => {
    const offices = [
      Office.parse({ id: 'city', name: 'Springfield City Hall' }),
      Office.parse({ id: 'city-311', name: 'Springfield 311', parentId: 'city', intakeDesk: true }),
    ]
    const decision = await toIntakeDesk()(caseDraft('Pothole on Main Street'), routingContext(offices))
    expect(decision).toEqual({
      officeId: 'city-311',
      strategy: 'intake-desk',
      reason: 'sent to the intake desk Springfield 311 (city-311), where it awaits dispatch by hand',
      confidence: 0,
    })
  })
})
