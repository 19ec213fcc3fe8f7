/**
 * The demo's routing chain, shared by its config and the end-to-end tests: a tracking code first
 * (follow-ups), urgency signals, then the 12345 category placed by jurisdiction (a wage complaint
 * from a town reaches its county's labour bureau), then the place alone, and the intake desk for
 * what none decides. Places come from China's official divisions for Xinjiang (~16,000 places,
 * villages included), loaded once per process.
 *
 *   intake route-eval examples/county-hotline/eval.csv --config examples/county-hotline/intake.config.ts
 */
import type { RoutingStrategy } from '@intake/core'
import { byCategory, byJurisdiction, byTrackingCode, byUrgency, chinaDivisions, toIntakeDesk } from '@intake/routing'

export const xinjiangPlaces = chinaDivisions({ within: '65' })

export function demoRouting(): RoutingStrategy[] {
  const jurisdiction = byJurisdiction({ places: xinjiangPlaces })
  // The prefecture's administration takes cases itself (it has a duty desk): a prefecture-wide
  // matter no bureau lists goes there rather than to the intake desk.
  return [byTrackingCode(), byUrgency(), byCategory({ within: jurisdiction, unlistedAtRoot: 'place-office' }), jurisdiction, toIntakeDesk()]
}
