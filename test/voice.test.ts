/**
 * A phone call to the county hotline, end to end: Twilio (a local stand-in speaking its REST API,
 * webhooks signed by the official SDK) calls the gateway, the caller hears a greeting and leaves a
 * message, hears their tracking code spelled out, and the recording becomes a case — transcribed
 * by PocketSphinx from speech flite made here, or by an OpenAI-compatible server that may be slow.
 * Staff answer through the API; the answer reaches the caller by SMS or by a call that speaks it.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Case, CaseEvent, CaseMessage, Transcriber } from '@intake/core'
import { twilioVoice, spellCode, type TwilioVoiceOptions } from '@intake/channels/twilio-voice'
import { openAiTranscriber } from '@intake/transcription/openai'
import { startAudioApiServer, type AudioApiServer } from '@intake/transcription/openai/audio-api-server'
import { decodeWav, encodeWav16, pocketsphinxTranscriber, resample } from '@intake/transcription/pocketsphinx'
import { incomingCallParams, recordingParams, startVoiceApiServer, twilioWebhook, type VoiceApiServer } from '@intake/channels/twilio-voice/twilio-api-server'
import { speechTools, synthesize, wordsHeard } from '@intake/transcription/pocketsphinx/speech-tools'
import { BASE, demoGateway, type DemoGateway } from './support/gateway.ts'

const ACCOUNT_SID = 'AC' + '0a1b2c3d4e5f60718293a4b5c6d7e8f9'
const AUTH_TOKEN = 'b7e1c0d2a3f4e5d6c7b8a9f0e1d2c3b4'
const OPENAI_KEY = 'sk-test-hotline-0123456789'
const HOTLINE = '+15005550006'
const SMS_NUMBER = '+15005550010'
const CALLER = '+14155550123'
const SENTENCE = 'the street light on main road is broken'
const VOICE_URL = `${BASE}/channels/voice`
const speech = speechTools()

let gw: DemoGateway | undefined
let twilioApi: VoiceApiServer | undefined
let audioApi: AudioApiServer | undefined
afterEach(async () => {
  // The auth token and the transcription key never reach a log line.
  expect(gw?.lines.filter((l) => l.includes(AUTH_TOKEN) || l.includes(OPENAI_KEY)) ?? []).toEqual([])
  await gw?.close()
  await twilioApi?.close()
  await audioApi?.close()
  gw = twilioApi = audioApi = undefined
})

let callCounter = 0
async function hotline(voice: Partial<TwilioVoiceOptions> = {}, over: { transcriber?: Transcriber; timeoutMs?: number } = {}) {
  let clock = Date.parse('2026-11-23T10:00:00+08:00')
  twilioApi = await startVoiceApiServer({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, fetch: (req) => Promise.resolve(gw!.intake.app.fetch(req)) })
  const api = twilioApi
  gw = await demoGateway(
    {
      channels: { voice: twilioVoice({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: HOTLINE, smsFrom: SMS_NUMBER, language: 'en-US', apiBaseUrl: api.url, ...voice }) },
      // The record action answers inline; its 2.5 s default window is tested in test/transcription.test.ts,
      // here the transcript is awaited however busy the test machine is.
      ...(over.transcriber ? { transcriber: over.transcriber, transcription: { timeoutMs: over.timeoutMs ?? 30_000, inlineTimeoutMs: over.timeoutMs ?? 30_000, baseDelayMs: 1_000, maxDelayMs: 1_000 } } : {}),
    },
    { now: () => clock },
  )
  const g = gw
  return {
    api,
    gw: g,
    advance: (ms: number) => (clock += ms),
    /** Twilio calls the number's webhook. */
    ring: (signature?: string) => g.intake.app.fetch(twilioWebhook(`${VOICE_URL}/calls`, incomingCallParams(ACCOUNT_SID, { From: CALLER, To: HOTLINE }), AUTH_TOKEN, { signature })),
    /** The caller has spoken and pressed #: Twilio posts the recording to the action URL. */
    async leaveMessage(wav: Uint8Array | undefined, duration = 4) {
      const rec = wav ? api.addRecording(wav) : api.missingRecording()
      const params = recordingParams(ACCOUNT_SID, { CallSid: 'CA' + String(++callCounter).padStart(32, '0'), From: CALLER, To: HOTLINE, RecordingSid: rec.sid, RecordingUrl: rec.recordingUrl, RecordingDuration: duration })
      const res = await g.intake.app.fetch(twilioWebhook(`${VOICE_URL}/recorded`, params, AUTH_TOKEN))
      expect(res.status).toBe(200)
      return { twiml: await res.text(), recordingSid: rec.sid }
    },
    async theCase() {
      const { cases } = (await (await g.api('/cases?channelId=voice')).json()) as { cases: Case[] }
      expect(cases).toHaveLength(1)
      const res = await g.api(`/cases/${cases[0]!.id}`)
      return (await res.json()) as { case: Case; messages: CaseMessage[]; events: CaseEvent[] }
    },
  }
}

/** What Twilio keeps of a call: 8 kHz, 16-bit, mono WAV. The speech is flite's, made here. */
const phoneRecording = (sentence: string) => encodeWav16(resample(decodeWav(synthesize(sentence)), 8_000))
/** A WAV for tests that do not listen to it: 0.5 s of quiet noise. */
const someAudio = () => encodeWav16({ sampleRate: 8_000, samples: Float32Array.from({ length: 4_000 }, (_, i) => ((i * 7919) % 200) / 2000 - 0.05) })

describe('a phone call to the hotline', () => {
  it('is answered with a greeting and a <Record> that posts back to the gateway', async () => {
    const t = await hotline()
    const res = await t.ring()
    expect(res.status).toBe(200)
    const twiml = await res.text()
    expect(twiml).toContain('<Say voice="Polly.Joanna" language="en-US">Hello, you have reached the public service hotline.')
    expect(twiml).toContain(`<Record action="${VOICE_URL}/recorded" method="POST" maxLength="120" finishOnKey="#" playBeep="true"`)
    expect(twiml).toContain(`recordingStatusCallback="${VOICE_URL}/recording-status"`)
    expect((await t.gw.intake.store.listCases({})).cases).toHaveLength(0)
  })

  it.skipIf(speech.missing.length > 0 && !speech.required)(
    `tells the caller their tracking code, and opens a case with the recording and its transcript (PocketSphinx) ${speech.skipReason}`,
    async () => {
      const t = await hotline({}, { transcriber: pocketsphinxTranscriber() })
      const wav = phoneRecording(SENTENCE)
      const { twiml, recordingSid } = await t.leaveMessage(wav)
      const { case: kase, messages, events } = await t.theCase()

      // The caller hears the code, character by character, twice, before the call ends.
      const spelled = spellCode(kase.trackingCode, 'en-US')
      expect(twiml).toContain(`Your tracking code is ${spelled}.`)
      expect(twiml).toContain(`Once more, your tracking code is: ${spelled}</Say>`)
      expect(twiml).toMatch(/<Hangup\/><\/Response>$/)

      const message = messages.find((m) => m.direction === 'in')!
      expect(message.externalId).toBe(recordingSid)
      expect(message.attachments).toMatchObject([{ contentType: 'audio/x-wav', size: wav.length, filename: `${recordingSid}.wav` }])
      // Recognition is statistical, so most of the key words, not the exact sentence (see the engine's tests).
      expect(wordsHeard(message.text, ['street', 'light', 'main', 'road', 'broken']).length, `heard "${message.text}"`).toBeGreaterThanOrEqual(3)
      expect(kase.summary).toBe(message.text)
      expect(kase.language).toBe('en')
      expect(events.find((e) => e.type === 'transcribed')).toMatchObject({ actor: 'pocketsphinx' })
      expect(kase.category).toBe('transport')
    },
    90_000,
  )

  it('sends a staff reply to the caller as an SMS from the SMS number', async () => {
    const t = await hotline()
    await t.leaveMessage(someAudio())
    const { case: kase } = await t.theCase()
    const res = await t.gw.api(`/cases/${kase.id}/replies`, { method: 'POST', body: { text: 'A crew will repair the light on Monday.', author: 'clerk-1' } })
    expect(res.status).toBe(201)
    await t.gw.intake.outbox.drain()
    expect(t.api.calls).toHaveLength(0)
    expect(t.api.messages).toHaveLength(1)
    expect(t.api.messages[0]).toMatchObject({ to: CALLER, from: SMS_NUMBER, statusCallback: `${VOICE_URL}/status` })
    expect(t.api.messages[0]!.body).toContain(`reply on ${kase.trackingCode}] A crew will repair the light on Monday.`)
    // Twilio reports the SMS delivered: the case shows it.
    expect((await t.api.sendStatus(t.api.messages[0]!.sid, 'delivered')).status).toBe(200)
    const { messages } = await t.theCase()
    // The author is the staff API key's identity (the body's author is not taken).
    expect(messages.find((m) => m.author === 'api-key-1')?.deliveryStatus).toBe('delivered')
  })

  it("with replyBy 'call', calls the caller back and speaks the reply", async () => {
    const t = await hotline({ replyBy: 'call' })
    await t.leaveMessage(someAudio())
    const { case: kase } = await t.theCase()
    await t.gw.api(`/cases/${kase.id}/replies`, { method: 'POST', body: { text: 'A crew will repair the light on Monday.', author: 'clerk-1' } })
    await t.gw.intake.outbox.drain()
    expect(t.api.messages).toHaveLength(0)
    expect(t.api.calls).toHaveLength(1)
    const call = t.api.calls[0]!
    expect(call).toMatchObject({ to: CALLER, from: HOTLINE })
    expect(call.twiml).toContain(`reply on ${spellCode(kase.trackingCode, 'en-US')}] A crew will repair the light on Monday.</Say>`)
    expect(call.twiml).toMatch(/<Say voice="Polly.Joanna" language="en-US" loop="2">/)
    expect(call.twiml).toMatch(/<Hangup\/><\/Response>$/)
  })

  it('refuses a forged webhook with 403 and stores nothing', async () => {
    const t = await hotline()
    const forged = await t.ring('bm90IGEgcmVhbCBzaWduYXR1cmU=')
    expect(forged.status).toBe(403)
    const rec = t.api.addRecording(someAudio())
    const params = recordingParams(ACCOUNT_SID, { CallSid: 'CA' + 'f'.repeat(32), From: CALLER, To: HOTLINE, RecordingSid: rec.sid, RecordingUrl: rec.recordingUrl, RecordingDuration: 3 })
    const res = await t.gw.intake.app.fetch(twilioWebhook(`${VOICE_URL}/recorded`, params, 'ffffffffffffffffffffffffffffffff'))
    expect(res.status).toBe(403)
    expect((await t.gw.intake.store.listCases({})).cases).toHaveLength(0)
    expect(t.api.downloads).toHaveLength(0)
  })

  it('opens the case when the transcription service is too slow, and the retry transcribes it', async () => {
    audioApi = await startAudioApiServer({ apiKey: OPENAI_KEY })
    audioApi.setTranscript('The street light on Main Road is broken.', { language: 'english', avgLogprobs: [-0.15] })
    audioApi.script({ delayMs: 10_000 })
    const t = await hotline({}, { transcriber: openAiTranscriber({ apiKey: OPENAI_KEY, baseURL: audioApi.url }), timeoutMs: 300 })
    const wav = someAudio()
    const { twiml } = await t.leaveMessage(wav)

    let view = await t.theCase()
    // The caller still heard their code; the case waits for its words.
    expect(twiml).toContain(spellCode(view.case.trackingCode, 'en-US'))
    expect(view.case.summary).toMatch(/transcript pending/)
    expect(view.events.find((e) => e.type === 'transcription_pending')?.data).toMatchObject({ error: expect.stringMatching(/within 300 ms/) })
    expect(audioApi.received).toHaveLength(0)

    expect(await t.gw.intake.transcriptions!.drain(), 'not due before the retry delay').toBe(0)
    t.advance(1_000)
    expect(await t.gw.intake.transcriptions!.drain()).toBe(1)
    view = await t.theCase()
    expect(view.messages.find((m) => m.direction === 'in')!.text).toBe('The street light on Main Road is broken.')
    expect(view.case.summary).toBe('The street light on Main Road is broken.')
    expect(view.events.find((e) => e.type === 'transcribed')?.data).toMatchObject({ confidence: expect.closeTo(Math.exp(-0.15), 6) })
    // What the service received: the recording itself, named for its format, with the line's language.
    const upload = audioApi.received[0]!
    expect(Buffer.from(upload.bytes).equals(Buffer.from(wav))).toBe(true)
    expect(upload).toMatchObject({ language: 'en', model: 'whisper-1', responseFormat: 'verbose_json', contentType: 'audio/x-wav' })
    // The API goes by the extension. (Core's retry record keeps no file name, so the retry sends `audio.wav`.)
    expect(upload.filename).toMatch(/\.wav$/)
  })

  it('opens a case with a note for a recording over the length limit', async () => {
    const t = await hotline({ maxLength: 60 })
    const { twiml } = await t.leaveMessage(someAudio(), 75)
    const { case: kase, messages } = await t.theCase()
    expect(twiml).toContain(spellCode(kase.trackingCode, 'en-US'))
    const message = messages.find((m) => m.direction === 'in')!
    expect(message.subject).toBe('[Recording longer than the 60 s limit (75 s): it may be cut short, listen to the audio]')
    expect(message.attachments).toHaveLength(1)
  })

  it('opens a case with a note when the recording cannot be downloaded', async () => {
    const t = await hotline()
    const { twiml } = await t.leaveMessage(undefined, 9)
    const { case: kase, messages } = await t.theCase()
    expect(twiml).toContain(spellCode(kase.trackingCode, 'en-US'))
    expect(messages.find((m) => m.direction === 'in')!.text).toMatch(/^\[Voice message \(9 s\) could not be downloaded: HTTP 404\. The recording is still at Twilio: https:\/\/api\.twilio\.com\//)
    expect(t.api.downloads).toMatchObject([{ authorized: true, status: 404 }])
  })
})
