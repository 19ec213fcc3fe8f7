import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import twilio from 'twilio'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { OutboundMessage, RawRequest, SendContext } from '@intake/core'
import { imageFacts, jpegPhoto, KIT_BASE, kitGateway, pngImage, testChannel, type KitGateway } from '../kit/index.ts'
import { countSegments, fitToLength, fitToSegments, isGsm7, twilioSms, verifyTwilioSignature, type TwilioSmsOptions } from './index.ts'
import { incomingMessageRequest, incomingSmsParams, startTwilioApiServer, type TwilioApiServer } from './twilio-api-server.ts'

const ACCOUNT_SID = 'AC' + '5ef8732a3c49700934481addd5ce1659'
const AUTH_TOKEN = '9f1c04e7d2a84b6c8e0f1a2b3c4d5e6f'
const NUMBER = '+15005550006'
const CITIZEN = '+8613800138000'
const FIXTURES = join(import.meta.dirname, 'fixtures')

let api: TwilioApiServer
beforeAll(async () => {
  api = await startTwilioApiServer({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN })
})
afterAll(() => api.close())

const options = (over: Partial<TwilioSmsOptions> = {}): TwilioSmsOptions => ({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: NUMBER, apiBaseUrl: api.url, ...over })
const sid = (n: number) => 'SM' + n.toString(16).padStart(32, '0')

/** An incoming message as Twilio posts it, signed by the official SDK with the account's auth token. */
const incoming = (channelUrl: string, over: Record<string, string>, token = AUTH_TOKEN) =>
  incomingMessageRequest(`${channelUrl}/messages`, incomingSmsParams(ACCOUNT_SID, { From: CITIZEN, To: NUMBER, Body: '', ...over }), token)

/** A request signed over `params` but carrying another body (for content-type and schema cases). */
function signedRaw(url: string, body: string, contentType: string, params: Record<string, string> = {}) {
  return new Request(url, {
    method: 'POST',
    headers: { 'content-type': contentType, 'x-twilio-signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params) },
    body,
  })
}
const form = (params: Record<string, string>) => new URLSearchParams(params).toString()
const captured = readFileSync(join(FIXTURES, 'inbound-sms-captured.form'), 'utf8').trim()

testChannel({
  name: 'twilio-sms',
  adapter: ({ sendTimeoutMs }) => twilioSms(options({ timeoutMs: sendTimeoutMs })),
  fixtures: {
    valid: [
      {
        name: 'an SMS exactly as Twilio posted it (captured webhook)',
        messages: 1,
        text: 'St',
        request: (u) => incomingMessageRequest(`${u}/messages`, Object.fromEntries(new URLSearchParams(captured)), AUTH_TOKEN),
      },
      { name: 'a Chinese SMS', messages: 1, text: '伽师县巴仁镇的路灯坏了一个月了', request: (u) => incoming(u, { MessageSid: sid(2), Body: '伽师县巴仁镇的路灯坏了一个月了，晚上出行很不安全。' }) },
      {
        name: 'a WhatsApp message with a ProfileName',
        messages: 1,
        text: '水管爆了',
        request: (u) => incoming(u, { MessageSid: sid(3), From: `whatsapp:${CITIZEN}`, To: `whatsapp:${NUMBER}`, ProfileName: '买买提', WaId: '8613800138000', Body: '疏勒县 水管爆了 😀' }),
      },
      {
        name: 'an MMS with a photo',
        messages: 1,
        text: '照片',
        request: (u) =>
          incoming(u, { MessageSid: 'MM' + '3'.repeat(32), Body: '照片：路面塌陷', NumMedia: '1', MediaUrl0: api.addMedia(pngImage(4, 3, [200, 30, 30]), 'image/png'), MediaContentType0: 'image/png' }),
      },
    ],
    forged: { name: 'signed with another auth token', request: (u) => incoming(u, { MessageSid: sid(4), Body: 'hello' }, 'ffffffffffffffffffffffffffffffff') },
    malformed: [
      { name: 'no MessageSid', status: 400, request: (u) => signedRaw(`${u}/messages`, form({ From: CITIZEN, Body: 'hi' }), 'application/x-www-form-urlencoded', { From: CITIZEN, Body: 'hi' }) },
      { name: 'no From', status: 400, request: (u) => signedRaw(`${u}/messages`, form({ MessageSid: sid(5), Body: 'hi' }), 'application/x-www-form-urlencoded', { MessageSid: sid(5), Body: 'hi' }) },
      { name: 'a MessageSid that is not a Twilio SID', status: 400, request: (u) => incoming(u, { MessageSid: 'not-a-sid', Body: 'hi' }) },
      { name: 'NumMedia without its MediaUrl0', status: 400, request: (u) => incoming(u, { MessageSid: sid(6), Body: 'hi', NumMedia: '1' }) },
      { name: 'wrong content type (text/plain), signed over the URL', status: 415, request: (u) => signedRaw(`${u}/messages`, 'Body=hi', 'text/plain') },
      {
        name: 'a JSON body with a valid bodySHA256 signature (Twilio posts SMS as a form)',
        status: 415,
        request: (u) => {
          const body = JSON.stringify({ MessageSid: sid(7), From: CITIZEN, Body: 'hi' })
          return signedRaw(`${u}/messages?bodySHA256=${twilio.getExpectedBodyHash(body)}`, body, 'application/json')
        },
      },
      { name: 'no X-Twilio-Signature at all', status: 403, request: (u) => new Request(`${u}/messages`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form({ MessageSid: sid(8), From: CITIZEN, Body: 'hi' }) }) },
    ],
    sendErrors: [
      { name: '21610 unsubscribed recipient', arrange: () => api.failNext({ code: 21610 }), expect: { code: 'stopped', retryable: false } },
      { name: '20429 too many requests', arrange: () => api.failNext({ code: 20429 }), expect: { code: 'throttled', retryable: true } },
      { name: 'a bare HTTP 429', arrange: () => api.failNext({ status: 429 }), expect: { code: 'throttled', retryable: true } },
      { name: 'HTTP 500', arrange: () => api.failNext({ status: 500 }), expect: { code: 'connection', retryable: true } },
      { name: 'HTTP 503', arrange: () => api.failNext({ status: 503 }), expect: { code: 'connection', retryable: true } },
      { name: 'the connection dropped without an answer', arrange: () => api.failNext({ drop: true }), expect: { code: 'connection', retryable: true } },
      { name: '21211 invalid To number', arrange: () => api.failNext({ code: 21211 }), expect: { code: 'invalid_recipient', retryable: false } },
      { name: '21614 not a mobile number', arrange: () => api.failNext({ code: 21614 }), expect: { code: 'invalid_recipient', retryable: false } },
      { name: '21408 region not enabled', arrange: () => api.failNext({ code: 21408 }), expect: { code: 'invalid_recipient', retryable: false } },
      { name: '20003 authentication', arrange: () => api.failNext({ code: 20003 }), expect: { code: 'config', retryable: false } },
      { name: '21617 body too long', arrange: () => api.failNext({ code: 21617 }), expect: { code: 'rejected', retryable: false } },
    ],
    sendOk: {
      arrange: () => api.reset(),
      verify: (sent, providerId) => {
        expect(api.messages).toHaveLength(1)
        const got = api.messages[0]!
        expect(providerId).toBe(got.sid)
        expect(got).toMatchObject({ to: 'citizen-kit', from: NUMBER, body: sent.text, statusCallback: `${KIT_BASE}/channels/test/status` })
      },
    },
    provider: () => api,
    secrets: [AUTH_TOKEN],
  },
})

describe('twilio-sms channel', () => {
  let gw: KitGateway
  const optOuts: Array<[string, boolean]> = []
  beforeEach(async () => {
    api.reset()
    optOuts.length = 0
    gw = await kitGateway(twilioSms(options()), 'sms')
  })
  afterEach(() => gw.close())
  const cases = async () => (await gw.intake.store.listCases({ limit: 50 })).cases

  it('answers a message with empty TwiML and acknowledges through the API, with the tracking code', async () => {
    const res = await gw.fetch(incoming(gw.channelUrl, { MessageSid: sid(10), Body: '巴仁镇的路灯坏了' }))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/xml/)
    expect(await res.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>')
    await gw.intake.outbox.drain()
    const [kase] = await cases()
    expect(api.messages).toHaveLength(1)
    expect(api.messages[0]).toMatchObject({ to: CITIZEN, from: NUMBER, statusCallback: 'http://intake.test/channels/sms/status' })
    expect(api.messages[0]!.body).toContain(kase!.trackingCode)
  })

  it('keeps the WhatsApp address and the profile name, and answers on WhatsApp', async () => {
    await gw.fetch(incoming(gw.channelUrl, { MessageSid: sid(11), From: `whatsapp:${CITIZEN}`, To: `whatsapp:${NUMBER}`, ProfileName: '买买提', Body: '疏勒县 水管爆了' }))
    const [kase] = await cases()
    expect(kase!.citizen).toMatchObject({ id: `whatsapp:${CITIZEN}`, displayName: '买买提' })
    await gw.intake.outbox.drain()
    expect(api.messages[0]).toMatchObject({ to: `whatsapp:${CITIZEN}`, from: `whatsapp:${NUMBER}` })
  })

  it('takes a shared WhatsApp location as the place, and as the text when there is none', async () => {
    await gw.fetch(incoming(gw.channelUrl, { MessageSid: sid(32), From: `whatsapp:${CITIZEN}`, To: `whatsapp:${NUMBER}`, Body: '', Latitude: '39.4927', Longitude: '76.7383', Address: '伽师县巴仁镇' }))
    const [kase] = await cases()
    const [message] = await gw.intake.store.listMessages(kase!.id)
    expect(message!.text).toBe('[location: 伽师县巴仁镇]')
    expect(kase!.place).toBe('伽师县巴仁镇')
  })

  it('stores an MMS photo in the blob store, downloaded with the account credentials', async () => {
    const photo = pngImage(8, 8, [10, 120, 200])
    const res = await gw.fetch(incoming(gw.channelUrl, { MessageSid: sid(12), Body: '', NumMedia: '1', MediaUrl0: api.addMedia(photo, 'image/png'), MediaContentType0: 'image/png' }))
    expect(res.status).toBe(200)
    const [kase] = await cases()
    const [message] = await gw.intake.store.listMessages(kase!.id)
    expect(message!.attachments).toHaveLength(1)
    expect(message!.attachments[0]).toMatchObject({ contentType: 'image/png', filename: 'media-1.png' })
    const stored = (await gw.intake.blobs.get(message!.attachments[0]!.blobKey!))!
    expect(message!.attachments[0]!.size).toBe(stored.byteLength)
    expect(await imageFacts(stored)).toEqual({ format: 'png', width: 8, height: 8, exif: false })
  })

  it('stores a photo without its EXIF (the phone’s GPS position), and never as an image what only starts like one', async () => {
    const withGps = await jpegPhoto({ width: 40, height: 30, gps: true })
    const fake = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, ...Buffer.from('<html><script>alert(1)</script></html>')])
    const res = await gw.fetch(
      incoming(gw.channelUrl, {
        MessageSid: sid(14),
        Body: '莎车县的路灯坏了',
        NumMedia: '2',
        MediaUrl0: api.addMedia(withGps, 'image/jpeg'),
        MediaContentType0: 'image/jpeg',
        MediaUrl1: api.addMedia(fake, 'image/jpeg'),
        MediaContentType1: 'image/jpeg',
      }),
    )
    expect(res.status).toBe(200)
    const [kase] = await cases()
    const [message] = await gw.intake.store.listMessages(kase!.id)
    const [photo, notAPhoto] = message!.attachments
    expect(photo).toMatchObject({ contentType: 'image/jpeg', filename: 'media-1.jpg' })
    expect(await imageFacts((await gw.intake.blobs.get(photo!.blobKey!))!)).toEqual({ format: 'jpeg', width: 40, height: 30, exif: false })
    // Kept for staff, but as bytes: no page will ever show it as an image.
    expect(notAPhoto).toMatchObject({ contentType: 'application/octet-stream', filename: 'media-2.bin' })
    expect(await gw.intake.blobs.get(notAPhoto!.blobKey!)).toEqual(fake)
  })

  it('still opens the case when a media URL answers 404, with a note staff can see', async () => {
    const photo = pngImage(2, 2, [0, 0, 0])
    const res = await gw.fetch(
      incoming(gw.channelUrl, {
        MessageSid: sid(13),
        Body: '莎车县的河里有排污',
        NumMedia: '2',
        MediaUrl0: api.missingMediaUrl(),
        MediaContentType0: 'image/jpeg',
        MediaUrl1: api.addMedia(photo, 'image/png'),
        MediaContentType1: 'image/png',
      }),
    )
    expect(res.status).toBe(200)
    const [kase] = await cases()
    const [message] = await gw.intake.store.listMessages(kase!.id)
    expect(message!.text).toBe('莎车县的河里有排污\n\n[1 attachment could not be downloaded: HTTP 404]')
    expect(message!.attachments).toHaveLength(1)
  })

  it('sends no credentials to a media host that is not Twilio', async () => {
    let authorization: string | undefined = 'not called'
    const other = createServer((req, res) => {
      authorization = req.headers.authorization
      res.writeHead(401).end()
    })
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r))
    const port = (other.address() as { port: number }).port
    await gw.fetch(incoming(gw.channelUrl, { MessageSid: sid(14), Body: 'photo', NumMedia: '1', MediaUrl0: `http://127.0.0.1:${port}/x.jpg`, MediaContentType0: 'image/jpeg' }))
    other.close()
    expect(authorization).toBeUndefined()
    const [kase] = await cases()
    expect((await gw.intake.store.listMessages(kase!.id))[0]!.text).toContain('[1 attachment could not be downloaded: HTTP 401]')
  })

  it('checks the signature against the public URL, not the one the proxy forwards to', async () => {
    await gw.close()
    gw = await kitGateway(twilioSms(options({ webhookBaseUrl: 'https://hotline.example.gov/intake/sms' })), 'sms')
    const params = incomingSmsParams(ACCOUNT_SID, { MessageSid: sid(15), From: CITIZEN, To: NUMBER, Body: 'behind a proxy' })
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, 'https://hotline.example.gov/intake/sms/messages', params)
    const res = await gw.fetch(incomingMessageRequest(`${gw.channelUrl}/messages`, params, AUTH_TOKEN, { signature }))
    expect(res.status).toBe(200)
    // Signed for the internal URL the gateway happens to see: refused.
    const internal = await gw.fetch(incomingMessageRequest(`${gw.channelUrl}/messages`, { ...params, MessageSid: sid(16) }, AUTH_TOKEN))
    expect(internal.status).toBe(403)
    expect(await cases()).toHaveLength(1)
  })

  it('takes a query string as part of the signed URL', async () => {
    const url = `${gw.channelUrl}/messages?office=jiashi&lang=zh`
    const res = await gw.fetch(incomingMessageRequest(url, incomingSmsParams(ACCOUNT_SID, { MessageSid: sid(17), From: CITIZEN, To: NUMBER, Body: 'q' }), AUTH_TOKEN))
    expect(res.status).toBe(200)
    const tampered = incomingMessageRequest(url, incomingSmsParams(ACCOUNT_SID, { MessageSid: sid(18), From: CITIZEN, To: NUMBER, Body: 'q' }), AUTH_TOKEN)
    const moved = new Request(url.replace('jiashi', 'shule'), { method: 'POST', headers: tampered.headers, body: await tampered.text() })
    expect((await gw.fetch(moved)).status).toBe(403)
  })

  it('makes one case and one acknowledgement when Twilio retries the same MessageSid', async () => {
    const again = () => incoming(gw.channelUrl, { MessageSid: sid(19), Body: '疏勒县拖欠工资' })
    expect((await gw.fetch(again())).status).toBe(200)
    expect((await gw.fetch(again())).status).toBe(200)
    await gw.intake.outbox.drain()
    expect(await cases()).toHaveLength(1)
    expect(api.messages).toHaveLength(1)
  })

  describe('STOP, START and HELP', () => {
    let stopGw: KitGateway
    beforeEach(async () => {
      // A gateway whose opt-out records are visible to the test.
      const adapter = twilioSms(options())
      const routes = adapter.routes!.map((r) => ({
        ...r,
        parse: (req: RawRequest, ctx: Parameters<typeof r.parse>[1]) =>
          r.parse(req, { ...ctx, setOptOut: async (id: string, out: boolean) => void optOuts.push([id, out]) }),
      }))
      stopGw = await kitGateway({ ...adapter, routes }, 'sms')
    })
    afterEach(() => stopGw.close())

    for (const word of ['STOP', 'stop', ' Stop ', 'UNSUBSCRIBE', 'cancel', 'END', 'QUIT', 'STOPALL', '退订', 'ＳＴＯＰ']) {
      it(`opts out on "${word}" and opens no case`, async () => {
        const res = await stopGw.fetch(incoming(stopGw.channelUrl, { MessageSid: sid(20), Body: word }))
        expect(res.status).toBe(200)
        expect(await res.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>')
        expect(optOuts).toEqual([[CITIZEN, true]])
        expect((await stopGw.intake.store.listCases({ limit: 5 })).cases).toHaveLength(0)
      })
    }

    for (const word of ['START', 'yes', 'UNSTOP']) {
      it(`opts back in on "${word}"`, async () => {
        await stopGw.fetch(incoming(stopGw.channelUrl, { MessageSid: sid(21), Body: word }))
        expect(optOuts).toEqual([[CITIZEN, false]])
        expect((await stopGw.intake.store.listCases({ limit: 5 })).cases).toHaveLength(0)
      })
    }

    it("honours Twilio's OptOutType (Advanced Opt-Out with a custom keyword)", async () => {
      await stopGw.fetch(incoming(stopGw.channelUrl, { MessageSid: sid(22), Body: 'ARRET', OptOutType: 'STOP' }))
      await stopGw.fetch(incoming(stopGw.channelUrl, { MessageSid: sid(23), Body: 'ENCORE', OptOutType: 'START' }))
      // A value Twilio may add later is not a keyword; the body still is.
      await stopGw.fetch(incoming(stopGw.channelUrl, { MessageSid: sid(29), Body: 'STOP', OptOutType: 'SOMETHING' }))
      expect(optOuts).toEqual([
        [CITIZEN, true],
        [CITIZEN, false],
        [CITIZEN, true],
      ])
    })

    it('does not take a sentence that contains "stop" for a keyword', async () => {
      await stopGw.fetch(incoming(stopGw.channelUrl, { MessageSid: sid(24), Body: 'Please stop the noise at the building site' }))
      expect(optOuts).toEqual([])
      expect((await stopGw.intake.store.listCases({ limit: 5 })).cases).toHaveLength(1)
    })

    it('answers HELP with the help text in TwiML, and opens no case', async () => {
      for (const [n, word] of [[25, 'HELP'], [26, 'info']] as const) {
        const res = await stopGw.fetch(incoming(stopGw.channelUrl, { MessageSid: sid(n), Body: word }))
        expect(res.status).toBe(200)
        expect(await res.text()).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><Response><Message>Send your message here.*退订.*<\/Message><\/Response>$/)
      }
      expect((await stopGw.intake.store.listCases({ limit: 5 })).cases).toHaveLength(0)
      expect(optOuts).toEqual([])
    })

    it('escapes a configured help text for XML', async () => {
      const h = await kitGateway(twilioSms(options({ helpText: 'Reply <your message> & we answer' })), 'sms')
      const asked = await h.fetch(incoming(h.channelUrl, { MessageSid: sid(27), Body: 'help' }))
      expect(await asked.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Message>Reply &#60;your message&#62; &#38; we answer</Message></Response>')
      await h.close()
    })

    it('answers HELP with nothing when the help text is turned off', async () => {
      const h = await kitGateway(twilioSms(options({ helpText: '' })), 'sms')
      const asked = await h.fetch(incoming(h.channelUrl, { MessageSid: sid(28), Body: 'HELP' }))
      expect(await asked.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>')
      await h.close()
    })
  })

  describe('status callbacks', () => {
    const status = (params: Record<string, string>) => {
      const url = `${gw.channelUrl}/status`
      return new Request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params) },
        body: form(params),
      })
    }
    const parseStatus = async (params: Record<string, string>) => {
      const route = twilioSms(options()).routes!.find((r) => r.path === '/status')!
      const req = status(params)
      const body = new Uint8Array(await req.arrayBuffer())
      const raw: RawRequest = { method: 'POST', url: new URL(req.url), headers: req.headers, body, text: () => new TextDecoder().decode(body) }
      return route.parse(raw, {} as never)
    }

    it('turns delivered, sent, read, undelivered and failed into reports; queued is ignored with a reason', async () => {
      const s = sid(30)
      expect(await parseStatus({ MessageSid: s, MessageStatus: 'delivered' })).toEqual({ reports: [{ providerId: s, status: 'delivered' }] })
      expect(await parseStatus({ MessageSid: s, MessageStatus: 'sent' })).toEqual({ reports: [{ providerId: s, status: 'sent' }] })
      expect(await parseStatus({ MessageSid: s, MessageStatus: 'read' })).toEqual({ reports: [{ providerId: s, status: 'delivered' }] })
      expect(await parseStatus({ MessageSid: s, MessageStatus: 'undelivered', ErrorCode: '30003' })).toEqual({
        reports: [{ providerId: s, status: 'failed', error: 'Twilio error 30003 (unreachable destination handset)' }],
      })
      expect(await parseStatus({ MessageSid: s, MessageStatus: 'failed', ErrorCode: '30007' })).toMatchObject({ reports: [{ status: 'failed', error: expect.stringContaining('30007') }] })
      expect(await parseStatus({ MessageSid: s, MessageStatus: 'queued' })).toEqual({ ignored: 'status queued: not a delivery outcome' })
      expect(await parseStatus({ MessageStatus: 'delivered' })).toMatchObject({ rejected: { status: 400, code: 'invalid_status' } })
    })

    it('refuses a status callback with a forged signature', async () => {
      const req = status({ MessageSid: sid(31), MessageStatus: 'delivered' })
      const forged = new Request(req.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' }, body: await req.text() })
      expect((await gw.fetch(forged)).status).toBe(403)
    })
  })

  describe('sending', () => {
    const ctx = (): SendContext => ({ channelId: 'sms', idempotencyKey: 'k-1', attempt: 1, log: gw.intake.log, publicUrl: KIT_BASE, blobs: gw.intake.blobs })
    const outbound = (text: string, to = CITIZEN): OutboundMessage => ({
      id: 'm-1',
      caseId: 'c-1',
      channelId: 'sms',
      to: { channelId: 'sms', id: to },
      kind: 'reply',
      text,
      trackingCode: 'K7F3-9Q28',
      statusUrl: `${KIT_BASE}/status/K7F3-9Q28`,
      language: 'zh-CN',
    })

    it('shortens a long Chinese reply to the configured segments and ends it with the status link', async () => {
      const adapter = twilioSms(options({ maxSegments: 3 }))
      const text = '【伽师县人民检察院答复 K7F3-9Q28】' + '经现场核查，河道采砂点已依法查处，相关责任人已被立案调查。'.repeat(10)
      const result = await adapter.send(outbound(text), ctx())
      expect(result.ok).toBe(true)
      const body = api.messages.at(-1)!.body
      expect(countSegments(body)).toMatchObject({ encoding: 'UCS-2', segments: 3 })
      expect(body.endsWith(`… ${KIT_BASE}/status/K7F3-9Q28`)).toBe(true)
      expect(body.startsWith('【伽师县人民检察院答复 K7F3-9Q28】经现场核查')).toBe(true)
    })

    it('sends a reply that fits unchanged', async () => {
      await twilioSms(options()).send(outbound('您好，路灯已修复。'), ctx())
      expect(api.messages.at(-1)!.body).toBe('您好，路灯已修复。')
    })

    it('sends through a Messaging Service when one is configured', async () => {
      const mg = 'MG' + 'c'.repeat(32)
      await twilioSms(options({ from: undefined, messagingServiceSid: mg })).send(outbound('hello'), ctx())
      expect(api.messages.at(-1)).toMatchObject({ messagingServiceSid: mg, from: undefined })
    })

    it('sends no status callback when they are turned off', async () => {
      await twilioSms(options({ statusCallbacks: false })).send(outbound('hello'), ctx())
      expect(api.messages.at(-1)!.statusCallback).toBeUndefined()
    })

    it('classifies a refused connection as a retryable connection error', async () => {
      const result = await twilioSms(options({ apiBaseUrl: 'http://127.0.0.1:1' })).send(outbound('hello'), ctx())
      expect(result).toMatchObject({ ok: false, error: { code: 'connection', retryable: true } })
      expect(!result.ok && result.error.message).toMatch(/ECONNREFUSED/)
    })

    it('classifies wrong credentials as config (the stand-in checks Basic auth)', async () => {
      const result = await twilioSms(options({ authToken: 'ffffffffffffffffffffffffffffffff' })).send(outbound('hello'), ctx())
      expect(result).toMatchObject({ ok: false, error: { code: 'config', retryable: false } })
      expect(!result.ok && result.error.message).toContain('20003')
    })

    it('retries through the outbox after three 500s and delivers exactly once', async () => {
      api.failNext({ status: 500 }, { status: 500 }, { status: 500 })
      await gw.fetch(incoming(gw.channelUrl, { MessageSid: sid(40), Body: '疏勒县 路灯' }))
      const deadline = Date.now() + 5_000
      while (api.messages.length === 0 && Date.now() < deadline) {
        await gw.intake.outbox.drain()
        await new Promise((r) => setImmediate(r))
      }
      expect(api.messages).toHaveLength(1)
      expect(api.requests).toBe(4)
      expect((await gw.intake.store.listOutbox({}))[0]).toMatchObject({ status: 'sent', attempts: 4, providerId: api.messages[0]!.sid })
    })

    it('dead-letters a reply to an unsubscribed number (21610) without retrying', async () => {
      api.failNext({ code: 21610 })
      await gw.fetch(incoming(gw.channelUrl, { MessageSid: sid(41), Body: '疏勒县 路灯' }))
      await gw.intake.outbox.drain()
      const [item] = await gw.intake.store.listOutbox({})
      expect(item).toMatchObject({ status: 'dead', attempts: 1 })
      expect(item!.lastError).toMatch(/^stopped: .*21610/)
    })
  })

  it('refuses misconfiguration when the channel is created', () => {
    expect(() => twilioSms(options({ accountSid: 'AC123' }))).toThrow(/\[twilio-sms\] accountSid/)
    expect(() => twilioSms(options({ authToken: 'short' }))).toThrow(/\[twilio-sms\] authToken/)
    expect(() => twilioSms(options({ from: undefined }))).toThrow(/\[twilio-sms\] from/)
    expect(() => twilioSms(options({ from: '0138 0013 8000' }))).toThrow(/E\.164/)
    expect(() => twilioSms(options({ maxSegments: 0 }))).toThrow(/maxSegments/)
    expect(() => twilioSms(options({ maxSegments: 11 }))).toThrow(/maxSegments/)
    expect(() => twilioSms(options({ apiBaseUrl: 'api.twilio.com' }))).toThrow(/apiBaseUrl/)
    expect(() => twilioSms(options({ webhookBaseUrl: '/channels/sms' }))).toThrow(/webhookBaseUrl/)
    expect(twilioSms(options({ maxSegments: 1 })).capabilities).toEqual({ media: true, maxText: 160 })
    expect(twilioSms(options({ maxSegments: 4 })).capabilities).toEqual({ media: true, maxText: 612 })
  })
})

describe('signature vectors of the official SDK (twilio-php RequestValidatorTest)', () => {
  const vectors = JSON.parse(readFileSync(join(FIXTURES, 'signature_vectors.json'), 'utf8')) as {
    auth_token: string
    url: string
    params: Record<string, string>
    cases: Array<{ name: string; signature?: string; url?: string; body?: string; bodySHA256?: string; url_with_hash_signature?: string; expect?: boolean }>
  }
  const rawRequest = (url: string, body: string, contentType: string, signature: string): RawRequest => {
    const bytes = new TextEncoder().encode(body)
    return { method: 'POST', url: new URL(url), headers: new Headers({ 'content-type': contentType, 'x-twilio-signature': signature }), body: bytes, text: () => body }
  }
  const formOf = (params: Record<string, string | string[]>) => {
    const p = new URLSearchParams()
    for (const [k, v] of Object.entries(params)) for (const value of Array.isArray(v) ? v : [v]) p.append(k, value)
    return p.toString()
  }
  const check = (url: string, body: string, contentType: string, signature: string) =>
    verifyTwilioSignature(vectors.auth_token, rawRequest(url, body, contentType, signature), url).ok

  it('has the cases this test expects', () => {
    expect(vectors.cases.map((c) => c.name.split(' ')[0])).toEqual(['form', 'repeated', 'json', 'validator', 'http', 'http', 'url', 'tampered'])
  })

  for (const c of vectors.cases) {
    it(c.name, () => {
      const url = c.url ?? vectors.url
      if (c.body) {
        expect(twilio.getExpectedBodyHash(c.body)).toBe(c.bodySHA256)
        const hashed = `${url}&bodySHA256=${c.bodySHA256}`
        expect(check(hashed, c.body, 'application/json', c.url_with_hash_signature!)).toBe(true)
        // The same signature with a changed body: the hash no longer matches.
        expect(check(hashed, c.body.replace('value', 'other'), 'application/json', c.url_with_hash_signature!)).toBe(false)
        return
      }
      const params: Record<string, string | string[]> = c.name.startsWith('repeated') ? { Digits: ['5678', '1234', '1234'], Sid: 'CA123', SidAccount: 'AC123' } : vectors.params
      const valid = check(url, formOf(params), 'application/x-www-form-urlencoded', c.signature!)
      expect(valid).toBe(c.expect ?? true)
      // Any changed parameter breaks it.
      expect(check(url, formOf({ ...params, To: '+10000000000' }), 'application/x-www-form-urlencoded', c.signature!)).toBe(false)
    })
  }
})

describe('SMS segments', () => {
  it('counts GSM-7 text in septets: 160 in one SMS, 153 per concatenated segment', () => {
    expect(countSegments('')).toEqual({ encoding: 'GSM-7', units: 0, segments: 0 })
    expect(countSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 })
    expect(countSegments('a'.repeat(161))).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 })
    expect(countSegments('a'.repeat(306))).toEqual({ encoding: 'GSM-7', units: 306, segments: 2 })
    expect(countSegments('a'.repeat(307))).toEqual({ encoding: 'GSM-7', units: 307, segments: 3 })
  })

  it('counts extension-table characters (^ { } \\ [ ] ~ | €) as two septets', () => {
    expect(countSegments('€'.repeat(80))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 })
    expect(countSegments('€'.repeat(81))).toEqual({ encoding: 'GSM-7', units: 162, segments: 2 })
    expect(countSegments('{}[]~|^\\').units).toBe(16)
    // An escape pair is never split: 152 septets + one € starts the second segment.
    expect(countSegments('a'.repeat(152) + '€' + 'a'.repeat(152)).segments).toBe(3)
    expect(countSegments('a'.repeat(151) + '€' + 'a'.repeat(153)).segments).toBe(2)
  })

  it('keeps GSM-7 for the basic table accents and Greek, and switches to UCS-2 for anything else', () => {
    expect(isGsm7('Ça fait 5€? Ñandù, ΔΣΩ @ £¥ §¿¡ äöüß {ok}')).toBe(true)
    expect(isGsm7('Ça coûte 5€')).toBe(false) // û is not in GSM 03.38
    expect(countSegments('Hello 你好').encoding).toBe('UCS-2')
    expect(countSegments('Hello “quoted”').encoding).toBe('UCS-2')
  })

  it('counts UCS-2 in code units: 70 in one SMS, 67 per segment; an emoji takes two and is never split', () => {
    expect(countSegments('路'.repeat(70))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 })
    expect(countSegments('路'.repeat(71))).toEqual({ encoding: 'UCS-2', units: 71, segments: 2 })
    expect(countSegments('路'.repeat(134))).toEqual({ encoding: 'UCS-2', units: 134, segments: 2 })
    expect(countSegments('路'.repeat(135)).segments).toBe(3)
    expect(countSegments('😀'.repeat(35))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 })
    expect(countSegments('路' + '😀'.repeat(35)).segments).toBe(2)
    expect(countSegments('路'.repeat(66) + '😀' + '路'.repeat(66)).segments).toBe(3)
  })

  it('shortens to the segment limit at a character boundary, ending with the link', () => {
    const link = 'https://intake.example.gov/status/K7F3-9Q28'
    const english = 'The street light on Bazaar Road will be repaired on Monday. '.repeat(10)
    const short = fitToSegments(english, 2, link)
    expect(countSegments(short)).toMatchObject({ encoding: 'GSM-7', segments: 2 })
    expect(short.endsWith(`... ${link}`)).toBe(true)
    expect(countSegments(short).units).toBeGreaterThan(300) // it uses the room it has
    const chinese = '河道采砂点已依法查处。'.repeat(30)
    const cut = fitToSegments(chinese, 2, link)
    expect(countSegments(cut)).toMatchObject({ encoding: 'UCS-2', segments: 2 })
    expect(cut).toMatch(/^河道采砂点已依法查处。.*… https:\/\/intake\.example\.gov\/status\/K7F3-9Q28$/)
    expect(countSegments(cut).units).toBeGreaterThan(127)
    expect(fitToSegments('short', 1, link)).toBe('short')
    // Room for not even the link: as much text as fits.
    expect(fitToSegments('路'.repeat(100), 1, 'x'.repeat(100))).toBe('路'.repeat(70))
  })

  it('shortens WhatsApp replies by characters', () => {
    const text = '路'.repeat(2000)
    const cut = fitToLength(text, 1600, 'https://x.test/s')
    expect(Array.from(cut)).toHaveLength(1600)
    expect(cut.endsWith('… https://x.test/s')).toBe(true)
  })
})
