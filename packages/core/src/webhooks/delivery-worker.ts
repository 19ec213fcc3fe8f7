import type { Store } from '../contracts/store.ts'
import { httpPost } from '../http-client/index.ts'
import type { Logger } from '../log/index.ts'
import { backoffDelay, type OutboxOptions } from '../outbox/index.ts'
import { pollingLoop, type PollingLoop } from '../polling/index.ts'
import { signRequest } from '../signing/request-signature.ts'
import type { WebhookDelivery, WebhookSubscription } from './model.ts'

/** How deliveries are attempted; the retry settings are the outbox's (config `outbox`) unless the webhooks set their own. */
export interface WebhookDeliveryOptions extends Omit<OutboxOptions, 'ratePerSecond'> {
  /** Give up on one attempt after this long without an answer (default 10 s); it is retried. */
  timeoutMs?: number
}

export interface WebhookDeliveryDeps {
  store: Store
  subscriptions: () => Promise<WebhookSubscription[]>
  log: Logger
  now?: () => number
  /** In [0, 1); injectable so backoff is deterministic in tests. */
  random?: () => number
}

/** Headers every delivery carries besides the signature (X-Intake-Timestamp, X-Intake-Signature). */
export const DELIVERY_HEADER = 'x-intake-delivery'
export const EVENT_HEADER = 'x-intake-event'
export const ATTEMPT_HEADER = 'x-intake-attempt'

type Verdict = { responseStatus: number | null } & ({ delivered: true } | { delivered: false; retryable: boolean; error: string; retryAfterMs?: number })

/**
 * POSTs queued deliveries to their subscribers, signed with the subscription's secret, and records
 * each verdict: a 2xx is delivered; anything else — a 3xx (redirects are never followed: the
 * subscription names the URL that gets the data), a 4xx or 5xx, a timeout, a refused connection —
 * is retried with the outbox's backoff (a Retry-After is honoured) until `maxAttempts`, then
 * dead-lettered; 410 Gone is dead at once. A case's later events wait for an earlier one to be
 * delivered or dead (the store's claim), so a subscriber hears a case's story in order.
 */
export function createWebhookDeliveryWorker(deps: WebhookDeliveryDeps, options: WebhookDeliveryOptions = {}): PollingLoop {
  const { timeoutMs = 10_000, maxAttempts = 8, baseDelayMs = 2_000, maxDelayMs = 15 * 60_000, leaseMs = 30_000, batchSize = 64, pollMs = 1_000 } = options
  const { store, log, now = Date.now, random = Math.random } = deps
  // A lease must outlast an attempt, or a slow receiver would be sent the same event twice at once.
  const lease = Math.max(leaseMs, timeoutMs * 2)

  async function attempt(delivery: WebhookDelivery, subscription: WebhookSubscription | undefined): Promise<Verdict> {
    if (!subscription) return { delivered: false, retryable: false, error: 'config: the subscription is no longer configured', responseStatus: null }
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Intake-Webhooks/1',
      'idempotency-key': delivery.idempotencyKey,
      [DELIVERY_HEADER]: delivery.id,
      [EVENT_HEADER]: delivery.eventType,
      [ATTEMPT_HEADER]: String(delivery.attempts),
      ...signRequest(subscription.secret, delivery.payload, now()),
    }
    let answer
    try {
      answer = await httpPost(subscription.url, delivery.payload, { headers, timeoutMs, maxAnswerBytes: 4096 })
    } catch (err) {
      const e = err as Error & { code?: string }
      return { delivered: false, retryable: true, error: `connection: ${e.code ?? e.name}: ${e.message}`, responseStatus: null }
    }
    const { status } = answer
    if (status >= 200 && status < 300) return { delivered: true, responseStatus: status }
    if (status >= 300 && status < 400) {
      const location = answer.headers.location
      return { delivered: false, retryable: true, error: `redirect: answered ${status}${location ? ` to ${location}` : ''}; redirects are not followed (give the subscription its final URL)`, responseStatus: status }
    }
    const retryAfter = Number(answer.headers['retry-after'])
    return {
      delivered: false,
      retryable: status !== 410,
      error: `http: answered ${status}${answer.text ? `: ${answer.text.slice(0, 200)}` : ''}`,
      responseStatus: status,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
    }
  }

  async function record(delivery: WebhookDelivery, verdict: Verdict, at: number): Promise<void> {
    const context = { deliveryId: delivery.id, subscriptionId: delivery.subscriptionId, eventId: delivery.eventId, attempts: delivery.attempts }
    if (verdict.delivered) {
      await store.recordWebhookAttempt(delivery.id, { delivered: true, responseStatus: verdict.responseStatus }, at)
      log.info('webhook delivered', context)
      return
    }
    const { error, responseStatus } = verdict
    if (!verdict.retryable || delivery.attempts >= maxAttempts) {
      await store.recordWebhookAttempt(delivery.id, { dead: true, error, responseStatus }, at)
      log.warn('webhook dead-lettered', { ...context, error })
      return
    }
    const delay = Math.max(verdict.retryAfterMs ?? 0, backoffDelay(delivery.attempts, baseDelayMs, maxDelayMs, random))
    await store.recordWebhookAttempt(delivery.id, { retryAt: at + delay, error, responseStatus }, at)
    log.info('webhook retry scheduled', { ...context, delayMs: delay, error })
  }

  async function cycle(): Promise<number> {
    let attempts = 0
    for (;;) {
      const batch = await store.claimWebhookDeliveries(now(), batchSize, lease)
      if (batch.length === 0) return attempts
      attempts += batch.length
      const subscriptions = new Map((await deps.subscriptions()).map((s) => [s.id, s]))
      const verdicts = await Promise.all(batch.map((d) => attempt(d, subscriptions.get(d.subscriptionId))))
      const at = now()
      await Promise.all(batch.map((d, i) => record(d, verdicts[i]!, at).catch((err) => log.error('webhook record failed', { deliveryId: d.id, error: err }))))
    }
  }

  return pollingLoop({ name: 'webhook deliveries', pollMs, log, cycle })
}
