import { describe, expect, it } from 'vitest'
import { memoryLogger } from '@intake/core'
import { byTrackingCode } from './by-tracking-code.ts'
import { RoutingConfigError } from './errors.ts'
import { demoOffices, earlierCase } from './demo-fixtures.ts'
import { caseDraft, routingContext, testStrategy } from './kit/index.ts'

// Valid codes (their check characters verify); the pipeline extracts them from the text.
const BAIREN_CASE = 'K7F3-9Q28'
const LABOUR_CASE = 'M4RT-8WHY'
const UNKNOWN_CASE = 'P2XN-7DC2'

const earlierCases = [earlierCase(BAIREN_CASE, 'jiashi-bairen'), earlierCase(LABOUR_CASE, 'shule-labour', { status: 'in_progress' })]

testStrategy({
  name: 'tracking-code',
  strategy: byTrackingCode(),
  offices: demoOffices,
  earlierCases,
  cases: [
    {
      draft: { text: `上次反映的路灯问题（${BAIREN_CASE}）又坏了`, trackingCodes: [BAIREN_CASE] },
      expect: { officeId: 'jiashi-bairen', reasonIncludes: `mentions case ${BAIREN_CASE}, handled by 伽师县巴仁镇人民政府` },
    },
    {
      draft: { subject: `Re: ${LABOUR_CASE}`, text: 'Still no wages, any news?', trackingCodes: [LABOUR_CASE] },
      expect: { officeId: 'shule-labour' },
    },
    {
      title: 'an unknown code is passed over for a known one',
      draft: { text: `${UNKNOWN_CASE} 还是 ${BAIREN_CASE}？`, trackingCodes: [UNKNOWN_CASE, BAIREN_CASE] },
      expect: { officeId: 'jiashi-bairen' },
    },
    { title: 'a code no case has', draft: { text: `我的编号是 ${UNKNOWN_CASE}`, trackingCodes: [UNKNOWN_CASE] }, expect: { none: true } },
  ],
  quiet: ['伽师县巴仁镇的路灯坏了', { text: '没有编号', trackingCodes: [] }],
})

describe('byTrackingCode', () => {
  it('lowers confidence and says so when the cases mentioned are with different offices', async () => {
    const decision = await byTrackingCode()(
      caseDraft({ text: `${BAIREN_CASE} ${LABOUR_CASE}`, trackingCodes: [BAIREN_CASE, LABOUR_CASE] }),
      routingContext(demoOffices, { cases: earlierCases }),
    )
    expect(decision?.officeId).toBe('jiashi-bairen')
    expect(decision?.confidence).toBe(0.6)
    expect(decision?.reason).toContain(`also mentions case ${LABOUR_CASE}, handled by 疏勒县人力资源和社会保障局`)
  })

  it('passes over a case whose office left the directory, with a warning', async () => {
    const log = memoryLogger()
    const ctx = { ...routingContext(demoOffices, { cases: [earlierCase(BAIREN_CASE, 'old-bairen-office')] }), log }
    expect(await byTrackingCode()(caseDraft({ text: BAIREN_CASE, trackingCodes: [BAIREN_CASE] }), ctx)).toBeUndefined()
    expect(log.lines.join('\n')).toContain('old-bairen-office')
  })

  it('takes its confidence from the options, and rejects one outside [0, 1] at the factory', async () => {
    const decision = await byTrackingCode({ confidence: 0.7 })(
      caseDraft({ text: BAIREN_CASE, trackingCodes: [BAIREN_CASE] }),
      routingContext(demoOffices, { cases: earlierCases }),
    )
    expect(decision?.confidence).toBe(0.7)
    expect(() => byTrackingCode({ confidence: 1.5 })).toThrow(RoutingConfigError)
    expect(() => byTrackingCode({ confidence: Number.NaN })).toThrow(RoutingConfigError)
  })
})
