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
}

/** One strategy's answer in the routing trail kept on the case's `routed` event. */
export interface RoutingAttempt {
  strategy: string
  decision?: RoutingDecision
  error?: string
}
