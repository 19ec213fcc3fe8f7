import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError, toFile } from 'openai'
import type { AudioInput, TranscribeOptions, Transcriber, Transcript } from '@intake/core'

export interface OpenAiTranscriberOptions {
  /** The API key (a secret: it is never logged, and it is cut out of any error a server echoes). */
  apiKey: string
  /**
   * The API's base URL, with its `/v1` (default `https://api.openai.com/v1`). Point it at a
   * self-hosted Whisper-compatible server (faster-whisper-server, LocalAI, vLLM…) to keep audio in house.
   */
  baseURL?: string
  /** `whisper-1` by default; a self-hosted server names its own models. */
  model?: string
  /** Force one language (BCP 47 or ISO 639-1). Default: the call's hint (the channel's language). */
  language?: string
  /** One request's limit (default 30 s). Core's own timeout, usually shorter, aborts the request too. */
  timeoutMs?: number
}

/**
 * The audio API answers `verbose_json` with segments (https://platform.openai.com/docs/api-reference/audio/verbose-json-object);
 * self-hosted servers sometimes answer plain `json` (`{ text }`) whatever was asked. Both parse.
 * (Checked by hand: zod is not a dependency of this package yet.)
 */
interface TranscriptionResponse {
  text: string
  language?: string
  segments?: Array<{ avg_logprob?: number }>
}

function parseResponse(body: unknown): TranscriptionResponse | string {
  if (typeof body !== 'object' || body === null) return 'the answer is not a JSON object'
  const { text, language, segments } = body as Record<string, unknown>
  if (typeof text !== 'string') return 'the answer has no text'
  if (language !== undefined && typeof language !== 'string') return 'language is not a string'
  if (segments !== undefined && !Array.isArray(segments)) return 'segments is not an array'
  const parsed = (segments ?? []).map((s: unknown) => {
    const p = typeof s === 'object' && s !== null ? (s as Record<string, unknown>).avg_logprob : undefined
    return typeof p === 'number' ? { avg_logprob: p } : {}
  })
  return { text, ...(language ? { language } : {}), ...(segments ? { segments: parsed } : {}) }
}

/** Whisper's `verbose_json` names the language in English (`"chinese"`); the case model speaks ISO 639-1. */
const WHISPER_LANGUAGES: Record<string, string> = {
  english: 'en', chinese: 'zh', uyghur: 'ug', japanese: 'ja', korean: 'ko', russian: 'ru', kazakh: 'kk', spanish: 'es',
  french: 'fr', german: 'de', arabic: 'ar', turkish: 'tr', vietnamese: 'vi', thai: 'th', mongolian: 'mn', tibetan: 'bo',
  cantonese: 'yue', portuguese: 'pt', italian: 'it', hindi: 'hi', urdu: 'ur', persian: 'fa', indonesian: 'id', malay: 'ms',
}

/**
 * The file name tells the API the format: it refuses names whose extension it does not know
 * ("Invalid file format. Supported formats: flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, wav, webm").
 */
const EXTENSIONS: Record<string, string> = {
  'audio/wav': 'wav', 'audio/x-wav': 'wav', 'audio/wave': 'wav', 'audio/vnd.wave': 'wav', 'audio/ogg': 'ogg', 'audio/opus': 'ogg',
  'audio/mpeg': 'mp3', 'audio/mp3': 'mp3', 'audio/mp4': 'm4a', 'audio/m4a': 'm4a', 'audio/x-m4a': 'm4a', 'audio/webm': 'webm',
  'audio/flac': 'flac', 'audio/x-flac': 'flac', 'audio/amr': 'amr',
}

/** `zh-CN` → `zh`: the API takes ISO 639-1 and answers 400 to a region tag. */
export function whisperLanguage(tag: string | undefined): string | undefined {
  const base = tag?.split(/[-_]/)[0]?.toLowerCase()
  return base && /^[a-z]{2,3}$/.test(base) ? base : undefined
}

/** Mean per-segment probability (exp of Whisper's average token log-probability), in [0, 1]. */
export function segmentConfidence(segments: ReadonlyArray<{ avg_logprob?: number }> | undefined): number | null {
  const probs = (segments ?? []).map((s) => s.avg_logprob).filter((p): p is number => typeof p === 'number' && Number.isFinite(p))
  if (!probs.length) return null
  const mean = probs.reduce((sum, p) => sum + Math.exp(p), 0) / probs.length
  return Math.min(1, Math.max(0, mean))
}

/**
 * Speech to text through the OpenAI audio API (`POST /v1/audio/transcriptions`) with the official
 * SDK — or any server that speaks it. The SDK's own retries are off: core's transcription worker
 * retries with backoff and knows when to give up.
 *
 * @example
 * transcriber: openAiTranscriber({ apiKey: env.OPENAI_API_KEY, baseURL: 'http://whisper.internal:8000/v1', model: 'Systran/faster-whisper-small' }),
 */
export function openAiTranscriber({ apiKey, baseURL, model = 'whisper-1', language, timeoutMs = 30_000 }: OpenAiTranscriberOptions): Transcriber {
  if (typeof apiKey !== 'string' || !apiKey.trim()) {
    throw new Error('[openai-transcriber] apiKey: expected the API key (a self-hosted server without keys still needs a placeholder)')
  }
  if (baseURL !== undefined && !/^https?:\/\/[^/]/.test(baseURL)) throw new Error(`[openai-transcriber] baseURL: expected an http(s) URL, got "${baseURL}"`)
  if (typeof model !== 'string' || !model) throw new Error('[openai-transcriber] model: expected a model name such as whisper-1')
  if (language !== undefined && !whisperLanguage(language)) throw new Error(`[openai-transcriber] language: expected a language tag such as zh or en-US, got "${language}"`)
  if (!(timeoutMs > 0)) throw new Error(`[openai-transcriber] timeoutMs: expected a positive number of milliseconds, got ${timeoutMs}`)

  const client = new OpenAI({ apiKey, baseURL, maxRetries: 0, timeout: timeoutMs, logLevel: 'off' })
  const redact = (text: string) => text.split(apiKey).join('[redacted]')

  return {
    name: 'openai-transcriber',
    async transcribe(audio: AudioInput, { language: hint, signal }: TranscribeOptions): Promise<Transcript> {
      const contentType = audio.contentType.split(';')[0]!.trim().toLowerCase()
      const extension = EXTENSIONS[contentType]
      const filename = audio.filename && (!extension || audio.filename.toLowerCase().endsWith(`.${extension}`)) ? audio.filename : `audio.${extension ?? 'bin'}`
      const lang = whisperLanguage(language ?? hint)
      let body: unknown
      try {
        body = await client.audio.transcriptions.create(
          { file: await toFile(audio.bytes, filename, { type: contentType }), model, response_format: 'verbose_json', ...(lang ? { language: lang } : {}) },
          { signal },
        )
      } catch (err) {
        throw new Error(describeFailure(err, redact), { cause: err })
      }
      const parsed = parseResponse(body)
      if (typeof parsed === 'string') throw new Error(`[openai-transcriber] bad_response: ${parsed}`)
      const { text, language: heard, segments } = parsed
      const code = heard ? (WHISPER_LANGUAGES[heard.toLowerCase()] ?? whisperLanguage(heard)) : lang
      return { text: text.trim(), confidence: segmentConfidence(segments), ...(code ? { language: code } : {}) }
    },
  }
}

/** One line for the case's event log and the worker's retry record: status, the API's code, its message. */
function describeFailure(err: unknown, redact: (s: string) => string): string {
  if (err instanceof APIUserAbortError) return '[openai-transcriber] aborted: the request was cancelled (time was up)'
  if (err instanceof APIConnectionTimeoutError) return '[openai-transcriber] timeout: the server did not answer in time'
  if (err instanceof APIError) {
    if (err.status === undefined) return `[openai-transcriber] connection: ${redact(err.message)}`
    const detail = (err.error as { message?: unknown } | undefined)?.message
    return `[openai-transcriber] http_${err.status}${err.code ? ` ${err.code}` : ''}: ${redact(typeof detail === 'string' ? detail : err.message)}`
  }
  return `[openai-transcriber] failed: ${redact(err instanceof Error ? err.message : String(err))}`
}
