import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  createIntake,
  createLogger,
  memoryBlobStore,
  silentLogger,
  type ChannelAdapter,
  type InboundMessageInput,
  type Intake,
  type OutboundMessage,
  type RawRequest,
  type RouteContext,
} from '@intake/core'
import { sqliteStore } from '@intake/storage/sqlite'
import { imageFacts, KIT_API_KEY, KIT_BASE, KIT_OFFICES, kitGateway, pngImage, testChannel, type KitGateway } from '../kit/index.ts'
import { DecryptError } from '../shared/wechat-crypto.ts'
import {
  aesKeyFrom,
  cdata,
  CUSTOM_TEXT_MAX_BYTES,
  decryptMessage,
  encryptMessage,
  fitText,
  leafFields,
  parseXml,
  wechatChannel,
  wechatSignature,
  XmlError,
  type WechatOptions,
} from './index.ts'
import { startWechatApiServer, type WechatApiServer } from './wechat-api-server.ts'

const FIXTURES = join(import.meta.dirname, 'fixtures')
const sample = (name: string) => readFileSync(join(FIXTURES, name), 'utf8')
const vectors = JSON.parse(sample('crypto_and_signature_vectors.json'))

const TOKEN = 'intakeWechatToken2026'
const APP_ID = 'wx5823bf96d3bd56c7'
const APP_SECRET = 'wechat-app-secret-for-tests-0001'
const AES_KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C'
const OLD_AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const PNG = pngImage(4, 3, [200, 30, 30])
const AMR = new Uint8Array(Buffer.concat([Buffer.from('#!AMR\n'), Buffer.alloc(64, 0x3c)]))

// Billion laughs: ten levels of ten references each would expand to 10^9 "lol"s.
const XML_BOMB = `<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY lol "lol">
 ${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('\n ')}
]>
<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>&lol9;</Content><MsgId>1234567890123456</MsgId></xml>`
const XXE = `<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>&xxe;</Content><MsgId>1234567890123457</MsgId></xml>`

let api: WechatApiServer
beforeAll(async () => {
  api = await startWechatApiServer({ appId: APP_ID, appSecret: APP_SECRET })
  api.addMedia('media_id', PNG, 'image/png')
  api.addMedia('voice-amr-1', AMR, 'audio/amr')
})
afterAll(() => api.close())

const options = (over: Partial<WechatOptions> = {}): WechatOptions => ({ token: TOKEN, appId: APP_ID, appSecret: APP_SECRET, apiBaseUrl: api.url, ...over })

interface SignOptions {
  token?: string
  at?: number
  nonce?: string
  query?: Record<string, string>
}

/** The query WeChat puts on every push: signature = sha1(sort(token, timestamp, nonce)). */
// WeChat draws a fresh random nonce for every push; a repeated nonce means a retry or a replay.
function signedQuery({ token = TOKEN, at = Date.now(), nonce = String(Math.floor(Math.random() * 1e10)), query = {} }: SignOptions = {}) {
  const timestamp = String(Math.floor(at / 1000))
  return { timestamp, nonce, params: new URLSearchParams({ signature: wechatSignature(token, timestamp, nonce), timestamp, nonce, openid: 'fromUser', ...query }) }
}

const push = (channelUrl: string, xml: string, sign: SignOptions = {}) =>
  new Request(`${channelUrl}/messages?${signedQuery(sign).params}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: xml })

interface EncryptOptions extends SignOptions {
  key?: string
  appId?: string
  /** Compatible mode: the clear fields travel beside <Encrypt>. */
  compatible?: boolean
  /** Sign a different Encrypt than the one sent (a tampered body). */
  tamper?: (encrypt: string) => string
}

/** A safe-mode push: the XML sealed with the EncodingAESKey, msg_signature over the ciphertext. */
function encryptedPush(channelUrl: string, xml: string, { key = AES_KEY, appId = APP_ID, compatible = false, tamper = (e) => e, ...sign }: EncryptOptions = {}) {
  const encrypt = encryptMessage(aesKeyFrom(key), appId, xml)
  const { timestamp, nonce, params } = signedQuery(sign)
  params.set('encrypt_type', 'aes')
  params.set('msg_signature', wechatSignature(sign.token ?? TOKEN, timestamp, nonce, encrypt))
  const sent = tamper(encrypt)
  const body = compatible ? xml.replace('</xml>', `<Encrypt>${cdata(sent)}</Encrypt></xml>`) : `<xml><ToUserName><![CDATA[toUser]]></ToUserName><Encrypt>${cdata(sent)}</Encrypt></xml>`
  return new Request(`${channelUrl}/messages?${params}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body })
}

const withMsgId = (xml: string, id: string) => xml.replace(/<MsgId>\d+<\/MsgId>/, `<MsgId>${id}</MsgId>`)
const textPush = (content: string, msgId = '6054768590064713728', from = 'oCitizen0001') =>
  `<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>${cdata(content)}</Content><MsgId>${msgId}</MsgId></xml>`

/** The fields of a passive reply (decrypting it first when it is an encrypted envelope). */
function replyFields(body: string, key?: string): Record<string, string> {
  const fields = leafFields(parseXml(body))
  if (!fields.Encrypt) return fields
  const { message, appId } = decryptMessage(aesKeyFrom(key ?? AES_KEY), fields.Encrypt)
  expect(appId).toBe(APP_ID)
  return { ...leafFields(parseXml(message)), _msgSignature: fields.MsgSignature!, _timestamp: fields.TimeStamp!, _nonce: fields.Nonce!, _encrypt: fields.Encrypt }
}

// ————————————————————————————————————————————————————————————————————————————— conformance kit

const validSamples = [
  { name: 'official sample: text', file: 'text.xml', text: 'this is a test' },
  { name: 'official sample: image (downloaded through the media API)', file: 'image.xml' },
  { name: 'official sample: voice without recognition (audio downloaded)', file: 'voice.xml' },
  { name: 'official sample: voice with recognition', file: 'voice_with_recognition.xml', text: '腾讯微信团队' },
  { name: 'official sample: location', file: 'location.xml', text: '位置信息' },
  { name: 'official sample: link', file: 'link.xml', text: '公众平台官网链接' },
]

const sendErrors = [
  { name: '45015 outside the 48-hour window', arrange: () => api.failNextSend({ errcode: 45015 }), expect: { code: 'rejected', retryable: false } },
  { name: '45047 out of response count limit', arrange: () => api.failNextSend({ errcode: 45047 }), expect: { code: 'throttled', retryable: true } },
  { name: '45009 daily API quota used up', arrange: () => api.failNextSend({ errcode: 45009 }), expect: { code: 'throttled', retryable: true } },
  { name: '40003 invalid openid', arrange: () => api.failNextSend({ errcode: 40003 }), expect: { code: 'invalid_recipient', retryable: false } },
  { name: '43004 the citizen unfollowed', arrange: () => api.failNextSend({ errcode: 43004 }), expect: { code: 'stopped', retryable: false } },
  { name: '45002 content too long', arrange: () => api.failNextSend({ errcode: 45002 }), expect: { code: 'rejected', retryable: false } },
  { name: '-1 system busy', arrange: () => api.failNextSend({ errcode: -1 }), expect: { code: 'connection', retryable: true } },
  { name: 'HTTP 500', arrange: () => api.failNextSend({ status: 500 }), expect: { code: 'connection', retryable: true } },
  { name: 'a token refused twice (40001)', arrange: () => api.failNextSend({ errcode: 40001 }, { errcode: 40001 }), expect: { code: 'unknown', retryable: true } },
  { name: 'token endpoint: 40125 invalid appsecret', arrange: () => api.failNextToken({ errcode: 40125 }), expect: { code: 'config', retryable: false } },
  { name: 'token endpoint: 40013 invalid appid', arrange: () => api.failNextToken({ errcode: 40013 }), expect: { code: 'config', retryable: false } },
  { name: 'token endpoint: 40164 IP not whitelisted', arrange: () => api.failNextToken({ errcode: 40164 }), expect: { code: 'config', retryable: false } },
  { name: 'token endpoint: HTTP 502', arrange: () => api.failNextToken({ status: 502 }), expect: { code: 'connection', retryable: true } },
] as const

const sendOk = {
  verify: (sent: OutboundMessage, providerId: string) => {
    expect(providerId).toBe(sent.id)
    expect(api.sent.at(-1)).toMatchObject({ touser: 'citizen-kit', msgtype: 'text', text: { content: sent.text } })
  },
}

testChannel({
  name: 'wechat (plain mode)',
  adapter: ({ sendTimeoutMs }) => wechatChannel(options({ timeoutMs: sendTimeoutMs })),
  fixtures: {
    valid: validSamples.map(({ name, file, text }) => ({ name, messages: 1, text, request: (u: string) => push(u, sample(file)) })),
    forged: { name: 'signed with another token', request: (u) => push(u, sample('text.xml'), { token: 'notTheToken123' }) },
    malformed: [
      { name: 'not XML', status: 400, request: (u) => push(u, 'hello, this is not xml') },
      { name: 'an empty body', status: 400, request: (u) => push(u, '') },
      { name: 'missing FromUserName', status: 400, request: (u) => push(u, sample('text.xml').replace(/<FromUserName>.*<\/FromUserName>/, '')) },
      { name: 'missing MsgType', status: 400, request: (u) => push(u, sample('text.xml').replace(/<MsgType>.*<\/MsgType>/, '')) },
      { name: 'a text message without MsgId', status: 400, request: (u) => push(u, sample('text.xml').replace(/<MsgId>.*<\/MsgId>/, '')) },
      { name: 'an XML bomb (billion laughs)', status: 400, request: (u) => push(u, XML_BOMB) },
      { name: 'an external entity (XXE)', status: 400, request: (u) => push(u, XXE) },
      { name: 'an entity reference without a DTD', status: 400, request: (u) => push(u, sample('text.xml').replace('<![CDATA[this is a test]]>', '&lol9;')) },
      { name: 'elements nested 100 deep', status: 400, request: (u) => push(u, `<xml>${'<a>'.repeat(100)}${'</a>'.repeat(100)}</xml>`) },
      { name: 'unclosed elements', status: 400, request: (u) => push(u, '<xml><ToUserName><![CDATA[toUser]]></ToUserName><Content>') },
      { name: 'no signature at all', status: 401, request: (u) => new Request(`${u}/messages`, { method: 'POST', body: sample('text.xml') }) },
      { name: 'a replayed push (timestamp 10 minutes old)', status: 401, request: (u) => push(u, sample('text.xml'), { at: Date.now() - 600_000 }) },
      { name: 'an encrypted push to a plain-mode channel', status: 400, request: (u) => encryptedPush(u, sample('text.xml')) },
    ],
    sendErrors: [...sendErrors],
    sendOk,
    provider: () => api,
    secrets: [TOKEN, APP_SECRET],
  },
})

testChannel({
  name: 'wechat (safe mode)',
  adapter: ({ sendTimeoutMs }) => wechatChannel(options({ mode: 'safe', encodingAESKey: AES_KEY, timeoutMs: sendTimeoutMs })),
  fixtures: {
    valid: validSamples
      .filter((s) => ['text.xml', 'voice_with_recognition.xml', 'location.xml'].includes(s.file))
      .map(({ name, file, text }) => ({ name: `${name}, encrypted`, messages: 1, text, request: (u: string) => encryptedPush(u, sample(file)) })),
    forged: { name: 'msg_signature over another ciphertext', request: (u) => encryptedPush(u, sample('text.xml'), { tamper: () => encryptMessage(aesKeyFrom(AES_KEY), APP_ID, textPush('forged')) }) },
    malformed: [
      { name: 'a plaintext push to a safe-mode channel', status: 403, request: (u) => push(u, sample('text.xml')) },
      { name: 'sealed for another AppID', status: 401, request: (u) => encryptedPush(u, sample('text.xml'), { appId: 'wxb11529c136998cb6' }) },
      { name: 'sealed with another EncodingAESKey', status: 401, request: (u) => encryptedPush(u, sample('text.xml'), { key: OLD_AES_KEY }) },
      { name: 'signed with another token', status: 401, request: (u) => encryptedPush(u, sample('text.xml'), { token: 'notTheToken123' }) },
      { name: 'an XML bomb inside the ciphertext', status: 400, request: (u) => encryptedPush(u, XML_BOMB) },
      { name: 'an XML bomb as the envelope', status: 400, request: (u) => push(u, XML_BOMB, { query: { encrypt_type: 'aes', msg_signature: 'x' } }) },
      { name: 'no msg_signature', status: 401, request: (u) => push(u, sample('text.xml'), { query: { encrypt_type: 'aes' } }) },
    ],
    sendErrors: [],
    sendOk,
    provider: () => api,
    secrets: [TOKEN, APP_SECRET, AES_KEY],
  },
})

// ————————————————————————————————————————————————————————————————————————————— behaviour

/** The route's parse on its own, for exact assertions on the InboundMessage. */
async function parseOnly(adapter: ChannelAdapter, xml: string) {
  const route = adapter.routes!.find((r) => r.method === 'POST')!
  const body = new TextEncoder().encode(xml)
  const req: RawRequest = { method: 'POST', url: new URL(`${KIT_BASE}/channels/wx/messages?${signedQuery().params}`), headers: new Headers(), body, text: () => xml }
  const optOuts: Array<[string, boolean]> = []
  const ctx: RouteContext = {
    channelId: 'wx',
    publicUrl: KIT_BASE,
    blobs: memoryBlobStore(),
    log: silentLogger,
    now: Date.now,
    basePath: '/channels/wx',
    setOptOut: async (id, out) => void optOuts.push([id, out]),
  }
  expect(await route.verify!(req, ctx)).toEqual({ ok: true })
  const outcome = await route.parse(req, ctx)
  return { outcome, optOuts, blobs: ctx.blobs, message: 'messages' in outcome ? (outcome.messages[0] as InboundMessageInput) : undefined }
}

describe('wechat channel', () => {
  let gw: KitGateway
  const caseCount = async () => (await gw.intake.store.listCases({ limit: 50 })).cases.length
  beforeEach(async () => {
    api.sent.length = 0
    gw = await kitGateway(wechatChannel(options({ menuReplies: { EVENTKEY: '办事指南：请直接发送您的诉求。' } })))
  })
  afterEach(async () => {
    // Neither the channel's secrets nor any access token WeChat handed out may reach a log line.
    const leaks = [TOKEN, APP_SECRET, AES_KEY, ...api.issuedTokens].filter((s) => gw.lines.some((l) => l.includes(s)))
    await gw.close()
    expect(leaks).toEqual([])
  })

  describe('server URL verification', () => {
    const check = (sign: SignOptions = {}, echostr: string | null = '5837397520138365546') => {
      const { params } = signedQuery(sign)
      if (echostr !== null) params.set('echostr', echostr)
      return gw.fetch(new Request(`${gw.channelUrl}/messages?${params}`))
    }

    it('answers echostr as text/plain when the signature is right', async () => {
      const res = await check()
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
      expect(await res.text()).toBe('5837397520138365546')
    })

    it('refuses a wrong signature, a stale timestamp and a missing echostr', async () => {
      const forged = await check({ token: 'notTheToken123' })
      expect(forged.status).toBe(401)
      expect(await forged.text()).not.toContain('5837397520138365546')
      expect((await check({ at: Date.now() - 3_600_000 })).status).toBe(401)
      expect((await check({}, null)).status).toBe(400)
    })

    it('signs as the documented algorithm says (the shared vector)', () => {
      const v = vectors.plain_url_check
      expect(wechatSignature(v.token, v.timestamp, v.nonce)).toBe(v.expected_signature)
    })
  })

  describe('passive reply', () => {
    it('acknowledges inline with the tracking code, and answers a WeChat retry with the same reply', async () => {
      const first = await gw.fetch(push(gw.channelUrl, sample('text.xml')))
      expect(first.status).toBe(200)
      expect(first.headers.get('content-type')).toMatch(/^application\/xml/)
      const reply = replyFields(await first.text())
      const [kase] = (await gw.intake.store.listCases({ limit: 5 })).cases
      expect(reply).toMatchObject({ ToUserName: 'fromUser', FromUserName: 'toUser', MsgType: 'text' })
      expect(reply.Content).toContain(kase!.trackingCode)
      expect(Math.abs(Number(reply.CreateTime) - Date.now() / 1000)).toBeLessThan(60)
      // On the record as delivered in the answer, never queued for the API.
      const outbox = await gw.intake.store.listOutbox({ caseId: kase!.id })
      expect(outbox).toMatchObject([{ status: 'sent', payload: { kind: 'acknowledgement' } }])
      await gw.intake.outbox.drain()
      expect(api.sent).toEqual([])

      const retry = await gw.fetch(push(gw.channelUrl, sample('text.xml')))
      expect(retry.status).toBe(200)
      expect(replyFields(await retry.text()).Content).toBe(reply.Content)
      expect(await caseCount()).toBe(1)
      expect(await gw.intake.store.listOutbox({})).toHaveLength(1)
    })

    it('refuses a captured push URL sent again with another body (plain mode signs no body), and still takes WeChat’s own retry', async () => {
      const at = Date.now()
      const original = await gw.fetch(push(gw.channelUrl, sample('text.xml'), { at, nonce: '771188' }))
      expect(original.status).toBe(200)
      // WeChat retries with the very same request: the same case, the same reply.
      expect((await gw.fetch(push(gw.channelUrl, sample('text.xml'), { at, nonce: '771188' }))).status).toBe(200)
      // An attacker reuses the signed query with a body of their own, filed as someone else.
      const forged = sample('text.xml').replace('fromUser', 'victim-openid').replace('1234567890123456', '9999999999999999').replace('this is a test', '我要举报')
      const replayed = await gw.fetch(push(gw.channelUrl, forged, { at, nonce: '771188' }))
      expect(replayed.status).toBe(401)
      expect(await replayed.json()).toMatchObject({ error: { code: 'replayed_nonce' } })
      expect(await caseCount()).toBe(1)
      expect((await gw.intake.store.listCases({})).cases.map((c) => c.citizen.id)).toEqual(['fromUser'])
    })

    it('shortens a reply to WeChat’s byte limit', () => {
      const long = '路灯不亮'.repeat(300) // 3600 bytes
      const fitted = fitText(long, CUSTOM_TEXT_MAX_BYTES, 'http://intake.test/status/K7F3-9Q28')
      expect(Buffer.byteLength(fitted)).toBeLessThanOrEqual(CUSTOM_TEXT_MAX_BYTES)
      expect(fitted).toMatch(/^路灯不亮路灯不亮.*…\nhttp:\/\/intake\.test\/status\/K7F3-9Q28$/s)
      expect(fitText('short', 2048, 'x')).toBe('short')
      expect(fitText('😀😀😀', 9)).toBe('😀…') // never half a character
    })
  })

  describe('events', () => {
    it('welcomes a new follower with a passive reply and makes no case', async () => {
      for (const file of ['event_subscribe.xml', 'event_subscribe_qrscene.xml']) {
        const res = await gw.fetch(push(gw.channelUrl, sample(file)))
        expect(res.status).toBe(200)
        const reply = replyFields(await res.text())
        expect(reply).toMatchObject({ ToUserName: 'FromUser', FromUserName: 'toUser', MsgType: 'text' })
        expect(reply.Content).toContain('欢迎关注')
      }
      expect(await caseCount()).toBe(0)
      expect(gw.intake.metrics.render()).toMatch(/intake_inbound_ignored_total\{[^}]*channelId="test"[^}]*\} 2/)
    })

    it('answers "success" when no welcome is configured', async () => {
      await gw.close()
      gw = await kitGateway(wechatChannel(options({ welcome: false })))
      const res = await gw.fetch(push(gw.channelUrl, sample('event_subscribe.xml')))
      expect(await res.text()).toBe('success')
    })

    it('opts out a follower who leaves, and in again when they come back', async () => {
      const unsubscribe = sample('event_subscribe.xml').replace('subscribe', 'unsubscribe')
      const res = await gw.fetch(push(gw.channelUrl, unsubscribe))
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('success')
      expect(await gw.intake.store.isOptedOut('test', 'FromUser')).toBe(true)
      await gw.fetch(push(gw.channelUrl, sample('event_subscribe.xml')))
      expect(await gw.intake.store.isOptedOut('test', 'FromUser')).toBe(false)
      expect(await caseCount()).toBe(0)
    })

    it('answers a menu click with its configured reply, and other menu and location events with "success"', async () => {
      const click = await gw.fetch(push(gw.channelUrl, sample('event_menu_click.xml')))
      expect(replyFields(await click.text())).toMatchObject({ ToUserName: 'FromUser', Content: '办事指南：请直接发送您的诉求。' })
      for (const file of ['event_menu_view.xml', 'event_location.xml']) {
        const res = await gw.fetch(push(gw.channelUrl, sample(file)))
        expect(res.status).toBe(200)
        expect(await res.text()).toBe('success')
      }
      expect(await caseCount()).toBe(0)
    })

    it('answers "success" to a message type it does not take', async () => {
      const res = await gw.fetch(push(gw.channelUrl, sample('text.xml').replace('[text]', '[miniprogrampage]')))
      expect(await res.text()).toBe('success')
      expect(await caseCount()).toBe(0)
    })
  })

  describe('messages', () => {
    it('turns a text message into a message from the openid to the account', async () => {
      const { message } = await parseOnly(wechatChannel(options()), sample('text.xml'))
      expect(message).toMatchObject({ externalId: '1234567890123456', from: { id: 'fromUser' }, to: 'toUser', text: 'this is a test' })
    })

    it('downloads a photo through the media API into the blob store', async () => {
      const res = await gw.fetch(push(gw.channelUrl, sample('image.xml')))
      expect(res.status).toBe(200)
      const [kase] = (await gw.intake.store.listCases({ limit: 5 })).cases
      const [inbound] = await gw.intake.store.listMessages(kase!.id)
      expect(inbound!.attachments).toMatchObject([{ contentType: 'image/png', filename: 'media_id.png' }])
      const stored = (await gw.intake.blobs.get(inbound!.attachments[0]!.blobKey!))!
      expect(inbound!.attachments[0]!.size).toBe(stored.byteLength)
      expect(await imageFacts(stored)).toEqual({ format: 'png', width: 4, height: 3, exif: false })
    })

    it('keeps a voice note without recognition as an audio attachment, with no text', async () => {
      const { message, blobs } = await parseOnly(wechatChannel(options()), sample('voice.xml').replace('[media_id]', '[voice-amr-1]').replace('[Format]', '[amr]'))
      expect(message!.text).toBe('')
      expect(message!.attachments).toMatchObject([{ contentType: 'audio/amr', size: AMR.byteLength }])
      expect(await blobs.get(message!.attachments![0]!.blobKey!)).toEqual(AMR)
    })

    it('uses WeChat’s recognition as the text of a voice note, without downloading it', async () => {
      const before = api.tokenRequests()
      const { message } = await parseOnly(wechatChannel(options()), sample('voice_with_recognition.xml'))
      expect(message!.text).toBe('腾讯微信团队')
      expect(message!.attachments).toBeUndefined()
      expect(api.tokenRequests()).toBe(before)
    })

    it('still makes a case when the photo cannot be downloaded, with its URL for staff', async () => {
      const res = await gw.fetch(push(gw.channelUrl, sample('image.xml').replace('[media_id]', '[expired-media]')))
      expect(res.status).toBe(200)
      const [kase] = (await gw.intake.store.listCases({ limit: 5 })).cases
      const [inbound] = await gw.intake.store.listMessages(kase!.id)
      expect(inbound!.text).toBe('[图片] this is a url')
      expect(gw.lines.some((l) => l.includes('wechat media not downloaded') && l.includes('40007'))).toBe(true)
    })

    it('maps a location to a place with its label', async () => {
      const { message } = await parseOnly(wechatChannel(options()), sample('location.xml'))
      expect(message).toMatchObject({ text: '位置信息', place: { lat: 23.134521, lon: 113.358803, text: '位置信息' } })
    })

    it('takes a link as its title, description and URL', async () => {
      const { message } = await parseOnly(wechatChannel(options()), sample('link.xml').replace('<Description><![CDATA[公众平台官网链接]]>', '<Description><![CDATA[官网介绍]]>'))
      expect(message!.text).toBe('公众平台官网链接\n官网介绍\nurl')
    })

    it('refuses a root other than <xml> and a coordinate out of range', async () => {
      const other = await gw.fetch(push(gw.channelUrl, sample('text.xml').replace(/<(\/?)xml>/g, '<$1root>')))
      expect(other.status).toBe(400)
      const far = await gw.fetch(push(gw.channelUrl, sample('location.xml').replace('23.134521', '123.5')))
      expect(far.status).toBe(400)
      expect(await far.json()).toMatchObject({ error: { code: 'invalid_message' } })
      expect(await caseCount()).toBe(0)
    })
  })

  describe('sending', () => {
    const ctx = () => ({ channelId: 'test', idempotencyKey: 'k-1', attempt: 1, log: gw.intake.log, publicUrl: KIT_BASE, blobs: gw.intake.blobs })
    const outbound = (text = '路灯已修复。'): OutboundMessage => ({
      id: `m-${Math.random().toString(36).slice(2)}`,
      caseId: 'c-1',
      channelId: 'test',
      to: { channelId: 'test', id: 'oCitizen0001' },
      kind: 'reply',
      text,
      trackingCode: 'K7F3-9Q28',
      statusUrl: `${KIT_BASE}/status/K7F3-9Q28`,
      language: 'zh-CN',
    })

    it('fetches one access token for many sends, even concurrent ones', async () => {
      const adapter = wechatChannel(options())
      const before = api.tokenRequests()
      const results = await Promise.all(Array.from({ length: 5 }, () => adapter.send(outbound(), ctx())))
      for (let i = 0; i < 3; i++) await adapter.send(outbound(), ctx())
      expect(results.every((r) => r.ok)).toBe(true)
      expect(api.tokenRequests() - before).toBe(1)
      expect(api.sent).toHaveLength(8)
      expect(new Set(api.sent.map((s) => s.accessToken)).size).toBe(1)
    })

    it('refreshes an expired token (42001) once and sends within the same call', async () => {
      const adapter = wechatChannel(options())
      expect((await adapter.send(outbound('第一条'), ctx())).ok).toBe(true)
      const before = api.tokenRequests()
      api.expireTokens()
      expect(await adapter.send(outbound('第二条'), ctx())).toMatchObject({ ok: true })
      expect(api.tokenRequests() - before).toBe(1)
      expect(api.sent.map((s) => s.text?.content)).toEqual(['第一条', '第二条'])
      expect(api.sent[0]!.accessToken).not.toBe(api.sent[1]!.accessToken)
    })

    it('refreshes the token before it expires', async () => {
      let clock = Date.parse('2026-11-20T10:00:00+08:00')
      const adapter = wechatChannel(options({ now: () => clock }))
      await adapter.send(outbound(), ctx())
      const before = api.tokenRequests()
      clock += 6_800_000 // 7200 s tokens, refreshed 300 s ahead
      await adapter.send(outbound(), ctx())
      expect(api.tokenRequests()).toBe(before)
      clock += 200_000
      await adapter.send(outbound(), ctx())
      expect(api.tokenRequests()).toBe(before + 1)
    })

    it('shortens a long reply to 2048 bytes with the status link', async () => {
      const msg = outbound('您好，关于您反映的问题，'.repeat(200))
      expect(await wechatChannel(options()).send(msg, ctx())).toMatchObject({ ok: true })
      const content = api.sent.at(-1)!.text!.content
      expect(Buffer.byteLength(content)).toBeLessThanOrEqual(2048)
      expect(content.startsWith('您好，关于您反映的问题，')).toBe(true)
      expect(content.endsWith(`…\n${msg.statusUrl}`)).toBe(true)
    })

    it('explains the 48-hour window when WeChat refuses with 45015', async () => {
      api.failNextSend({ errcode: 45015 })
      const result = await wechatChannel(options()).send(outbound(), ctx())
      expect(result).toMatchObject({ ok: false, error: { code: 'rejected', retryable: false } })
      expect(!result.ok && result.error.message).toMatch(/48-hour/)
    })

    it('classifies a refused connection as a retryable connection error', async () => {
      const result = await wechatChannel(options({ apiBaseUrl: 'http://127.0.0.1:1' })).send(outbound(), ctx())
      expect(result).toMatchObject({ ok: false, error: { code: 'connection', retryable: true } })
    })

    it('delivers a staff reply through the outbox to the customer-service API, logging no token', async () => {
      const res = await gw.fetch(push(gw.channelUrl, sample('image.xml'))) // a media download fetches a token too
      expect(res.status).toBe(200)
      const [kase] = (await gw.intake.store.listCases({ limit: 5 })).cases
      const reply = await gw.fetch(
        new Request(`${KIT_BASE}/api/v1/cases/${kase!.id}/replies`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': KIT_API_KEY },
          body: JSON.stringify({ text: '照片收到，已派人核查。', author: 'clerk-7' }),
        }),
      )
      expect(reply.status).toBe(201)
      await gw.intake.outbox.drain()
      expect(api.sent).toHaveLength(1)
      expect(api.sent[0]).toMatchObject({ touser: 'fromUser', msgtype: 'text' })
      expect(api.sent[0]!.text!.content).toContain('照片收到，已派人核查。')
      expect(api.issuedTokens.length).toBeGreaterThan(0) // checked against the log lines after each test
    })
  })

  describe('encryption', () => {
    it('round-trips a safe-mode push: decrypts it and encrypts the passive reply', async () => {
      await gw.close()
      gw = await kitGateway(wechatChannel(options({ mode: 'safe', encodingAESKey: AES_KEY })))
      const res = await gw.fetch(encryptedPush(gw.channelUrl, textPush('伽师县巴仁镇路灯坏了')))
      expect(res.status).toBe(200)
      const body = await res.text()
      expect(body).not.toContain('巴仁镇')
      const reply = replyFields(body)
      // The envelope is signed the way WeChat checks it: sha1(sort(token, TimeStamp, Nonce, Encrypt)).
      expect(reply._msgSignature).toBe(wechatSignature(TOKEN, reply._timestamp!, reply._nonce!, reply._encrypt!))
      const [kase] = (await gw.intake.store.listCases({ limit: 5 })).cases
      expect(reply).toMatchObject({ ToUserName: 'oCitizen0001', FromUserName: 'gh_10f6c3c3ac5a', MsgType: 'text' })
      expect(reply.Content).toContain(kase!.trackingCode)
      expect((await gw.intake.store.listMessages(kase!.id))[0]!.text).toBe('伽师县巴仁镇路灯坏了')
    })

    it('in compatible mode answers clear pushes in clear and encrypted ones encrypted, trusting only the ciphertext', async () => {
      await gw.close()
      gw = await kitGateway(wechatChannel(options({ mode: 'compatible', encodingAESKey: AES_KEY })))
      const clear = await gw.fetch(push(gw.channelUrl, textPush('第一条', '1001')))
      expect(leafFields(parseXml(await clear.text())).Encrypt).toBeUndefined()

      // The clear copy says one thing, the signed ciphertext another: the ciphertext wins.
      const sealed = encryptedPush(gw.channelUrl, textPush('第二条（密文）', '1002'), { compatible: true })
      const tampered = new Request(sealed.url, { method: 'POST', body: (await sealed.text()).replace('第二条（密文）]]></Content>', '篡改的明文]]></Content>') })
      const res = await gw.fetch(tampered)
      expect(res.status).toBe(200)
      expect(replyFields(await res.text()).MsgType).toBe('text')
      const texts = (await Promise.all((await gw.intake.store.listCases({ limit: 5 })).cases.map((c) => gw.intake.store.listMessages(c.id)))).flat().filter((m) => m.direction === 'in').map((m) => m.text)
      expect(texts.sort()).toEqual(['第一条', '第二条（密文）'].sort())
    })

    it('accepts the previous EncodingAESKey while it is being changed, and answers with it', async () => {
      await gw.close()
      gw = await kitGateway(wechatChannel(options({ mode: 'safe', encodingAESKey: [AES_KEY, OLD_AES_KEY] })))
      const res = await gw.fetch(encryptedPush(gw.channelUrl, textPush('旧密钥加密的消息'), { key: OLD_AES_KEY }))
      expect(res.status).toBe(200)
      expect(replyFields(await res.text(), OLD_AES_KEY).MsgType).toBe('text')
    })
  })
})

// ————————————————————————————————————————————————————————————————————————————— official vectors

describe('wechat crypto: the official WXBizMsgCrypt vectors', () => {
  it('A: encrypts with a fixed random prefix to the published ciphertext', () => {
    const v = vectors.vectorA_encrypt_fixed_random
    const encrypted = encryptMessage(aesKeyFrom(v.encodingAESKey), v.appId, v.plaintext, Buffer.from(v.random))
    expect(encrypted).toBe(v.expected_ciphertext)
    expect(Buffer.from(encrypted, 'base64').length % 32).toBe(0) // PKCS#7 to 32 bytes
    expect(decryptMessage(aesKeyFrom(v.encodingAESKey), encrypted)).toEqual({ message: v.plaintext, appId: v.appId })
  })

  it('B: checks msg_signature and decrypts an encrypted echostr', () => {
    const v = vectors.vectorB_verify_url_encrypted_echostr
    expect(wechatSignature(v.token, v.timestamp, v.nonce, v.echostr)).toBe(v.msg_signature)
    expect(decryptMessage(aesKeyFrom(v.encodingAESKey), v.echostr)).toEqual({ message: v.expected_plain_echostr, appId: v.appId })
  })

  it('C: checks msg_signature and decrypts a pushed message', () => {
    const v = vectors.vectorC_decrypt_message
    const { Encrypt } = leafFields(parseXml(v.post_body))
    expect(wechatSignature(v.token, v.timestamp, v.nonce, Encrypt!)).toBe(v.msg_signature)
    expect(decryptMessage(aesKeyFrom(v.encodingAESKey), Encrypt!)).toEqual({ message: v.expected_plaintext, appId: v.appId })
  })

  it('refuses an altered ciphertext and a key that is not 43 characters', () => {
    const v = vectors.vectorA_encrypt_fixed_random
    const bytes = Buffer.from(v.expected_ciphertext, 'base64')
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0x01, bytes.length - 1)
    expect(() => decryptMessage(aesKeyFrom(v.encodingAESKey), bytes.toString('base64'))).toThrow(DecryptError)
    expect(() => decryptMessage(aesKeyFrom(v.encodingAESKey), 'not base64!')).toThrow(DecryptError)
    expect(() => aesKeyFrom('short')).toThrow(/43/)
  })

  describe('through the route, at the vectors’ own time', () => {
    let intake: Intake | undefined
    afterEach(async () => {
      await intake?.stop()
      await intake?.store.close()
      intake = undefined
    })
    const gatewayAt = async (at: number, adapter: ChannelAdapter) => {
      intake = createIntake(
        { store: sqliteStore({ file: ':memory:' }), offices: KIT_OFFICES, channels: { wx: adapter }, routing: [], apiKeys: [KIT_API_KEY], blobs: memoryBlobStore(), server: { publicUrl: KIT_BASE } },
        { env: {}, now: () => at, log: createLogger({ sink: () => {} }) },
      )
      await intake.start()
      return intake
    }

    it('B: answers the encrypted server URL check with the decrypted echostr', async () => {
      const v = vectors.vectorB_verify_url_encrypted_echostr
      const gw = await gatewayAt(Number(v.timestamp) * 1000, wechatChannel({ token: v.token, appId: v.appId, appSecret: APP_SECRET, mode: 'safe', encodingAESKey: v.encodingAESKey }))
      const q = new URLSearchParams({ msg_signature: v.msg_signature, timestamp: v.timestamp, nonce: v.nonce, echostr: v.echostr })
      const res = await gw.app.request(`${KIT_BASE}/channels/wx/messages?${q}`)
      expect(res.status).toBe(200)
      expect(await res.text()).toBe(v.expected_plain_echostr)
      q.set('msg_signature', '0'.repeat(40))
      expect((await gw.app.request(`${KIT_BASE}/channels/wx/messages?${q}`)).status).toBe(401)
    })

    it('C: takes the published encrypted push and answers it encrypted', async () => {
      const v = vectors.vectorC_decrypt_message
      const gw = await gatewayAt(Number(v.timestamp) * 1000, wechatChannel({ token: v.token, appId: v.appId, appSecret: APP_SECRET, mode: 'safe', encodingAESKey: v.encodingAESKey }))
      const q = new URLSearchParams({
        signature: wechatSignature(v.token, v.timestamp, v.nonce),
        timestamp: v.timestamp,
        nonce: v.nonce,
        openid: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs',
        encrypt_type: 'aes',
        msg_signature: v.msg_signature,
      })
      const res = await gw.app.request(`${KIT_BASE}/channels/wx/messages?${q}`, { method: 'POST', body: v.post_body })
      expect(res.status).toBe(200)
      const envelope = leafFields(parseXml(await res.text()))
      expect(envelope.MsgSignature).toBe(wechatSignature(v.token, envelope.TimeStamp!, envelope.Nonce!, envelope.Encrypt!))
      const { message, appId } = decryptMessage(aesKeyFrom(v.encodingAESKey), envelope.Encrypt!)
      expect(appId).toBe(v.appId)
      const { cases } = await gw.store.listCases({ limit: 5 })
      expect(cases).toHaveLength(1)
      expect(cases[0]!.citizen.id).toBe('oyORnuP8q7ou2gfYjqLzSIWZf0rs')
      expect(leafFields(parseXml(message))).toMatchObject({ ToUserName: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs', FromUserName: 'gh_10f6c3c3ac5a', CreateTime: v.timestamp })
      expect(leafFields(parseXml(message)).Content).toContain(cases[0]!.trackingCode)
      expect((await gw.store.listMessages(cases[0]!.id))[0]!.text).toBe('abcdteT')
    })
  })
})

describe('wechat XML reader', () => {
  const code = (xml: string) => {
    try {
      parseXml(xml)
      return 'parsed'
    } catch (err) {
      return err instanceof XmlError ? err.code : `threw ${(err as Error).message}`
    }
  }

  it('refuses DTDs, unknown entities and runaway structure without expanding anything', () => {
    expect(code(XML_BOMB)).toBe('xml_doctype_forbidden')
    expect(code(XXE)).toBe('xml_doctype_forbidden')
    expect(code('<xml><!DOCTYPE x><a/></xml>')).toBe('xml_doctype_forbidden')
    expect(code('<xml><Content>&xxe;</Content></xml>')).toBe('xml_undefined_entity')
    expect(code(`<xml>${'<a>'.repeat(9)}${'</a>'.repeat(9)}</xml>`)).toBe('xml_too_deep')
    expect(code(`<xml>${'<a/>'.repeat(600)}</xml>`)).toBe('xml_too_many_elements')
    expect(code('<xml><a></b></xml>')).toBe('xml_malformed')
    expect(code('<xml></xml><xml></xml>')).toBe('xml_malformed')
    expect(code('<?php echo 1 ?><xml/>')).toBe('xml_malformed')
    expect(() => parseXml('x'.repeat(100), { maxLength: 50 })).toThrow(/longer than 50/)
  })

  it('reads CDATA, the predefined entities and character references', () => {
    const root = parseXml('<?xml version="1.0" encoding="utf-8"?>\n<!-- c --><xml><A><![CDATA[<b>&amp;</b>]]></A><B>a &lt; b &amp; &#x4E2D;&#25991;</B><C/><D><E>nested</E></D></xml>')
    expect(leafFields(root)).toEqual({ A: '<b>&amp;</b>', B: 'a < b & 中文', C: '' })
  })

  it('writes CDATA that survives "]]>" and control characters', () => {
    const text = 'a]]>b\u0001c'
    expect(leafFields(parseXml(`<xml><T>${cdata(text)}</T></xml>`)).T).toBe('a]]>bc')
  })
})

describe('wechat configuration', () => {
  it('refuses what would fail later', () => {
    expect(() => wechatChannel(options({ token: 'x' }))).toThrow(/\[wechat channel\] token/)
    expect(() => wechatChannel(options({ appSecret: '' }))).toThrow(/appSecret/)
    expect(() => wechatChannel(options({ mode: 'safe' }))).toThrow(/encodingAESKey: required in safe mode/)
    expect(() => wechatChannel(options({ mode: 'compatible', encodingAESKey: 'tooShort' }))).toThrow(/encodingAESKey: .*43/)
    expect(() => wechatChannel(options({ apiBaseUrl: 'ftp://x' }))).toThrow(/apiBaseUrl/)
    expect(() => wechatChannel(options({ mode: 'secret' as never }))).toThrow(/mode/)
  })

  it('declares its secrets and a route pair for the one server URL', () => {
    const adapter = wechatChannel(options({ mode: 'safe', encodingAESKey: AES_KEY }))
    expect(adapter.secrets).toEqual([TOKEN, APP_SECRET, AES_KEY])
    expect(adapter.routes!.map((r) => `${r.method} ${r.path}${r.acknowledgesInline ? ' inline' : ''}`)).toEqual(['GET /messages', 'POST /messages inline'])
  })
})

// Events keep their own parse outcome: the helper above covers only messages.
describe('wechat events through parse', () => {
  it('opts out on unsubscribe and in on subscribe', async () => {
    const adapter = wechatChannel(options())
    const left = await parseOnly(adapter, sample('event_subscribe.xml').replace('subscribe', 'unsubscribe'))
    expect(left.outcome).toMatchObject({ ignored: expect.stringContaining('unsubscribe (FromUser:123456789:unsubscribe)') })
    expect(left.optOuts).toEqual([['FromUser', true]])
    const back = await parseOnly(adapter, sample('event_subscribe.xml'))
    expect(back.optOuts).toEqual([['FromUser', false]])
  })

  it('dedupes message samples by MsgId', async () => {
    const { message } = await parseOnly(wechatChannel(options()), withMsgId(sample('text.xml'), '42'))
    expect(message!.externalId).toBe('42')
  })
})
