import type { Case, Office, RoutingStrategy } from '@intake/core'
import { RoutingConfigError } from './errors.ts'

export interface ByTrackingCodeOptions {
  /** Confidence when every mentioned case is handled by the same office. Default 0.9. */
  confidence?: number
}

/** Earlier cases that name different offices leave the choice open: the first one, but doubtful. */
const CONFLICTING_CASES_CONFIDENCE = 0.6

/**
 * A message that quotes the tracking code of an earlier case ("about K7F3-9Q28 again…") goes to the
 * office that handled that case: it knows the history. The codes come from `draft.trackingCodes`,
 * already checked by the pipeline; codes of unknown cases are passed over.
 *
 * @example
 * byTrackingCode()  // "mentions case K7F3-9Q28, handled by 伽师县巴仁镇人民政府"
 */
export function byTrackingCode({ confidence = 0.9 }: ByTrackingCodeOptions = {}): RoutingStrategy {
  if (!Number.isFinite(confidence) || confidence < 0 || confidence > 1) {
    throw new RoutingConfigError('by-tracking-code', `confidence must be between 0 and 1, got ${confidence}`)
  }
  return async function byTrackingCode(draft, ctx) {
    const found: { code: string; earlier: Case; office: Office }[] = []
    for (const code of new Set(draft.trackingCodes ?? [])) {
      const earlier = await ctx.cases.byTrackingCode(code)
      if (!earlier) continue
      const office = ctx.offices.get(earlier.officeId)
      if (!office) {
        // The office was removed from the directory since; its successor is a person's call.
        ctx.log.warn('earlier case names an office no longer in the directory', { trackingCode: code, officeId: earlier.officeId })
        continue
      }
      found.push({ code, earlier, office })
    }
    const first = found[0]
    if (!first) return undefined
    const others = found.filter((f) => f.office.id !== first.office.id)
    const reason = [`mentions case ${first.code}, handled by ${first.office.name}`]
    for (const other of others) reason.push(`also mentions case ${other.code}, handled by ${other.office.name}`)
    return {
      officeId: first.office.id,
      strategy: 'tracking-code',
      reason: reason.join('; '),
      confidence: others.length === 0 ? confidence : Math.min(confidence, CONFLICTING_CASES_CONFIDENCE),
    }
  }
}
