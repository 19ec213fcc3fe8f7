import type { Address, Case, PlaceHint, RoutingDecision, Urgency } from '../model/index.ts'
import type { OfficeDirectory } from '../offices/index.ts'
import type { Logger } from '../log/index.ts'

/** What routing sees of a new case before it exists. */
export interface CaseDraft {
  text: string
  subject?: string
  place?: PlaceHint
  channelId: string
  /** The office account or number the message was sent to. */
  to?: string
  from: Address
  language?: string
  /** Set by an earlier strategy that decided only the category. */
  category?: string
  urgency?: Urgency
  /** Tracking codes (valid check character) written in the text or subject. */
  trackingCodes?: string[]
}

export interface RoutingContext {
  offices: OfficeDirectory
  log: Logger
  now: () => number
  /** Look up earlier cases (a new message may mention the tracking code of a closed one). */
  cases: { byTrackingCode(code: string): Promise<Case | undefined> }
}

/**
 * A routing strategy: decide the office for a draft, or return undefined to let the next one try.
 * A strategy that cannot decide says so; it never guesses. Name the returned function: its name
 * appears in the routing trail.
 *
 * @example
 * const byChannel = (): RoutingStrategy => async function byChannel(draft, ctx) {
 *   if (draft.channelId !== 'county-hotline') return undefined
 *   return { officeId: 'county', strategy: 'channel', reason: 'sent to the county hotline', confidence: 0.9 }
 * }
 */
export type RoutingStrategy = ((draft: CaseDraft, ctx: RoutingContext) => Promise<RoutingDecision | undefined>) & {
  /**
   * The strategy finds places (its decisions carry `place`). When an earlier strategy decides
   * without one, the chain still asks it, for the place only, so every case records where it is about.
   */
  readonly locates?: boolean
  /**
   * The category ids this strategy can decide (a taxonomy's, a rule set's). The gateway checks at
   * start that every office's remit names a category some strategy decides, so `remit: [labor]`
   * for `labour` is an error naming the office instead of an office no case ever reaches.
   */
  readonly categories?: readonly string[]
  /**
   * What this strategy finds wrong with the offices as it reads them — a jurisdiction code or place
   * name its place list does not have — checked when the gateway is assembled: each problem is a
   * configuration error naming the offices file, the office and the key, instead of an office no
   * case reaches.
   *
   * @example
   * // [{ officeId: 'jiashi', key: 'jurisdiction.codes[0]', message: 'no place has the code "653199" in 中国行政区划 (65)' }]
   */
  readonly checkOffices?: (offices: OfficeDirectory) => readonly OfficeProblem[]
}

/** Something wrong with one office, for the start-up error: `key` is the path inside the office, e.g. `jurisdiction.places[0].name`. */
export interface OfficeProblem {
  officeId: string
  key: string
  message: string
}

/** One strategy's answer in the routing trail kept on the case's `routed` event. */
export interface RoutingAttempt {
  strategy: string
  decision?: RoutingDecision
  error?: string
}

/** A message with the office and/or category it should have had: what a learning strategy trains on. */
export interface LabelledMessage {
  text: string
  subject?: string
  /** The category staff confirmed (or the agency's own label). */
  category?: string
  /** The office that resolved it. */
  officeId?: string
}

/**
 * What a routing strategy that learns from labelled messages offers besides routing. It hangs on
 * the strategy function as `learner`, so a config's chain is all `intake train` and
 * `intake route-eval --folds` need: the first trains and saves the model the strategy reads, the
 * second trains a copy per fold.
 */
export interface RoutingLearner {
  /** A copy of the strategy that routes with a model trained on these messages; nothing is saved. */
  trainedOn(examples: readonly LabelledMessage[]): Promise<RoutingStrategy>
  /** Trains on these messages and saves the model where the strategy reads it (the running strategy uses it at once); returns a line for the operator. */
  trainAndSave(examples: readonly LabelledMessage[]): Promise<string>
}

export type LearningStrategy = RoutingStrategy & { learner: RoutingLearner }

/** The strategy's learner, when it learns. */
export function learnerOf(strategy: RoutingStrategy): RoutingLearner | undefined {
  const learner = (strategy as Partial<LearningStrategy>).learner
  return learner && typeof learner.trainedOn === 'function' && typeof learner.trainAndSave === 'function' ? learner : undefined
}
