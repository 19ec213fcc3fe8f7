import { afterAll, describe, expect, it } from 'vitest'
import { memoryLogger, runRoutingChain } from '@intake/core'
import { byClassifier, type ByClassifierOptions } from './by-classifier.ts'
import { byJurisdiction } from './by-jurisdiction.ts'
import { toIntakeDesk } from './to-intake-desk.ts'
import { RoutingConfigError } from './errors.ts'
import { demoOffices } from './demo-fixtures.ts'
import { caseDraft, routingContext, testStrategy } from './kit/index.ts'
import { startOpenAiStandIn, type ChatRequest, type StandInReply } from './fixtures/openai-stand-in.ts'

const API_KEY = 'sk-test-7f3c2a91d0b84e56'
const jurisdiction = byJurisdiction()

/** What a model answers for each message of the tables below, as JSON (what it would plausibly read). */
const ANSWERS: [string, object][] = [
  ['老板拖欠我们工资三个月', { category: 'labour', places: ['伽师县', '巴仁镇'], urgency: 'normal', summary: '工地拖欠工资三个月', confidence: 0.93 }],
  ['棉花地浇不上水', { category: 'agriculture', places: ['巴仁乡'], urgency: 'normal', summary: '水渠堵塞，棉田无法灌溉', confidence: 0.88 }],
  ['降压药快吃完', { category: 'health', places: [], urgency: 'urgent', summary: '老人降压药快吃完，药店缺货', confidence: 0.9 }],
  ['bus from Shache', { category: 'transport', places: ['Shache'], urgency: 'normal', summary: 'Bus to the county hospital stopped running', confidence: 0.86 }],
  ['垃圾堆了一个星期', { category: 'environment', places: [], urgency: 'normal', summary: '垃圾一周没清运', confidence: 0.84 }],
]
const LOW: object = { category: 'other', places: [], urgency: 'normal', summary: '咨询', confidence: 0.2 }

const userText = (request: ChatRequest) => request.body.messages.find((m) => m.role === 'user')?.content ?? ''
const answerFor = (request: ChatRequest): StandInReply => {
  const text = userText(request)
  const found = ANSWERS.find(([key]) => text.includes(key))
  return { content: JSON.stringify(found ? found[1] : LOW) }
}

// One stand-in for the kit; the tests below start their own, to count requests.
const shared = await startOpenAiStandIn(answerFor)
const opened = [shared]
afterAll(async () => {
  for (const s of opened) await s.close()
})
const classifier = (baseURL: string, overrides: Partial<ByClassifierOptions> = {}) =>
  byClassifier({ model: 'qwen2.5-7b-instruct', apiKey: API_KEY, baseURL, within: jurisdiction, ...overrides })

testStrategy({
  name: 'classifier',
  strategy: classifier(shared.baseURL),
  offices: demoOffices,
  cases: [
    {
      title: 'wages in a town: the county’s labour bureau',
      draft: { text: '伽师县巴仁镇一个工地，老板拖欠我们工资三个月了，包工头电话也打不通' },
      expect: { officeId: 'jiashi-labour', reasonIncludes: 'model qwen2.5-7b-instruct: category labour, places 伽师县, 巴仁镇 (confidence 0.93) "工地拖欠工资三个月"' },
    },
    {
      title: 'a category no office lists: the place’s own office (the form’s place settles 巴仁)',
      draft: { text: '村里的水渠堵了好几个月，棉花地浇不上水', place: { text: '疏勒县巴仁乡' } },
      expect: { officeId: 'shule-bairen', reasonIncludes: 'no office serving it lists agriculture' },
    },
    {
      title: 'no place: the category and the urgency, passed on',
      draft: { text: '家里老人的降压药快吃完了，附近药店都买不到' },
      expect: { category: 'health', urgency: 'urgent', reasonIncludes: 'urgent (confidence 0.9)' },
    },
    { draft: { text: 'The bus from Shache to the county hospital has stopped running since Monday.' }, expect: { officeId: 'shache' } },
    {
      title: 'a place the model left out is still looked for in the message',
      draft: { text: '喀什市东湖街道这边的垃圾堆了一个星期没人拉' },
      expect: { officeId: 'kashgar-city-dongwu', reasonIncludes: 'category environment' },
    },
    { title: 'an answer below the confidence threshold', draft: { text: '你好，我想问一下' }, expect: { none: true } },
  ],
  quiet: ['谢谢你们上次的帮助', 'Hello, is anyone there?'],
})

describe('byClassifier on the wire', () => {
  it('asks for structured output: model, messages, a strict json_schema of the taxonomy, with the key', async () => {
    const server = await startOpenAiStandIn(answerFor)
    opened.push(server)
    await classifier(server.baseURL)(caseDraft({ text: '伽师县巴仁镇老板拖欠我们工资三个月', subject: '欠薪', place: { text: '伽师县' } }), routingContext(demoOffices))
    expect(server.requests).toHaveLength(1)
    const { authorization, body } = server.requests[0]!
    expect(authorization).toBe(`Bearer ${API_KEY}`)
    expect(body.model).toBe('qwen2.5-7b-instruct')
    expect(body.temperature).toBe(0)
    expect(body.messages.map((m) => m.role)).toEqual(['system', 'user'])
    expect(body.messages[0]!.content).toContain('- labour (劳动和社会保障 / Labour, wages and social insurance): unpaid or withheld wages')
    expect(body.messages[1]!.content).toBe('Place given in the form: 伽师县\nSubject: 欠薪\nMessage:\n伽师县巴仁镇老板拖欠我们工资三个月')
    expect(body.response_format?.type).toBe('json_schema')
    expect(body.response_format?.json_schema).toMatchObject({ name: 'case_triage', strict: true })
    const schema = body.response_format!.json_schema!.schema as { properties: Record<string, { enum?: string[] }>; required: string[]; additionalProperties: boolean }
    expect(schema.required.sort()).toEqual(['category', 'confidence', 'places', 'summary', 'urgency'])
    expect(schema.additionalProperties).toBe(false)
    expect(schema.properties.category!.enum).toContain('labour')
    expect(schema.properties.urgency!.enum).toEqual(['urgent', 'normal'])
  })

  it('uses the configured prompt, with the categories in place of {categories}', async () => {
    const server = await startOpenAiStandIn(answerFor)
    opened.push(server)
    const taxonomy = [{ id: 'roads', names: { en: 'Roads' }, phrases: [] }, { id: 'other', phrases: [] }]
    await classifier(server.baseURL, { prompt: 'Sort 311 requests.\n{categories}', taxonomy })(caseDraft('Pothole'), routingContext(demoOffices))
    expect(server.requests[0]!.body.messages[0]!.content).toBe('Sort 311 requests.\n- roads (Roads)\n- other')
  })

  it('serves a repeated text from its cache: the model sees one request', async () => {
    const server = await startOpenAiStandIn(answerFor)
    opened.push(server)
    const decide = classifier(server.baseURL)
    const draft = caseDraft('伽师县巴仁镇工地老板拖欠我们工资三个月了')
    const first = await decide(draft, routingContext(demoOffices))
    const second = await decide(caseDraft({ ...draft, from: { channelId: 'sms', id: '+8613900000002' }, channelId: 'sms' }), routingContext(demoOffices))
    expect(second).toEqual(first)
    expect(first?.officeId).toBe('jiashi-labour')
    expect(server.requests).toHaveLength(1)
    await Promise.all([decide(caseDraft('垃圾堆了一个星期'), routingContext(demoOffices)), decide(caseDraft('垃圾堆了一个星期'), routingContext(demoOffices))])
    expect(server.requests).toHaveLength(2)
  })

  it('keeps a bounded cache, forgetting the least recently used text', async () => {
    const server = await startOpenAiStandIn(answerFor)
    opened.push(server)
    const decide = classifier(server.baseURL, { cacheSize: 2 })
    const ctx = routingContext(demoOffices)
    for (const text of ['垃圾堆了一个星期 A', '垃圾堆了一个星期 B', '垃圾堆了一个星期 A', '垃圾堆了一个星期 C', '垃圾堆了一个星期 A', '垃圾堆了一个星期 B']) {
      await decide(caseDraft(text), ctx)
    }
    // A, B asked; A cached; C pushes B out; A cached; B asked again.
    expect(server.requests.map((r) => userText(r).slice(-1))).toEqual(['A', 'B', 'C', 'B'])
  })

  it.each<[string, StandInReply, string]>([
    ['a slow answer', { delayMs: 5000, then: { content: JSON.stringify(ANSWERS[0]![1]) } }, '"reason":"timeout"'],
    ['a 500', { status: 500, error: { message: 'The server had an error while processing your request.', type: 'server_error', code: null } }, '"reason":"http_error","model":"qwen2.5-7b-instruct","status":500'],
    ['a 401', { status: 401, error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } }, '"status":401'],
    ['content that is not JSON', { content: '{"category": "labour", "places": ["伽师县"' }, '"reason":"invalid_json"'],
    ['JSON outside the schema', { content: JSON.stringify({ ...ANSWERS[0]![1], category: 'wages' }) }, '"reason":"schema_mismatch"'],
    ['a refusal', { content: '', refusal: 'I can’t help with that.' }, '"reason":"refusal"'],
    ['an answer cut off at max tokens', { content: '{"category":"labour"', finishReason: 'length' }, '"reason":"truncated"'],
  ])('defers on %s, once, and logs why', async (_title, reply, logged) => {
    const server = await startOpenAiStandIn(() => reply)
    opened.push(server)
    const log = memoryLogger()
    const decision = await classifier(server.baseURL, { timeoutMs: 300 })(caseDraft('伽师县巴仁镇老板拖欠我们工资三个月'), { ...routingContext(demoOffices), log })
    expect(decision).toBeUndefined()
    // No retries: the chain's next strategy is the fallback, not a second wait.
    expect(server.requests).toHaveLength(1)
    expect(log.lines.join('\n')).toContain(logged)
    expect(log.lines.join('\n')).not.toContain(API_KEY)
  })

  it('does not cache a failure: the next message with the same text asks again', async () => {
    let calls = 0
    const server = await startOpenAiStandIn((request) =>
      ++calls === 1 ? { status: 503, error: { message: 'overloaded', type: 'server_error', code: null } } : answerFor(request),
    )
    opened.push(server)
    const decide = classifier(server.baseURL)
    const ctx = routingContext(demoOffices)
    expect(await decide(caseDraft('伽师县巴仁镇老板拖欠我们工资三个月'), ctx)).toBeUndefined()
    expect((await decide(caseDraft('伽师县巴仁镇老板拖欠我们工资三个月'), ctx))?.officeId).toBe('jiashi-labour')
  })

  it('defers when the server cannot be reached', async () => {
    const server = await startOpenAiStandIn(answerFor)
    await server.close()
    const log = memoryLogger()
    expect(await classifier(server.baseURL)(caseDraft('垃圾堆了一个星期'), { ...routingContext(demoOffices), log })).toBeUndefined()
    expect(log.lines.join('\n')).toContain('"reason":"connection"')
  })

  it('in the chain: a failing model leaves the case to the strategies after it', async () => {
    const server = await startOpenAiStandIn(() => ({ status: 500, error: { message: 'boom', type: 'server_error', code: null } }))
    opened.push(server)
    const { decision, trail } = await runRoutingChain(
      [classifier(server.baseURL), jurisdiction, toIntakeDesk()],
      caseDraft('伽师县巴仁镇的路灯坏了'),
      routingContext(demoOffices),
    )
    expect(decision).toMatchObject({ officeId: 'jiashi-bairen', strategy: 'jurisdiction' })
    expect(trail[0]).toEqual({ strategy: 'byClassifier', decision: undefined })
  })

  it.each<[string, Partial<ByClassifierOptions>, RegExp]>([
    ['no model', { model: ' ' }, /name the model/],
    ['no key', { apiKey: '' }, /API key/],
    ['a base URL that is not one', { baseURL: 'localhost:8000' }, /baseURL/],
    ['a zero timeout', { timeoutMs: 0 }, /timeoutMs/],
    ['a threshold above 1', { minConfidence: 1.5 }, /minConfidence/],
    ['an empty taxonomy', { taxonomy: [] }, /taxonomy/],
    ['a within that is not a strategy', { within: 'byJurisdiction' as never }, /within: expected a function/],
  ])('refuses %s at the factory', (_title, overrides, message) => {
    expect(() => classifier('http://127.0.0.1:9/v1', overrides)).toThrow(RoutingConfigError)
    expect(() => classifier('http://127.0.0.1:9/v1', overrides)).toThrow(message)
  })
})
