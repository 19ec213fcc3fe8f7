import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { OutboundMessage } from '@intake/core'
import { kitGateway, testChannel, type KitGateway } from '../kit/index.ts'
import { aliyunSms, canonicalQuery, rpcSignature, templateFor, type AliyunSmsOptions } from './index.ts'
import { startAliyunSmsServer, type AliyunSmsServer } from './aliyun-api-server.ts'

const FIXTURES = join(import.meta.dirname, 'fixtures')
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8')
const vector = JSON.parse(fixture('signature-vector.json'))

const KEY_ID = 'LTAI5tKitAccessKey0001'
const KEY_SECRET = 'kitAccessKeySecret0123456789abc'
const PUSH_TOKEN = 'kit-push-token-0123456789'
const SIGN = '伽师县人民检察院'
const TEMPLATES = {
  SMS_465890012: '您的诉求已受理，编号${code}，可凭编号查询办理进度。',
  SMS_465890013: '您的诉求${code}有新的答复：${text}',
  SMS_465890014: '您的诉求${code}已办结，请回复1-5为答复打分。',
}
const templates: AliyunSmsOptions['templates'] = {
  acknowledgement: { code: 'SMS_465890012', params: { code: 'trackingCode' } },
  status: { code: 'SMS_465890013', params: { code: 'trackingCode', text: 'text' } },
  survey: { code: 'SMS_465890014', params: { code: 'trackingCode' } },
}

let api: AliyunSmsServer
beforeAll(async () => {
  api = await startAliyunSmsServer({ accessKeyId: KEY_ID, accessKeySecret: KEY_SECRET, signNames: [SIGN], templates: TEMPLATES })
})
afterAll(() => api.close())

const options = (over: Partial<AliyunSmsOptions> = {}): AliyunSmsOptions => ({
  accessKeyId: KEY_ID,
  accessKeySecret: KEY_SECRET,
  signName: SIGN,
  templates,
  pushToken: PUSH_TOKEN,
  endpoint: api.url,
  ...over,
})

const pushTo = (path: '/up' | '/report', body: string, token: string | null = PUSH_TOKEN) => (channelUrl: string) =>
  new Request(`${channelUrl}${path}${token === null ? '' : `?token=${token}`}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
const up = (items: unknown[], token?: string | null) => pushTo('/up', JSON.stringify(items), token)
const upItem = (content: string, over: Record<string, unknown> = {}) => ({ phone_number: '13912345678', send_time: '2026-12-03 10:00:00', content, dest_code: '1234', sequence_id: 4711, ...over })

testChannel({
  name: 'aliyun-sms',
  adapter: ({ sendTimeoutMs }) => aliyunSms(options({ timeoutMs: sendTimeoutMs })),
  fixtures: {
    recipient: { id: '+8613912345678' },
    valid: [
      { name: 'the documented SmsUp sample shape', messages: 1, text: '我们村的路灯坏了一个月了', request: pushTo('/up', fixture('sms-up.json')) },
      { name: 'two replies in one push', messages: 2, request: up([upItem('路灯坏了', { sequence_id: 1 }), upItem('水管漏水', { phone_number: '13800000001', sequence_id: 2 })]) },
    ],
    forged: { name: 'a push URL with another token', request: up([upItem('伪造')], 'not-the-push-token-000') },
    malformed: [
      { name: 'no token at all (missing signature)', status: 401, request: up([upItem('没有令牌')], null) },
      { name: 'not JSON', status: 400, request: pushTo('/up', 'phone_number=1&content=x') },
      { name: 'an empty array', status: 400, request: up([]) },
      { name: 'a reply without sequence_id', status: 400, request: up([{ phone_number: '13912345678', send_time: 'x', content: '路灯' }]) },
      { name: 'a phone number that is not one', status: 400, request: up([upItem('路灯', { phone_number: 'abc' })]) },
      { name: 'an over-long text (2001 characters)', status: 400, request: up([upItem('长'.repeat(2001))]) },
      { name: 'a receipt without biz_id', status: 400, request: pushTo('/report', JSON.stringify([{ phone_number: '1', success: true }])) },
    ],
    sendErrors: [
      { name: 'isv.BUSINESS_LIMIT_CONTROL', arrange: () => api.failNext({ code: 'isv.BUSINESS_LIMIT_CONTROL' }), expect: { code: 'throttled', retryable: true } },
      { name: 'Throttling.User (HTTP 400)', arrange: () => api.failNext({ code: 'Throttling.User' }), expect: { code: 'throttled', retryable: true } },
      { name: 'isv.MOBILE_NUMBER_ILLEGAL', arrange: () => api.failNext({ code: 'isv.MOBILE_NUMBER_ILLEGAL' }), expect: { code: 'invalid_recipient', retryable: false } },
      { name: 'isv.SMS_TEMPLATE_ILLEGAL (template not approved)', arrange: () => api.failNext({ code: 'isv.SMS_TEMPLATE_ILLEGAL' }), expect: { code: 'config', retryable: false } },
      { name: 'isv.SMS_SIGNATURE_ILLEGAL (signature not approved)', arrange: () => api.failNext({ code: 'isv.SMS_SIGNATURE_ILLEGAL' }), expect: { code: 'config', retryable: false } },
      { name: 'isv.BLACK_KEY_CONTROL_LIMIT (blacklist)', arrange: () => api.failNext({ code: 'isv.BLACK_KEY_CONTROL_LIMIT' }), expect: { code: 'stopped', retryable: false } },
      { name: 'isp.SYSTEM_ERROR', arrange: () => api.failNext({ code: 'isp.SYSTEM_ERROR' }), expect: { code: 'connection', retryable: true } },
      { name: 'an HTML 502 from a proxy', arrange: () => api.failNext({ status: 502 }), expect: { code: 'connection', retryable: true } },
      { name: 'a code nobody documented', arrange: () => api.failNext({ code: 'isv.SOMETHING_NEW' }), expect: { code: 'unknown', retryable: true } },
    ],
    sendOk: {
      verify: (msg: OutboundMessage, providerId: string) => {
        const sms = api.sent.at(-1)!
        expect(sms.bizId).toBe(providerId)
        expect(sms).toMatchObject({ phone: '13912345678', signName: SIGN, templateCode: 'SMS_465890013', outId: msg.id })
        expect(sms.text).toBe(`【${SIGN}】您的诉求${msg.trackingCode}有新的答复：${[...msg.text].slice(0, 34).join('')}…`)
      },
    },
    provider: () => api,
    secrets: [KEY_SECRET, PUSH_TOKEN],
  },
})

describe('aliyun-sms', () => {
  it('signs as the documented worked example (RPC signature v1.0)', () => {
    expect(canonicalQuery(vector.params)).toBe(vector.canonical)
    expect(rpcSignature(vector.method, vector.params, vector.accessKeySecret)).toBe(vector.signature)
  })

  it('picks the approved template by what the message is', () => {
    expect(templateFor({ kind: 'acknowledgement', template: 'acknowledgement' })).toBe('acknowledgement')
    expect(templateFor({ kind: 'notice', template: 'followUp' })).toBe('status')
    expect(templateFor({ kind: 'reply', template: 'reply' })).toBe('status')
    expect(templateFor({ kind: 'notice', template: 'resolved' })).toBe('status')
    expect(templateFor({ kind: 'notice', template: 'survey' })).toBe('survey')
    expect(templateFor({ kind: 'notice' })).toBe('status')
  })

  it('refuses misconfiguration when the channel is made', () => {
    expect(() => aliyunSms(options({ pushToken: 'short' }))).toThrow(/\[aliyun-sms\] pushToken/)
    expect(() => aliyunSms(options({ templates: { ...templates, survey: { code: 'survey', params: {} } } }))).toThrow(/templates\.survey\.code/)
    expect(() => aliyunSms(options({ templates: { ...templates, status: { code: 'SMS_1234', params: { x: 'phone' as never } } } }))).toThrow(/templates\.status\.params\.x/)
  })

  describe('through a gateway', () => {
    let gw: KitGateway
    beforeEach(async () => {
      api.sent.length = 0
      gw = await kitGateway(aliyunSms(options()), 'sms')
    })
    afterEach(async () => {
      const leaks = [KEY_SECRET, PUSH_TOKEN].filter((s) => gw.lines.some((l) => l.includes(s)))
      await gw.close()
      expect(leaks).toEqual([])
    })
    const send = (req: (u: string) => Request) => gw.fetch(req(gw.channelUrl))

    it('answers the push the way the platform expects, and acknowledges with the approved template', async () => {
      const res = await send(up([upItem('我们村的路灯坏了')]))
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ code: 0, msg: '接收成功' })
      await gw.intake.outbox.drain()
      const [kase] = (await gw.intake.store.listCases({ limit: 5 })).cases
      expect(api.sent.map((s) => s.text)).toEqual([`【${SIGN}】您的诉求已受理，编号${kase!.trackingCode}，可凭编号查询办理进度。`])
    })

    it('takes 退订, T and TD as an unsubscribe: no case, nothing more sent; 订阅 subscribes again', async () => {
      await send(up([upItem('路灯坏了', { sequence_id: 1 })]))
      await gw.intake.outbox.drain()
      expect(api.sent).toHaveLength(1)
      for (const [i, word] of ['退订', 'T', 'ｔｄ'].entries()) {
        const res = await send(up([upItem(word, { sequence_id: 10 + i })]))
        expect(res.status).toBe(200)
      }
      expect((await gw.intake.store.listCases({ limit: 5 })).cases).toHaveLength(1)
      await send(up([upItem('又坏了一个路灯', { phone_number: '13912345678', sequence_id: 20 })]))
      await gw.intake.outbox.drain()
      expect(api.sent).toHaveLength(1) // the follow-up's notice was held back: the number is unsubscribed
      await send(up([upItem('订阅', { sequence_id: 21 })]))
      await send(up([upItem('第三个路灯也坏了', { sequence_id: 22 })]))
      await gw.intake.outbox.drain()
      expect(api.sent).toHaveLength(2)
    })

    it('records delivery receipts, and a failed one with its code', async () => {
      await send(up([upItem('路灯坏了')]))
      await gw.intake.outbox.drain()
      const bizId = api.sent[0]!.bizId
      const body = JSON.stringify([{ phone_number: '13912345678', success: false, err_code: 'MK:0001', err_msg: '空号', biz_id: bizId }])
      expect((await send(pushTo('/report', body))).status).toBe(200)
      const [kase] = (await gw.intake.store.listCases({ limit: 5 })).cases
      const out = (await gw.intake.store.listMessages(kase!.id)).find((m) => m.direction === 'out')!
      expect(out.deliveryStatus).toBe('failed')
    })

    it('dead-letters a send the platform refuses for good (template not approved)', async () => {
      api.failNext({ code: 'isv.SMS_TEMPLATE_ILLEGAL' })
      await send(up([upItem('路灯坏了')]))
      await gw.intake.outbox.drain()
      const [item] = await gw.intake.store.listOutbox({})
      expect(item).toMatchObject({ status: 'dead' })
      expect(item!.lastError).toMatch(/^config.*isv\.SMS_TEMPLATE_ILLEGAL/)
      expect(api.sent).toHaveLength(0)
    })

    it('does not send to a number outside the mainland (no call made)', async () => {
      const calls = api.calls
      const adapter = aliyunSms(options())
      const r = await adapter.send(
        { id: 'm1', caseId: 'c1', channelId: 'sms', to: { channelId: 'sms', id: '+14155550100' }, kind: 'reply', text: 'x', trackingCode: 'K7F3-9Q28', statusUrl: 'http://x/status/K7F3-9Q28', language: 'zh-CN' },
        { channelId: 'sms', idempotencyKey: 'k', attempt: 1, log: gw.intake.log, publicUrl: 'http://x', blobs: gw.intake.blobs },
      )
      expect(r).toMatchObject({ ok: false, error: { code: 'invalid_recipient', retryable: false } })
      expect(api.calls).toBe(calls)
    })
  })
})
