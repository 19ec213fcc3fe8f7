import { spawn } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, isAbsolute, join } from 'node:path'
import type { AudioInput, TranscribeOptions, Transcriber, Transcript } from '@intake/core'
import { isWav, toRecognizerWav } from './wav.ts'

export { decodeWav, encodeWav16, isWav, resample, toRecognizerWav, WavError, type PcmAudio, type WavInfo } from './wav.ts'

export interface PocketsphinxOptions {
  /** The CLI, a name looked up on PATH or a path (Debian: package `pocketsphinx`). */
  command?: string
  /** Acoustic model directory (Debian: package `pocketsphinx-en-us`). */
  hmm?: string
  /** Language model (`.lm.bin` or ARPA). */
  lm?: string
  /** Pronunciation dictionary. */
  dict?: string
  /** The models' language (BCP 47). A call hinting at another language is refused, not misheard. */
  language?: string
  /** Converts audio that is not WAV (Ogg/Opus, AMR, MP3…); `false` for none (Debian: package `ffmpeg`). */
  ffmpeg?: string | false
  /** Kill the recogniser after this long, whatever the caller's signal says (default 60 s). */
  timeoutMs?: number
}

const MODEL_DIR = '/usr/share/pocketsphinx/model/en-us'
const APT = 'apt-get install -y pocketsphinx pocketsphinx-en-us'
/** The acoustic models are trained on 16 kHz, 16-bit mono speech (the `-samprate` default). */
const MODEL_RATE = 16_000
/** Words the decoder emits that are not words: silence, breath, noise, sentence marks. */
const FILLER = /^(<s>|<\/s>|<sil>|\[[A-Z_]+\]|\+\+[A-Z_]+\+\+)$/
/** `-time yes` prints one line per word: `word start end posterior` (continuous.c, print_word_times). */
const WORD_LINE = /^(\S+) (\d+\.\d+) (\d+\.\d+) (\d+(?:\.\d+)?)$/

/** PATH lookup, so a missing binary is a clear error when the config loads, not on the first call. */
export function findExecutable(command: string): string | undefined {
  const candidates = isAbsolute(command) || command.includes('/') ? [command] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command))
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {
      // not here
    }
  }
  return undefined
}

/**
 * The offline engine: CMU PocketSphinx 0.8 as Debian packages it, run as a child process
 * (`pocketsphinx_continuous -infile x.wav`) on a temporary 16 kHz mono 16-bit WAV. WAV input of any
 * rate, width or channel count is converted here in TypeScript; other formats go through ffmpeg
 * when it is installed, else they are refused with a clear error (core then retries or gives up and
 * leaves the audio to staff). Confidence is the mean word posterior the CLI prints with `-time yes`.
 *
 * @example
 * transcriber: pocketsphinxTranscriber(),  // needs: apt-get install -y pocketsphinx pocketsphinx-en-us
 */
export function pocketsphinxTranscriber({
  command = 'pocketsphinx_continuous',
  hmm = join(MODEL_DIR, 'en-us'),
  lm = join(MODEL_DIR, 'en-us.lm.bin'),
  dict = join(MODEL_DIR, 'cmudict-en-us.dict'),
  language = 'en',
  ffmpeg = 'ffmpeg',
  timeoutMs = 60_000,
}: PocketsphinxOptions = {}): Transcriber {
  const binary = findExecutable(command)
  if (!binary) throw new Error(`[pocketsphinx] command: ${command} was not found; install it with: ${APT}`)
  for (const [key, path] of [['hmm', hmm], ['lm', lm], ['dict', dict]] as const) {
    if (!existsSync(path)) throw new Error(`[pocketsphinx] ${key}: ${path} does not exist; install the English models with: ${APT}`)
  }
  if (!(timeoutMs > 0)) throw new Error(`[pocketsphinx] timeoutMs: expected a positive number of milliseconds, got ${timeoutMs}`)
  const converter = ffmpeg === false ? undefined : findExecutable(ffmpeg)
  const base = (tag: string) => tag.split('-')[0]!.toLowerCase()

  return {
    name: 'pocketsphinx',
    async transcribe(audio: AudioInput, { language: hint, signal }: TranscribeOptions): Promise<Transcript> {
      if (hint && base(hint) !== base(language)) {
        throw new Error(`[pocketsphinx] language_mismatch: the models are ${language}, the audio is ${hint}`)
      }
      const dir = await mkdtemp(join(tmpdir(), 'intake-sphinx-'))
      try {
        const wav = join(dir, 'speech.wav')
        if (isWav(audio.bytes)) {
          await writeFile(wav, toRecognizerWav(audio.bytes, MODEL_RATE))
        } else {
          if (!converter) {
            throw new Error(
              `[pocketsphinx] unsupported_audio: ${audio.contentType} is not WAV and ffmpeg is not installed to convert it (apt-get install -y ffmpeg)`,
            )
          }
          const input = join(dir, 'input')
          await writeFile(input, audio.bytes)
          // ffmpeg finds the format from the bytes; -nostdin keeps it from waiting on a terminal.
          await run(converter, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', input, '-ac', '1', '-ar', String(MODEL_RATE), '-sample_fmt', 's16', '-f', 'wav', wav], {
            signal,
            timeoutMs,
            what: 'ffmpeg',
          })
          // ffmpeg writes a LIST chunk into its header; the CLI wants the canonical 44 bytes.
          await writeFile(wav, toRecognizerWav(new Uint8Array(await readFile(wav)), MODEL_RATE))
        }
        const log = join(dir, 'decoder.log')
        const { stdout, code } = await run(binary, ['-infile', wav, '-hmm', hmm, '-lm', lm, '-dict', dict, '-time', 'yes', '-logfn', log], {
          signal,
          timeoutMs,
          what: 'pocketsphinx_continuous',
        })
        if (code !== 0) {
          const errors = (await readFile(log, 'utf8').catch(() => ''))
            .split('\n')
            .filter((l) => l.startsWith('ERROR'))
            .slice(-3)
          throw new Error(`[pocketsphinx] decoder_failed: exit code ${code}${errors.length ? `: ${errors.join(' | ')}` : ''}`)
        }
        return readHypothesis(stdout, language)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    },
  }
}

/** The CLI prints each utterance's hypothesis, then its words with their posteriors. */
export function readHypothesis(stdout: string, language: string): Transcript {
  const utterances: string[] = []
  const posteriors: number[] = []
  for (const line of stdout.split('\n').map((l) => l.trim())) {
    if (!line) continue
    const word = WORD_LINE.exec(line)
    if (word) {
      if (!FILLER.test(word[1]!)) posteriors.push(Number(word[4]))
    } else {
      utterances.push(line)
    }
  }
  const text = utterances.join(' ').replace(/\(\d+\)/g, '').replace(/\s+/g, ' ').trim()
  // Posteriors are probabilities, but the log-math rounding can print 1.000200.
  const confidence = posteriors.length ? Math.min(1, Math.max(0, posteriors.reduce((a, b) => a + b, 0) / posteriors.length)) : null
  return { text, confidence, language }
}

interface RunOptions {
  signal: AbortSignal
  timeoutMs: number
  what: string
}

/** Run a child to completion; kill it when the caller gives up or our own time is up. */
function run(file: string, args: string[], { signal, timeoutMs, what }: RunOptions): Promise<{ stdout: string; code: number }> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error(`[pocketsphinx] aborted: ${what} was not started`))
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let failure: Error | undefined
    const stop = (reason: Error) => {
      failure ??= reason
      child.kill('SIGKILL')
    }
    const onAbort = () => stop(new Error(`[pocketsphinx] aborted: ${what} was stopped`))
    const timer = setTimeout(() => stop(new Error(`[pocketsphinx] timeout: ${what} took longer than ${timeoutMs} ms`)), timeoutMs)
    signal.addEventListener('abort', onAbort, { once: true })
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => err.push(c))
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
    }
    // A child that cannot start may never emit 'close'.
    child.on('error', (e) => {
      done()
      reject(failure ?? new Error(`[pocketsphinx] ${what} could not start: ${e.message}`))
    })
    child.on('close', (code) => {
      done()
      if (failure) return reject(failure)
      const stderr = Buffer.concat(err).toString('utf8').trim()
      if (code !== 0 && what === 'ffmpeg') return reject(new Error(`[pocketsphinx] conversion_failed: ffmpeg exit code ${code}: ${stderr.slice(0, 300)}`))
      resolve({ stdout: Buffer.concat(out).toString('utf8'), code: code ?? -1 })
    })
  })
}
