/**
 * The LINE adapter's test: one call to the channel kit with LINE's fixtures, then what the kit cannot
 * know about LINE (the 409 of a retry key already accepted, blocking the account, LINE's 200).
 */
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest'
import { KIT_API_KEY, kitGateway, testChannel, type KitGateway } from '@intake/channels/kit'
import { lineChannel, retryKeyFor } from './index.ts'
import { startLineApiStandIn, textEvent, webhookBody, type LineApiStandIn } from './line-api-stand-in.ts'

const SECRET = '8c570fa6dd201bb328f1c1eac23a96d8'
const TOKEN = 'line-channel-access-token-for-tests-0001'
const CITIZEN = 'U' + '4af4980629'.repeat(3) + '21'
const GROUP = 'C' + '0123456789abcdef'.repeat(2)

let line: LineApiStandIn
beforeAll(async () => {
  line = await startLineApiStandIn({ channelSecret: SECRET, channelAccessToken: TOKEN })
})
afterAll(() => line.close())

const hook = (channelUrl: string, body: Parameters<LineApiStandIn['webhookRequest']>[1], secret?: string) => line.webhookRequest(`${channelUrl}/webhook`, body, secret)

testChannel({
  name: 'line',
  adapter: ({ sendTimeoutMs }) => lineChannel({ channelSecret: SECRET, channelAccessToken: TOKEN, apiBaseUrl: line.url, timeoutMs: sendTimeoutMs }),
  fixtures: {
    valid: [
      { name: 'a text message from a user', messages: 1, text: '路灯坏了', request: (u) => hook(u, webhookBody(textEvent('巴仁镇的路灯坏了一个月了', { userId: CITIZEN }))) },
      { name: 'a text message in a group', messages: 1, text: 'pothole', request: (u) => hook(u, webhookBody(textEvent('A pothole on Station Road', { groupId: GROUP, messageId: '468789577898262531' }))) },
      {
        name: 'two events in one webhook',
        messages: 2,
        request: (u) => hook(u, webhookBody(textEvent('first', { messageId: '1001' }), textEvent('second', { userId: CITIZEN, messageId: '1002' }))),
      },
    ],
    forged: { name: 'signed with another channel secret', request: (u) => hook(u, webhookBody(textEvent('hi')), 'ffffffffffffffffffffffffffffffff') },
    malformed: [
      { name: 'not JSON', status: 400, request: (u) => hook(u, 'hello') },
      { name: 'no events array', status: 400, request: (u) => hook(u, JSON.stringify({ destination: 'U0' })) },
      { name: 'a message event without its id', status: 400, request: (u) => hook(u, webhookBody({ ...textEvent('hi'), message: { type: 'text', text: 'hi' } })) },
      { name: 'no X-Line-Signature', status: 401, request: (u) => new Request(`${u}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(webhookBody(textEvent('hi'))) }) },
    ],
    sendErrors: [
      { name: 'LINE answers 429 (rate limit)', arrange: () => line.answerNext({ status: 429, body: { message: 'Too Many Requests' } }), expect: { code: 'throttled', retryable: true } },
      { name: 'LINE answers 500', arrange: () => line.answerNext({ status: 500, body: { message: 'Internal Server Error' } }), expect: { code: 'connection', retryable: true } },
      { name: 'a revoked channel access token (401)', arrange: () => line.answerNext({ status: 401, body: { message: 'Authentication failed.' } }), expect: { code: 'config', retryable: false } },
      { name: "an invalid 'to' (400)", arrange: () => line.answerNext({ status: 400, body: { message: "The property, 'to', in the request body is invalid" } }), expect: { code: 'rejected', retryable: false } },
    ],
    sendOk: {
      verify: (sent, providerId) => {
        expect(line.pushed).toEqual([expect.objectContaining({ to: CITIZEN, text: sent.text, retryKey: retryKeyFor('intake-kit-key-1') })])
        expect(providerId).toMatch(/^\d+$/)
      },
    },
    recipient: { id: CITIZEN },
    provider: () => line,
    secrets: [SECRET, TOKEN],
  },
})

describe('line channel', () => {
  let gw: KitGateway
  beforeEach(async () => {
    gw = await kitGateway(lineChannel({ channelSecret: SECRET, channelAccessToken: TOKEN, apiBaseUrl: line.url }), 'line')
  })
  afterEach(async () => {
    await gw.close()
    await line.reset()
  })

  it('answers a webhook 200, as LINE requires, and acknowledges on LINE with the tracking code', async () => {
    const res = await gw.fetch(hook(gw.channelUrl, webhookBody(textEvent('巴仁镇的路灯坏了一个月了', { userId: CITIZEN }))))
    expect(res.status).toBe(200)
    await gw.intake.outbox.drain()
    const [kase] = (await gw.intake.store.listCases({ limit: 5 })).cases
    expect(line.pushed).toHaveLength(1)
    expect(line.pushed[0]).toMatchObject({ to: CITIZEN })
    expect(line.pushed[0]!.text).toContain(kase!.trackingCode)
  })

  it("answers LINE's webhook verification (no events) with 200 and stores nothing", async () => {
    const res = await gw.fetch(hook(gw.channelUrl, webhookBody()))
    expect(res.status).toBe(200)
    expect((await gw.intake.store.listCases({ limit: 5 })).cases).toHaveLength(0)
  })

  it('sends a staff reply to the citizen through the push API', async () => {
    await gw.fetch(hook(gw.channelUrl, webhookBody(textEvent('路灯坏了', { userId: CITIZEN }))))
    const [kase] = (await gw.intake.store.listCases({ limit: 5 })).cases
    const reply = await gw.fetch(
      new Request(`http://intake.test/api/v1/cases/${kase!.id}/replies`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KIT_API_KEY },
        body: JSON.stringify({ text: '路灯已于今日修复。', author: 'clerk-7' }),
      }),
    )
    expect(reply.status).toBe(201)
    await gw.intake.outbox.drain()
    expect(line.pushed.map((p) => p.text)).toEqual([expect.stringContaining(kase!.trackingCode), expect.stringContaining('路灯已于今日修复。')])
  })

  it('counts a 409 for a retry key LINE already accepted as sent, without sending twice', async () => {
    const ctx = { channelId: 'line', idempotencyKey: 'delivery-7', attempt: 2, log: gw.intake.log, publicUrl: 'http://intake.test', blobs: gw.intake.blobs }
    const msg = { id: 'm-1', caseId: 'c-1', channelId: 'line', to: { channelId: 'line', id: CITIZEN }, kind: 'reply' as const, text: 'hello', trackingCode: 'K7F3-9Q28', statusUrl: 'http://intake.test/status/K7F3-9Q28', language: 'en' }
    const adapter = lineChannel({ channelSecret: SECRET, channelAccessToken: TOKEN, apiBaseUrl: line.url })
    const first = await adapter.send(msg, ctx)
    const again = await adapter.send(msg, ctx)
    expect(first.ok && again.ok).toBe(true)
    expect(line.pushed).toHaveLength(1)
  })

  it('sends nothing more to a citizen who blocks the account (unfollow), until they add it again', async () => {
    const unfollow = { type: 'unfollow', source: { type: 'user', userId: CITIZEN }, timestamp: 1692251666727, mode: 'active', webhookEventId: '01H810YECXQQZ37VAXPF6H9E6U', deliveryContext: { isRedelivery: false } }
    expect((await gw.fetch(hook(gw.channelUrl, webhookBody(unfollow)))).status).toBe(200)
    expect(await gw.intake.store.isOptedOut('line', CITIZEN)).toBe(true)
    await gw.fetch(hook(gw.channelUrl, webhookBody({ ...unfollow, type: 'follow' })))
    expect(await gw.intake.store.isOptedOut('line', CITIZEN)).toBe(false)
  })

  it('refuses a misconfiguration when the channel is created', () => {
    expect(() => lineChannel({ channelSecret: 'short', channelAccessToken: TOKEN })).toThrow(/channelSecret/)
    expect(() => lineChannel({ channelSecret: SECRET, channelAccessToken: TOKEN, apiBaseUrl: 'ftp://x' })).toThrow(/apiBaseUrl/)
  })
})
