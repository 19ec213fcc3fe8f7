import type { BlobStore } from '../contracts/blob-store.ts'
import type { ChannelAdapter, SendError, SendResult } from '../contracts/channel.ts'
import type { Store } from '../contracts/store.ts'
import type { Logger } from '../log/index.ts'
import type { OutboxItem } from '../model/index.ts'
import { pollingLoop, type PollingLoop } from '../polling/index.ts'
import { forwardedCase } from '../forwarding/forward-message.ts'

export interface OutboxOptions {
  /** Attempts before a delivery is dead-lettered (default 8). */
  maxAttempts?: number
  /** First retry delay; doubles each attempt, with jitter (default 2 s). */
  baseDelayMs?: number
  maxDelayMs?: number
  /** How long a claimed row stays leased to this worker; a crashed worker's rows return after it. */
  leaseMs?: number
  batchSize?: number
  /** How often to look for due rows when nothing woke the worker. */
  pollMs?: number
  /** Deliveries per second per channel instance, e.g. { sms: 1 }. Unlisted channels are not limited. */
  ratePerSecond?: Record<string, number>
}

export interface OutboxWorkerDeps {
  store: Store
  channels: Record<string, ChannelAdapter>
  log: Logger
  blobs: BlobStore
  publicUrl: string
  now?: () => number
  /** In [0, 1); injectable so backoff is deterministic in tests. */
  random?: () => number
}

/** Delivers the outbox: `drain()` delivers until nothing is due (tests and `intake send`). */
export type OutboxWorker = PollingLoop

/** Exponential backoff with "equal jitter": half fixed, half random, capped. */
export function backoffDelay(attempt: number, base: number, max: number, random: () => number): number {
  const exp = Math.min(max, base * 2 ** Math.max(0, attempt - 1))
  return Math.round(exp / 2 + (exp / 2) * random())
}

export function createOutboxWorker(deps: OutboxWorkerDeps, options: OutboxOptions = {}): OutboxWorker {
  const {
    maxAttempts = 8,
    baseDelayMs = 2_000,
    maxDelayMs = 15 * 60_000,
    leaseMs = 30_000,
    batchSize = 64,
    pollMs = 1_000,
    ratePerSecond = {},
  } = options
  const { store, channels, log, now = Date.now, random = Math.random } = deps
  const nextSlot = new Map<string, number>()

  /** Per-channel pacing: each delivery takes the next free slot, 1/rate seconds apart. */
  async function pace(channelId: string) {
    const rate = ratePerSecond[channelId]
    if (!rate) return
    const t = now()
    const slot = Math.max(t, nextSlot.get(channelId) ?? 0)
    nextSlot.set(channelId, slot + 1000 / rate)
    if (slot > t) await new Promise((r) => setTimeout(r, slot - t))
  }

  /** Send one item through its adapter; the verdict is recorded by `recordBatch`, with the rest of its batch. */
  async function send(item: OutboxItem, optedOut: boolean): Promise<SendResult> {
    const adapter = channels[item.channelId]
    if (!adapter) {
      return { ok: false, error: { code: 'config', retryable: false, message: `no channel "${item.channelId}" is configured` } }
    }
    // A citizen who sent STOP gets nothing more on that channel, whatever was queued before.
    if (optedOut) {
      return { ok: false, error: { code: 'stopped', retryable: false, message: 'the citizen opted out of this channel (STOP)' } }
    }
    await pace(item.channelId)
    let payload = item.payload
    if (payload.kind === 'forward') {
      // The case as it stands when it leaves, not when it was queued.
      const forward = await forwardedCase(store, item.caseId)
      if (!forward) return { ok: false, error: { code: 'config', retryable: false, message: `case ${item.caseId} is gone` } }
      payload = { ...payload, forward }
    }
    try {
      return await adapter.send(payload, {
        channelId: item.channelId,
        idempotencyKey: item.idempotencyKey,
        attempt: item.attempts,
        log: log.child({ channelId: item.channelId, outboxId: item.id }),
        publicUrl: deps.publicUrl,
        blobs: deps.blobs,
      })
    } catch (err) {
      // An adapter that throws has a bug; the delivery is retried like an unknown failure.
      return { ok: false, error: { code: 'unknown', retryable: true, message: `adapter threw: ${(err as Error).message}` } }
    }
  }

  /**
   * A batch's verdicts: the sends in one write (completeOutboxBatch), each failure on its own. They
   * are queued before this returns — before the loop claims its next batch — so a store that groups
   * writes commits them ahead of that claim: a row whose lease ran out during its send (a slow
   * provider, a clock that moved) is done before the claim could take it again. A forwarded case's
   * id in the other system is kept before its row is done: a crash in between re-sends with the same
   * idempotency key, and the link is written again.
   */
  function recordBatch(batch: OutboxItem[], results: SendResult[], at: number): Promise<unknown> {
    const sent = batch.flatMap((item, i) => {
      const result = results[i]!
      return result.ok ? [{ item, providerId: result.providerId }] : []
    })
    const failures = batch.map((item, i) => {
      const result = results[i]!
      return result.ok ? undefined : recordFailure(item, result.error, at).catch((error) => recordFailed(item, error))
    })
    const plain = sent.filter(({ item }) => item.payload.kind !== 'forward')
    const forwards = sent.filter(({ item }) => item.payload.kind === 'forward')
    const linkedThenDone = forwards.length === 0 ? undefined : Promise.all(
      forwards.map(({ item, providerId }) =>
        store.linkExternal({ caseId: item.caseId, channelId: item.channelId, externalId: providerId, at }).then(
          () => true,
          (error) => (recordFailed(item, error), false),
        ),
      ),
    ).then((linked) => complete(forwards.filter((_, i) => linked[i]), at))
    return Promise.all([...failures, complete(plain, at), linkedThenDone])
  }

  function complete(done: Array<{ item: OutboxItem; providerId: string }>, at: number): Promise<void> {
    if (done.length === 0) return Promise.resolve()
    return store.completeOutboxBatch(done.map(({ item, providerId }) => ({ id: item.id, providerId })), at).then(
      (missing) => {
        for (const { item } of done) {
          if (missing.includes(item.id)) recordFailed(item, Object.assign(new Error(`[outbox] no outbox row ${item.id}`), { code: 'outbox_not_found' }))
          else log.info('outbox delivered', { outboxId: item.id, caseId: item.caseId, channelId: item.channelId, attempts: item.attempts })
        }
      },
      (error) => {
        for (const { item } of done) recordFailed(item, error)
      },
    )
  }

  function recordFailed(item: OutboxItem, error: unknown): void {
    log.error('outbox record failed', { outboxId: item.id, error })
  }

  async function recordFailure(item: OutboxItem, failure: SendError, at: number): Promise<void> {
    const error = describe(failure)
    // The provider says the citizen unsubscribed or blocked us: remember it for every later reply.
    if (failure.code === 'stopped') await store.setOptOut(item.channelId, item.payload.to.id, true, at)
    if (!failure.retryable || item.attempts >= maxAttempts) {
      await store.failOutbox(item.id, { dead: true, error }, at)
      log.warn('outbox dead-lettered', { outboxId: item.id, caseId: item.caseId, channelId: item.channelId, attempts: item.attempts, error })
      return
    }
    const delay = Math.max(failure.retryAfterMs ?? 0, backoffDelay(item.attempts, baseDelayMs, maxDelayMs, random))
    await store.failOutbox(item.id, { retryAt: at + delay, error }, at)
    log.info('outbox retry scheduled', { outboxId: item.id, channelId: item.channelId, attempts: item.attempts, delayMs: delay, error })
  }

  async function runOnce(): Promise<number> {
    let attempts = 0
    // The last batch's verdicts are being recorded while the next batch is claimed and sent: with a
    // writer thread both writes share a commit, so a busy outbox waits for one commit per batch.
    let recording: Promise<unknown> = Promise.resolve()
    for (;;) {
      const batch = await store.claimOutbox(now(), batchSize, leaseMs)
      if (batch.length === 0) {
        await recording
        return attempts
      }
      attempts += batch.length
      // Send the batch concurrently, then record every verdict in the same turn, so a store that
      // groups writes commits the whole batch at once instead of once per delivery (which also
      // keeps the write lock free for intake). A crash before that commit re-sends the batch once
      // the lease runs out, with the same idempotency keys.
      // Whether each citizen opted out, asked for the batch at once (the check before every send).
      const stopped = await store.areOptedOut(batch.map((item) => ({ channelId: item.channelId, citizenId: item.payload.to.id })))
      const results = await Promise.all(batch.map((item, i) => send(item, stopped[i]!)))
      const at = now()
      await recording
      recording = recordBatch(batch, results, at)
    }
  }

  return pollingLoop({ name: 'outbox', pollMs, log, cycle: runOnce })
}

function describe(error: SendError): string {
  return `${error.code}: ${error.message}`
}
