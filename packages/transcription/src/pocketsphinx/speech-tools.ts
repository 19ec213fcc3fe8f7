/**
 * For tests: real speech made on this machine with flite (CMU's small synthesiser, Debian package
 * `flite`), and the check whether the offline engine's tools are installed. A test of the offline
 * engine skips, naming the packages, when they are missing — unless INTAKE_REQUIRE_SPEECH=1 (CI),
 * where a missing package must fail the run instead of hiding it.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findExecutable } from './index.ts'

export const SPEECH_PACKAGES = 'apt-get install -y pocketsphinx pocketsphinx-en-us flite ffmpeg'

export interface SpeechTools {
  /** Missing tools, each with the package that brings it. Empty when all are there. */
  missing: string[]
  /** True when the tests must run (and fail) even if tools are missing. */
  required: boolean
  /** Why the tests skip, for the test title ('' when they run). */
  skipReason: string
  ffmpeg: string | undefined
}

export function speechTools(): SpeechTools {
  const missing = [
    findExecutable('pocketsphinx_continuous') ? undefined : 'pocketsphinx_continuous (packages pocketsphinx, pocketsphinx-en-us)',
    findExecutable('flite') ? undefined : 'flite (package flite)',
  ].filter((m): m is string => !!m)
  const required = process.env.INTAKE_REQUIRE_SPEECH === '1'
  return {
    missing,
    required,
    skipReason: missing.length && !required ? `skipped: ${missing.join(', ')} not installed (${SPEECH_PACKAGES}; set INTAKE_REQUIRE_SPEECH=1 to fail instead)` : '',
    ffmpeg: findExecutable('ffmpeg'),
  }
}

/**
 * Speak a sentence into a WAV. `slt` (a US English female voice) speaks at 16 kHz; flite's default
 * `kal` at 8 kHz. Both ship inside the Debian package.
 */
export function synthesize(text: string, voice: 'slt' | 'kal' | 'kal16' | 'rms' | 'awb' = 'slt'): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'intake-flite-'))
  try {
    const file = join(dir, 'speech.wav')
    execFileSync('flite', ['-voice', voice, '-t', text, '-o', file], { stdio: 'ignore', timeout: 30_000 })
    return new Uint8Array(readFileSync(file))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Encode with ffmpeg (e.g. `['-c:a', 'libopus']`, `'ogg'`), as a chat app's voice note would arrive. */
export function encodeWithFfmpeg(ffmpeg: string, wav: Uint8Array, codecArgs: string[], extension: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'intake-ffmpeg-'))
  try {
    const input = join(dir, 'in.wav')
    const output = join(dir, `out.${extension}`)
    writeFileSync(input, wav)
    execFileSync(ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-i', input, ...codecArgs, output], { stdio: 'ignore', timeout: 30_000 })
    return new Uint8Array(readFileSync(output))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The words of `expected` that the transcript contains (case-insensitive, whole words). */
export function wordsHeard(transcript: string, expected: readonly string[]): string[] {
  const heard = new Set(transcript.toLowerCase().split(/[^a-z']+/))
  return expected.filter((w) => heard.has(w.toLowerCase()))
}
