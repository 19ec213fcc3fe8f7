/**
 * WAV in pure TypeScript: read a RIFF/WAVE file of any common PCM flavour, mix it down to mono,
 * resample it, and write the 16 kHz mono 16-bit PCM WAV that PocketSphinx's acoustic models expect.
 *
 * Format rules: Microsoft's RIFF/WAVE spec ("Multimedia Programming Interface and Data
 * Specifications 1.0", 1991) and WAVE_FORMAT_EXTENSIBLE (docs.microsoft.com, "WAVEFORMATEXTENSIBLE"):
 * chunks are `id(4) size(u32 LE) data`, padded to an even length; 8-bit PCM is unsigned, wider PCM
 * is signed little-endian; format tag 3 is IEEE float, 6 A-law and 7 µ-law (ITU-T G.711, what
 * telephone recordings often are); 0xFFFE carries the real tag in the first two bytes of SubFormat.
 */

export interface PcmAudio {
  sampleRate: number
  /** One channel, samples in [-1, 1]. */
  samples: Float32Array
}

export interface WavInfo {
  format: 'pcm' | 'float' | 'alaw' | 'mulaw'
  channels: number
  sampleRate: number
  bitsPerSample: number
}

export class WavError extends Error {
  constructor(
    readonly code: 'not_wav' | 'unsupported_wav' | 'truncated_wav',
    message: string,
  ) {
    super(`[wav] ${code}: ${message}`)
  }
}

const FORMAT_TAGS: Record<number, WavInfo['format']> = { 1: 'pcm', 3: 'float', 6: 'alaw', 7: 'mulaw' }
const EXTENSIBLE = 0xfffe

/** True when the bytes start like a RIFF/WAVE file, whatever the declared content type says. */
export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WAVE'
}

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n))

/** Parse a WAV file into mono float samples at its own rate (channels are averaged). */
export function decodeWav(bytes: Uint8Array): PcmAudio & { info: WavInfo } {
  if (!isWav(bytes)) throw new WavError('not_wav', 'the data does not start with RIFF....WAVE')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let info: WavInfo | undefined
  let data: Uint8Array | undefined
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = ascii(bytes, at, 4)
    const declared = view.getUint32(at + 4, true)
    // Streaming writers leave the size as 0 or 0xFFFFFFFF: the chunk then runs to the end of the file.
    const size = Math.min(declared, bytes.length - at - 8)
    if (id === 'fmt ') {
      if (size < 16) throw new WavError('truncated_wav', 'the fmt chunk is shorter than 16 bytes')
      let tag = view.getUint16(at + 8, true)
      if (tag === EXTENSIBLE) {
        if (size < 40) throw new WavError('truncated_wav', 'WAVE_FORMAT_EXTENSIBLE without its SubFormat')
        tag = view.getUint16(at + 8 + 24, true)
      }
      const format = FORMAT_TAGS[tag]
      if (!format) throw new WavError('unsupported_wav', `format tag 0x${tag.toString(16)} (only PCM, IEEE float, A-law and µ-law are read)`)
      info = { format, channels: view.getUint16(at + 10, true), sampleRate: view.getUint32(at + 12, true), bitsPerSample: view.getUint16(at + 22, true) }
    } else if (id === 'data') {
      data = bytes.subarray(at + 8, at + 8 + size)
      if (info) break
    }
    if (declared === 0xffffffff) break
    at += 8 + size + (size % 2)
  }
  if (!info) throw new WavError('truncated_wav', 'no fmt chunk')
  if (!data) throw new WavError('truncated_wav', 'no data chunk')
  const { format, channels, sampleRate, bitsPerSample } = info
  if (channels < 1 || channels > 32) throw new WavError('unsupported_wav', `${channels} channels`)
  if (sampleRate < 1000 || sampleRate > 384_000) throw new WavError('unsupported_wav', `sample rate ${sampleRate} Hz`)
  const width = format === 'alaw' || format === 'mulaw' ? 1 : bitsPerSample / 8
  const supported =
    (format === 'pcm' && [1, 2, 3, 4].includes(width)) || (format === 'float' && [4, 8].includes(width)) || ((format === 'alaw' || format === 'mulaw') && bitsPerSample === 8)
  if (!supported) throw new WavError('unsupported_wav', `${bitsPerSample}-bit ${format}`)

  const frame = width * channels
  const frames = Math.floor(data.length / frame)
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const read = sampleReader(format, width, dv)
  const samples = new Float32Array(frames)
  for (let f = 0; f < frames; f++) {
    let sum = 0
    for (let c = 0; c < channels; c++) sum += read(f * frame + c * width)
    samples[f] = sum / channels
  }
  return { sampleRate, samples, info }
}

function sampleReader(format: WavInfo['format'], width: number, dv: DataView): (at: number) => number {
  if (format === 'mulaw') return (at) => MULAW[dv.getUint8(at)]!
  if (format === 'alaw') return (at) => ALAW[dv.getUint8(at)]!
  if (format === 'float') return width === 4 ? (at) => dv.getFloat32(at, true) : (at) => dv.getFloat64(at, true)
  switch (width) {
    case 1:
      return (at) => (dv.getUint8(at) - 128) / 128
    case 2:
      return (at) => dv.getInt16(at, true) / 32768
    case 3:
      return (at) => (dv.getUint8(at) | (dv.getUint8(at + 1) << 8) | (dv.getInt8(at + 2) << 16)) / 8388608
    default:
      return (at) => dv.getInt32(at, true) / 2147483648
  }
}

/** G.711 expansion tables (ITU-T G.711 §A and §B), scaled to [-1, 1]. */
const MULAW = Float32Array.from({ length: 256 }, (_, i) => {
  const u = ~i & 0xff
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4)
  return (u & 0x80 ? 0x84 - t : t - 0x84) / 32768
})
const ALAW = Float32Array.from({ length: 256 }, (_, i) => {
  const a = i ^ 0x55
  const exponent = (a & 0x70) >> 4
  let t = (a & 0x0f) << 4
  t = exponent === 0 ? t + 8 : (t + 0x108) << (exponent - 1)
  return (a & 0x80 ? t : -t) / 32768
})

/**
 * Resample by linear interpolation. Going down, a windowed-sinc low-pass first removes what the new
 * rate cannot carry (otherwise it folds back as noise into the band the recogniser listens to).
 */
export function resample(audio: PcmAudio, rate: number): PcmAudio {
  if (audio.sampleRate === rate) return audio
  const ratio = audio.sampleRate / rate
  const source = ratio > 1 ? lowPass(audio.samples, 0.5 / ratio) : audio.samples
  const length = Math.floor(source.length / ratio)
  const out = new Float32Array(length)
  for (let i = 0; i < length; i++) {
    const x = i * ratio
    const j = Math.floor(x)
    const frac = x - j
    const a = source[j] ?? 0
    const b = source[j + 1] ?? a
    out[i] = a + (b - a) * frac
  }
  return { sampleRate: rate, samples: out }
}

/** FIR low-pass, Hann-windowed sinc; `cutoff` in cycles per sample (0–0.5). */
function lowPass(samples: Float32Array, cutoff: number, taps = 63): Float32Array {
  const half = (taps - 1) / 2
  const kernel = new Float32Array(taps)
  let sum = 0
  for (let k = 0; k < taps; k++) {
    const n = k - half
    const sinc = n === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * n) / (Math.PI * n)
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * k) / (taps - 1))
    kernel[k] = sinc * w
    sum += kernel[k]!
  }
  for (let k = 0; k < taps; k++) kernel[k]! /= sum
  const out = new Float32Array(samples.length)
  for (let i = 0; i < samples.length; i++) {
    let acc = 0
    const from = Math.max(0, i - half)
    const to = Math.min(samples.length - 1, i + half)
    for (let j = from; j <= to; j++) acc += samples[j]! * kernel[j - i + half]!
    out[i] = acc
  }
  return out
}

/** A canonical 44-byte-header WAV: PCM, one channel, 16 bits. */
export function encodeWav16(audio: PcmAudio): Uint8Array {
  const dataBytes = audio.samples.length * 2
  const out = new Uint8Array(44 + dataBytes)
  const dv = new DataView(out.buffer)
  const put = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i)
  }
  put(0, 'RIFF')
  dv.setUint32(4, 36 + dataBytes, true)
  put(8, 'WAVE')
  put(12, 'fmt ')
  dv.setUint32(16, 16, true)
  dv.setUint16(20, 1, true) // PCM
  dv.setUint16(22, 1, true) // mono
  dv.setUint32(24, audio.sampleRate, true)
  dv.setUint32(28, audio.sampleRate * 2, true)
  dv.setUint16(32, 2, true)
  dv.setUint16(34, 16, true)
  put(36, 'data')
  dv.setUint32(40, dataBytes, true)
  for (let i = 0; i < audio.samples.length; i++) {
    const s = Math.max(-1, Math.min(1, audio.samples[i]!))
    dv.setInt16(44 + i * 2, Math.round(s < 0 ? s * 32768 : s * 32767), true)
  }
  return out
}

/**
 * Any readable WAV → 16 kHz mono 16-bit PCM WAV with the canonical 44-byte header. Always rewritten,
 * even when the samples already fit: pocketsphinx_continuous 0.8 checks the header at fixed offsets
 * (continuous.c, check_wav_header), so a LIST chunk or an extensible fmt chunk would trip it.
 */
export function toRecognizerWav(bytes: Uint8Array, rate = 16_000): Uint8Array {
  return encodeWav16(resample(decodeWav(bytes), rate))
}
