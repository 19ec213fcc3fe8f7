import { describe, expect, it } from 'vitest'
import { decodeWav, encodeWav16, isWav, resample, toRecognizerWav, WavError } from './wav.ts'

/** A WAV written by hand, byte by byte, so the reader is checked against the spec and not against itself. */
function wav({ tag = 1, channels = 1, rate = 8000, bits = 16, frames, extensible = false, extraChunk = false }: {
  tag?: number
  channels?: number
  rate?: number
  bits?: number
  frames: Uint8Array
  extensible?: boolean
  extraChunk?: boolean
}): Uint8Array {
  const fmtSize = extensible ? 40 : 16
  const list = extraChunk ? [...Buffer.from('LIST'), 5, 0, 0, 0, 1, 2, 3, 4, 5, 0] : [] // odd size: one pad byte
  const out = Buffer.alloc(12 + 8 + fmtSize + list.length + 8 + frames.length)
  out.write('RIFF', 0)
  out.writeUInt32LE(out.length - 8, 4)
  out.write('WAVE', 8)
  out.write('fmt ', 12)
  out.writeUInt32LE(fmtSize, 16)
  out.writeUInt16LE(extensible ? 0xfffe : tag, 20)
  out.writeUInt16LE(channels, 22)
  out.writeUInt32LE(rate, 24)
  const block = channels * Math.max(1, bits / 8)
  out.writeUInt32LE(rate * block, 28)
  out.writeUInt16LE(block, 32)
  out.writeUInt16LE(bits, 34)
  if (extensible) {
    out.writeUInt16LE(22, 36)
    out.writeUInt16LE(bits, 38)
    out.writeUInt32LE(channels === 2 ? 3 : 4, 40)
    out.writeUInt16LE(tag, 44) // SubFormat GUID starts with the format tag
  }
  let at = 20 + fmtSize
  Buffer.from(list).copy(out, at)
  at += list.length
  out.write('data', at)
  out.writeUInt32LE(frames.length, at + 4)
  Buffer.from(frames).copy(out, at + 8)
  return new Uint8Array(out)
}

const i16 = (...v: number[]) => {
  const b = Buffer.alloc(v.length * 2)
  v.forEach((x, i) => b.writeInt16LE(x, i * 2))
  return new Uint8Array(b)
}

describe('WAV reader', () => {
  it('reads 16-bit PCM and mixes stereo down to mono', () => {
    const { samples, sampleRate, info } = decodeWav(wav({ channels: 2, frames: i16(16384, 0, -32768, -32768) }))
    expect(info).toEqual({ format: 'pcm', channels: 2, sampleRate: 8000, bitsPerSample: 16 })
    expect(sampleRate).toBe(8000)
    expect(Array.from(samples)).toEqual([0.25, -1])
  })

  it('reads unsigned 8-bit, signed 24-bit and 32-bit float samples', () => {
    expect(Array.from(decodeWav(wav({ bits: 8, frames: new Uint8Array([128, 0, 192]) })).samples)).toEqual([0, -1, 0.5])
    const b24 = Buffer.alloc(6)
    b24.writeIntLE(4194304, 0, 3)
    b24.writeIntLE(-8388608, 3, 3)
    expect(Array.from(decodeWav(wav({ bits: 24, frames: new Uint8Array(b24) })).samples)).toEqual([0.5, -1])
    const f32 = Buffer.alloc(8)
    f32.writeFloatLE(0.75, 0)
    f32.writeFloatLE(-0.125, 4)
    expect(Array.from(decodeWav(wav({ tag: 3, bits: 32, frames: new Uint8Array(f32) })).samples)).toEqual([0.75, -0.125])
  })

  it('expands G.711 µ-law and A-law telephone audio', () => {
    // µ-law 0xFF and A-law 0xD5 are the codes for (near) silence; 0x80 / 0xAA are loud positive values.
    const mu = decodeWav(wav({ tag: 7, bits: 8, frames: new Uint8Array([0xff, 0x80, 0x00]) })).samples
    expect(mu[0]).toBe(0)
    expect(mu[1]).toBeCloseTo(32124 / 32768, 5)
    expect(mu[2]).toBeCloseTo(-32124 / 32768, 5)
    const a = decodeWav(wav({ tag: 6, bits: 8, frames: new Uint8Array([0xd5, 0xaa, 0x2a]) })).samples
    expect(a[0]).toBeCloseTo(8 / 32768, 6)
    expect(a[1]).toBeCloseTo(32256 / 32768, 5)
    expect(a[2]).toBeCloseTo(-32256 / 32768, 5)
  })

  it('follows WAVE_FORMAT_EXTENSIBLE to its SubFormat and skips unknown chunks with their pad byte', () => {
    const { info, samples } = decodeWav(wav({ extensible: true, extraChunk: true, channels: 2, bits: 16, frames: i16(8192, 8192) }))
    expect(info.format).toBe('pcm')
    expect(Array.from(samples)).toEqual([0.25])
  })

  it('refuses what it cannot read, with a code', () => {
    expect(isWav(new TextEncoder().encode('OggS\0\0\0\0\0\0\0\0'))).toBe(false)
    expect(() => decodeWav(new TextEncoder().encode('OggS and more bytes'))).toThrow(WavError)
    expect(() => decodeWav(wav({ tag: 2, bits: 4, frames: new Uint8Array(4) }))).toThrow(/unsupported_wav: format tag 0x2/)
    expect(() => decodeWav(new Uint8Array(wav({ frames: i16(1) }).subarray(0, 30)))).toThrow(/truncated_wav/)
  })
})

describe('conversion for the recogniser', () => {
  const sine = (rate: number, hz: number, seconds: number) =>
    Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / rate))
  const crossings = (s: Float32Array) => s.reduce((n, v, i) => (i && (v >= 0) !== (s[i - 1]! >= 0) ? n + 1 : n), 0)

  it('keeps a tone at its pitch and the audio at its length, up from 8 kHz and down from 44.1 kHz', () => {
    for (const rate of [8000, 22050, 44100]) {
      const out = resample({ sampleRate: rate, samples: sine(rate, 440, 1) }, 16_000)
      expect(out.samples.length).toBe(16_000)
      // 440 Hz crosses zero 880 times a second.
      expect(Math.abs(crossings(out.samples) - 880)).toBeLessThanOrEqual(2)
    }
  })

  it('removes, going down, what the new rate cannot carry (no aliasing into the speech band)', () => {
    // 7.5 kHz fits 44.1 kHz but not 8 kHz: unfiltered it would fold back to 500 Hz at full strength.
    const out = resample({ sampleRate: 44_100, samples: sine(44_100, 7_500, 0.5) }, 8_000)
    const rms = Math.sqrt(out.samples.reduce((s, v) => s + v * v, 0) / out.samples.length)
    expect(rms).toBeLessThan(0.05)
  })

  it('writes the canonical 44-byte header pocketsphinx_continuous checks at fixed offsets', () => {
    const out = Buffer.from(toRecognizerWav(wav({ channels: 2, rate: 22_050, bits: 24, frames: new Uint8Array(22_050 * 6) })))
    expect(out.toString('latin1', 0, 4)).toBe('RIFF')
    expect(out.readUInt16LE(20)).toBe(1) // PCM
    expect(out.readUInt16LE(22)).toBe(1) // mono
    expect(out.readUInt32LE(24)).toBe(16_000)
    expect(out.readUInt16LE(34)).toBe(16)
    expect(out.toString('latin1', 36, 40)).toBe('data')
    expect(out.readUInt32LE(40)).toBe(16_000 * 2)
    expect(decodeWav(encodeWav16({ sampleRate: 16_000, samples: Float32Array.of(0.5, -0.5) })).samples[0]).toBeCloseTo(0.5, 4)
  })
})
