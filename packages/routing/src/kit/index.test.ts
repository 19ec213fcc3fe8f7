import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { startVitest } from 'vitest/node'
import { Office, type RoutingStrategy } from '@intake/core'
import { caseDraft, decisionProblems, KIT_NOW, routingContext, testStrategy, type TestStrategyOptions } from './index.ts'
import { demoOffices, earlierCase } from '../demo-fixtures.ts'

describe('routingContext', () => {
  it('reads a fixed clock, finds earlier cases by tracking code, and builds the directory', async () => {
    const ctx = routingContext(demoOffices, { cases: [earlierCase('K7F3-9Q28', 'jiashi')] })
    expect(ctx.now()).toBe(KIT_NOW)
    expect((await ctx.cases.byTrackingCode('K7F3-9Q28'))?.officeId).toBe('jiashi')
    expect(await ctx.cases.byTrackingCode('M4RT-8WHY')).toBeUndefined()
    expect(ctx.offices.intakeDesk().id).toBe('kashgar-hotline')
  })
})

describe('caseDraft', () => {
  it('fills in a web-form sender', () => {
    expect(caseDraft('路灯坏了')).toEqual({ text: '路灯坏了', channelId: 'web', from: { channelId: 'web', id: 'citizen-1' } })
    expect(caseDraft({ text: 'hi', channelId: 'sms' }).from).toEqual({ channelId: 'sms', id: 'citizen-1' })
  })
})

describe('testStrategy refuses a broken table before any test runs', () => {
  const offices = [Office.parse({ id: 'desk', name: 'Desk', intakeDesk: true })]
  const strategy: RoutingStrategy = async function never() {
    return undefined
  }
  it.each<[string, TestStrategyOptions]>([
    ['an unknown expected office', { name: 'x', strategy, offices, cases: [{ draft: { text: 'a' }, expect: { officeId: 'nope' } }], quiet: ['b'] }],
    ['no table', { name: 'x', strategy, offices, cases: [], quiet: ['b'] }],
    ['no quiet drafts and no reason to skip', { name: 'x', strategy, offices, cases: [{ draft: { text: 'a' }, expect: { none: true } }], quiet: [] }],
  ])('%s', (_title, options) => {
    expect(() => testStrategy(options)).toThrow(/\[routing\/kit\]/)
  })
})

describe('decisionProblems', () => {
  const directory = routingContext(demoOffices).offices
  const decide = (overrides: object) => ({ officeId: 'jiashi', strategy: 'x', reason: 'matched 伽师县', confidence: 0.9, ...overrides })

  it('accepts a decision that keeps every rule, and one passing on only an urgency', () => {
    expect(decisionProblems(decide({}), 'x', directory)).toEqual([])
    expect(decisionProblems(decide({ officeId: '', urgency: 'urgent' }), 'x', directory)).toEqual([])
  })

  it.each<[string, object, string]>([
    ['no office and nothing to pass on', { officeId: '' }, 'a decision without an office must carry a category or an urgency'],
    ['an office the directory lacks', { officeId: 'atlantis' }, 'unknown office atlantis'],
    ['a blank reason', { reason: '  ' }, 'has no reason'],
    ['a confidence above 1', { confidence: 1.2 }, 'confidence 1.2 is not in [0, 1]'],
    ['a confidence that is not a number', { confidence: Number.NaN }, 'confidence NaN is not in [0, 1]'],
    ['another strategy name', { strategy: 'y' }, 'names strategy "y", not "x"'],
  ])('names %s', (_title, overrides, problem) => {
    expect(decisionProblems(decide(overrides), 'x', directory)).toContain(problem)
  })
})

describe('the kit catches faulty strategies', () => {
  it('fails each one on the rule it breaks, and only there', async () => {
    const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))
    const vitest = await startVitest('test', [], {
      root: fixtures,
      include: ['*.kit-fixture.ts'],
      watch: false,
      // A cache beside the fixtures would leave node_modules/ inside src/.
      cache: false,
      reporters: [{}],
    })
    const failed: string[] = []
    const passed: string[] = []
    for (const module of vitest.state.getTestModules()) {
      for (const test of module.children.allTests()) {
        const name = test.fullName
        const state = test.result().state
        if (state === 'failed') failed.push(name)
        if (state === 'passed') passed.push(name)
      }
    }
    await vitest.close()

    expect(failed.sort()).toEqual(
      [
        'routing strategy "nameless" > is a named function, so the routing trail can say who decided',
        'routing strategy "guesses" > returns undefined for messages it knows nothing about, rather than guess',
        'routing strategy "wobbles" > decides the same input the same way, with a fresh or a used context',
        'routing strategy "sloppy" > gives well-formed decisions: a reason, a confidence in [0, 1], its name, a known office',
        'routing strategy "meddles" > never changes the draft or the office directory',
        'routing strategy "brittle" > copes with odd drafts (empty, blank, very long, coordinates only, another script) without throwing',
      ].sort(),
    )
    expect(passed.filter((n) => n.includes('decides its table'))).toHaveLength(6)
  }, 60_000)
})
