import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { OutboundMessage } from '@intake/core'
import { wechatSignature } from '../shared/wechat-crypto.ts'
import { KIT_BASE, kitGateway, testChannel, type KitGateway } from '../kit/index.ts'
import { fitChars, MAX_REPLY_CHARS, weiboChannel, type WeiboOptions } from './index.ts'
import { signedPush, startWeiboApiServer, urlCheck, weiboText, type WeiboApiServer } from './weibo-api-server.ts'

const fixture = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8'))
const vector = fixture('signature-vector.json')
const APP_SECRET = 'weiboAppSecret0123456789abcdef'
const TOKEN = '2.00weiboFansServiceToken0123456789'
const ACCOUNT = '1902538057'
const CITIZEN = '2489518277'

let api: WeiboApiServer
beforeAll(async () => {
  api = await startWeiboApiServer({ accounts: { [TOKEN]: ACCOUNT } })
})
afterAll(() => api.close())

const options = (over: Partial<WeiboOptions> = {}): WeiboOptions => ({ appSecret: APP_SECRET, accessToken: TOKEN, accountUid: ACCOUNT, apiBaseUrl: api.url, ...over })
const push = (payload: unknown, over: { appSecret?: string; at?: number; nonce?: string } = {}) => (u: string) => signedPush(`${u}/push`, payload, { appSecret: APP_SECRET, ...over })
/** The documented samples carry a 2012 date; give them today's so the reply window is open. */
const today = (sample: Record<string, unknown>) => ({ ...sample, created_at: weiboText('').created_at })

testChannel({
  name: 'weibo',
  adapter: ({ sendTimeoutMs }) => weiboChannel(options({ timeoutMs: sendTimeoutMs })),
  fixtures: {
    valid: [
      { name: 'the documented text push', messages: 1, text: '私信或留言内容', request: push(today(fixture('text.json'))) },
      { name: 'the documented position push', messages: 1, text: '我分享了我的位置', request: push(today(fixture('position.json'))) },
      { name: 'an image push', messages: 1, text: '[图片', request: push({ ...weiboText(''), type: 'image', data: { vfid: 821804459, tovfid: 821804469 } }) },
    ],
    forged: { name: 'signed with another app secret', request: push(weiboText('伪造'), { appSecret: 'notTheSecret123' }) },
    malformed: [
      { name: 'no signature at all', status: 401, request: (u) => new Request(`${u}/push`, { method: 'POST', body: JSON.stringify(weiboText('x')) }) },
      { name: 'an expired timestamp (10 minutes old)', status: 401, request: push(weiboText('旧的'), { at: Date.now() - 600_000 }) },
      { name: 'not JSON', status: 400, request: push('<xml><ToUserName/></xml>') },
      { name: 'no sender_id', status: 400, request: push({ ...weiboText('路灯'), sender_id: undefined }) },
      { name: 'a push for another account of the matrix', status: 403, request: push(weiboText('路灯', { receiver: '1111111111' })) },
      { name: 'an over-long text (2001 characters)', status: 400, request: push(weiboText('长'.repeat(2001))) },
      { name: 'a position without coordinates', status: 400, request: push({ ...weiboText(''), type: 'position', data: {} }) },
    ],
    sendErrors: [
      { name: '10023 user requests out of rate limit', arrange: () => api.failNext({ errorCode: 10023, status: 403 }), expect: { code: 'throttled', retryable: true } },
      { name: '21327 expired token', arrange: () => api.failNext({ errorCode: 21327, status: 401 }), expect: { code: 'config', retryable: false } },
      { name: '20003 user does not exist', arrange: () => api.failNext({ errorCode: 20003 }), expect: { code: 'invalid_recipient', retryable: false } },
      { name: '10001 system error', arrange: () => api.failNext({ errorCode: 10001, status: 500 }), expect: { code: 'connection', retryable: true } },
      { name: 'an error code we do not know (no quota for this receiver)', arrange: () => api.failNext({ errorCode: 26001 }), expect: { code: 'rejected', retryable: false } },
    ],
    recipient: { id: CITIZEN },
    sendOk: {
      verify: (msg: OutboundMessage) => {
        expect(api.replies.at(-1)).toEqual({ from: ACCOUNT, to: CITIZEN, type: 'text', text: msg.text })
      },
    },
    provider: () => api,
    secrets: [APP_SECRET, TOKEN],
  },
})

describe('weibo', () => {
  it('signs as the documented example', () => {
    expect(wechatSignature(vector.appSecret, vector.timestamp, vector.nonce)).toBe(vector.signature)
  })

  it('keeps a reply under 300 characters, ending with the status link', () => {
    const fitted = fitChars('很'.repeat(400), MAX_REPLY_CHARS, 'http://intake.test/status/K7F3-9Q28')
    expect([...fitted].length).toBe(MAX_REPLY_CHARS)
    expect(fitted.endsWith('…http://intake.test/status/K7F3-9Q28')).toBe(true)
  })

  describe('through a gateway', () => {
    let gw: KitGateway
    let clock = Date.now()
    beforeEach(async () => {
      api.replies.length = 0
      clock = Date.now()
      gw = await kitGateway(weiboChannel(options({ now: () => clock })), 'weibo')
    })
    afterEach(async () => {
      const leaks = [APP_SECRET, TOKEN].filter((s) => gw.lines.some((l) => l.includes(s)))
      await gw.close()
      expect(leaks).toEqual([])
    })
    const send = (req: (u: string) => Request) => gw.fetch(req(gw.channelUrl))
    const cases = async () => (await gw.intake.store.listCases({ limit: 10 })).cases

    it('answers the URL check with echostr, and refuses it unsigned', async () => {
      const ok = await gw.fetch(urlCheck(`${gw.channelUrl}/push`, 'echo-4711', { appSecret: APP_SECRET }))
      expect(ok.status).toBe(200)
      expect(await ok.text()).toBe('echo-4711')
      const forged = await gw.fetch(urlCheck(`${gw.channelUrl}/push`, 'echo-4711', { appSecret: 'wrongSecret1' }))
      expect(forged.status).toBe(401)
    })

    it('acknowledges in the passive reply, with the tracking code', async () => {
      const res = await send(push(weiboText('路灯坏了')))
      expect(res.status).toBe(200)
      const reply = await res.json()
      expect(reply).toMatchObject({ result: true, sender_id: Number(ACCOUNT), receiver_id: Number(CITIZEN), type: 'text' })
      const [kase] = await cases()
      expect(JSON.parse(decodeURIComponent(reply.data)).text).toContain(kase!.trackingCode)
    })

    it('refuses a replayed nonce with another body, and takes Weibo’s retries (same nonce, or a new one) as the same message', async () => {
      const at = Date.now()
      const payload = weiboText('桥裂了', { at })
      expect((await send(push(payload, { at, nonce: '777' }))).status).toBe(200)
      expect((await send(push(payload, { at, nonce: '777' }))).status).toBe(200) // the platform's retry
      const replay = await send(push(weiboText('我要举报', { at, sender: '3000000001' }), { at, nonce: '777' }))
      expect(replay.status).toBe(401)
      expect(await replay.json()).toMatchObject({ error: { code: 'replayed_nonce' } })
      expect((await send(push(payload, { at, nonce: '778' }))).status).toBe(200)
      expect((await cases()).map((c) => c.citizen.id)).toEqual([CITIZEN])
    })

    it('ignores events, mentions and unknown types with their name; unfollow stops messages', async () => {
      await send(push({ ...fixture('event.json'), created_at: weiboText('').created_at, data: { subtype: 'scan', key: 'qr' } }))
      await send(push({ ...weiboText('@县检察院 你好'), type: 'mention' }))
      await send(push({ ...weiboText(''), type: 'hologram' }))
      expect(await cases()).toHaveLength(0)
      for (const name of ['event scan', 'push type \\"mention\\"', 'push type \\"hologram\\"']) expect(gw.lines.some((l) => l.includes(name)), name).toBe(true)
    })

    it('does not call Weibo past the 48-hour window: the reply is dead-lettered as rejected', async () => {
      await send(push(weiboText('路灯坏了')))
      const [kase] = await cases()
      clock += 49 * 3600_000
      const res = await gw.fetch(
        new Request(`${KIT_BASE}/api/v1/cases/${kase!.id}/replies`, { method: 'POST', headers: { 'x-api-key': 'kit-api-key-0123456789', 'content-type': 'application/json' }, body: JSON.stringify({ text: '已修复', author: 'clerk' }) }),
      )
      expect(res.status).toBe(201)
      await gw.intake.outbox.drain()
      expect(api.replies).toHaveLength(0)
      const [item] = (await gw.intake.store.listOutbox({ caseId: kase!.id })).filter((o) => o.payload.kind === 'reply')
      expect(item).toMatchObject({ status: 'dead' })
      expect(item!.lastError).toMatch(/^rejected.*48-hour/)
    })
  })
})
