import CircuitBreaker from 'opossum'
import type { ChannelAdapter, ProviderHealth, SendContext, SendError, SendResult } from '../contracts/channel.ts'
import type { OutboundMessage } from '../model/index.ts'

/** When a provider's breaker opens, and how long it stays open before one probe send. */
export interface BreakerOptions {
  /** Share of failed sends, in percent, above which the breaker opens (default 50). */
  failurePercent?: number
  /** Sends in the window before the breaker may open at all (default 5), so one failure alone never opens it. */
  minimumSends?: number
  /** How far back failures are counted (default 30 s, in 10 slices). */
  windowMs?: number
  /** How long an open breaker waits before it lets one send through as a probe (default 30 s). */
  coolDownMs?: number
}

/** What one provider did with one send, as the failover sender needs it. */
export type ProviderOutcome =
  | { kind: 'sent'; result: SendResult & { ok: true } }
  /** The provider said no to this message (bad number, content, unsubscribed); it is up. */
  | { kind: 'refused'; error: SendError }
  /** 5xx, 429, a timeout, unreachable: counted against the provider. */
  | { kind: 'failed'; error: SendError }
  /** Its breaker is open (or half-open with the probe already out): not tried. */
  | { kind: 'skipped' }

/** A retryable failure, thrown inside the breaker only: opossum counts rejections as failures. */
class RetryableSendFailure extends Error {
  constructor(readonly error: SendError) {
    super(error.message)
  }
}

export interface ProviderBreaker {
  readonly name: string
  send(msg: OutboundMessage, ctx: SendContext): Promise<ProviderOutcome>
  health(): ProviderHealth
  shutdown(): void
}

/**
 * One provider behind an opossum circuit breaker. The adapter contract returns errors as values;
 * opossum counts rejected promises, so inside the breaker a retryable `SendResult` becomes a
 * rejection and everything else (a send, a refusal of this message) a fulfilment — a provider that
 * answers "invalid number" is healthy. No opossum `timeout`: it would abandon a call still in flight
 * (the provider might yet send it while the next provider sends it too); each adapter's own request
 * timeout aborts the call and comes back as a retryable `connection` error, which counts here.
 */
export function providerBreaker(name: string, adapter: Pick<ChannelAdapter, 'send'>, options: BreakerOptions = {}): ProviderBreaker {
  const { failurePercent = 50, minimumSends = 5, windowMs = 30_000, coolDownMs = 30_000 } = options
  async function sendThroughProvider(msg: OutboundMessage, ctx: SendContext): Promise<SendResult> {
    let result: SendResult
    try {
      result = await adapter.send(msg, ctx)
    } catch (err) {
      result = { ok: false, error: { code: 'unknown', retryable: true, message: `adapter threw: ${(err as Error).message}` } }
    }
    if (!result.ok && result.error.retryable) throw new RetryableSendFailure(result.error)
    return result
  }
  const breaker = new CircuitBreaker(sendThroughProvider, {
    name,
    timeout: false,
    errorThresholdPercentage: failurePercent,
    volumeThreshold: minimumSends,
    rollingCountTimeout: windowMs,
    rollingCountBuckets: 10,
    resetTimeout: coolDownMs,
    enableSnapshots: false,
    rollingPercentilesEnabled: false,
  })
  const counts = { successes: 0, failures: 0, refusals: 0, skipped: 0, opened: 0 }
  breaker.on('open', () => counts.opened++)

  return {
    name,
    async send(msg, ctx) {
      try {
        const result = await breaker.fire(msg, ctx)
        if (result.ok) {
          counts.successes++
          return { kind: 'sent', result }
        }
        counts.refusals++
        return { kind: 'refused', error: result.error }
      } catch (err) {
        if (err instanceof RetryableSendFailure) {
          counts.failures++
          return { kind: 'failed', error: err.error }
        }
        if ((err as { code?: unknown }).code === 'EOPENBREAKER') {
          counts.skipped++
          return { kind: 'skipped' }
        }
        throw err
      }
    },
    health: () => ({ provider: name, state: breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed', ...counts }),
    shutdown: () => breaker.shutdown(),
  }
}
