import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { OutboundMessage } from '@intake/core'
import { kitGateway, testChannel, type KitGateway } from '../kit/index.ts'
import { douyinChannel, publicCommentReply, type DouyinOptions } from './index.ts'
import { imMessage, signedEvent, startDouyinApiServer, videoComment, type DouyinApiServer } from './douyin-api-server.ts'

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8')
const CLIENT_KEY = 'awdouyinclientkey01'
const CLIENT_SECRET = 'douyinClientSecret0123456789abcdef'
const ACCOUNT = '_000accountOpenId0001'
const TOKEN = 'act.douyinAccessToken0123456789abcdef'

let api: DouyinApiServer
beforeAll(async () => {
  api = await startDouyinApiServer({ accessToken: TOKEN, accountOpenId: ACCOUNT })
})
afterAll(() => api.close())

const options = (over: Partial<DouyinOptions> = {}): DouyinOptions => ({
  clientKey: CLIENT_KEY,
  clientSecret: CLIENT_SECRET,
  accountOpenId: ACCOUNT,
  accessToken: TOKEN,
  apiBaseUrl: api.url,
  comments: { mode: 'mentions', name: '伽师县检察院' },
  ...over,
})
const event = (e: unknown, secret = CLIENT_SECRET) => (u: string) => signedEvent(`${u}/webhook`, e, secret)
const fresh = (raw: string) => raw.replace(/"create_time\\":\d+/, `"create_time\\":${Math.floor(Date.now() / 1000)}`)

testChannel({
  name: 'douyin',
  adapter: ({ sendTimeoutMs }) => douyinChannel(options({ timeoutMs: sendTimeoutMs })),
  fixtures: {
    valid: [
      { name: 'a private message (the fixture, as the platform sends it)', messages: 1, text: '我们村的河道被非法采砂', request: event(fresh(fixture('im-receive-msg.json'))) },
      { name: 'a comment that mentions the account', messages: 1, text: '河边垃圾堆了一个月', request: event(videoComment('@伽师县检察院 河边垃圾堆了一个月')) },
    ],
    forged: { name: 'signed with another client secret', request: event(imMessage('伪造'), 'notTheClientSecret0000') },
    malformed: [
      { name: 'no signature at all', status: 401, request: (u) => new Request(`${u}/webhook`, { method: 'POST', body: JSON.stringify(imMessage('x')) }) },
      { name: 'an expired timestamp (a message two hours old)', status: 401, request: event(imMessage('旧消息', { at: Date.now() - 2 * 3600_000 })) },
      { name: 'not JSON', status: 400, request: event('event=im_receive_msg') },
      { name: 'content that is not JSON', status: 400, request: event({ ...imMessage('x'), content: '{not json' }) },
      { name: 'a private message without server_message_id', status: 400, request: event({ ...imMessage('x'), content: JSON.stringify({ message_type: 'text', text: 'x', conversation_short_id: '1', create_time: 1 }) }) },
      { name: 'a message for another account', status: 403, request: event(imMessage('别的账号', { to: '_000someOtherAccount1' })) },
      { name: 'an over-long text (2001 characters)', status: 400, request: event(imMessage('长'.repeat(2001))) },
    ],
    sendErrors: [
      { name: '2190008 access_token expired', arrange: () => api.failNext({ errorCode: 2190008, description: 'access_token过期' }), expect: { code: 'config', retryable: false } },
      { name: '2100004 system busy', arrange: () => api.failNext({ errorCode: 2100004, description: '系统繁忙' }), expect: { code: 'connection', retryable: true } },
      { name: '2190015 too many requests', arrange: () => api.failNext({ errorCode: 2190015, description: '请求太频繁' }), expect: { code: 'throttled', retryable: true } },
      { name: 'HTTP 502', arrange: () => api.failNext({ status: 502 }), expect: { code: 'connection', retryable: true } },
      { name: 'an unknown refusal (outside the private-message window)', arrange: () => api.failNext({ errorCode: 2100005, description: '参数不合法' }), expect: { code: 'rejected', retryable: false } },
    ],
    recipient: { id: `im:7290000000000000999:_000citizenOpenId0001` },
    sendOk: {
      verify: (msg: OutboundMessage) => {
        expect(api.privateMessages.at(-1)).toMatchObject({ conversationId: '7290000000000000999', toUserId: '_000citizenOpenId0001', text: msg.text })
      },
    },
    provider: () => api,
    secrets: [CLIENT_SECRET, TOKEN],
  },
})

describe('douyin', () => {
  let gw: KitGateway
  const cases = async () => (await gw.intake.store.listCases({ limit: 20 })).cases
  const start = async (over: Partial<DouyinOptions> = {}) => {
    api.privateMessages.length = 0
    api.commentReplies.length = 0
    gw = await kitGateway(douyinChannel(options(over)), 'douyin')
  }
  afterEach(async () => {
    const leaks = [CLIENT_SECRET, TOKEN].filter((s) => gw.lines.some((l) => l.includes(s)))
    await gw.close()
    expect(leaks).toEqual([])
  })
  const post = (req: (u: string) => Request) => gw.fetch(req(gw.channelUrl))

  describe('defaults', () => {
    beforeEach(() => start())

    it('answers the URL check with its challenge, after the signature', async () => {
      const res = await post(event(fixture('verify-webhook.json').trim()))
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ challenge: 12345 })
      expect((await post(event(fixture('verify-webhook.json').trim(), 'notTheClientSecret0000'))).status).toBe(401)
    })

    it('ignores unknown events with their name, and comments that are not appeals', async () => {
      expect((await post(event({ event: 'create_video', client_key: CLIENT_KEY, content: '{}' }))).status).toBe(200)
      await post(event(videoComment('拍得真好')))
      expect(await cases()).toHaveLength(0)
      expect(gw.lines.some((l) => l.includes('create_video'))).toBe(true)
      expect(gw.lines.some((l) => l.includes('not an appeal'))).toBe(true)
    })

    it('takes a retried event (same Msg-Id, same message) once', async () => {
      const e = imMessage('路灯坏了')
      await post(event(e))
      await post(event(e))
      expect(await cases()).toHaveLength(1)
    })

    it('acknowledges a commenter under their comment with the tracking code and status link only', async () => {
      await post(event(videoComment('@伽师县检察院 我是张三，电话13912345678，河边垃圾堆了一个月', { id: '@c-1' })))
      await gw.intake.outbox.drain()
      const [kase] = await cases()
      expect(api.privateMessages).toHaveLength(0)
      expect(api.commentReplies).toEqual([{ itemId: '@9VwKzuuES8gmaXS7ZohqQcV9', commentId: '@c-1', content: publicCommentReply(kase!.trackingCode, `http://intake.test/status/${kase!.trackingCode}`, true) }])
      expect(api.commentReplies[0]!.content).not.toMatch(/张三|139|伽师/)
    })

    it('acknowledges a private message in the conversation, answering the citizen’s message', async () => {
      await post(event(imMessage('路灯坏了', { id: '7290000000000012345' })))
      await gw.intake.outbox.drain()
      const [kase] = await cases()
      expect(api.privateMessages).toHaveLength(1)
      expect(api.privateMessages[0]).toMatchObject({ msgId: '7290000000000012345', toUserId: '_000citizenOpenId0001' })
      expect(api.privateMessages[0]!.text).toContain(kase!.trackingCode)
    })

    it('dead-letters a reply the platform refuses for good, and retries one it cannot take now', async () => {
      api.failNext({ errorCode: 2100005, description: '参数不合法' })
      await post(event(imMessage('路灯坏了')))
      await gw.intake.outbox.drain()
      const [dead] = await gw.intake.store.listOutbox({})
      expect(dead).toMatchObject({ status: 'dead' })
      expect(dead!.lastError).toMatch(/^rejected.*2100005/)

      api.failNext({ errorCode: 2100004, description: '系统繁忙' })
      await post(event(imMessage('水管漏了', { from: '_000citizenOpenId0002' })))
      const deadline = Date.now() + 5000
      while (api.privateMessages.length === 0 && Date.now() < deadline) {
        await gw.intake.outbox.drain()
        await new Promise((r) => setImmediate(r))
      }
      expect(api.privateMessages).toHaveLength(1) // the busy answer was retried, then delivered
    })
  })

  it('takes the comments that carry a keyword in "keywords" mode', async () => {
    await start({ comments: { mode: 'keywords', keywords: ['垃圾', '拖欠'] } })
    await post(event(videoComment('拖欠工资三个月了')))
    await post(event(videoComment('拍得真好')))
    expect(await cases()).toHaveLength(1)
  })

  it('takes the comments the deployment’s rules select in "rules" mode', async () => {
    const urgent = /着火|塌方|溺水/
    await start({ comments: { mode: 'rules', matches: (text) => urgent.test(text) } })
    await post(event(videoComment('村口山体塌方了，路堵了')))
    await post(event(videoComment('风景真美')))
    expect(await cases()).toHaveLength(1)
  })
})
