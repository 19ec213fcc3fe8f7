import { z } from 'zod'
import { learnerOf, type LabelledMessage, type RoutingDecision, type RoutingLearner, type RoutingStrategy } from '@intake/core'
import { RoutingConfigError } from './errors.ts'

export interface ByBestOfOptions {
  /** The strategies to weigh against each other, all asked (a trained classifier and the category rules). */
  strategies: readonly RoutingStrategy[]
}

const Options = z.object({
  strategies: z.array(z.custom<RoutingStrategy>((v) => typeof v === 'function', 'expected a routing strategy')).min(2, 'give two strategies or more'),
})

/** What a decision says: its office if it names one, else its category. */
const verdict = (d: RoutingDecision) => (d.officeId !== '' ? `office ${d.officeId}` : `category ${d.category ?? d.urgency}`)

/** Two decisions agree when they name the same office, or (one naming none) the same category. */
function agree(a: RoutingDecision, b: RoutingDecision): boolean {
  if (a.officeId !== '' && b.officeId !== '') return a.officeId === b.officeId && (a.category === undefined || b.category === undefined || a.category === b.category)
  return a.category !== undefined && a.category === b.category
}

/**
 * Asks several strategies and combines their answers by confidence instead of taking the first:
 * where they agree, the most specific decision (one naming an office) wins with their confidence
 * combined (1 − Π(1 − c)); where they disagree, the most confident wins (the earlier strategy on a
 * tie). Either way the decision (strategy 'best-of') carries every reason, so staff see what each
 * read. A strategy that
 * throws is skipped and logged; when none decides it returns undefined.
 *
 * @example
 * // The model says labour 0.62 for 教师工资, the taxonomy's rule education 0.77: education, with both reasons.
 * byBestOf({ strategies: [byTrainedClassifier({ model, within }), byCategory({ within })] })
 */
export function byBestOf(options: ByBestOfOptions): RoutingStrategy {
  const parsed = Options.safeParse({ strategies: options.strategies })
  if (!parsed.success) throw new RoutingConfigError('by-best-of', `invalid options:\n${z.prettifyError(parsed.error)}`)
  return bestOf(parsed.data.strategies)
}

/** The combined strategy; it learns when one of its strategies does (`intake train`, route-eval --folds reach through it). */
function bestOf(strategies: readonly RoutingStrategy[]): RoutingStrategy {
  const strategy = async function byBestOf(draft: Parameters<RoutingStrategy>[0], ctx: Parameters<RoutingStrategy>[1]): Promise<RoutingDecision | undefined> {
    const decisions: RoutingDecision[] = []
    for (const strategy of strategies) {
      try {
        const decision = await strategy(draft, ctx)
        // An office the directory lacks is no answer (the chain would skip it too).
        if (decision && (decision.officeId === '' || ctx.offices.get(decision.officeId))) decisions.push(decision)
      } catch (err) {
        ctx.log.warn('by-best-of: a strategy failed', { strategy: strategy.name, error: (err as Error).message })
      }
    }
    if (decisions.length === 0) return undefined
    const said = (d: RoutingDecision) => `${d.strategy} (${d.confidence}): ${d.reason}`
    if (decisions.length === 1) return { ...decisions[0]!, strategy: 'best-of', reason: `only ${said(decisions[0]!)}` }
    const best = decisions.reduce((a, b) => (b.confidence > a.confidence ? b : a))
    const allies = decisions.filter((d) => d === best || agree(d, best))
    const others = decisions.filter((d) => !allies.includes(d))
    // Among those agreeing, the one naming an office (most confident first) is the decision.
    const chosen = allies.filter((d) => d.officeId !== '').sort((a, b) => b.confidence - a.confidence)[0] ?? best
    const combined = allies.length > 1 ? 1 - allies.reduce((p, d) => p * (1 - d.confidence), 1) : best.confidence
    const confidence = Math.round(Math.min(0.99, Math.max(combined, chosen.confidence)) * 100) / 100
    const head =
      others.length === 0
        ? `${allies.map((d) => d.strategy).join(' and ')} agree on ${verdict(chosen)}`
        : `${verdict(chosen)} (${allies.map((d) => `${d.strategy} ${d.confidence}`).join(', ')}) over ${others.map((d) => `${verdict(d)} (${d.strategy} ${d.confidence})`).join(', ')}`
    return {
      ...chosen,
      strategy: 'best-of',
      category: chosen.category ?? allies.find((d) => d.category)?.category,
      urgency: chosen.urgency ?? allies.find((d) => d.urgency)?.urgency,
      confidence,
      reason: `${head} — ${[...allies, ...others].map(said).join(' | ')}`,
    }
  }
  const learners = strategies.map(learnerOf)
  if (!learners.some((l) => l !== undefined)) return strategy
  const learner: RoutingLearner = {
    async trainedOn(examples: readonly LabelledMessage[]) {
      return bestOf(await Promise.all(strategies.map((s, i) => learners[i]?.trainedOn(examples) ?? s)))
    },
    async trainAndSave(examples: readonly LabelledMessage[]) {
      const lines = await Promise.all(learners.filter((l) => l !== undefined).map((l) => l.trainAndSave(examples)))
      return lines.join('\n')
    },
  }
  return Object.assign(strategy, { learner })
}
