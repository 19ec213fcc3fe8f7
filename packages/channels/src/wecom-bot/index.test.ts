import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { OutboundMessage } from '@intake/core'
import { kitGateway, testChannel, type KitGateway } from '../kit/index.ts'
import { residentAddress, wecomBot, type WecomBotOptions } from './index.ts'
import { botCallback, botText, botUrlCheck, startWecomApiServer, type WecomApiServer } from './wecom-api-server.ts'

const sample = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'text.json'), 'utf8'))
const TOKEN = 'villageBotToken2026'
const AES_KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C'
const GROUP = 'wrkSFfCgAAtestgroup01'
const GROUP_KEY = '693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa'
const CORP_ID = 'ww0123456789abcdef'
const CORP_SECRET = 'village-corp-secret-0123456789'

let api: WecomApiServer
beforeAll(async () => {
  api = await startWecomApiServer({ corpId: CORP_ID, corpSecret: CORP_SECRET, keys: [GROUP_KEY], members: ['lisi'] })
})
afterAll(() => api.close())

const options = (over: Partial<WecomBotOptions> = {}): WecomBotOptions => ({ token: TOKEN, encodingAESKey: AES_KEY, groups: { [GROUP]: GROUP_KEY }, apiBaseUrl: api.url, ...over })
const sign = { token: TOKEN, encodingAESKey: AES_KEY }
const callback = (payload: unknown, over: Partial<Parameters<typeof botCallback>[2]> = {}) => (u: string) => botCallback(`${u}/callback`, payload, { ...sign, ...over })

testChannel({
  name: 'wecom-bot',
  adapter: ({ sendTimeoutMs }) => wecomBot(options({ timeoutMs: sendTimeoutMs })),
  fixtures: {
    valid: [
      // First: the kit's end-to-end case delivers its acknowledgement, which needs a group with a webhook key.
      { name: 'a resident in a village group', messages: 1, text: '村口的桥裂了', request: callback(botText('@村务助手 村口的桥裂了')) },
      { name: 'the documented text sample (the mention cut off)', messages: 1, text: 'hello robot', request: callback(sample) },
      { name: 'a single chat with the bot', messages: 1, request: callback(botText('路灯坏了', { chattype: 'single', chatid: '' })) },
      {
        name: 'a mixed message (text and picture)',
        messages: 1,
        text: '水渠堵了',
        request: callback({ ...botText(''), msgtype: 'mixed', text: undefined, mixed: { msg_item: [{ msgtype: 'text', text: { content: '@村务助手 水渠堵了' } }, { msgtype: 'image', image: { url: 'x' } }] } }),
      },
    ],
    forged: { name: 'signed with another token', request: callback(botText('伪造'), { signWith: 'someoneElse99' }) },
    malformed: [
      { name: 'no signature at all', status: 401, request: (u) => new Request(`${u}/callback`, { method: 'POST', body: '{"encrypt":"abc"}' }) },
      { name: 'an expired timestamp (10 minutes old)', status: 401, request: callback(botText('旧的'), { at: Date.now() - 600_000 }) },
      { name: 'not JSON', status: 400, request: (u) => new Request(`${u}/callback?msg_signature=x&timestamp=1&nonce=2`, { method: 'POST', body: '<xml/>' }) },
      { name: 'sealed for another receiver', status: 401, request: callback(botText('别的企业'), { receiveId: 'ww9999999999999999' }) },
      { name: 'sealed with another EncodingAESKey', status: 401, request: callback(botText('别的密钥'), { encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' }) },
      { name: 'decrypts to something that is not JSON', status: 400, request: callback('not json at all') },
      { name: 'a text message without msgid', status: 400, request: callback({ ...botText('路灯'), msgid: undefined }) },
      { name: 'an over-long text (4001 characters)', status: 400, request: callback(botText('长'.repeat(4001))) },
    ],
    sendErrors: [
      { name: '93000 invalid webhook key', arrange: () => api.failNextWebhook({ errcode: 93000 }), expect: { code: 'config', retryable: false } },
      { name: '45009 api freq out of limit', arrange: () => api.failNextWebhook({ errcode: 45009 }), expect: { code: 'throttled', retryable: true } },
      { name: '45002 content too long', arrange: () => api.failNextWebhook({ errcode: 45002 }), expect: { code: 'rejected', retryable: false } },
      { name: 'HTTP 502', arrange: () => api.failNextWebhook({ status: 502 }), expect: { code: 'connection', retryable: true } },
    ],
    recipient: { id: residentAddress(GROUP, 'zhangsan') },
    sendOk: {
      verify: (msg: OutboundMessage, providerId: string) => {
        expect(providerId).toBe(msg.id)
        expect(api.groupPosts.at(-1)).toEqual({ key: GROUP_KEY, content: msg.text, mentioned: ['zhangsan'] })
      },
    },
    provider: () => api,
    secrets: [TOKEN, AES_KEY, GROUP_KEY],
  },
})

describe('wecom-bot', () => {
  let gw: KitGateway
  const cases = async () => (await gw.intake.store.listCases({ limit: 50 })).cases
  beforeEach(async () => {
    api.groupPosts.length = 0
    api.appMessages.length = 0
    gw = await kitGateway(wecomBot(options({ replyPrivately: { corpId: CORP_ID, corpSecret: CORP_SECRET, agentId: 1000002 } })), 'village')
  })
  afterEach(async () => {
    const leaks = [TOKEN, AES_KEY, GROUP_KEY, CORP_SECRET, ...api.issuedTokens].filter((s) => gw.lines.some((l) => l.includes(s)))
    await gw.close()
    expect(leaks).toEqual([])
  })
  const post = (req: (u: string) => Request) => gw.fetch(req(gw.channelUrl))

  it('answers the URL check with the decrypted echostr', async () => {
    const res = await gw.fetch(botUrlCheck(`${gw.channelUrl}/callback`, '1616140317555161061', sign))
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('1616140317555161061')
  })

  it('refuses a replayed nonce with another body, and takes WeCom’s retry of the same callback once', async () => {
    const at = Date.now()
    const original = botCallback(`${gw.channelUrl}/callback`, botText('桥裂了', { msgid: 'm-1' }), { ...sign, at, nonce: '42' })
    const retry = original.clone()
    expect((await gw.fetch(original)).status).toBe(200)
    expect((await gw.fetch(retry)).status).toBe(200)
    const replay = await post(callback(botText('桥裂了', { msgid: 'm-2' }), { at, nonce: '42' }))
    expect(replay.status).toBe(401)
    expect(await replay.json()).toMatchObject({ error: { code: 'replayed_nonce' } })
    expect(await cases()).toHaveLength(1)
  })

  it('opens one case per resident per group', async () => {
    await post(callback(botText('@村务助手 桥裂了', { userid: 'zhangsan' })))
    await post(callback(botText('@村务助手 水渠堵了', { userid: 'wmExternalResident01' })))
    await post(callback(botText('@村务助手 桥还没修', { userid: 'zhangsan' })))
    await post(callback(botText('@村务助手 我们村也是', { userid: 'zhangsan', chatid: 'wrkSFfCgAAothergroup2' })))
    const citizens = (await cases()).map((c) => c.citizen.id).sort()
    expect(citizens).toEqual([`${GROUP}:wmExternalResident01`, `${GROUP}:zhangsan`, 'wrkSFfCgAAothergroup2:zhangsan'].sort())
  })

  it('ignores events and other message types with their name', async () => {
    const event = await post(callback({ msgid: 'e1', aibotid: 'a', chattype: 'single', from: { userid: 'zhangsan' }, msgtype: 'event', event: { eventtype: 'enter_chat' } }))
    expect(event.status).toBe(200)
    await post(callback({ ...botText(''), msgtype: 'file', text: undefined, file: { url: 'x' } }))
    expect(await cases()).toHaveLength(0)
    expect(gw.lines.some((l) => l.includes('enter_chat'))).toBe(true)
    expect(gw.lines.some((l) => l.includes('message type') && l.includes('file'))).toBe(true)
  })

  it('answers a corp member privately and an external resident in the group, mentioning them', async () => {
    await post(callback(botText('@村务助手 桥裂了', { userid: 'lisi' })))
    await post(callback(botText('@村务助手 水渠堵了', { userid: 'wmExternalResident01' })))
    await gw.intake.outbox.drain()
    expect(api.appMessages.map((m) => [m.touser, m.agentid])).toEqual([['lisi', 1000002]])
    expect(api.groupPosts.map((p) => p.mentioned)).toEqual([['wmExternalResident01']])
    const codes = (await cases()).map((c) => c.trackingCode)
    expect([api.appMessages[0]!.content, api.groupPosts[0]!.content].every((t, i) => codes.some((c) => t.includes(c)) && i >= 0)).toBe(true)
  })

  it('dead-letters an answer the group webhook refuses for good (the robot was removed: 93000)', async () => {
    api.failNextWebhook({ errcode: 93000 })
    await post(callback(botText('@村务助手 水渠堵了', { userid: 'wmExternalResident01' })))
    await gw.intake.outbox.drain()
    const [item] = await gw.intake.store.listOutbox({})
    expect(item).toMatchObject({ status: 'dead' })
    expect(item!.lastError).toMatch(/^config.*93000/)
    expect(api.groupPosts).toHaveLength(0)
  })
})
