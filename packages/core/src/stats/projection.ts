import type { Case, CaseEventInput, CaseStatus } from '../model/index.ts'

/**
 * The per-case row statistics read (one per case, kept by the store in the same transaction as
 * the writes it follows). Two halves: the case's current dimensions and status, copied from the
 * case whenever it changes; and facts folded from its events, so `intake stats rebuild` can
 * recompute them from the audit trail alone.
 */
export interface CaseStatsRow {
  caseId: string
  // dimensions: the case's current ones
  officeId: string
  channelId: string
  category: string | null
  placeCode: string | null
  status: CaseStatus
  receivedAt: number
  // facts: from the events (and the deadline the case was given at intake)
  deadlineAt: number | null
  acceptDeadlineAt: number | null
  /** The first acceptance (接单). */
  acceptedAt: number | null
  /** The first resolution (办结), for the reopen rate's denominator. */
  firstResolvedAt: number | null
  /** The latest resolution; null again once the case is reopened. */
  resolvedAt: number | null
  /** Whether the latest resolution came by the deadline in force then. */
  resolvedOnTime: boolean | null
  closedAt: number | null
  rating: number | null
  satisfied: boolean | null
  reopenCount: number
}

/** Event types that change a stats row's facts; others are skipped without a read. */
export const STATS_EVENT_TYPES: ReadonlySet<string> = new Set(['status_changed', 'deadline_set', 'rated'])

/** The satisfaction threshold of the contract: a rating above it is satisfied unless the event says. */
const SATISFIED_ABOVE = 2

export function statsRowForCase(kase: Pick<Case, 'id' | 'officeId' | 'channelId' | 'category' | 'placeCode' | 'status' | 'createdAt' | 'deadlineAt'> & { acceptDeadlineAt?: number | null }): CaseStatsRow {
  return {
    caseId: kase.id,
    officeId: kase.officeId,
    channelId: kase.channelId,
    category: kase.category,
    placeCode: kase.placeCode ?? null,
    status: kase.status,
    receivedAt: kase.createdAt,
    deadlineAt: kase.deadlineAt,
    acceptDeadlineAt: kase.acceptDeadlineAt ?? null,
    acceptedAt: null,
    firstResolvedAt: null,
    resolvedAt: null,
    resolvedOnTime: null,
    closedAt: null,
    rating: null,
    satisfied: null,
    reopenCount: 0,
  }
}

const num = (v: unknown): number | null | undefined => (v === null ? null : typeof v === 'number' && Number.isFinite(v) ? v : undefined)

/**
 * Folds one event into the row (mutating it). Vocabulary: LIFECYCLE-CONTRACT.md —
 * `status_changed {from, to, transition?, reason?}`, `deadline_set {deadlineAt, acceptDeadlineAt?}`,
 * `rated {rating, satisfied?}`. Older `status_changed` events carry only from/to; a move back to
 * work from resolved or closed counts as a reopen.
 */
export function foldStatsEvent(row: CaseStatsRow, event: Pick<CaseEventInput, 'type' | 'at' | 'data'>): void {
  const data = event.data ?? {}
  const at = event.at
  switch (event.type as string) {
    case 'status_changed': {
      const to = data.to as CaseStatus | undefined
      const from = data.from as CaseStatus | undefined
      const reopen = data.transition === 'reopen' || ((from === 'resolved' || from === 'closed') && to !== 'closed' && to !== 'resolved' && to !== undefined)
      if (reopen) {
        row.reopenCount += 1
        row.resolvedAt = null
        row.resolvedOnTime = null
        row.closedAt = null
        // The rating stays until the new round is rated: satisfaction counts each case's latest word.
        return
      }
      if ((data.transition === 'accept' || to === 'accepted') && row.acceptedAt === null) row.acceptedAt = at
      if (to === 'resolved') {
        row.resolvedAt = at
        row.firstResolvedAt ??= at
        row.resolvedOnTime = row.deadlineAt === null || at <= row.deadlineAt
      }
      if (to === 'closed') row.closedAt = at
      return
    }
    case 'deadline_set': {
      const deadline = num(data.deadlineAt)
      if (deadline !== undefined) row.deadlineAt = deadline
      const accept = num(data.acceptDeadlineAt)
      if (accept !== undefined) row.acceptDeadlineAt = accept
      return
    }
    case 'rated': {
      const rating = num(data.rating)
      if (rating === undefined || rating === null) return
      row.rating = rating
      row.satisfied = typeof data.satisfied === 'boolean' ? data.satisfied : rating > SATISFIED_ABOVE
      return
    }
    default:
      return
  }
}
