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

/** Bounds on a decision's confidence, both inclusive: `{ min: 0.5, max: 0.7 }` for a moderate guess. */
export interface ConfidenceRange {
  min?: number
  max?: number
}

export type StrategyExpectation =
  /** Decides this office. */
  | { officeId: string; reasonIncludes?: string; confidence?: ConfidenceRange }
  /** Decides only a category (office `''`), and perhaps an urgency, for the next strategies to place. */
  | { category: string; urgency?: Urgency; reasonIncludes?: string; confidence?: ConfidenceRange }
  /** Decides only an urgency (office `''`): the next strategies place the case, which gets that deadline. */
  | { urgency: Urgency; category?: string; reasonIncludes?: string; confidence?: ConfidenceRange }
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
  if (e.category === undefined) return `urgency ${e.urgency}`
  return `category ${e.category}${e.urgency ? ` (${e.urgency})` : ''}`
}

/** Drafts that are valid but unusual: a strategy must answer them (or pass) without throwing. */
const ODD_DRAFTS: readonly DraftInput[] = [
  { text: '' },
  { text: ' \n\t　' },
  // The longest text an InboundMessage may carry.
  { text: '没'.repeat(20_000) },
  { text: '', place: { lat: 39.4947, lon: 76.7247 } },
  { text: '', place: { text: '' } },
  { text: '', subject: 'Re: Re: Fwd:' },
  { text: 'يولدىكى چىراغ بۇزۇلدى 🚧🚧🚧' },
  { text: 'a', category: 'no-such-category', urgency: 'complex' },
]

/**
 * The rules every decision keeps, as the kit checks them; returns what it breaks (empty when none).
 *
 * @example
 * decisionProblems({ officeId: '', strategy: 'urgency', reason: 'fire', confidence: 0.9 }, 'urgency', directory)
 * // ['a decision without an office must carry a category or an urgency']
 */
export function decisionProblems(decision: RoutingDecision, name: string, directory: OfficeDirectory): string[] {
  const problems: string[] = []
  if (!RoutingDecision.safeParse(decision).success) problems.push('does not parse as a RoutingDecision')
  if (typeof decision.reason !== 'string' || decision.reason.trim() === '') problems.push('has no reason')
  if (!(Number.isFinite(decision.confidence) && decision.confidence >= 0 && decision.confidence <= 1)) {
    problems.push(`confidence ${decision.confidence} is not in [0, 1]`)
  }
  if (decision.strategy !== name) problems.push(`names strategy "${decision.strategy}", not "${name}"`)
  if (decision.officeId === '') {
    if (!decision.category && !decision.urgency) problems.push('a decision without an office must carry a category or an urgency')
  } else if (!directory.get(decision.officeId)) problems.push(`unknown office ${decision.officeId}`)
  return problems
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
            if (e.category !== undefined) expect(decision?.category, decision?.reason).toBe(e.category)
            if (e.urgency !== undefined) expect(decision?.urgency, decision?.reason).toBe(e.urgency)
          }
          if (e.reasonIncludes !== undefined) expect(decision?.reason).toContain(e.reasonIncludes)
          if (e.confidence?.min !== undefined) expect(decision?.confidence, decision?.reason).toBeGreaterThanOrEqual(e.confidence.min)
          if (e.confidence?.max !== undefined) expect(decision?.confidence, decision?.reason).toBeLessThanOrEqual(e.confidence.max)
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
        expect(decisionProblems(decision, name, directory), `"${excerpt(draft)}"`).toEqual([])
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

    it('copes with odd drafts (empty, blank, very long, coordinates only, another script) without throwing', async () => {
      for (const input of ODD_DRAFTS) {
        const draft = caseDraft(input)
        const where = `"${excerpt(input).slice(0, 20)}"${input.place ? ` place ${JSON.stringify(input.place)}` : ''}`
        let decision: RoutingDecision | undefined
        try {
          decision = await strategy(draft, context())
        } catch (err) {
          expect.fail(`${where}: threw ${(err as Error).message}`)
        }
        if (decision !== undefined) expect(decisionProblems(decision, name, directory), where).toEqual([])
      }
    })
  })
}
