/**
 * The offline engine on real speech: flite speaks a sentence into a WAV here, PocketSphinx (the
 * Debian CLI) hears it. Recognition is statistical: a synthetic voice through a general English
 * model gets most words but may miss one (at 8 kHz, telephone band, "street" is often heard as
 * "green"), so tests check that most key words were heard, not the exact sentence.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { decodeWav, encodeWav16, pocketsphinxTranscriber, readHypothesis } from './index.ts'
import { encodeWithFfmpeg, speechTools, synthesize, wordsHeard } from './speech-tools.ts'

const tools = speechTools()
const SENTENCE = 'the street light on main road is broken'
const KEY_WORDS = ['street', 'light', 'main', 'road', 'broken']
const signal = () => new AbortController().signal

/** An independent writer for odd inputs: 16-bit or 24-bit PCM, any rate and channel count. */
function pcmWav(samples: Float32Array, rate: number, channels: number, bits: 16 | 24): Uint8Array {
  const width = bits / 8
  const out = Buffer.alloc(44 + samples.length * channels * width)
  out.write('RIFF', 0)
  out.writeUInt32LE(out.length - 8, 4)
  out.write('WAVEfmt ', 8)
  out.writeUInt32LE(16, 16)
  out.writeUInt16LE(1, 20)
  out.writeUInt16LE(channels, 22)
  out.writeUInt32LE(rate, 24)
  out.writeUInt32LE(rate * channels * width, 28)
  out.writeUInt16LE(channels * width, 32)
  out.writeUInt16LE(bits, 34)
  out.write('data', 36)
  out.writeUInt32LE(samples.length * channels * width, 40)
  samples.forEach((s, i) => {
    for (let c = 0; c < channels; c++) out.writeIntLE(Math.round(s * (2 ** (bits - 1) - 1)), 44 + (i * channels + c) * width, width)
  })
  return new Uint8Array(out)
}

/** Change the rate the simplest way (averaging pairs down, holding samples up): not the code under test. */
function crudeRate(samples: Float32Array, from: number, to: number): Float32Array {
  return Float32Array.from({ length: Math.floor((samples.length * to) / from) }, (_, i) => {
    const x = (i * from) / to
    const j = Math.floor(x)
    return to < from ? ((samples[j] ?? 0) + (samples[j + 1] ?? 0)) / 2 : (samples[j] ?? 0)
  })
}

describe('readHypothesis', () => {
  it('joins utterances, drops fillers and alternates, and averages the word posteriors', () => {
    const out = ['one two', '<s> 0.000 0.170 1.000200', 'one 0.180 0.410 0.5', 'two(2) 0.420 0.590 0.7', '<sil> 0.6 0.7 0.1', 'three', 'three 0.9 1.0 0.9', '</s> 1.670 1.770 1.000000'].join('\n')
    const t = readHypothesis(out, 'en')
    expect(t.text).toBe('one two three')
    expect(t.confidence).toBeCloseTo((0.5 + 0.7 + 0.9) / 3, 6)
    expect(readHypothesis('', 'en')).toEqual({ text: '', confidence: null, language: 'en' })
  })
})

describe('pocketsphinxTranscriber — configuration', () => {
  it('throws at factory time, naming the apt packages, when the CLI or the models are missing', () => {
    expect(() => pocketsphinxTranscriber({ command: 'no-such-pocketsphinx-binary' })).toThrow(
      /^\[pocketsphinx\] command: no-such-pocketsphinx-binary was not found; install it with: apt-get install -y pocketsphinx pocketsphinx-en-us$/,
    )
    expect(() => pocketsphinxTranscriber({ command: '/bin/true', hmm: '/nonexistent/model' })).toThrow(/^\[pocketsphinx\] hmm: \/nonexistent\/model does not exist/)
    expect(() => pocketsphinxTranscriber({ command: '/bin/true', hmm: '/', lm: '/', dict: '/', timeoutMs: 0 })).toThrow(/\[pocketsphinx\] timeoutMs/)
  })
})

describe.skipIf(tools.missing.length > 0 && !tools.required)(`pocketsphinxTranscriber — real speech ${tools.skipReason}`, () => {
  afterEach(() => {
    // Every call cleans its temporary folder, whatever happened.
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('intake-sphinx-'))).toEqual([])
  })

  it('hears a 16 kHz sentence spoken by flite, with a confidence from the word posteriors', async () => {
    const t = pocketsphinxTranscriber()
    const heard = await t.transcribe({ bytes: synthesize(SENTENCE), contentType: 'audio/wav' }, { signal: signal(), language: 'en-US' })
    expect(wordsHeard(heard.text, KEY_WORDS).length, `heard "${heard.text}"`).toBeGreaterThanOrEqual(4)
    expect(heard.confidence).toBeGreaterThan(0)
    expect(heard.confidence).toBeLessThanOrEqual(1)
    expect(heard.language).toBe('en')
  })

  it('resamples 8 kHz telephone audio and 22.05 kHz 24-bit stereo before recognising it', async () => {
    const t = pocketsphinxTranscriber()
    const speech = decodeWav(synthesize(SENTENCE))
    expect(speech.sampleRate).toBe(16_000)
    const phone = pcmWav(crudeRate(speech.samples, 16_000, 8_000), 8_000, 1, 16)
    const studio = pcmWav(crudeRate(speech.samples, 16_000, 22_050), 22_050, 2, 24)
    for (const [label, bytes] of [['8 kHz', phone], ['22.05 kHz stereo 24-bit', studio]] as const) {
      const heard = await t.transcribe({ bytes, contentType: 'audio/x-wav' }, { signal: signal() })
      expect(wordsHeard(heard.text, KEY_WORDS).length, `${label}: heard "${heard.text}"`).toBeGreaterThanOrEqual(3)
    }
  })

  it('converts an Ogg/Opus voice note through ffmpeg, or refuses it clearly without ffmpeg', async () => {
    if (!tools.ffmpeg && tools.required) throw new Error('ffmpeg is missing: apt-get install -y ffmpeg')
    const digits = synthesize('one two three four five')
    if (tools.ffmpeg) {
      const ogg = encodeWithFfmpeg(tools.ffmpeg, digits, ['-c:a', 'libopus', '-b:a', '24k'], 'ogg')
      expect(new TextDecoder().decode(ogg.subarray(0, 4))).toBe('OggS')
      const heard = await pocketsphinxTranscriber().transcribe({ bytes: ogg, contentType: 'audio/ogg' }, { signal: signal() })
      expect(wordsHeard(heard.text, ['one', 'two', 'three', 'four', 'five']).length, `heard "${heard.text}"`).toBeGreaterThanOrEqual(4)
    }
    const noFfmpeg = pocketsphinxTranscriber({ ffmpeg: false })
    await expect(noFfmpeg.transcribe({ bytes: new TextEncoder().encode('OggS not really'), contentType: 'audio/ogg' }, { signal: signal() })).rejects.toThrow(
      '[pocketsphinx] unsupported_audio: audio/ogg is not WAV and ffmpeg is not installed to convert it (apt-get install -y ffmpeg)',
    )
  })

  it('hears no words in silence (core then keeps the audio for staff)', async () => {
    const silence = encodeWav16({ sampleRate: 16_000, samples: new Float32Array(16_000) })
    const heard = await pocketsphinxTranscriber().transcribe({ bytes: silence, contentType: 'audio/wav' }, { signal: signal() })
    expect(heard.text).toBe('')
  })

  it('refuses audio in a language its models do not speak, rather than mishearing it', async () => {
    await expect(pocketsphinxTranscriber().transcribe({ bytes: synthesize('hello'), contentType: 'audio/wav' }, { signal: signal(), language: 'zh-CN' })).rejects.toThrow(
      '[pocketsphinx] language_mismatch: the models are en, the audio is zh-CN',
    )
  })

  it('kills the recogniser when the caller aborts, and when its own time is up', async () => {
    const bytes = synthesize(`${SENTENCE}. ${SENTENCE}. ${SENTENCE}.`)
    const controller = new AbortController()
    const pending = pocketsphinxTranscriber().transcribe({ bytes, contentType: 'audio/wav' }, { signal: controller.signal })
    setTimeout(() => controller.abort(), 50)
    await expect(pending).rejects.toThrow(/^\[pocketsphinx\] aborted/)
    await expect(pocketsphinxTranscriber({ timeoutMs: 30 }).transcribe({ bytes, contentType: 'audio/wav' }, { signal: signal() })).rejects.toThrow(
      '[pocketsphinx] timeout: pocketsphinx_continuous took longer than 30 ms',
    )
  })

  it('reports a file it cannot read as a decoder failure with the reason', async () => {
    await expect(pocketsphinxTranscriber({ ffmpeg: false }).transcribe({ bytes: new TextEncoder().encode('RIFF....WAVEjunk'), contentType: 'audio/wav' }, { signal: signal() })).rejects.toThrow(
      /\[wav\] (truncated_wav|not_wav)/,
    )
  })
})
