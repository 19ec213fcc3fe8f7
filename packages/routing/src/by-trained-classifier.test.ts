/**
 * byTrainedClassifier, trained on trained-classifier/fixtures/hotline-history.csv (100 messages
 * written for these tests, 5 categories, Chinese and English). hotline-held-out.csv (25 more) is
 * kept out of all tuning: it is only measured, below.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { buildOfficeDirectory, memoryLogger, runRoutingChain, type LabelledMessage } from '@intake/core'
import { crossValidateRouting, parseCsv, type EvalRow } from '../../core/src/cli/route-eval.ts'
import { byCategory } from './by-category.ts'
import { byJurisdiction } from './by-jurisdiction.ts'
import { byTrainedClassifier } from './by-trained-classifier.ts'
import { demoOffices } from './demo-fixtures.ts'
import { RoutingConfigError } from './errors.ts'
import { caseDraft, KIT_NOW, routingContext, testStrategy } from './kit/index.ts'
import { toIntakeDesk } from './to-intake-desk.ts'
import { Predictor, trainLinearModel, TrainingError } from './trained-classifier/linear-model.ts'
import { readModelFile, serializeModel, writeModelFile } from './trained-classifier/model-file.ts'

function fixture(name: string): LabelledMessage[] {
  const [, ...rows] = parseCsv(readFileSync(new URL(`./trained-classifier/fixtures/${name}`, import.meta.url), 'utf8'))
  return rows.map(({ fields }) => ({ text: fields[0]!, category: fields[1]! }))
}
const history = fixture('hotline-history.csv')
const heldOut = fixture('hotline-held-out.csv')
const examples = history.map((m) => ({ text: m.text, category: m.category }))

const dir = mkdtempSync(join(tmpdir(), 'intake-trained-classifier-'))
const modelFile = join(dir, 'routing.model.json')
writeModelFile(modelFile, trainLinearModel(examples))

const jurisdiction = byJurisdiction()

testStrategy({
  name: 'trained-classifier',
  strategy: byTrainedClassifier({ model: modelFile, within: jurisdiction }),
  offices: demoOffices,
  cases: [
    {
      title: 'wages in a county: the model says labour, the remits say the county’s labour bureau',
      draft: { text: '我在伽师县一个建筑工地干活，老板拖欠工资三个月了' },
      expect: { officeId: 'jiashi-labour', reasonIncludes: '→ category labour' },
    },
    { title: 'pollution in a town of 莎车县: the county’s environment branch', draft: { text: '莎车县荒地镇的化工厂晚上偷偷排放废水' }, expect: { officeId: 'shache-environment' } },
    {
      title: 'no place: only the category, passed on',
      draft: { text: '老板拖欠我们的工资，包工头也找不到人' },
      expect: { category: 'labour', reasonIncludes: 'no place found' },
    },
    { title: 'a category from an earlier strategy stands (the model has no office head to add)', draft: { text: '老板拖欠工资', category: 'housing' }, expect: { none: true } },
  ],
  // Scripts the model never saw: nothing it knows, so it defers.
  quiet: ['Здравствуйте, как дела', 'يولدىكى چىراغ', '🙂🙂🙂'],
})

const directory = buildOfficeDirectory(demoOffices)

describe('byTrainedClassifier', () => {
  it('puts the held-out messages (never tuned on) in their category: at least 22 of 25', async () => {
    const strategy = byTrainedClassifier({ model: modelFile, minConfidence: 0 })
    let right = 0
    for (const m of heldOut) {
      const decision = await strategy(caseDraft(m.text), routingContext(directory))
      if (decision?.category === m.category) right++
    }
    // 23 of 25 when written; the two misses are English messages (property fees → labour, a hospital bill → labour).
    expect(right).toBeGreaterThanOrEqual(22)
  })

  it('names the features that decided, with their weights', async () => {
    const decision = await byTrainedClassifier({ model: modelFile })(caseDraft('老板拖欠我们的工资'), routingContext(directory))
    expect(decision?.reason).toMatch(/^model routing\.model\.json: .*工资 \+\d+\.\d.* → category labour \([01]\.\d\d; next [a-z]+ 0\.\d\d\); no place found$/)
  })

  it('defers below its threshold instead of guessing', async () => {
    const text = '我们的房子被划进拆迁范围，补偿标准太低'
    const ctx = routingContext(directory)
    const sure = await byTrainedClassifier({ model: modelFile, minConfidence: 0.5 })(caseDraft(text), ctx)
    expect(sure?.category).toBe('housing')
    expect(sure!.confidence).toBeLessThan(0.95)
    expect(await byTrainedClassifier({ model: modelFile, minConfidence: 0.95 })(caseDraft(text), ctx)).toBeUndefined()
  })

  it('is deterministic for a seed: the same examples and seed write the same file, another seed another', () => {
    const a = serializeModel(trainLinearModel(examples, { seed: 7 }))
    expect(serializeModel(trainLinearModel(examples, { seed: 7 }))).toBe(a)
    expect(serializeModel(trainLinearModel(examples, { seed: 8 }))).not.toBe(a)
  })

  it('reads back the model it saved: the same decisions from the file as from memory', () => {
    const model = trainLinearModel(examples, { features: { bits: 16 } })
    const file = join(dir, 'round-trip.json')
    writeModelFile(file, model)
    const fromFile = new Predictor(readModelFile(file))
    const inMemory = new Predictor(model)
    for (const m of heldOut) {
      const a = fromFile.predict('category', fromFile.read(undefined, m.text).vector)
      const b = inMemory.predict('category', inMemory.read(undefined, m.text).vector)
      expect(a?.label).toBe(b?.label)
      expect(a?.probability).toBeCloseTo(b!.probability, 6)
    }
  })

  it('learns offices too: a model with an office head decides the office itself', async () => {
    const officeOf: Record<string, string> = { labour: 'jiashi-labour', housing: 'jiashi', environment: 'shache-environment', transport: 'shule', health: 'shule-town' }
    const learner = byTrainedClassifier({ model: join(dir, 'unused.json') }).learner
    const strategy = await learner.trainedOn(history.map((m) => ({ text: m.text, officeId: officeOf[m.category!], category: m.category })))
    const decision = await strategy(caseDraft('化工厂偷偷往河里排放废水，鱼都死了'), routingContext(directory))
    expect(decision).toMatchObject({ officeId: 'shache-environment', category: 'environment', strategy: 'trained-classifier' })
    expect(decision?.reason).toContain('→ office shache-environment')
  })

  it("with learn: 'category' it leaves the office to the remits, even when the history names offices", async () => {
    const file = join(dir, 'categories-only.json')
    const strategy = byTrainedClassifier({ model: file, learn: 'category', within: jurisdiction })
    await strategy.learner.trainAndSave(history.map((m) => ({ ...m, officeId: 'kashgar' })))
    expect(readModelFile(file).heads.office).toBeUndefined()
    expect(await strategy(caseDraft('莎车县荒地镇的化工厂晚上偷偷排放废水'), routingContext(directory))).toMatchObject({ officeId: 'shache-environment' })
  })

  it('without its model file it defers and says so; once trained it decides (looked at again after 30 s)', async () => {
    const file = join(dir, 'later.json')
    const log = memoryLogger()
    const strategy = byTrainedClassifier({ model: file })
    const ctx = { ...routingContext(directory), log }
    expect(await strategy(caseDraft('老板拖欠工资'), ctx)).toBeUndefined()
    expect(log.lines.some((l) => l.includes('no model file yet'))).toBe(true)
    // Another process (intake train) writes the file.
    writeModelFile(file, trainLinearModel(examples))
    expect(await strategy(caseDraft('老板拖欠工资'), ctx)).toBeUndefined()
    const later = { ...ctx, now: () => KIT_NOW + 30_000 }
    expect((await strategy(caseDraft('老板拖欠工资'), later))?.category).toBe('labour')
  })

  it('trainAndSave writes the file and routes with the new model at once', async () => {
    const file = join(dir, 'saved.json')
    const strategy = byTrainedClassifier({ model: file })
    const line = await strategy.learner.trainAndSave(history)
    expect(line).toMatch(/^trained on 100 messages \(seed 1, C 0\.5\); category: 5 labels from 100 messages/)
    expect(readModelFile(file).heads.category?.labels).toEqual(['environment', 'health', 'housing', 'labour', 'transport'])
    expect((await strategy(caseDraft('公交车半小时才来一趟'), routingContext(directory)))?.category).toBe('transport')
  })

  it('refuses a model file it cannot read when the config loads, naming the file', () => {
    const file = join(dir, 'broken.json')
    writeFileSync(file, '{"format":"something-else"}')
    expect(() => byTrainedClassifier({ model: file })).toThrow(RoutingConfigError)
    expect(() => byTrainedClassifier({ model: file })).toThrow(/broken\.json is not an intake-linear-model\/1 model/)
  })

  it('refuses to train on one label', () => {
    expect(() => trainLinearModel([{ text: '欠薪', category: 'labour' }, { text: '工资', category: 'labour' }])).toThrow(TrainingError)
  })

  it('in a chain: its category placed by jurisdiction, and what it defers on goes on to the rules', async () => {
    const chain = [byTrainedClassifier({ model: modelFile, within: jurisdiction }), byCategory({ within: jurisdiction }), jurisdiction, toIntakeDesk()]
    const ctx = routingContext(directory)
    const wages = await runRoutingChain(chain, caseDraft('疏勒县一个工地老板拖欠工资'), ctx)
    expect(wages.decision).toMatchObject({ officeId: 'shule-labour', strategy: 'trained-classifier' })
    // The place byJurisdiction read comes along on its own decision too, for the statistics.
    const direct = await chain[0]!(caseDraft('疏勒县一个工地老板拖欠工资'), ctx)
    expect(direct?.place?.name).toContain('疏勒')
    const unknown = await runRoutingChain(chain, caseDraft('Здравствуйте, 伽师县巴仁镇'), ctx)
    expect(unknown.decision.strategy).not.toBe('trained-classifier')
  })
})

describe('route-eval --folds with byTrainedClassifier', () => {
  it('routes every row once with a model trained on the other folds, and the rules alone as the anchor', async () => {
    const rows: EvalRow[] = [...history, ...heldOut].map((m, i) => ({ line: i + 2, text: m.text, expectedCategory: m.category }))
    const chain = [byTrainedClassifier({ model: join(dir, 'never-written.json') }), byCategory(), toIntakeDesk()]
    const report = await crossValidateRouting(rows, { routing: chain, offices: directory, log: memoryLogger(), folds: 5 })
    expect(report.folds).toBe(5)
    expect(report.messages).toBe(125)
    // 100 messages to learn from per fold is little: about as good as phrases written for these topics.
    expect(report.category.accuracy).toBeGreaterThan(0.65)
    // No place in these messages: categories only, passed on to the desk.
    expect(report.decidedBy).toEqual({ 'intake-desk': 125 })
    expect(report.passedOn['trained-classifier']).toBeGreaterThan(100)
    expect(report.undecided.correct).toBeLessThan(10)
    expect(report.anchor?.chain).toEqual(['byCategory', 'toIntakeDesk'])
    expect(report.anchor!.category.accuracy).toBeGreaterThan(0.6)
    expect(report.categories.map((c) => c.id)).toContain('labour')
  })
})
