import type { RoutingDecision } from '../model/index.ts'
import type { CaseDraft, RoutingAttempt, RoutingContext, RoutingStrategy } from '../contracts/routing.ts'

export interface ChainResult {
  decision: RoutingDecision
  /** Every strategy that was asked, in order, with its answer: kept on the `routed` event. */
  trail: RoutingAttempt[]
}

/**
 * Ask each strategy in order; the first decision whose office exists wins. A strategy that throws
 * is recorded and skipped (one broken rule must not lose a case). When none decides, the case goes
 * to the intake desk, where a person dispatches it by hand.
 * A strategy that only sets the category or urgency (office `''`) passes them on to the next ones.
 * The first place found (`decision.place`) stays with the case whichever strategy decides, so a
 * case routed by category to a county bureau still counts for the township it is about.
 */
export async function runRoutingChain(
  strategies: readonly RoutingStrategy[],
  draft: CaseDraft,
  ctx: RoutingContext,
): Promise<ChainResult> {
  const trail: RoutingAttempt[] = []
  let current = { ...draft }
  let place: RoutingDecision['place']
  for (const [at, strategy] of strategies.entries()) {
    const name = strategy.name || 'anonymous'
    let decision: RoutingDecision | undefined
    try {
      decision = await strategy(current, ctx)
    } catch (err) {
      ctx.log.warn('routing strategy failed', { strategy: name, error: (err as Error).message })
      trail.push({ strategy: name, error: (err as Error).message })
      continue
    }
    trail.push({ strategy: name, decision })
    if (!decision) continue
    place ??= decision.place
    if (decision.category && !current.category) current = { ...current, category: decision.category }
    if (decision.urgency && !current.urgency) current = { ...current, urgency: decision.urgency }
    if (decision.officeId === '') continue
    if (!ctx.offices.get(decision.officeId)) {
      trail[trail.length - 1] = { strategy: name, decision, error: `unknown office "${decision.officeId}"` }
      continue
    }
    place ??= await placeFrom(strategies.slice(at + 1), current, ctx)
    return {
      decision: { ...decision, category: decision.category ?? current.category, urgency: decision.urgency ?? current.urgency, ...(place ? { place } : {}) },
      trail,
    }
  }
  const desk = ctx.offices.intakeDesk()
  const decision: RoutingDecision = {
    officeId: desk.id,
    strategy: 'intake-desk',
    reason: `no strategy decided; sent to the intake desk ${desk.name} for dispatch by hand`,
    confidence: 0,
    category: current.category,
    urgency: current.urgency,
    ...(place ? { place } : {}),
  }
  trail.push({ strategy: 'intake-desk', decision })
  return { decision, trail }
}

/** The place the first locating strategy finds, asked only for that (not recorded in the trail). */
async function placeFrom(strategies: readonly RoutingStrategy[], draft: CaseDraft, ctx: RoutingContext): Promise<RoutingDecision['place']> {
  for (const strategy of strategies) {
    if (!strategy.locates) continue
    try {
      const found = (await strategy(draft, ctx))?.place
      if (found) return found
    } catch {
      // Already a decision without it: a failing locator loses only the place.
    }
  }
  return undefined
}
