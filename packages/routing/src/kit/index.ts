/**
 * The routing conformance kit: the cases every routing strategy must pass, declared as vitest
 * blocks. A strategy's test file is one call to `testStrategy` with a table of messages.
 *
 * @example
 * testStrategy({
 *   name: 'jurisdiction',
 *   strategy: byJurisdiction(),
 *   offices,
 *   cases: [{ draft: { text: '伽师县巴仁镇的路灯坏了一个月了' }, expect: { officeId: 'jiashi-bairen' } }],
 *   quiet: ['你好，请问热线几点下班？'],
 * })
 */
import { describe, expect, it } from 'vitest'
import {
  buildOfficeDirectory,
  RoutingDecision,
  silentLogger,
  type Case,
  type CaseDraft,
  type Office,
  type OfficeDirectory,
  type RoutingContext,
  type RoutingStrategy,
  type Urgency,
} from '@intake/core'

/** A draft as a table writes it: channel and sender may be left out. */
export type DraftInput = Omit<CaseDraft, 'channelId' | 'from'> & Partial<Pick<CaseDraft, 'channelId' | 'from'>>

export type StrategyExpectation =
  /** Decides this office. */
  | { officeId: string; reasonIncludes?: string }
  /** Decides only a category (office `''`), for the next strategies to place. */
  | { category: string; urgency?: Urgency; reasonIncludes?: string }
  /** Does not decide. */
  | { none: true }

export interface StrategyCase {
  /** Defaults to the message text and the expectation. */
  title?: string
  draft: DraftInput
  expect: StrategyExpectation
}

export interface TestStrategyOptions {
  /** The `strategy` every decision must carry ('jurisdiction', 'keywords'…); also the suite's title. */
  name: string
  strategy: RoutingStrategy
  offices: OfficeDirectory | readonly Office[]
  /** The strategy's table: realistic messages and what it must decide for each. */
  cases: readonly StrategyCase[]
  /**
   * Messages that say nothing the strategy knows: it must return undefined rather than guess.
   * A strategy that decides everything (the intake desk) skips this case with its reason.
   */
  quiet: readonly (string | DraftInput)[] | { skip: string }
  /** Earlier cases that `ctx.cases.byTrackingCode` finds. */
  earlierCases?: readonly Case[]
}

/** The clock every kit context reads: 2026-03-02 09:00 UTC, a Monday. */
export const KIT_NOW = Date.UTC(2026, 2, 2, 9, 0, 0)

function isDirectory(offices: OfficeDirectory | readonly Office[]): offices is OfficeDirectory {
  return !Array.isArray(offices)
}

/**
 * A RoutingContext for tests: the given offices, a silent logger, a fixed clock, and a case
 * lookup over `cases`.
 */
export function routingContext(
  offices: OfficeDirectory | readonly Office[],
  { cases = [], now = KIT_NOW }: { cases?: readonly Case[]; now?: number } = {},
): RoutingContext {
  const directory = isDirectory(offices) ? offices : buildOfficeDirectory(offices)
  const byCode = new Map(cases.map((c) => [c.trackingCode, c]))
  return {
    offices: directory,
    log: silentLogger,
    now: () => now,
    cases: { byTrackingCode: async (code) => byCode.get(code) },
  }
}

/** A full CaseDraft from a text or a partial draft, as sent to the web form by one citizen. */
export function caseDraft(input: string | DraftInput): CaseDraft {
  const draft = typeof input === 'string' ? { text: input } : input
  const channelId = draft.channelId ?? 'web'
  return { ...draft, channelId, from: draft.from ?? { channelId, id: 'citizen-1' } }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

function excerpt(draft: DraftInput): string {
  const text = [draft.place?.text && `[${draft.place.text}]`, draft.subject, draft.text].filter(Boolean).join(' ')
  return text.length > 40 ? `${text.slice(0, 40)}…` : text
}

function describeExpectation(e: StrategyExpectation): string {
  if ('none' in e) return 'no decision'
  if ('officeId' in e) return e.officeId
  return `category ${e.category}${e.urgency ? ` (${e.urgency})` : ''}`
}

/** Declares the conformance suite for one strategy. */
export function testStrategy({ name, strategy, offices, cases, quiet, earlierCases = [] }: TestStrategyOptions): void {
  const directory = isDirectory(offices) ? offices : buildOfficeDirectory(offices)
  // A table that names an office the directory lacks is a fixture bug; say so before any test runs.
  for (const c of cases) {
    if ('officeId' in c.expect && !directory.get(c.expect.officeId)) {
      throw new Error(`[routing/kit] case "${c.title ?? excerpt(c.draft)}" expects unknown office "${c.expect.officeId}"`)
    }
  }
  if (cases.length === 0) throw new Error('[routing/kit] a strategy needs at least one table case')
  const quietDrafts = Array.isArray(quiet) ? quiet.map(caseDraft) : []
  const quietSkip = Array.isArray(quiet) ? undefined : (quiet as { skip: string }).skip
  if (quietSkip === undefined && quietDrafts.length === 0) {
    throw new Error('[routing/kit] give quiet drafts, or { skip: reason } for a strategy that decides everything')
  }
  const allDrafts = [...cases.map((c) => caseDraft(c.draft)), ...quietDrafts]
  const context = () => routingContext(directory, { cases: earlierCases })

  describe(`routing strategy "${name}"`, () => {
    it('is a named function, so the routing trail can say who decided', () => {
      expect(strategy.name).not.toBe('')
      expect(strategy.name).not.toBe('anonymous')
    })

    describe('decides its table', () => {
      for (const c of cases) {
        it(c.title ?? `"${excerpt(c.draft)}" → ${describeExpectation(c.expect)}`, async () => {
          const decision = await strategy(caseDraft(c.draft), context())
          const e = c.expect
          if ('none' in e) {
            expect(decision).toBeUndefined()
            return
          }
          expect(decision, 'expected a decision').toBeDefined()
          if ('officeId' in e) {
            expect(decision?.officeId, decision?.reason).toBe(e.officeId)
          } else {
            expect(decision?.officeId, decision?.reason).toBe('')
            expect(decision?.category).toBe(e.category)
            if (e.urgency) expect(decision?.urgency).toBe(e.urgency)
          }
          if (e.reasonIncludes !== undefined) expect(decision?.reason).toContain(e.reasonIncludes)
        })
      }
    })

    if (quietSkip !== undefined) {
      it.skip(`returns undefined for messages it knows nothing about (skipped: ${quietSkip})`, () => {})
    } else {
      it('returns undefined for messages it knows nothing about, rather than guess', async () => {
        for (const draft of quietDrafts) {
          const decision = await strategy(draft, context())
          expect(decision, `"${excerpt(draft)}" → ${decision?.reason}`).toBeUndefined()
        }
      })
    }

    it('decides the same input the same way, with a fresh or a used context', async () => {
      const shared = context()
      for (const draft of allDrafts) {
        const first = await strategy(draft, shared)
        expect(await strategy(draft, shared)).toEqual(first)
        expect(await strategy(draft, context())).toEqual(first)
      }
    })

    it('gives well-formed decisions: a reason, a confidence in [0, 1], its name, a known office', async () => {
      for (const draft of allDrafts) {
        const decision = await strategy(draft, context())
        if (decision === undefined) continue
        const where = `"${excerpt(draft)}"`
        expect(RoutingDecision.safeParse(decision).success, where).toBe(true)
        expect(decision.reason.trim(), where).not.toBe('')
        expect(Number.isFinite(decision.confidence) && decision.confidence >= 0 && decision.confidence <= 1, where).toBe(true)
        expect(decision.strategy, where).toBe(name)
        if (decision.officeId === '') expect(decision.category, `${where}: a decision without an office must carry a category`).toBeTruthy()
        else expect(directory.get(decision.officeId), `${where}: unknown office ${decision.officeId}`).toBeDefined()
      }
    })

    it('never changes the draft or the office directory', async () => {
      const officesBefore = JSON.stringify(directory.all)
      for (const draft of allDrafts) {
        const copy = structuredClone(draft)
        await strategy(copy, context())
        expect(copy, `"${excerpt(draft)}"`).toEqual(draft)
        // Frozen, so a write throws (modules run in strict mode) at the line that made it.
        await strategy(deepFreeze(structuredClone(draft)), context())
      }
      expect(JSON.stringify(directory.all)).toBe(officesBefore)
    })

    it('copes with an empty message', async () => {
      const decision = await strategy(caseDraft(''), context())
      if (decision !== undefined) {
        expect(decision.strategy).toBe(name)
        expect(decision.reason.trim()).not.toBe('')
      }
    })
  })
}
