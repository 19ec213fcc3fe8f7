/**
 * The OpenAI-compatible engine through the official SDK against a local server that speaks the
 * audio API's wire format (multipart upload, verbose_json, OpenAI's error bodies).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { memoryBlobStore, transcribeStored } from '@intake/core'
import { openAiTranscriber, segmentConfidence, whisperLanguage } from './index.ts'
import { startAudioApiServer, type AudioApiServer } from './audio-api-server.ts'

const API_KEY = 'sk-test-audio-0123456789abcdef'
let api: AudioApiServer
beforeEach(async () => {
  api = await startAudioApiServer({ apiKey: API_KEY })
})
afterEach(async () => {
  await api.close()
})

/** A small WAV: 0.5 s of 8 kHz 16-bit mono, a recognisable byte pattern in the samples. */
function wavBytes(): Uint8Array {
  const out = Buffer.alloc(44 + 8000)
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
  out.writeUInt32LE(8000, 40)
  for (let i = 44; i < out.length; i++) out[i] = (i * 7) % 256
  return new Uint8Array(out)
}

const signal = () => new AbortController().signal

describe('openAiTranscriber', () => {
  it('uploads the audio as multipart/form-data with its name, type, model and language, and reads verbose_json', async () => {
    api.setTranscript('我们村停水三天了', { language: 'chinese', avgLogprobs: [-0.1, -0.3] })
    const bytes = wavBytes()
    const t = openAiTranscriber({ apiKey: API_KEY, baseURL: api.url })
    const heard = await t.transcribe({ bytes, contentType: 'audio/x-wav', filename: 'RE0123.wav' }, { signal: signal(), language: 'zh-CN' })

    expect(api.received).toHaveLength(1)
    const got = api.received[0]!
    expect(got.requestContentType).toMatch(/^multipart\/form-data; boundary=/)
    expect(Buffer.from(got.bytes).equals(Buffer.from(bytes))).toBe(true)
    expect(got).toMatchObject({ filename: 'RE0123.wav', contentType: 'audio/x-wav', model: 'whisper-1', language: 'zh', responseFormat: 'verbose_json' })
    expect(heard.text).toBe('我们村停水三天了')
    expect(heard.confidence).toBeCloseTo((Math.exp(-0.1) + Math.exp(-0.3)) / 2, 10)
    expect(heard.language).toBe('zh')
  })

  it('names the file after its format when the caller gave no usable name (the API goes by the extension)', async () => {
    const t = openAiTranscriber({ apiKey: API_KEY, baseURL: api.url, model: 'Systran/faster-whisper-small', language: 'en-US' })
    await t.transcribe({ bytes: wavBytes(), contentType: 'audio/wav', filename: 'RE0123' }, { signal: signal(), language: 'zh-CN' })
    await t.transcribe({ bytes: new Uint8Array([0x4f, 0x67, 0x67, 0x53, 1, 2, 3]), contentType: 'audio/ogg; codecs=opus' }, { signal: signal() })
    expect(api.received.map((r) => [r.filename, r.contentType, r.model, r.language])).toEqual([
      ['audio.wav', 'audio/wav', 'Systran/faster-whisper-small', 'en'],
      ['audio.ogg', 'audio/ogg', 'Systran/faster-whisper-small', 'en'],
    ])
  })

  it('has no confidence when the server gives no segments', async () => {
    api.setTranscript('hello', { language: 'english', avgLogprobs: [] })
    const heard = await openAiTranscriber({ apiKey: API_KEY, baseURL: api.url }).transcribe({ bytes: wavBytes(), contentType: 'audio/wav' }, { signal: signal() })
    expect(heard).toEqual({ text: 'hello', confidence: null, language: 'en' })
  })

  it('turns a wrong key into an error that names the status and code but never the key', async () => {
    const wrongKey = 'sk-wrong-key-9876543210'
    const t = openAiTranscriber({ apiKey: wrongKey, baseURL: api.url })
    const error = await t.transcribe({ bytes: wavBytes(), contentType: 'audio/wav' }, { signal: signal() }).catch((e: Error) => e)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(/^\[openai-transcriber\] http_401 invalid_api_key: Incorrect API key provided/)
    expect((error as Error).message).not.toContain(wrongKey)
    expect(api.received).toHaveLength(0)
  })

  it('reports rate limits and server errors once, leaving retries to core', async () => {
    api.script({ status: 429 }, { status: 500 })
    const t = openAiTranscriber({ apiKey: API_KEY, baseURL: api.url })
    await expect(t.transcribe({ bytes: wavBytes(), contentType: 'audio/wav' }, { signal: signal() })).rejects.toThrow(/^\[openai-transcriber\] http_429 rate_limit_exceeded:/)
    await expect(t.transcribe({ bytes: wavBytes(), contentType: 'audio/wav' }, { signal: signal() })).rejects.toThrow(/^\[openai-transcriber\] http_500: The server had an error/)
    expect(api.requests).toBe(2)
  })

  it('a slow server is cut off by the signal within core’s timeout; the request is abandoned', async () => {
    api.script({ delayMs: 5_000 })
    const blobs = memoryBlobStore()
    const blobKey = await blobs.put(wavBytes())
    const t = openAiTranscriber({ apiKey: API_KEY, baseURL: api.url })
    await expect(transcribeStored(t, blobs, { blobKey, contentType: 'audio/wav' }, 'en', 200)).rejects.toThrow(/did not answer within 200 ms/)
    // The SDK closed the connection: the server saw the client leave before it answered.
    const deadline = Date.now() + 3_000
    while (api.abandoned === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(api.abandoned).toBe(1)
    expect(api.received).toHaveLength(0)

    const controller = new AbortController()
    api.script({ delayMs: 5_000 })
    const pending = t.transcribe({ bytes: wavBytes(), contentType: 'audio/wav' }, { signal: controller.signal })
    controller.abort()
    await expect(pending).rejects.toThrow('[openai-transcriber] aborted: the request was cancelled (time was up)')
  })

  it('refuses a bad configuration when the config is loaded', () => {
    expect(() => openAiTranscriber({ apiKey: '' })).toThrow(/^\[openai-transcriber\] apiKey:/)
    expect(() => openAiTranscriber({ apiKey: API_KEY, baseURL: 'whisper.local' })).toThrow(/^\[openai-transcriber\] baseURL: expected an http\(s\) URL/)
    expect(() => openAiTranscriber({ apiKey: API_KEY, language: 'Chinese!' })).toThrow(/^\[openai-transcriber\] language:/)
  })

  it('maps language tags and log-probabilities', () => {
    expect([whisperLanguage('zh-CN'), whisperLanguage('en_US'), whisperLanguage('ug'), whisperLanguage(undefined), whisperLanguage('!!')]).toEqual(['zh', 'en', 'ug', undefined, undefined])
    expect(segmentConfidence([{ avg_logprob: 0 }, { avg_logprob: -Infinity }, {}])).toBe(1)
    expect(segmentConfidence(undefined)).toBeNull()
  })
})

describe('audio API stand-in', () => {
  it('answers like OpenAI to a request without a key, a bad language, or a file it cannot take', async () => {
    const form = (fields: Record<string, string>, file?: { name: string; type: string }) => {
      const body = new FormData()
      if (file) body.set('file', new File([new Uint8Array(wavBytes())], file.name, { type: file.type }))
      for (const [k, v] of Object.entries(fields)) body.set(k, v)
      return body
    }
    const post = (body: FormData, key: string | null = API_KEY) =>
      fetch(`${api.url}/audio/transcriptions`, { method: 'POST', headers: key ? { authorization: `Bearer ${key}` } : {}, body })
    const noKey = await post(form({ model: 'whisper-1' }, { name: 'a.wav', type: 'audio/wav' }), null)
    expect(noKey.status).toBe(401)
    expect(await noKey.json()).toMatchObject({ error: { type: 'invalid_request_error', code: null } })
    const region = await post(form({ model: 'whisper-1', language: 'zh-CN' }, { name: 'a.wav', type: 'audio/wav' }))
    expect(region.status).toBe(400)
    expect(await region.json()).toMatchObject({ error: { param: 'language', message: expect.stringContaining('ISO-639-1') } })
    const noFile = await post(form({ model: 'whisper-1' }))
    expect((await noFile.json()) as unknown).toMatchObject({ error: { param: 'file' } })
    const amr = await post(form({ model: 'whisper-1' }, { name: 'voice.amr', type: 'audio/amr' }))
    expect(await amr.json()).toMatchObject({ error: { message: expect.stringMatching(/^Invalid file format/) } })
    const text = await post(form({ model: 'whisper-1', response_format: 'text' }, { name: 'a.wav', type: 'audio/wav' }))
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(await text.text()).toBe('the street light on main road is broken')
  })
})
