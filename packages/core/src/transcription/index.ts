import type { BlobStore } from '../contracts/blob-store.ts'
import type { CaseChange, PendingTranscription, Store } from '../contracts/store.ts'
import type { Transcriber, Transcript } from '../contracts/transcriber.ts'
import type { Logger } from '../log/index.ts'
import type { Attachment } from '../model/index.ts'
import { backoffDelay } from '../outbox/index.ts'
import { pollingLoop, type PollingLoop } from '../polling/index.ts'

/**
 * What a late transcript changes on its case (the pipeline's `transcribed`): the worker hands each
 * transcript on and writes the change it gets back.
 */
export type ApplyTranscript = (caseId: string, messageId: string, transcript: Transcript, engine: string, at: number) => Promise<CaseChange>

export interface TranscriptionOptions {
  /** How long one attempt may take, at intake or in the worker (default 10 s). */
  timeoutMs?: number
  /**
   * At intake on a route that answers the provider inline (WeChat waits 5 s for its passive reply,
   * Twilio 15 s for a call's next step), no longer than this (default 2.5 s); the worker then retries.
   */
  inlineTimeoutMs?: number
  /** Attempts before the case is left to staff to listen to (default 6). */
  maxAttempts?: number
  /** First retry delay; doubles each attempt, with jitter (default 30 s). */
  baseDelayMs?: number
  maxDelayMs?: number
  pollMs?: number
  leaseMs?: number
}

export const TRANSCRIPTION_DEFAULTS = {
  timeoutMs: 10_000,
  inlineTimeoutMs: 2_500,
  maxAttempts: 6,
  baseDelayMs: 30_000,
  maxDelayMs: 30 * 60_000,
  pollMs: 5_000,
  leaseMs: 2 * 60_000,
} satisfies Required<TranscriptionOptions>

/** The audio a voice message carries, when it has no text of its own. */
export function audioToTranscribe(text: string, attachments: readonly Attachment[]): (Attachment & { blobKey: string }) | undefined {
  if (text.trim()) return undefined
  return attachments.find((a): a is Attachment & { blobKey: string } => a.contentType.startsWith('audio/') && !!a.blobKey)
}

/** One attempt, bounded by the timeout whatever the engine does with the abort signal. */
export async function transcribeStored(
  transcriber: Transcriber,
  blobs: BlobStore,
  audio: { blobKey: string; contentType: string; filename?: string },
  language: string | undefined,
  timeoutMs: number,
): Promise<Transcript> {
  const bytes = await blobs.get(audio.blobKey)
  if (!bytes) throw new Error(`audio ${audio.blobKey} is not in the blob store`)
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort()
      reject(new Error(`${transcriber.name} did not answer within ${timeoutMs} ms`))
    }, timeoutMs)
  })
  try {
    const transcript = await Promise.race([
      transcriber.transcribe({ bytes, contentType: audio.contentType, filename: audio.filename }, { language, signal: controller.signal }),
      timeout,
    ])
    if (!transcript.text.trim()) throw new Error(`${transcriber.name} heard no words`)
    return transcript
  } finally {
    clearTimeout(timer)
  }
}

export interface TranscriptionWorkerDeps {
  store: Store
  blobs: BlobStore
  transcriber: Transcriber
  pipeline: { transcribed: ApplyTranscript }
  log: Logger
  now?: () => number
  random?: () => number
}

/** Retries transcriptions: `drain()` works until nothing is due (tests). */
export type TranscriptionWorker = PollingLoop

/**
 * Retries the voice messages whose transcript could not be made at intake. A transcript replaces
 * the message's empty text, becomes the case's summary, and routes the case again if it was
 * waiting at the intake desk for want of words.
 */
export function createTranscriptionWorker(deps: TranscriptionWorkerDeps, options: TranscriptionOptions = {}): TranscriptionWorker {
  const { timeoutMs, maxAttempts, baseDelayMs, maxDelayMs, pollMs, leaseMs } = { ...TRANSCRIPTION_DEFAULTS, ...options }
  const { store, blobs, transcriber, pipeline, log, now = Date.now, random = Math.random } = deps

  async function attempt(job: PendingTranscription): Promise<void> {
    try {
      const transcript = await transcribeStored(transcriber, blobs, job, job.language, timeoutMs)
      const change = await pipeline.transcribed(job.caseId, job.messageId, transcript, transcriber.name, now())
      await store.recordTranscription(job.messageId, { text: transcript.text, change }, now())
      log.info('voice message transcribed', { caseId: job.caseId, messageId: job.messageId, attempts: job.attempts })
    } catch (err) {
      const error = (err as Error).message
      const at = now()
      if (job.attempts >= maxAttempts) {
        const change = {
          caseId: job.caseId,
          at,
          events: [{ caseId: job.caseId, at, type: 'transcription_failed' as const, actor: transcriber.name, public: false, data: { messageId: job.messageId, attempts: job.attempts, error } }],
        }
        await store.recordTranscription(job.messageId, { dead: true, error, change }, at)
        log.warn('transcription given up; staff will listen to the audio', { caseId: job.caseId, attempts: job.attempts, error })
        return
      }
      const retryAt = at + backoffDelay(job.attempts, baseDelayMs, maxDelayMs, random)
      await store.recordTranscription(job.messageId, { retryAt, error }, at)
      log.info('transcription retry scheduled', { caseId: job.caseId, attempts: job.attempts, retryAt, error })
    }
  }

  async function runOnce(): Promise<number> {
    let attempts = 0
    for (;;) {
      const jobs = await store.claimTranscriptions(now(), 4, leaseMs)
      if (jobs.length === 0) return attempts
      attempts += jobs.length
      await Promise.all(jobs.map(attempt))
    }
  }

  // The worker only polls: voice messages reach it after a failed attempt at intake, never urgently.
  return pollingLoop({ name: 'transcription', pollMs, log, cycle: runOnce, runAtStart: false })
}
