import { createHash } from 'node:crypto'
import OpenAI from 'openai'
import { zodResponseFormat } from 'openai/helpers/zod'
import { z } from 'zod'
import type { CaseDraft, Logger, RoutingStrategy } from '@intake/core'
import {
  defaultTaxonomy,
  findPlaceOffice,
  officeForCategory,
  TaxonomyCategory,
  type PlaceOfficeHook,
  type TaxonomyCategoryInput,
} from './by-category.ts'
import { RoutingConfigError } from './errors.ts'

export interface ByClassifierOptions {
  /** The model to ask ('gpt-4o-mini', or the name a self-hosted server gives its model). */
  model: string
  /** The API key. A self-hosted server that checks none still needs a non-empty string here. */
  apiKey: string
  /** An OpenAI-compatible API (vLLM, Ollama, llama.cpp server: `http://host:8000/v1`). Default: OpenAI's. */
  baseURL?: string
  /** Default: the shipped 12345 taxonomy. The model chooses among its ids. */
  taxonomy?: readonly TaxonomyCategoryInput[]
  /** The system prompt; `{categories}` is replaced by the taxonomy, one category a line. */
  prompt?: string
  /** Give up on the model after this long (default 8000 ms); the chain goes on without it. */
  timeoutMs?: number
  /** Answers the model is less sure of are not used (default 0.6). */
  minConfidence?: number
  /** Answers kept, by text (default 1000, least recently used dropped first). */
  cacheSize?: number
  /** Finds the office of the places the model read (usually the chain's byJurisdiction). */
  within?: RoutingStrategy
  /** Names the place's office directly (a deployment with one territory). */
  placeOffice?: PlaceOfficeHook
  /** For tests: a client of one's own (its own timeout and retries then apply). */
  client?: OpenAI
}

export const DEFAULT_CLASSIFIER_PROMPT = `You triage messages that citizens send to a government service hotline (12345).
Read the message and answer in JSON:
- category: the one category below that the matter belongs to (use "other" only if none fits);
- places: every place name the message mentions (province, prefecture, county, town, township, village, street), written as in the message; [] if none;
- urgency: "urgent" if there is danger to someone's life or safety, someone is running out of medicine, or unpaid wages may lead to a collective protest; otherwise "normal";
- summary: the matter in one short line, in the language of the message;
- confidence: from 0 to 1, how sure you are of the category.

Categories:
{categories}`

/** Why the classifier deferred to the next strategy; logged, never shown to citizens. */
export type ClassifierDeferral = 'timeout' | 'http_error' | 'connection' | 'refusal' | 'truncated' | 'invalid_json' | 'schema_mismatch' | 'low_confidence'

type Triage = { category: string; places: string[]; urgency: 'urgent' | 'normal'; summary: string; confidence: number }

const Options = z.object({
  model: z.string().trim().min(1, 'name the model'),
  apiKey: z.string().min(1, 'give an API key (any non-empty string for a server that checks none)'),
  baseURL: z.url({ protocol: /^https?$/, error: 'baseURL must be an http(s) URL such as http://127.0.0.1:8000/v1' }).optional(),
  prompt: z.string().trim().min(1).optional(),
  timeoutMs: z.number().int().min(1).max(120_000).default(8000),
  minConfidence: z.number().min(0).max(1).default(0.6),
  cacheSize: z.number().int().min(0).default(1000),
})

/** A bounded cache that forgets the least recently used entry first (a Map keeps insertion order). */
class LruCache<V> {
  private readonly entries = new Map<string, V>()
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const value = this.entries.get(key)
    if (value !== undefined) {
      this.entries.delete(key)
      this.entries.set(key, value)
    }
    return value
  }
  set(key: string, value: V): void {
    if (this.max === 0) return
    this.entries.delete(key)
    this.entries.set(key, value)
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!)
  }
}

function categoryLines(taxonomy: readonly TaxonomyCategory[]): string {
  return taxonomy
    .map((c) => {
      const names = Object.values(c.names).join(' / ')
      return `- ${c.id}${names ? ` (${names})` : ''}${c.description ? `: ${c.description}` : ''}`
    })
    .join('\n')
}

function userMessage(draft: CaseDraft): string {
  const lines: string[] = []
  if (draft.place?.text) lines.push(`Place given in the form: ${draft.place.text}`)
  if (draft.subject) lines.push(`Subject: ${draft.subject}`)
  lines.push(`Message:\n${draft.text}`)
  return lines.join('\n')
}

/**
 * Routes by what a language model reads in the message: an OpenAI-compatible chat completions API
 * (OpenAI, or a self-hosted model server) answers with structured output (a JSON schema made from
 * a zod schema): the category from the taxonomy, the places mentioned, the urgency, a one-line
 * summary and a confidence. The category and places are then mapped to an office as byCategory
 * does: the places through `within` (or `placeOffice`), the office handling the category there
 * from the office tree's remits. Without a place it passes the category (and urgency) on.
 *
 * It never holds up a case: after `timeoutMs`, on an HTTP or connection error, a refusal, JSON
 * that does not parse or does not fit the schema, or a confidence below `minConfidence`, it
 * returns undefined (the next strategy decides) and logs why. Answers are cached by a hash of the
 * text, so a repeated message costs no second request.
 *
 * @example
 * byClassifier({ model: 'qwen2.5-7b-instruct', baseURL: 'http://10.0.0.5:8000/v1', apiKey: env.LLM_KEY, within: jurisdiction })
 * // 'model qwen2.5-7b-instruct: category labour, places 伽师县 (confidence 0.93) "拖欠农民工工资三个月"; place: …'
 */
export function byClassifier(options: ByClassifierOptions): RoutingStrategy {
  const parsed = Options.safeParse({
    model: options.model,
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    prompt: options.prompt,
    timeoutMs: options.timeoutMs,
    minConfidence: options.minConfidence,
    cacheSize: options.cacheSize,
  })
  if (!parsed.success) throw new RoutingConfigError('by-classifier', `invalid options:\n${z.prettifyError(parsed.error)}`)
  const { model, timeoutMs, minConfidence, cacheSize } = parsed.data
  const taxonomyParsed = z.array(TaxonomyCategory).min(1).safeParse(options.taxonomy ?? defaultTaxonomy())
  if (!taxonomyParsed.success) throw new RoutingConfigError('by-classifier', `invalid taxonomy:\n${z.prettifyError(taxonomyParsed.error)}`)
  const taxonomy = taxonomyParsed.data
  for (const [key, value] of [['within', options.within], ['placeOffice', options.placeOffice]] as const) {
    if (value !== undefined && typeof value !== 'function') throw new RoutingConfigError('by-classifier', `${key}: expected a function`)
  }
  const ids = taxonomy.map((c) => c.id) as [string, ...string[]]
  const Triage = z.object({
    category: z.enum(ids),
    places: z.array(z.string()),
    urgency: z.enum(['urgent', 'normal']),
    summary: z.string(),
    confidence: z.number().min(0).max(1),
  })
  const responseFormat = zodResponseFormat(Triage, 'case_triage')
  const system = (parsed.data.prompt ?? DEFAULT_CLASSIFIER_PROMPT).replace('{categories}', categoryLines(taxonomy))
  // The strategy's own deadline is the only one: no SDK retries (a retry after a timeout would
  // hold the case up twice as long).
  const client = options.client ?? new OpenAI({ apiKey: parsed.data.apiKey, baseURL: parsed.data.baseURL, timeout: timeoutMs, maxRetries: 0 })
  const cache = new LruCache<Triage>(cacheSize)
  const inFlight = new Map<string, Promise<Triage | ClassifierDeferral>>()
  // The prompt and model are part of the key: changing either must not serve old answers.
  const salt = createHash('sha256').update(`${model}\u0000${system}`).digest('hex')

  const ask = async (draft: CaseDraft, log: Logger): Promise<Triage | ClassifierDeferral> => {
    const defer = (reason: ClassifierDeferral, fields: Record<string, unknown> = {}) => {
      log.warn('classifier deferred to the next strategy', { reason, model, ...fields })
      return reason
    }
    let completion: OpenAI.Chat.Completions.ChatCompletion
    try {
      completion = await client.chat.completions.create(
        {
          model,
          temperature: 0,
          messages: [
            { role: 'system', content: system },
            { role: 'user', content: userMessage(draft) },
          ],
          response_format: responseFormat,
        },
        { signal: AbortSignal.timeout(timeoutMs), timeout: timeoutMs, maxRetries: 0 },
      )
    } catch (err) {
      if (err instanceof OpenAI.APIConnectionTimeoutError || (err as Error).name === 'TimeoutError' || err instanceof OpenAI.APIUserAbortError) {
        return defer('timeout', { timeoutMs })
      }
      if (err instanceof OpenAI.APIError && err.status !== undefined) return defer('http_error', { status: err.status, error: err.message })
      return defer('connection', { error: (err as Error).message })
    }
    const choice = completion.choices[0]
    if (!choice) return defer('schema_mismatch', { error: 'no choices' })
    if (choice.message.refusal) return defer('refusal', { refusal: choice.message.refusal })
    if (choice.finish_reason === 'length') return defer('truncated')
    let json: unknown
    try {
      json = JSON.parse(choice.message.content ?? '')
    } catch {
      return defer('invalid_json', { content: (choice.message.content ?? '').slice(0, 200) })
    }
    const triage = Triage.safeParse(json)
    if (!triage.success) return defer('schema_mismatch', { error: z.prettifyError(triage.error) })
    return triage.data
  }

  return async function byClassifier(draft, ctx) {
    if (draft.text.trim() === '' && !draft.subject?.trim()) return undefined
    const key = createHash('sha256')
      .update(`${salt}\u0000${draft.place?.text ?? ''}\u0000${draft.subject ?? ''}\u0000${draft.text}`)
      .digest('hex')
    let triage: Triage | ClassifierDeferral | undefined = cache.get(key)
    if (triage === undefined) {
      let pending = inFlight.get(key)
      if (!pending) {
        pending = ask(draft, ctx.log).finally(() => inFlight.delete(key))
        inFlight.set(key, pending)
      }
      triage = await pending
      if (typeof triage === 'string') return undefined
      cache.set(key, triage)
    }
    if (typeof triage === 'string') return undefined
    if (triage.confidence < minConfidence) {
      ctx.log.warn('classifier deferred to the next strategy', { reason: 'low_confidence' satisfies ClassifierDeferral, model, confidence: triage.confidence, minConfidence })
      return undefined
    }

    const urgent = triage.urgency === 'urgent'
    const read = `model ${model}: category ${triage.category}${triage.places.length > 0 ? `, places ${triage.places.join(', ')}` : ''}${urgent ? ', urgent' : ''} (confidence ${triage.confidence}) "${triage.summary}"`
    // The places the model read first (it may read 伽师 in a sentence the gazetteer cuts badly);
    // then the message itself, in case the model left a place out.
    const readPlaces = triage.places.length > 0 ? { ...draft, subject: undefined, text: triage.places.join('\n') } : undefined
    const lookup = { placeOffice: options.placeOffice, within: options.within, component: 'by-classifier' }
    const place = (readPlaces && (await findPlaceOffice(readPlaces, ctx, lookup))) || (await findPlaceOffice(draft, ctx, lookup))
    const extra = urgent ? { urgency: 'urgent' as const } : {}
    if (!place) {
      return { officeId: '', strategy: 'classifier', reason: `${read}; no place found`, confidence: triage.confidence, category: triage.category, ...extra }
    }
    const office = officeForCategory(ctx, place, triage.category)!
    return {
      officeId: office.officeId,
      strategy: 'classifier',
      reason: `${read}; place: ${place.reason}; ${office.note}`,
      confidence: Math.min(triage.confidence, place.confidence),
      category: triage.category,
      ...extra,
    }
  }
}
