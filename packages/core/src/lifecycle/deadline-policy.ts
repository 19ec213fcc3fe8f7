import { addDuration, type DeadlinePolicy, type WorkCalendar } from '../deadlines/index.ts'
import type { Case, Urgency } from '../model/index.ts'
import type { OfficeDirectory } from '../offices/index.ts'

/**
 * Which deadline applies to a case: the most specific policy wins. From the handling office up its
 * lineage, each office's own `deadlines` (per category first, then per urgency); then the
 * deployment's `deadlines.categories`, then its `deadlines` by urgency. So a township that answers
 * in 3 working days sets `normal` on itself, and its city's 5 days apply everywhere else below it.
 */
export interface DeadlinePolicyResolver {
  /** The duration text for this case at this office, and where it came from (for the event). */
  durationFor(c: Pick<Case, 'officeId' | 'category' | 'urgency'>): { duration: string; source: string }
  /** The case's deadline counted from `from`. */
  deadlineFor(c: Pick<Case, 'officeId' | 'category' | 'urgency'>, from: number): number
  /** When the office must have accepted a case that reached it at `from` (null: no acceptance deadline). */
  acceptBy(officeId: string, from: number): number | null
  readonly calendar: WorkCalendar
}

export interface DeadlineRules {
  base: DeadlinePolicy
  /** The time to accept (接单), e.g. '2 working hours'; null: none. */
  accept: string | null
  categories: Record<string, Partial<DeadlinePolicy>>
}

export function deadlinePolicy(offices: OfficeDirectory, rules: DeadlineRules, calendar: WorkCalendar): DeadlinePolicyResolver {
  const durationFor: DeadlinePolicyResolver['durationFor'] = ({ officeId, category, urgency }) => {
    for (const office of offices.lineage(officeId)) {
      const own = office.deadlines
      if (!own) continue
      const byCategory = category ? own.categories?.[category]?.[urgency as Urgency] : undefined
      if (byCategory) return { duration: byCategory, source: `office ${office.id}, category ${category}` }
      if (own[urgency]) return { duration: own[urgency]!, source: `office ${office.id}` }
    }
    const byCategory = category ? rules.categories[category]?.[urgency] : undefined
    if (byCategory) return { duration: byCategory, source: `category ${category}` }
    return { duration: rules.base[urgency], source: 'default' }
  }
  return {
    calendar,
    durationFor,
    deadlineFor: (c, from) => addDuration(from, durationFor(c).duration, calendar),
    acceptBy(officeId, from) {
      const own = offices.lineage(officeId).find((o) => o.deadlines?.accept)?.deadlines?.accept
      const accept = own ?? rules.accept
      return accept ? addDuration(from, accept, calendar) : null
    },
  }
}
