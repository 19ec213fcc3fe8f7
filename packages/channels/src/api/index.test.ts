import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { kitGateway, testChannel, type KitGateway } from '../kit/index.ts'
import { startCallbackServer, type CallbackServer } from './callback-server.ts'
import { apiChannel, computeSignature, signRequest, verifySignature } from './index.ts'

const SECRET = 'api-secret-for-tests-0001'
let callback: CallbackServer

beforeAll(async () => {
  callback = await startCallbackServer()
})
afterAll(() => callback.close())

const message = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ id: 'kiosk-0001', from: { id: 'resident-42', name: 'Li Wei' }, text: '巴仁镇的路灯坏了一个月了', place: '伽师县巴仁镇', ...over })

const signed = (url: string, body: string, secret = SECRET, at = Date.now()) =>
  new Request(`${url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...signRequest(secret, body, at) }, body })

testChannel({
  name: 'api',
  adapter: ({ sendTimeoutMs }) => apiChannel({ secret: SECRET, callbackUrl: callback.url, timeoutMs: sendTimeoutMs }),
  fixtures: {
    valid: [
      { name: 'a kiosk message in Chinese', messages: 1, text: '路灯坏了', request: (u) => signed(u, message()) },
      { name: 'emoji and 4-byte UTF-8', messages: 1, text: '𠮷野家 😀', request: (u) => signed(u, message({ id: 'k-2', text: '𠮷野家 😀 门口积水' })) },
      { name: 'a point location', messages: 1, request: (u) => signed(u, message({ id: 'k-3', place: { text: 'Old town', lat: 39.47, lon: 75.98 } })) },
    ],
    forged: { name: 'signed with another secret', request: (u) => signed(u, message(), 'not-the-secret-0000000') },
    malformed: [
      { name: 'malformed JSON', status: 400, request: (u) => signed(u, '{"id": "x", ') },
      { name: 'wrong content type', status: 415, request: (u) => new Request(`${u}/messages`, { method: 'POST', headers: { 'content-type': 'text/plain', ...signRequest(SECRET, 'hello') }, body: 'hello' }) },
      { name: 'missing required fields', status: 400, request: (u) => signed(u, JSON.stringify({ text: 'no id, no sender' })) },
      { name: 'empty text', status: 400, request: (u) => signed(u, message({ text: '   ' })) },
      { name: 'empty body', status: 400, request: (u) => signed(u, '') },
      { name: 'no signature at all', status: 401, request: (u) => new Request(`${u}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: message() }) },
      { name: 'a replayed request (timestamp 10 minutes old)', status: 401, request: (u) => signed(u, message(), SECRET, Date.now() - 600_000) },
    ],
    sendErrors: [
      { name: 'callback answers 429', arrange: () => callback.failNext({ status: 429, headers: { 'retry-after': '7' } }), expect: { code: 'throttled', retryable: true } },
      { name: 'callback answers 503', arrange: () => callback.failNext(503), expect: { code: 'connection', retryable: true } },
      { name: 'callback answers 401', arrange: () => callback.failNext(401), expect: { code: 'config', retryable: false } },
      { name: 'callback answers 422', arrange: () => callback.failNext(422), expect: { code: 'rejected', retryable: false } },
    ],
    sendOk: {
      verify: (sent, providerId) => {
        const last = callback.received.at(-1)!
        expect(providerId).toMatch(/^cb-\d+$/)
        expect(JSON.parse(last.body)).toMatchObject({ id: sent.id, text: sent.text, trackingCode: sent.trackingCode, to: 'citizen-kit' })
        expect(last.headers['idempotency-key']).toBe('intake-kit-key-1')
      },
    },
    provider: () => callback,
    secrets: [SECRET],
  },
})

describe('api channel', () => {
  let gw: KitGateway
  beforeEach(async () => {
    callback.received.length = 0
    callback.keys.clear()
    gw = await kitGateway(apiChannel({ secret: SECRET, callbackUrl: callback.url }), 'kiosk')
  })
  afterEach(() => gw.close())

  it('acknowledges on the callback, signed, and sends a staff reply back the same way', async () => {
    const res = await gw.fetch(signed(gw.channelUrl, message()))
    expect(res.status).toBe(201)
    const { results } = (await res.json()) as { results: Array<{ trackingCode: string; caseId: string }> }
    await gw.intake.outbox.drain()
    expect(callback.received).toHaveLength(1)
    const ack = callback.received[0]!
    expect(JSON.parse(ack.body)).toMatchObject({ kind: 'acknowledgement', to: 'resident-42', trackingCode: results[0]!.trackingCode })
    // The receiver can check our signature with the shared secret.
    const check = verifySignature([SECRET], new Headers(ack.headers as Record<string, string>), new TextEncoder().encode(ack.body), Date.now(), 300)
    expect(check).toEqual({ ok: true })

    const reply = await gw.fetch(
      new Request('http://intake.test/api/v1/cases/' + results[0]!.caseId + '/replies', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'kit-api-key-0123456789' },
        body: JSON.stringify({ text: '路灯已于今日修复。', author: 'clerk-7' }),
      }),
    )
    expect(reply.status).toBe(201)
    await gw.intake.outbox.drain()
    expect(callback.received).toHaveLength(2)
    expect(JSON.parse(callback.received[1]!.body)).toMatchObject({ kind: 'reply', to: 'resident-42' })
    expect(JSON.parse(callback.received[1]!.body).text).toContain('路灯已于今日修复。')
  })

  it('puts a follow-up that answers an earlier message on the same case', async () => {
    const first = (await (await gw.fetch(signed(gw.channelUrl, message()))).json()) as { results: Array<{ caseId: string }> }
    const other = await gw.fetch(signed(gw.channelUrl, message({ id: 'kiosk-0002', from: { id: 'someone-else' }, inReplyTo: 'kiosk-0001', text: '补充：晚上完全没有照明' })))
    const second = (await other.json()) as { results: Array<{ caseId: string; followUp: boolean }> }
    expect(second.results[0]).toMatchObject({ caseId: first.results[0]!.caseId, followUp: true })
    const messages = await gw.intake.store.listMessages(first.results[0]!.caseId)
    expect(messages.filter((m) => m.direction === 'in').map((m) => m.text)).toEqual(['巴仁镇的路灯坏了一个月了', '补充：晚上完全没有照明'])
  })

  it('retries a callback that fails, then delivers exactly once', async () => {
    callback.failNext(500, 500, 500)
    await gw.fetch(signed(gw.channelUrl, message()))
    for (let i = 0; i < 10 && callback.received.length === 0; i++) {
      await gw.intake.outbox.drain()
      await new Promise((r) => setTimeout(r, 10)) // backoff in the kit gateway is 1–5 ms
    }
    expect(callback.received).toHaveLength(1)
    const [item] = await gw.intake.store.listOutbox({})
    expect(item).toMatchObject({ status: 'sent', attempts: 4 })
  })

  it('dead-letters a reply the callback refuses, and staff can retry it', async () => {
    callback.failNext(400)
    await gw.fetch(signed(gw.channelUrl, message()))
    await gw.intake.outbox.drain()
    const dead = await gw.intake.store.listOutbox({ status: 'dead' })
    expect(dead).toHaveLength(1)
    const headers = { 'x-api-key': 'kit-api-key-0123456789' }
    const listed = (await (await gw.fetch(new Request('http://intake.test/api/v1/outbox?status=dead', { headers }))).json()) as { items: unknown[] }
    expect(listed.items).toHaveLength(1)
    const retry = await gw.fetch(new Request(`http://intake.test/api/v1/outbox/${dead[0]!.id}/retry`, { method: 'POST', headers }))
    expect(retry.status).toBe(200)
    await gw.intake.outbox.drain()
    expect(callback.received).toHaveLength(1)
    expect((await gw.intake.store.listOutbox({}))[0]!.status).toBe('sent')
  })

  it('accepts a secret being rotated in (either secret verifies)', async () => {
    await gw.close()
    gw = await kitGateway(apiChannel({ secret: ['new-secret-000000000000', SECRET], callbackUrl: callback.url }), 'kiosk')
    expect((await gw.fetch(signed(gw.channelUrl, message()))).status).toBe(201)
    expect((await gw.fetch(signed(gw.channelUrl, message({ id: 'n2' }), 'new-secret-000000000000'))).status).toBe(201)
  })

  it('refuses a request whose body was changed after signing', async () => {
    const body = message()
    const headers = signRequest(SECRET, body)
    const res = await gw.fetch(new Request(`${gw.channelUrl}/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body.replace('路灯', '水管') }))
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: { code: 'bad_signature' } })
  })

  it('classifies a refused connection and a callback that never answers as retryable connection errors', async () => {
    const ctx = { channelId: 'kiosk', idempotencyKey: 'k-1', attempt: 1, log: gw.intake.log, publicUrl: 'http://intake.test', blobs: gw.intake.blobs }
    const msg = { id: 'm-1', caseId: 'c-1', channelId: 'kiosk', to: { channelId: 'kiosk', id: 'r-1' }, kind: 'reply' as const, text: 'hi', trackingCode: 'K7F3-9Q28', statusUrl: 'http://intake.test/status/K7F3-9Q28', language: 'en' }
    const refused = await apiChannel({ secret: SECRET, callbackUrl: 'http://127.0.0.1:1/cb' }).send(msg, ctx)
    expect(refused).toMatchObject({ ok: false, error: { code: 'connection', retryable: true } })
    const silent = createServer(() => {}) // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    const { port } = silent.address() as AddressInfo
    const slow = await apiChannel({ secret: SECRET, callbackUrl: `http://127.0.0.1:${port}/cb`, timeoutMs: 200 }).send(msg, ctx)
    expect(slow).toMatchObject({ ok: false, error: { code: 'connection', retryable: true } })
    expect(slow.ok === false && slow.error.message).toMatch(/timeout/)
    silent.closeAllConnections()
    silent.close()
  })

  it('warns at start when it has no callbackUrl, since its replies cannot be delivered', async () => {
    const quiet = await kitGateway(apiChannel({ secret: SECRET }), 'kiosk')
    try {
      expect(quiet.lines.filter((l) => l.includes('no callbackUrl'))).toHaveLength(1)
      expect(gw.lines.filter((l) => l.includes('no callbackUrl'))).toEqual([])
    } finally {
      await quiet.close()
    }
  })

  it('refuses weak configuration when the channel is created', () => {
    expect(() => apiChannel({ secret: 'short' })).toThrow(/at least 16 characters/)
    expect(() => apiChannel({ secret: SECRET, callbackUrl: 'ftp://x' })).toThrow(/callbackUrl/)
  })

  it('signs with HMAC-SHA256 over "timestamp.body"', () => {
    // Reference value computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac api-secret-for-tests-0001
    expect(computeSignature(SECRET, '1700000000', '{}')).toBe('v1=f04bae38478403e98535e8bae427191c047b322ac241403afba7d957bd364c18')
    expect(computeSignature(SECRET, '1700000000', '{}')).not.toBe(computeSignature(SECRET, '1700000001', '{}'))
  })
})
