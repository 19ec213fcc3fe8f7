import twilio from 'twilio'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { ChannelAdapter, OutboundMessage, SendContext } from '@intake/core'
import { KIT_API_KEY, KIT_BASE, kitGateway, testChannel, type KitGateway } from '../kit/index.ts'
import { forSpeech, spellCode, twilioVoice, type TwilioVoiceOptions } from './index.ts'
import { MAX_INLINE_TWIML } from './speech.ts'
import { incomingCallParams, recordingParams, startVoiceApiServer, twilioWebhook, type VoiceApiServer } from './twilio-api-server.ts'

const ACCOUNT_SID = 'AC' + '5ef8732a3c49700934481addd5ce1659'
const AUTH_TOKEN = '7c1d04e7d2a84b6c8e0f1a2b3c4d5e6a'
const HOTLINE = '+15005550006'
const SMS_NUMBER = '+15005550007'
const CALLER = '+8613800138000'
const callSid = (n: number) => 'CA' + n.toString(16).padStart(32, '0')

/** 1.5 s of a 440 Hz tone, 8 kHz 16-bit mono: the shape of a Twilio recording. */
function recordingWav(seconds = 1.5): Uint8Array {
  const n = Math.round(8000 * seconds)
  const out = Buffer.alloc(44 + n * 2)
  out.write('RIFF', 0)
  out.writeUInt32LE(out.length - 8, 4)
  out.write('WAVEfmt ', 8)
  out.writeUInt32LE(16, 16)
  out.writeUInt16LE(1, 20)
  out.writeUInt16LE(1, 22)
  out.writeUInt32LE(8000, 24)
  out.writeUInt32LE(16000, 28)
  out.writeUInt16LE(2, 32)
  out.writeUInt16LE(16, 34)
  out.write('data', 36)
  out.writeUInt32LE(n * 2, 40)
  for (let i = 0; i < n; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), 44 + i * 2)
  return new Uint8Array(out)
}

let api: VoiceApiServer
/** Where the stand-in posts status callbacks: the gateway of the test that is running. */
let current: KitGateway | undefined
beforeAll(async () => {
  api = await startVoiceApiServer({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, fetch: (req) => current!.fetch(req) })
})
afterAll(() => api.close())

const options = (over: Partial<TwilioVoiceOptions> = {}): TwilioVoiceOptions => ({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: HOTLINE, apiBaseUrl: api.url, ...over })

/** Twilio's POST to `<Record action>`, signed by the official SDK. */
function recorded(channelUrl: string, rec: { sid: string; recordingUrl: string }, over: { duration?: number; call?: number; from?: string; token?: string } = {}) {
  const params = recordingParams(ACCOUNT_SID, {
    CallSid: callSid(over.call ?? 1),
    From: over.from ?? CALLER,
    To: HOTLINE,
    RecordingSid: rec.sid,
    RecordingUrl: rec.recordingUrl,
    RecordingDuration: over.duration ?? 12,
  })
  return twilioWebhook(`${channelUrl}/recorded`, params, over.token ?? AUTH_TOKEN)
}
const form = (params: Record<string, string>) => new URLSearchParams(params).toString()
function signedRaw(url: string, body: string, contentType: string, params: Record<string, string> = {}) {
  return new Request(url, { method: 'POST', headers: { 'content-type': contentType, 'x-twilio-signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params) }, body })
}

// One recording for the kit's valid fixture: posting it twice must make one case.
let kitRecording: { sid: string; recordingUrl: string } | undefined
const kitRec = () => (kitRecording ??= api.addRecording(recordingWav()))

testChannel({
  name: 'twilio-voice',
  adapter: ({ sendTimeoutMs }) => twilioVoice(options({ timeoutMs: sendTimeoutMs })),
  fixtures: {
    valid: [
      { name: 'a recorded voice message (Record action)', messages: 1, request: (u) => recorded(u, kitRec()) },
      { name: 'a recording that cannot be downloaded (404) still opens a case', messages: 1, text: '未能下载：HTTP 404', request: (u) => recorded(u, api.missingRecording(), { call: 2 }) },
    ],
    forged: { name: 'signed with another auth token', request: (u) => recorded(u, kitRec(), { token: 'ffffffffffffffffffffffffffffffff' }) },
    malformed: [
      {
        name: 'no RecordingSid',
        status: 400,
        request: (u) => {
          const p = { CallSid: callSid(3), From: CALLER, RecordingUrl: 'https://api.twilio.com/x', RecordingDuration: '3' }
          return signedRaw(`${u}/recorded`, form(p), 'application/x-www-form-urlencoded', p)
        },
      },
      {
        name: 'a RecordingDuration that is not a number',
        status: 400,
        request: (u) => {
          const p = recordingParams(ACCOUNT_SID, { CallSid: callSid(4), From: CALLER, To: HOTLINE, RecordingSid: 'RE' + '4'.repeat(32), RecordingUrl: 'https://api.twilio.com/r', RecordingDuration: 'long' })
          return twilioWebhook(`${u}/recorded`, p, AUTH_TOKEN)
        },
      },
      { name: 'a call webhook without CallSid', status: 400, request: (u) => twilioWebhook(`${u}/calls`, { From: CALLER, To: HOTLINE }, AUTH_TOKEN) },
      { name: 'wrong content type (text/plain), signed over the URL', status: 415, request: (u) => signedRaw(`${u}/recorded`, 'RecordingSid=x', 'text/plain') },
      { name: 'no X-Twilio-Signature at all', status: 403, request: (u) => new Request(`${u}/calls`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form({ CallSid: callSid(5), From: CALLER }) }) },
    ],
    sendErrors: [
      { name: '21610 unsubscribed recipient (SMS)', arrange: () => api.failNext({ code: 21610 }), expect: { code: 'stopped', retryable: false } },
      { name: '20429 too many requests', arrange: () => api.failNext({ code: 20429 }), expect: { code: 'throttled', retryable: true } },
      { name: 'HTTP 503', arrange: () => api.failNext({ status: 503 }), expect: { code: 'connection', retryable: true } },
      { name: 'the connection dropped without an answer', arrange: () => api.failNext({ drop: true }), expect: { code: 'connection', retryable: true } },
      { name: '21211 invalid To number', arrange: () => api.failNext({ code: 21211 }), expect: { code: 'invalid_recipient', retryable: false } },
      { name: '20003 authentication', arrange: () => api.failNext({ code: 20003 }), expect: { code: 'config', retryable: false } },
    ],
    sendOk: {
      verify: (sent, providerId) => {
        const got = api.messages.at(-1)!
        expect(providerId).toBe(got.sid)
        expect(got).toMatchObject({ to: CALLER, from: HOTLINE, body: sent.text, statusCallback: `${KIT_BASE}/channels/test/status` })
      },
    },
    recipient: { id: CALLER },
    provider: () => api,
    secrets: [AUTH_TOKEN],
  },
})

describe('spoken text', () => {
  it('spells a tracking code one character at a time, with a pause between its halves', () => {
    expect(spellCode('K7F3-9Q28', 'en-US')).toBe('K, 7, F, 3. 9, Q, 2, 8')
    expect(spellCode('k7f3-9q28', 'zh-CN')).toBe('K，7，F，3。9，Q，2，8')
  })

  it('drops links with their label and spells the code inside the acknowledgement', () => {
    const en = 'Hello, we have received your message. Your tracking code is K7F3-9Q28. It has been passed to Shule County Government, and we will keep you informed here. Status: http://intake.test/status/K7F3-9Q28'
    expect(forSpeech(en, 'K7F3-9Q28', 'en-US')).toBe(
      'Hello, we have received your message. Your tracking code is K, 7, F, 3. 9, Q, 2, 8. It has been passed to Shule County Government, and we will keep you informed here.',
    )
    const zh = '您好，您的诉求已收到，编号 K7F3-9Q28，已转交伽师县人民检察院办理，我们会在这里告诉您进展。查询进度：http://intake.test/status/K7F3-9Q28'
    expect(forSpeech(zh, 'K7F3-9Q28', 'zh-CN')).toBe('您好，您的诉求已收到，编号 K，7，F，3。9，Q，2，8，已转交伽师县人民检察院办理，我们会在这里告诉您进展。')
  })
})

describe('twilio-voice channel', () => {
  let gw: KitGateway
  let adapter: ChannelAdapter
  let channelUrl: string
  const start = async (over: Partial<TwilioVoiceOptions> = {}) => {
    adapter = twilioVoice(options(over))
    gw = current = await kitGateway(adapter, 'voice')
    channelUrl = gw.channelUrl
  }
  afterEach(async () => {
    const leaked = gw.lines.filter((l) => l.includes(AUTH_TOKEN))
    await gw.close()
    expect(leaked).toEqual([])
  })
  const cases = async () => (await gw.intake.store.listCases({ limit: 50 })).cases
  const inbound = async (caseId: string) => (await gw.intake.store.listMessages(caseId)).find((m) => m.direction === 'in')!

  describe('a call in', () => {
    beforeEach(() => start())

    it('answers with a greeting in Mandarin and a <Record> that posts back here, and stores nothing', async () => {
      const res = await gw.fetch(twilioWebhook(`${channelUrl}/calls`, incomingCallParams(ACCOUNT_SID, { From: CALLER, To: HOTLINE }), AUTH_TOKEN))
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/xml/)
      const xml = await res.text()
      expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><Response><Say voice="Polly.Zhiyu" language="cmn-CN">您好，这里是政务服务便民热线。[^<]*最长2分钟，说完请按井号键。<\/Say>/)
      expect(xml).toContain(
        `<Record action="${KIT_BASE}/channels/voice/recorded" method="POST" maxLength="120" finishOnKey="#" playBeep="true" trim="trim-silence" recordingStatusCallback="${KIT_BASE}/channels/voice/recording-status" recordingStatusCallbackMethod="POST" recordingStatusCallbackEvent="completed absent"/>`,
      )
      expect(xml).toMatch(/<Say [^>]*>没有听到您的留言。请再次来电。再见。<\/Say><Hangup\/><\/Response>$/)
      expect(await cases()).toHaveLength(0)
    })

    it('speaks the tracking code before hanging up; the case holds the recording, downloaded with the account credentials', async () => {
      const wav = recordingWav()
      const rec = api.addRecording(wav)
      const res = await gw.fetch(recorded(channelUrl, rec))
      expect(res.status).toBe(200)
      const xml = await res.text()
      const [kase] = await cases()
      const spelled = spellCode(kase!.trackingCode, 'zh-CN')
      expect(xml).toContain(`编号 ${spelled}，已转交`)
      expect(xml).toContain(`再说一遍，您的编号是：${spelled}</Say>`)
      expect(xml).not.toContain('http://')
      expect(xml).toMatch(/<Hangup\/><\/Response>$/)

      const message = await inbound(kase!.id)
      expect(message).toMatchObject({ externalId: rec.sid, author: CALLER, text: '' })
      expect(message.attachments).toMatchObject([{ filename: `${rec.sid}.wav`, contentType: 'audio/x-wav', size: wav.length }])
      expect(Buffer.from((await gw.intake.blobs.get(message.attachments[0]!.blobKey!))!).equals(Buffer.from(wav))).toBe(true)
      expect(api.downloads.filter((d) => d.sid === rec.sid)).toEqual([{ sid: rec.sid, authorized: true, status: 200 }])
      expect(kase!.language).toBe('zh-CN')
      // The acknowledgement was the TwiML: on the record as sent, never queued for an SMS.
      expect((await gw.intake.store.listOutbox({ caseId: kase!.id })).map((o) => [o.payload.kind, o.status])).toEqual([['acknowledgement', 'sent']])
    })

    it('answers a retried action with the same code, and keeps one case', async () => {
      const rec = api.addRecording(recordingWav())
      const first = await (await gw.fetch(recorded(channelUrl, rec))).text()
      const again = await gw.fetch(recorded(channelUrl, rec))
      expect(again.status).toBe(200)
      expect(await again.text()).toBe(first)
      expect(await cases()).toHaveLength(1)
    })

    it('opens a case with a note when the recording is longer than the limit, and keeps the audio for transcription', async () => {
      const rec = api.addRecording(recordingWav())
      await gw.fetch(recorded(channelUrl, rec, { duration: 185 }))
      const [kase] = await cases()
      const message = await inbound(kase!.id)
      expect(message.subject).toBe('【录音超过120秒上限（185秒），可能不完整，请听录音】')
      expect(message.text).toBe('')
      expect(message.attachments).toHaveLength(1)
    })

    it('says nothing was heard for an empty recording, storing nothing', async () => {
      const res = await gw.fetch(recorded(channelUrl, api.addRecording(recordingWav(0.1)), { duration: 0 }))
      expect(await res.text()).toContain('没有听到您的留言')
      expect(await cases()).toHaveLength(0)
    })

    it('takes the recording status callback without storing anything', async () => {
      const res = await gw.fetch(twilioWebhook(`${channelUrl}/recording-status`, { AccountSid: ACCOUNT_SID, CallSid: callSid(9), RecordingSid: 'RE' + '9'.repeat(32), RecordingStatus: 'absent' }, AUTH_TOKEN))
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>')
      expect(await cases()).toHaveLength(0)
    })
  })

  it('greets in English on an English line, with the configured voice', async () => {
    await start({ language: 'en-US', say: { voice: 'Google.en-US-Standard-C' }, maxLength: 90 })
    const xml = await (await gw.fetch(twilioWebhook(`${channelUrl}/calls`, incomingCallParams(ACCOUNT_SID, { From: CALLER, To: HOTLINE }), AUTH_TOKEN))).text()
    expect(xml).toContain('<Say voice="Google.en-US-Standard-C" language="en-US">Hello, you have reached the public service hotline.')
    expect(xml).toContain('You have up to 90 seconds.')
    expect(xml).toContain('maxLength="90"')
  })

  it('notes a recording over the byte limit instead of downloading it', async () => {
    await start({ language: 'en-US', maxRecordingBytes: 4096 })
    const rec = api.addRecording(recordingWav(2))
    const res = await gw.fetch(recorded(channelUrl, rec))
    expect(res.status).toBe(200)
    const [kase] = await cases()
    expect((await inbound(kase!.id)).text).toBe(`[Voice message (12 s) could not be downloaded: larger than 4096 bytes. The recording is still at Twilio: ${rec.recordingUrl}]`)
  })

  it('checks signatures against the configured public URL, not the one the request arrived on', async () => {
    await start({ webhookBaseUrl: 'https://hotline.example.gov/voice' })
    const params = incomingCallParams(ACCOUNT_SID, { From: CALLER, To: HOTLINE })
    const signedForPublic = twilioWebhook(`${channelUrl}/calls`, params, AUTH_TOKEN, { signature: twilio.getExpectedTwilioSignature(AUTH_TOKEN, 'https://hotline.example.gov/voice/calls', params) })
    const res = await gw.fetch(signedForPublic)
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('action="https://hotline.example.gov/voice/recorded"')
    expect((await gw.fetch(twilioWebhook(`${channelUrl}/calls`, params, AUTH_TOKEN))).status).toBe(403)
  })

  describe('replies', () => {
    const sendCtx = (): SendContext => ({ channelId: 'voice', idempotencyKey: 'k-1', attempt: 1, log: gw.intake.log, publicUrl: KIT_BASE, blobs: gw.intake.blobs })
    const reply = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
      id: 'm-1',
      caseId: 'c-1',
      channelId: 'voice',
      to: { channelId: 'voice', id: CALLER },
      kind: 'reply',
      text: '[Shule County Government — reply on K7F3-9Q28] The street light on Main Road was repaired this morning.',
      trackingCode: 'K7F3-9Q28',
      statusUrl: `${KIT_BASE}/status/K7F3-9Q28`,
      language: 'en',
      office: { id: 'shule', name: 'Shule County Government' },
      ...over,
    })

    it('go by SMS from the SMS number by default, and by a call that speaks them where configured', async () => {
      await start({ language: 'en-US', smsFrom: SMS_NUMBER, replyByOffice: { 'village-office': 'call' } })
      const sms = await adapter.send(reply(), sendCtx())
      expect(sms).toEqual({ ok: true, providerId: api.messages.at(-1)!.sid })
      expect(api.messages.at(-1)).toMatchObject({ to: CALLER, from: SMS_NUMBER, body: reply().text, statusCallback: `${KIT_BASE}/channels/voice/status` })

      const call = await adapter.send(reply({ office: { id: 'village-office', name: 'Village' } }), sendCtx())
      const placed = api.calls.at(-1)!
      expect(call).toEqual({ ok: true, providerId: placed.sid })
      expect(placed).toMatchObject({ to: CALLER, from: HOTLINE, statusCallback: `${KIT_BASE}/channels/voice/status`, statusCallbackEvent: ['completed'] })
      expect(placed.twiml).toBe(
        '<?xml version="1.0" encoding="UTF-8"?><Response><Pause length="1"/><Say voice="Polly.Joanna" language="en-US" loop="2">[Shule County Government — reply on K, 7, F, 3. 9, Q, 2, 8] The street light on Main Road was repaired this morning.</Say><Say voice="Polly.Joanna" language="en-US">Thank you for calling. Goodbye.</Say><Hangup/></Response>',
      )
    })

    it('cut a spoken reply to fit Twilio’s 4000-character inline TwiML, saying where the rest is', async () => {
      await start({ language: 'en-US', replyBy: 'call' })
      const result = await adapter.send(reply({ text: 'Repairs & more <details>. '.repeat(300) }), sendCtx())
      expect(result.ok).toBe(true)
      const twiml = api.calls.at(-1)!.twiml!
      expect(twiml.length).toBeLessThanOrEqual(MAX_INLINE_TWIML)
      expect(twiml).toContain('The reply is longer; the full text is on your case status page.')
    })

    it('refuse a caller without a phone number, and classify call errors', async () => {
      await start({ replyBy: 'call' })
      const before = api.calls.length
      expect(await adapter.send(reply({ to: { channelId: 'voice', id: 'anonymous' } }), sendCtx())).toMatchObject({ ok: false, error: { code: 'invalid_recipient', retryable: false } })
      expect(api.calls.length).toBe(before)
      api.failNext({ code: 21215 })
      expect(await adapter.send(reply(), sendCtx())).toMatchObject({ ok: false, error: { code: 'invalid_recipient', retryable: false, message: expect.stringContaining('geo permissions') } })
      api.failNext({ code: 21210 })
      expect(await adapter.send(reply(), sendCtx())).toMatchObject({ ok: false, error: { code: 'config', retryable: false } })
    })

    const staffReply = (caseId: string, text: string) =>
      gw.fetch(
        new Request(`${KIT_BASE}/api/v1/cases/${caseId}/replies`, {
          method: 'POST',
          headers: { 'x-api-key': KIT_API_KEY, 'content-type': 'application/json' },
          body: JSON.stringify({ text, author: 'clerk-1' }),
        }),
      )
    // Staff replies carry the signed-in identity (here the config's API key), acknowledgements 'system'.
    const staffMessages = async (caseId: string) => (await gw.intake.store.listMessages(caseId)).filter((m) => m.direction === 'out' && m.author !== 'system')

    it('by call are marked delivered when answered and failed when not, from Twilio’s signed status callbacks', async () => {
      // The kit routes every case to its intake desk, office id `desk`.
      await start({ language: 'en-US', replyByOffice: { desk: 'call' } })
      await gw.fetch(recorded(channelUrl, api.addRecording(recordingWav())))
      const [kase] = await cases()
      for (const text of ['We sent a crew.', 'The crew could not find the light.']) {
        expect((await staffReply(kase!.id, text)).status).toBe(201)
        await gw.intake.outbox.drain()
      }
      const [answered, missed] = api.calls.slice(-2)
      expect(answered!.twiml).toContain('We sent a crew.')
      expect((await api.sendStatus(answered!.sid, 'completed')).status).toBe(200)
      expect((await api.sendStatus(missed!.sid, 'no-answer')).status).toBe(200)
      expect((await staffMessages(kase!.id)).map((m) => m.deliveryStatus)).toEqual(['delivered', 'failed'])
    })

    it('by SMS are marked delivered from the message status callback', async () => {
      await start()
      await gw.fetch(recorded(channelUrl, api.addRecording(recordingWav())))
      const [kase] = await cases()
      await staffReply(kase!.id, '已派人维修。')
      await gw.intake.outbox.drain()
      const sms = api.messages.at(-1)!
      expect(sms.body).toContain('已派人维修。')
      expect((await api.sendStatus(sms.sid, 'delivered')).status).toBe(200)
      expect((await staffMessages(kase!.id)).map((m) => m.deliveryStatus)).toEqual(['delivered'])
    })
  })
})
