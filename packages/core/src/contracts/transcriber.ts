/**
 * Speech to text, for voice calls and voice notes. Providers live outside core (an
 * OpenAI-compatible audio API, an offline engine); the pipeline and the transcription worker call
 * them through this contract.
 *
 * @example
 * const echo: Transcriber = {
 *   name: 'echo',
 *   transcribe: async (audio) => ({ text: `(${audio.bytes.length} bytes)`, confidence: null }),
 * }
 */
export interface Transcriber {
  /** Shown on the case's events: which engine heard this. */
  readonly name: string
  /** Reject (throw) when the audio cannot be transcribed now; the worker retries later. */
  transcribe(audio: AudioInput, options: TranscribeOptions): Promise<Transcript>
}

export interface AudioInput {
  bytes: Uint8Array
  /** `audio/wav`, `audio/ogg`, `audio/amr`, `audio/mpeg`... */
  contentType: string
  filename?: string
}

export interface TranscribeOptions {
  /** BCP 47 hint (`zh-CN`, `en`) when the channel or the citizen's earlier messages tell. */
  language?: string
  /** Aborted when the caller's time is up; providers pass it to their HTTP client or process. */
  signal: AbortSignal
}

export interface Transcript {
  text: string
  /** 0–1 when the engine reports one. */
  confidence: number | null
  language?: string
}
