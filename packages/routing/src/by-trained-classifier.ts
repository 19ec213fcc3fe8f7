import { existsSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import type { CaseDraft, LabelledMessage, LearningStrategy, RoutingContext, RoutingDecision, RoutingLearner, RoutingStrategy } from '@intake/core'
import { findPlaceOffice, officeForCategory, type PlaceOfficeHook, type UnlistedAtRoot, type UnlistedCategory } from './by-category.ts'
import { RoutingConfigError } from './errors.ts'
import { Predictor, trainLinearModel, type Contribution, type LinearModel, type TrainOptions, type TrainingExample } from './trained-classifier/linear-model.ts'
import { readModelFile, writeModelFile } from './trained-classifier/model-file.ts'

export interface ByTrainedClassifierOptions {
  /** The model file (`intake train` writes it): a path, or a file URL (`new URL('./routing.model.json', import.meta.url)`). */
  model: string | URL
  /**
   * Below this calibrated probability the strategy defers to the next one instead of guessing
   * (default 0.5: with the model's temperature fitted on held-out messages, about half of the
   * answers at 0.5 are right).
   */
  minConfidence?: number
  /** Finds the office of the place (usually the chain's byJurisdiction), as for byCategory. */
  within?: RoutingStrategy
  /** Names the place's office directly (a deployment with one territory). */
  placeOffice?: PlaceOfficeHook
  /** A category no office at the place lists: default 'place-office'; 'pass-on' decides only the category. */
  unlisted?: UnlistedCategory
  /** With 'place-office', when the place is only the root's territory: default 'intake-desk' (see UnlistedAtRoot). */
  unlistedAtRoot?: UnlistedAtRoot
  /** How `intake train` and route-eval's folds train (seed, C, features). */
  training?: TrainOptions
  /**
   * What it learns from labelled messages: 'both' (default), 'category' (places are left to the
   * remits and the place finder: right for a tree of many territorial offices with little history
   * per office), or 'office'.
   */
  learn?: 'both' | 'category' | 'office'

  /** How many features the reason names (default 3). */
  explain?: number
}

const Options = z.object({
  minConfidence: z.number().min(0).max(1).default(0.5),
  within: z.custom<RoutingStrategy>((v) => typeof v === 'function', 'expected a routing strategy').optional(),
  placeOffice: z.custom<PlaceOfficeHook>((v) => typeof v === 'function', 'expected a function (draft, ctx) => office id').optional(),
  unlisted: z.enum(['place-office', 'pass-on']).default('place-office'),
  unlistedAtRoot: z.enum(['intake-desk', 'place-office']).default('intake-desk'),
  explain: z.number().int().min(0).max(20).default(3),
  learn: z.enum(['both', 'category', 'office']).default('both'),
})

/** How often the strategy looks at its model file again. */
const MODEL_RECHECK_MS = 30_000

function modelPath(model: string | URL): string {
  return model instanceof URL ? fileURLToPath(model) : model
}

const round = (x: number) => Math.round(x * 100) / 100
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`
const because = (features: Contribution[]) => features.map((f) => `${f.feature} ${signed(f.weight)}`).join(', ')

/** The examples a model trains on, from labelled messages. */
export function trainingExamples(messages: readonly LabelledMessage[]): TrainingExample[] {
  return messages
    .filter((m) => m.text.trim() !== '' || m.subject?.trim())
    .map((m) => ({ text: m.text, subject: m.subject, category: m.category, office: m.officeId }))
}

/**
 * Routes by a linear model trained on the agency's own dispatch history: `intake train FILE.csv`
 * (columns text, subject, category and/or office) or `intake train --from-store` (closed cases,
 * labelled by the office that resolved them and their confirmed category) writes the model file
 * this strategy reads (see trained-classifier/linear-model.ts for the model).
 *
 * A model with an office head decides the office when that answer is confident enough and the
 * office exists. Otherwise its category head names the category, and the office handling it is
 * found as byCategory finds it (the place through `within` or `placeOffice`, then the remits);
 * without a place it passes the category on. Below `minConfidence` it defers (returns undefined).
 * A category set by an earlier strategy stands: the model then only answers for the office.
 * The reason names the features that decided: `model: 欠薪 +2.1, 工地 +1.4 → labour (0.93)`.
 *
 * Without its model file (not trained yet) it defers. It looks at the file again every 30 s and
 * reads it anew when it changed (`intake train` in another process); `learner.trainAndSave` in
 * the same process swaps the model at once.
 *
 * @example
 * const jurisdiction = byJurisdiction()
 * routing: [byTrackingCode(), byTrainedClassifier({ model: 'data/routing.model.json', within: jurisdiction }), byCategory({ within: jurisdiction }), jurisdiction, toIntakeDesk()]
 */
export function byTrainedClassifier(options: ByTrainedClassifierOptions): LearningStrategy {
  const parsed = Options.safeParse({
    minConfidence: options.minConfidence,
    within: options.within,
    placeOffice: options.placeOffice,
    unlisted: options.unlisted,
    unlistedAtRoot: options.unlistedAtRoot,
    explain: options.explain,
    learn: options.learn,
  })
  if (!parsed.success) throw new RoutingConfigError('by-trained-classifier', `invalid options:\n${z.prettifyError(parsed.error)}`)
  if (options.model === undefined || options.model === '') throw new RoutingConfigError('by-trained-classifier', 'name the model file (model: "data/routing.model.json")')
  const path = modelPath(options.model)
  const settings = parsed.data
  return withModel(path, settings, options.training ?? {}, loadIfPresent(path))
}

interface Loaded {
  predictor?: Predictor
  mtimeMs?: number
  checkedAt?: number
}

function loadIfPresent(path: string): Loaded {
  // A file that exists but cannot be read is a configuration error, reported when the config loads.
  if (!existsSync(path)) return {}
  try {
    return { predictor: new Predictor(readModelFile(path)), mtimeMs: statSync(path).mtimeMs }
  } catch (err) {
    throw new RoutingConfigError('by-trained-classifier', (err as Error).message)
  }
}

type Settings = z.infer<typeof Options>

function withModel(path: string | undefined, settings: Settings, training: TrainOptions, loaded: Loaded): LearningStrategy {
  const { minConfidence, within, placeOffice, unlisted, unlistedAtRoot, explain } = settings
  const name = path ? path.split(/[\\/]/).pop()! : 'model'

  // The file is looked at again every 30 s at most: trained for the first time, or retrained by
  // `intake train` in another process (a changed modification time), it is read anew.
  const current = (ctx: RoutingContext): Predictor | undefined => {
    if (path === undefined) return loaded.predictor
    const now = ctx.now()
    if (loaded.checkedAt !== undefined && now - loaded.checkedAt < MODEL_RECHECK_MS) return loaded.predictor
    loaded.checkedAt = now
    let mtimeMs: number | undefined
    try {
      mtimeMs = statSync(path).mtimeMs
    } catch {
      mtimeMs = undefined
    }
    if (mtimeMs !== undefined && mtimeMs !== loaded.mtimeMs) {
      try {
        Object.assign(loaded, loadIfPresent(path))
      } catch (err) {
        // The model in use stays; a half-written or foreign file must not stop routing.
        ctx.log.warn('trained classifier: the model file cannot be read', { path, error: (err as Error).message })
        loaded.mtimeMs = mtimeMs
      }
    }
    if (!loaded.predictor) ctx.log.warn('trained classifier: no model file yet; run `intake train`', { path })
    return loaded.predictor
  }

  const strategy = async function byTrainedClassifier(draft: CaseDraft, ctx: RoutingContext): Promise<RoutingDecision | undefined> {
    const predictor = current(ctx)
    if (!predictor) return undefined
    if (draft.text.trim() === '' && !draft.subject?.trim()) return undefined
    const { text, vector } = predictor.read(draft.subject, draft.text)
    const describe = (head: 'category' | 'office', label: string, p: number, next?: { label: string; probability: number }) => {
      const features = predictor.explain(head, text, vector, label, explain)
      const runnerUp = next ? `; next ${next.label} ${next.probability.toFixed(2)}` : ''
      return `model ${name}: ${features.length > 0 ? `${because(features)} ` : ''}→ ${head} ${label} (${p.toFixed(2)}${runnerUp})`
    }

    const category = draft.category ? undefined : predictor.predict('category', vector)
    const confidentCategory = category && category.probability >= minConfidence ? category : undefined
    const office = predictor.predict('office', vector)
    if (office && office.probability >= minConfidence && ctx.offices.get(office.label)) {
      const extra = confidentCategory ? { category: confidentCategory.label } : {}
      return {
        officeId: office.label,
        strategy: 'trained-classifier',
        reason: describe('office', office.label, office.probability, office.runnerUp) + (confidentCategory ? `; category ${confidentCategory.label} (${confidentCategory.probability.toFixed(2)})` : ''),
        confidence: round(office.probability),
        ...extra,
      }
    }
    if (!confidentCategory) return undefined
    const read = describe('category', confidentCategory.label, confidentCategory.probability, confidentCategory.runnerUp)
    const confidence = round(confidentCategory.probability)
    const place = await findPlaceOffice(draft, ctx, { placeOffice, within, component: 'by-trained-classifier' })
    const handler = place && officeForCategory(ctx, place, confidentCategory.label, unlisted, unlistedAtRoot)
    if (!place || !handler) {
      const why = place ? `no office serving ${ctx.offices.get(place.officeId)!.name} lists it` : 'no place found'
      return { officeId: '', strategy: 'trained-classifier', reason: `${read}; ${why}`, confidence, category: confidentCategory.label }
    }
    return {
      officeId: handler.officeId,
      strategy: 'trained-classifier',
      reason: `${read}; place: ${place.reason}; ${handler.note}`,
      confidence: Math.min(confidence, place.confidence),
      category: confidentCategory.label,
      ...(place.place ? { place: place.place } : {}),
    }
  }

  const train = (messages: readonly LabelledMessage[]): LinearModel => {
    const kept = messages.map((m) => ({ ...m, category: settings.learn === 'office' ? undefined : m.category, officeId: settings.learn === 'category' ? undefined : m.officeId }))
    return trainLinearModel(trainingExamples(kept.filter((m) => m.category || m.officeId)), training)
  }
  const learner: RoutingLearner = {
    async trainedOn(messages) {
      return withModel(undefined, settings, training, { predictor: new Predictor(train(messages)) })
    },
    async trainAndSave(messages) {
      if (path === undefined) throw new RoutingConfigError('by-trained-classifier', 'this copy has no model file to save to')
      const model = train(messages)
      writeModelFile(path, model)
      loaded.predictor = new Predictor(model)
      loaded.mtimeMs = statSync(path).mtimeMs
      const heads = Object.entries(model.heads)
        .map(([head, h]) => `${head}: ${h.labels.length} labels from ${h.examples} messages (temperature ${h.temperature.toFixed(2)})`)
        .join('; ')
      return `trained on ${model.trainedOn.examples} messages (seed ${model.trainedOn.seed}, C ${model.trainedOn.c}); ${heads}; saved ${path}`
    },
  }
  return Object.assign(strategy, { learner })
}
