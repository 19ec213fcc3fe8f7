import type { RoutingStrategy } from '@intake/core'

/**
 * No options yet. The factory still takes an object so options can be added without breaking
 * deployments' configs.
 */
export type ToIntakeDeskOptions = Record<string, never>

/**
 * The last strategy of a chain: every draft goes to the directory's intake desk, where a person
 * dispatches it by hand. Confidence 0: nothing was recognised.
 *
 * @example
 * routing: [byTrackingCode(), byKeywords({ rules }), byJurisdiction(), toIntakeDesk()]
 */
export function toIntakeDesk(_options: ToIntakeDeskOptions = {}): RoutingStrategy {
  return async function toIntakeDesk(_draft, ctx) {
    const desk = ctx.offices.intakeDesk()
    return {
      officeId: desk.id,
      strategy: 'intake-desk',
      reason: `sent to the intake desk ${desk.name} (${desk.id}), where it awaits dispatch by hand`,
      confidence: 0,
    }
  }
}
