/**
 * Voice notes from chat apps, end to end: a Telegram voice note (OGG/Opus, fetched through the Bot
 * API's getFile) and a WeChat voice message that WeChat did not recognise (fetched from the media
 * API) go through the same Transcriber as a phone call to the hotline and become the case's text.
 * The speech is real: flite speaks an English sentence here, ffmpeg encodes it the way each app
 * sends voice, and PocketSphinx (offline) hears it. Telegram and WeChat are their loopback stand-ins.
 * When the engine is down at intake the case still opens, "transcript pending", and the worker's
 * retry fills in the words.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Case, CaseEvent, CaseMessage, Transcriber } from '@intake/core'
import { telegramChannel } from '@intake/channels/telegram'
import { startBotApiServer, type BotApiServer, type TgUserLike } from '@intake/channels/telegram/bot-api-server'
import { wechatChannel, leafFields, parseXml, wechatSignature } from '@intake/channels/wechat'
import { startWechatApiServer, type WechatApiServer } from '@intake/channels/wechat/wechat-api-server'
import { openAiTranscriber } from '@intake/transcription/openai'
import { startAudioApiServer, type AudioApiServer } from '@intake/transcription/openai/audio-api-server'
import { pocketsphinxTranscriber } from '@intake/transcription/pocketsphinx'
import { encodeWithFfmpeg, SPEECH_PACKAGES, speechTools, synthesize, wordsHeard } from '@intake/transcription/pocketsphinx/speech-tools'
import { BASE, demoGateway, type DemoGateway } from './support/gateway.ts'

// The sentence voice.test.ts has the engine hear from a phone call, and its key words.
const SENTENCE = 'the street light on main road is broken'
const KEY_WORDS = ['street', 'light', 'main', 'road', 'broken']
/** Recognition is statistical: most of the key words, not the exact sentence (as in voice.test.ts). */
const ENOUGH_WORDS = 3

const TG_TOKEN = '6123456789:AAF-voice-note-bot-token_0123456'
const TG_SECRET = 'voice-note-webhook-secret-0123456789'
const TG_BOT = 'county_hotline_bot'
const CITIZEN: TgUserLike = { id: 70011, is_bot: false, first_name: 'Dana', last_name: 'Miller', language_code: 'en' }
/** Telegram keeps voice notes under voice/ with the .oga extension (OGG audio). */
const TG_VOICE = { fileId: 'AwACAgIAAxkBAAIBvoice-note-stand-in', path: 'voice/file_12.oga' }

const WX_TOKEN = 'countyHotlineWx2026'
const WX_APP_ID = 'wx2c2769f8efd9abc2'
const WX_APP_SECRET = 'county-hotline-app-secret-000001'
const WX_ACCOUNT = 'gh_10f6c3c3ac5a'
const WX_OPENID = 'oVoiceNoteCitizen0000000000a'

const OPENAI_KEY = 'sk-test-voice-notes-0123456789'

// ffmpeg encodes the voice notes (speechTools lists only the recogniser and the synthesiser).
const speech = speechTools()
const missing = [...speech.missing, ...(speech.ffmpeg ? [] : ['ffmpeg (package ffmpeg)'])]
const skip = missing.length > 0 && !speech.required
const skipReason = skip ? `skipped: ${missing.join(', ')} not installed (${SPEECH_PACKAGES}; set INTAKE_REQUIRE_SPEECH=1 to fail instead)` : ''

/** The flite sentence as each app sends voice, made once. */
let notes: { ogg: Uint8Array; speex: Uint8Array } | undefined
beforeAll(() => {
  if (skip) return
  const wav = synthesize(SENTENCE)
  const ffmpeg = speech.ffmpeg ?? 'ffmpeg'
  notes = {
    // Telegram voice notes: Opus in an OGG container, mono, 48 kHz (https://core.telegram.org/bots/api#sendvoice).
    ogg: encodeWithFfmpeg(ffmpeg, wav, ['-ac', '1', '-ar', '48000', '-c:a', 'libopus', '-b:a', '24k', '-application', 'voip'], 'ogg'),
    // WeChat sends voice as AMR or Speex (the push's Format). This ffmpeg has AMR decoders but no AMR
    // encoder (no libopencore-amrnb / libvo-amrwbenc), so the note is Speex, 16 kHz, in its Ogg file (.spx).
    speex: encodeWithFfmpeg(ffmpeg, wav, ['-ac', '1', '-ar', '16000', '-c:a', 'libspeex'], 'spx'),
  }
}, 60_000)

let gw: DemoGateway | undefined
let bot: BotApiServer | undefined
let wx: WechatApiServer | undefined
let audioApi: AudioApiServer | undefined
afterEach(async () => {
  // Bot token, webhook secret, WeChat token and AppSecret, the access tokens and the transcription key stay out of the logs.
  const secrets = [TG_TOKEN, TG_SECRET, WX_TOKEN, WX_APP_SECRET, OPENAI_KEY, ...(wx?.issuedTokens ?? [])]
  const leaks = secrets.filter((s) => gw?.lines.some((l) => l.includes(s)))
  await gw?.close()
  await bot?.close()
  await wx?.close()
  await audioApi?.close()
  gw = bot = wx = audioApi = undefined
  expect(leaks).toEqual([])
})

interface CaseView {
  case: Case
  messages: CaseMessage[]
  events: CaseEvent[]
}
async function onlyCase(g: DemoGateway, channelId: string): Promise<CaseView> {
  const { cases } = (await (await g.api(`/cases?channelId=${channelId}`)).json()) as { cases: Case[] }
  expect(cases, 'one voice note makes one case').toHaveLength(1)
  const res = await g.api(`/cases/${cases[0]!.id}`)
  expect(res.status).toBe(200)
  return (await res.json()) as CaseView
}
const inbound = (view: CaseView) => view.messages.find((m) => m.direction === 'in')!

/** A private chat with the office's bot, the gateway's webhook behind Telegram's stand-in. */
async function telegram(transcriber: Transcriber, transcription: { timeoutMs: number }) {
  let clock = Date.parse('2026-11-23T10:00:00+08:00')
  bot = await startBotApiServer({ token: TG_TOKEN, bot: { username: TG_BOT, first_name: 'County Hotline' } })
  const api = bot
  gw = await demoGateway(
    {
      channels: { tg: telegramChannel({ token: TG_TOKEN, secretToken: TG_SECRET, apiBaseUrl: api.url, botUsername: TG_BOT }) },
      transcriber,
      transcription: { ...transcription, baseDelayMs: 1_000, maxDelayMs: 1_000 },
    },
    { now: () => clock },
  )
  const g = gw
  return {
    api,
    gw: g,
    advance: (ms: number) => (clock += ms),
    /** The citizen records a voice note in the private chat; Telegram POSTs the update to the webhook. */
    async sendVoiceNote(ogg: Uint8Array, duration = 3) {
      const file = api.addFile(ogg, TG_VOICE)
      const update = api.message({
        chat: { id: CITIZEN.id, type: 'private', first_name: CITIZEN.first_name, last_name: CITIZEN.last_name },
        from: CITIZEN,
        voice: { file_id: file.file_id, file_unique_id: file.file_unique_id, duration, mime_type: 'audio/ogg', file_size: file.file_size },
      })
      const res = await g.intake.app.request(`${BASE}/channels/tg/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TG_SECRET },
        body: JSON.stringify(update),
      })
      expect(res.status).toBe(200)
      const body = (await res.json()) as { results?: Array<{ caseId: string; trackingCode: string }> }
      expect(body.results, JSON.stringify(body)).toHaveLength(1)
      return { ...body.results![0]!, update }
    },
  }
}

describe.skipIf(skip)(`voice notes from chat apps ${skipReason}`, () => {
  it('Telegram: a private-chat voice note (OGG/Opus) is transcribed by PocketSphinx and becomes the case text; the acknowledgement reaches Telegram', async () => {
    const t = await telegram(pocketsphinxTranscriber(), { timeoutMs: 60_000 })
    const ogg = notes!.ogg
    const { caseId, trackingCode, update } = await t.sendVoiceNote(ogg)

    // The adapter fetched the file the Bot API way: getFile, then the download.
    expect(t.api.calls.filter((c) => c.method === 'getFile').map((c) => c.params.file_id)).toEqual([TG_VOICE.fileId])

    const view = await onlyCase(t.gw, 'tg')
    expect(view.case.id).toBe(caseId)
    const message = inbound(view)
    const heard = wordsHeard(message.text, KEY_WORDS)
    expect(heard.length, `the engine heard "${message.text}" (${heard.length} of ${KEY_WORDS.join(', ')}); an empty text means the audio never reached the transcriber`).toBeGreaterThanOrEqual(ENOUGH_WORDS)
    expect(view.case.summary).toBe(message.text)
    // The voice note itself stays on the case, for staff to listen to.
    expect(message.attachments, 'the voice note is attached as audio/ogg with its bytes in the blob store').toMatchObject([
      { contentType: 'audio/ogg', size: ogg.byteLength, filename: `voice-${update.message.message_id}.ogg`, blobKey: expect.any(String) },
    ])
    expect(Buffer.from((await t.gw.intake.blobs.get(message.attachments[0]!.blobKey!))!).equals(Buffer.from(ogg))).toBe(true)
    expect(view.events.find((e) => e.type === 'transcribed'), 'a transcribed event by the engine').toMatchObject({ actor: 'pocketsphinx' })
    expect(view.events.map((e) => e.type)).not.toContain('transcription_pending')

    // The acknowledgement with the tracking code goes back into the chat, as a reply to the voice note.
    await t.gw.intake.outbox.drain()
    expect(t.api.sent).toHaveLength(1)
    expect(t.api.sent[0]!.chatId).toBe(CITIZEN.id)
    expect(t.api.sent[0]!.text).toContain(trackingCode)
    expect((t.api.sent[0]!.params.reply_parameters as { message_id: number }).message_id).toBe(update.message.message_id)
    expect(t.api.calls.filter((c) => c.method === 'sendMessage')).toHaveLength(1)
  }, 90_000)

  it('WeChat: a voice message without Recognition (Speex) is downloaded, transcribed and acknowledged in the passive reply', async () => {
    wx = await startWechatApiServer({ appId: WX_APP_ID, appSecret: WX_APP_SECRET })
    const speex = notes!.speex
    const mediaId = 'Hb9tGxmYWH3vDvoiceNote0001_speex'
    wx.addMedia(mediaId, speex, 'audio/speex')
    // WeChat checks the push's timestamp against the gateway's clock: the real one here.
    gw = await demoGateway({
      channels: { wechat: wechatChannel({ token: WX_TOKEN, appId: WX_APP_ID, appSecret: WX_APP_SECRET, apiBaseUrl: wx.url }) },
      transcriber: pocketsphinxTranscriber(),
      // The passive reply waits for the transcript here however busy the test machine is; the
      // 2.5 s window for answers given inline is tested in test/transcription.test.ts.
      transcription: { timeoutMs: 60_000, inlineTimeoutMs: 60_000 },
    })
    const g = gw

    // The voice push as WeChat documents it, with no <Recognition> (speech recognition is off on the account).
    const now = Math.floor(Date.now() / 1000)
    const xml = `<xml><ToUserName><![CDATA[${WX_ACCOUNT}]]></ToUserName><FromUserName><![CDATA[${WX_OPENID}]]></FromUserName><CreateTime>${now}</CreateTime><MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[${mediaId}]]></MediaId><Format><![CDATA[speex]]></Format><MsgId>6054768590064719999</MsgId></xml>`
    const timestamp = String(now)
    const nonce = '483920175'
    const q = new URLSearchParams({ signature: wechatSignature(WX_TOKEN, timestamp, nonce), timestamp, nonce, openid: WX_OPENID })
    const res = await g.intake.app.request(`${BASE}/channels/wechat/messages?${q}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: xml })
    expect(res.status).toBe(200)
    const body = await res.text()
    expect(res.headers.get('content-type'), body).toMatch(/xml/)
    const reply = leafFields(parseXml(body))

    const view = await onlyCase(g, 'wechat')
    // The API masks the citizen's address; the stored case has it whole.
    expect((await g.intake.store.getCase(view.case.id))!.citizen.id).toBe(WX_OPENID)
    // The passive reply is the acknowledgement, with the case's tracking code.
    expect(reply).toMatchObject({ ToUserName: WX_OPENID, FromUserName: WX_ACCOUNT, MsgType: 'text' })
    expect(reply.Content).toContain(view.case.trackingCode)

    const message = inbound(view)
    const heard = wordsHeard(message.text, KEY_WORDS)
    expect(heard.length, `the engine heard "${message.text}" (${heard.length} of ${KEY_WORDS.join(', ')}); an empty text means the audio never reached the transcriber`).toBeGreaterThanOrEqual(ENOUGH_WORDS)
    expect(view.case.summary).toBe(message.text)
    expect(message.attachments, 'the voice message is attached as audio/speex with its bytes in the blob store').toMatchObject([
      { contentType: 'audio/speex', size: speex.byteLength, blobKey: expect.any(String) },
    ])
    expect(Buffer.from((await g.intake.blobs.get(message.attachments[0]!.blobKey!))!).equals(Buffer.from(speex))).toBe(true)
    expect(view.events.find((e) => e.type === 'transcribed')).toMatchObject({ actor: 'pocketsphinx' })
  }, 90_000)

  it('Telegram: with the transcription service down at intake, the case opens "transcript pending" and the retry makes the voice note its text', async () => {
    audioApi = await startAudioApiServer({ apiKey: OPENAI_KEY })
    audioApi.setTranscript('The street light on Main Road is broken.', { language: 'english', avgLogprobs: [-0.2] })
    audioApi.script({ status: 500 })
    const t = await telegram(openAiTranscriber({ apiKey: OPENAI_KEY, baseURL: audioApi.url }), { timeoutMs: 10_000 })
    const ogg = notes!.ogg
    const { trackingCode } = await t.sendVoiceNote(ogg)

    let view = await onlyCase(t.gw, 'tg')
    expect(view.case.summary).toMatch(/transcript pending/)
    expect(inbound(view).attachments).toMatchObject([{ contentType: 'audio/ogg', size: ogg.byteLength }])
    expect(view.events.find((e) => e.type === 'transcription_pending')?.data).toMatchObject({ error: expect.stringMatching(/http_500/) })
    // The citizen has their tracking code while the engine is down.
    await t.gw.intake.outbox.drain()
    expect(t.api.sent.map((s) => s.text).join('\n')).toContain(trackingCode)

    expect(await t.gw.intake.transcriptions!.drain(), 'not due before the retry delay').toBe(0)
    t.advance(1_000)
    expect(await t.gw.intake.transcriptions!.drain()).toBe(1)
    view = await onlyCase(t.gw, 'tg')
    expect(inbound(view).text).toBe('The street light on Main Road is broken.')
    expect(view.case.summary).toBe('The street light on Main Road is broken.')
    expect(view.events.find((e) => e.type === 'transcribed')).toMatchObject({ actor: 'openai-transcriber' })

    // Two requests (the 500, then the retry); the retry sent the voice note itself, as OGG, with the app's language.
    expect(audioApi.requests).toBe(2)
    expect(audioApi.received).toHaveLength(1)
    const upload = audioApi.received[0]!
    expect(Buffer.from(upload.bytes).equals(Buffer.from(ogg))).toBe(true)
    expect(upload).toMatchObject({ contentType: 'audio/ogg', language: 'en', model: 'whisper-1' })
    // The API goes by the extension; .ogg is one it takes.
    expect(upload.filename).toMatch(/\.ogg$/)
  }, 60_000)
})
