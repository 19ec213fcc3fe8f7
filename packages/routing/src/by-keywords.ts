import { z } from 'zod'
import { parse as parseYaml } from 'yaml'
import { Office, Urgency, type CaseDraft, type RoutingContext, type RoutingDecision, type RoutingStrategy } from '@intake/core'
import { RoutingConfigError } from './errors.ts'
import { containsHan, indexOfTerm, normalizeForMatching } from './text-match.ts'

/**
 * One keyword rule: when any of its words occurs in a message, it decides an office, or only a
 * category (and urgency) that a later strategy such as byJurisdiction places.
 *
 * @example
 * { category: 'labour', urgency: 'urgent', words: ['集体讨薪', '讨薪 上访'], priority: 40 }
 */
export const KeywordRule = z
  .object({
    /**
     * Chinese words match as substrings, others as whole words, case-insensitively. A Chinese word
     * with spaces ("讨薪 上访") matches when every part occurs anywhere in the message.
     */
    words: z.array(z.string().trim().min(1, 'a word must not be empty')).min(1, 'a rule needs at least one word'),
    category: z.string().trim().min(1).optional(),
    officeId: Office.shape.id.optional(),
    urgency: Urgency.optional(),
    /** Higher wins; ties go to the rule with more matched words, then to the earlier rule. */
    priority: z.number().finite().default(0),
  })
  // A misspelt key (`prioirty`) would otherwise be dropped without a word.
  .strict()
  .refine((rule) => rule.category !== undefined || rule.officeId !== undefined, {
    message: 'a rule needs a category or an officeId',
  })
export type KeywordRule = z.infer<typeof KeywordRule>
export type KeywordRuleInput = z.input<typeof KeywordRule>

const KeywordRules = z.array(KeywordRule).min(1, 'at least one rule is needed')

export interface ByKeywordsOptions {
  rules: readonly KeywordRuleInput[]
}

const OFFICE_CONFIDENCE = 0.8
/** Only a category: the office is still to be found, so this says less than an office rule. */
const CATEGORY_CONFIDENCE = 0.6

interface CompiledWord {
  /** As written in the rule, for the reason. */
  word: string
  /** Normalised; all must occur. */
  parts: string[]
}

interface CompiledRule {
  rule: KeywordRule
  order: number
  words: CompiledWord[]
}

function compileWord(word: string): CompiledWord {
  const normalized = normalizeForMatching(word).trim()
  // Spaces inside Latin words are part of a phrase ("unpaid wages"); Chinese has no spaces, so
  // there a space can only mean "and".
  const parts = containsHan(normalized) ? normalized.split(' ') : [normalized]
  return { word, parts }
}

function parseRules(input: unknown, component: string): KeywordRule[] {
  const parsed = KeywordRules.safeParse(input)
  if (!parsed.success) throw new RoutingConfigError(component, `invalid keyword rules:\n${z.prettifyError(parsed.error)}`)
  return parsed.data
}

/**
 * Keyword rules from YAML text (a list of rules, as in examples/county-hotline/keywords.yaml).
 * Throws RoutingConfigError naming the rule and field when the text is not valid.
 */
export function loadKeywordRules(yamlText: string): KeywordRule[] {
  let data: unknown
  try {
    data = parseYaml(yamlText)
  } catch (err) {
    throw new RoutingConfigError('by-keywords', `keyword rules are not valid YAML: ${(err as Error).message}`)
  }
  return parseRules(data, 'by-keywords')
}

/**
 * Decides by words in the subject and text. The highest-priority rule with a matching word wins.
 * A rule with an office decides it; a category-only rule returns office `''` with the category and
 * urgency, which the routing chain passes on to the next strategies.
 *
 * @example
 * byKeywords({ rules: loadKeywordRules(readFileSync('keywords.yaml', 'utf8')) })
 */
export function byKeywords({ rules }: ByKeywordsOptions): RoutingStrategy {
  const compiled: CompiledRule[] = parseRules(rules, 'by-keywords').map((rule, order) => ({
    rule,
    order,
    words: rule.words.map(compileWord),
  }))
  return Object.assign(async function byKeywords(draft: CaseDraft, ctx: RoutingContext): Promise<RoutingDecision | undefined> {
    const text = normalizeForMatching([draft.subject ?? '', draft.text].join('\n'))
    let best: { entry: CompiledRule; matched: string[] } | undefined
    for (const entry of compiled) {
      const matched = entry.words.filter((w) => w.parts.every((part) => indexOfTerm(text, part) !== -1)).map((w) => w.word)
      if (matched.length === 0) continue
      if (
        !best ||
        entry.rule.priority > best.entry.rule.priority ||
        (entry.rule.priority === best.entry.rule.priority && matched.length > best.matched.length)
      ) {
        best = { entry, matched }
      }
    }
    if (!best) return undefined
    const { rule } = best.entry
    const words = best.matched.map((w) => `"${w}"`).join(', ')
    const urgent = rule.urgency ? `, ${rule.urgency}` : ''
    const decision: RoutingDecision = rule.officeId
      ? {
          officeId: rule.officeId,
          strategy: 'keywords',
          reason: `matched ${words} → office ${ctx.offices.get(rule.officeId)?.name ?? 'unknown'} (${rule.officeId})${urgent}`,
          confidence: OFFICE_CONFIDENCE,
        }
      : {
          officeId: '',
          strategy: 'keywords',
          reason: `matched ${words} → category ${rule.category}${urgent}`,
          confidence: CATEGORY_CONFIDENCE,
        }
    if (rule.category) decision.category = rule.category
    if (rule.urgency) decision.urgency = rule.urgency
    return decision
  }, { categories: [...new Set(compiled.flatMap((c) => (c.rule.category ? [c.rule.category] : [])))] })
}
