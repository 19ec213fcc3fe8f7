import { describe, expect, it } from 'vitest'
import { buildOfficeDirectory, memoryLogger, type RoutingDecision, type RoutingStrategy } from '@intake/core'
import { byBestOf } from './by-best-of.ts'
import { byCategory } from './by-category.ts'
import { byJurisdiction } from './by-jurisdiction.ts'
import { demoOffices } from './demo-fixtures.ts'
import { RoutingConfigError } from './errors.ts'
import { caseDraft, routingContext, testStrategy } from './kit/index.ts'

/** A strategy that always says the same: stands for a trained model's answer in these tests. */
function says(name: string, decision: Omit<RoutingDecision, 'strategy'> | undefined): RoutingStrategy {
  return Object.defineProperty(async () => (decision ? { ...decision, strategy: name } : undefined), 'name', { value: name })
}

const jurisdiction = byJurisdiction()
const rules = byCategory({ within: jurisdiction })
const directory = buildOfficeDirectory(demoOffices)

testStrategy({
  name: 'best-of',
  strategy: byBestOf({ strategies: [byCategory(), rules] }),
  offices: demoOffices,
  cases: [
    {
      title: 'two readings agree: the one naming an office, more confident together',
      draft: { text: '疏勒县的工地老板拖欠工资' },
      expect: { officeId: 'shule-labour', reasonIncludes: 'category and category agree on office shule-labour', confidence: { min: 0.9 } },
    },
    { title: 'one reading only', draft: { text: '老板拖欠工资' }, expect: { category: 'labour' } },
  ],
  quiet: ['谢谢', 'Thanks for last week'],
})

describe('byBestOf', () => {
  it("the taxonomy's rule for teachers' pay (0.77) wins over a model's labour (0.62), with both reasons", async () => {
    const model = says('trained-classifier', { officeId: 'shule-labour', category: 'labour', confidence: 0.62, reason: 'model: 工资 +1.9 → category labour (0.62)' })
    const decision = await byBestOf({ strategies: [model, rules] })(caseDraft('疏勒县一所学校的教师工资拖欠了三个月'), routingContext(directory))
    expect(decision).toMatchObject({ officeId: 'shule', category: 'education', strategy: 'best-of' })
    expect(decision?.reason).toMatch(/^office shule \(category 0\.\d+\) over office shule-labour \(trained-classifier 0\.62\) — category \(0\.\d+\): matched "教师工资"/)
    expect(decision?.reason).toContain('| trained-classifier (0.62): model: 工资 +1.9 → category labour (0.62)')
  })

  it('a confident model wins over a weak rule', async () => {
    const model = says('trained-classifier', { officeId: 'shule-labour', category: 'labour', confidence: 0.97, reason: 'model: 讨薪 +3.0 → category labour (0.97)' })
    const decision = await byBestOf({ strategies: [model, rules] })(caseDraft('疏勒县学校门口有人讨薪'), routingContext(directory))
    expect(decision).toMatchObject({ officeId: 'shule-labour', category: 'labour' })
  })

  it('agreeing on the category, the decision naming an office is taken', async () => {
    const model = says('trained-classifier', { officeId: '', category: 'labour', confidence: 0.9, reason: 'model → category labour; no place found' })
    const decision = await byBestOf({ strategies: [model, rules] })(caseDraft('疏勒县的老板拖欠工资'), routingContext(directory))
    expect(decision).toMatchObject({ officeId: 'shule-labour', category: 'labour' })
    expect(decision!.confidence).toBeGreaterThan(0.9)
  })

  it('skips a strategy that throws (and logs it), and one naming an office the directory lacks', async () => {
    const log = memoryLogger()
    const broken: RoutingStrategy = async function broken() {
      throw new Error('model file unreadable')
    }
    const stray = says('stray', { officeId: 'atlantis', confidence: 1, reason: 'nowhere' })
    const decision = await byBestOf({ strategies: [broken, stray, rules] })(caseDraft('疏勒县的老板拖欠工资'), { ...routingContext(directory), log })
    expect(decision).toMatchObject({ officeId: 'shule-labour', strategy: 'best-of' })
    expect(decision?.reason).toMatch(/^only category \(0\.\d+\): matched "拖欠工资"/)
    expect(log.lines.join('\n')).toContain('model file unreadable')
  })

  it('needs two strategies', () => {
    expect(() => byBestOf({ strategies: [rules] })).toThrow(RoutingConfigError)
  })
})
