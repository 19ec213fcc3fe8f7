import { BrokenCircuitError, CircuitState, CountBreaker, circuitBreaker, handleWhenResult } from 'cockatiel'
import type { ChannelAdapter, ProviderHealth, SendContext, SendError, SendResult } from '../contracts/channel.ts'
import type { OutboundMessage } from '../model/index.ts'

/** When a provider's breaker opens, and how long it stays open before one probe send. */
export interface BreakerOptions {
  /** Share of failed sends among the last `windowSends`, in percent, above which the breaker opens (default 50). */
  failurePercent?: number
  /** Sends counted before the breaker may open at all (default 5), so one failure alone never opens it. */
  minimumSends?: number
  /** How many of the latest sends are counted (default 20). */
  windowSends?: number
  /** How long an open breaker waits before it lets one send through as a probe (default 30 s). */
  coolDownMs?: number
}

/** What one provider did with one send, as the failover sender needs it. */
export type ProviderOutcome =
  | { kind: 'sent'; providerId: string }
  /** The provider said no to this message (bad number, content, unsubscribed); it is up. */
  | { kind: 'refused'; error: SendError }
  /** 5xx, 429, a timeout, unreachable: counted against the provider. */
  | { kind: 'failed'; error: SendError }
  /** Its breaker is open: not tried. */
  | { kind: 'skipped' }

export interface ProviderBreaker {
  readonly name: string
  send(msg: OutboundMessage, ctx: SendContext): Promise<ProviderOutcome>
  health(): ProviderHealth
}

const retryableFailure = (r: SendResult) => !r.ok && r.error.retryable

/**
 * One provider behind a cockatiel circuit breaker. cockatiel judges a call by its result
 * (`handleWhenResult`), which is how the adapter contract reports failures — as values — so a
 * retryable `SendResult` counts against the provider and anything else (a send, a refusal of this
 * message) for it: a provider that answers "invalid number" is up. It keeps no timers: an open
 * breaker lets the next send through as the probe once `coolDownMs` has passed (by `Date.now()`),
 * and the count restarts when the probe succeeds. A send that hangs is ended by the adapter's own
 * request timeout, which comes back as a retryable `connection` error and counts here; the breaker
 * never abandons a call still in flight (that provider might yet deliver it while the next one does).
 */
export function providerBreaker(name: string, adapter: Pick<ChannelAdapter, 'send'>, options: BreakerOptions = {}): ProviderBreaker {
  const { failurePercent = 50, minimumSends = 5, windowSends = Math.max(20, minimumSends), coolDownMs = 30_000 } = options
  const policy = circuitBreaker(handleWhenResult((r) => retryableFailure(r as SendResult)), {
    halfOpenAfter: coolDownMs,
    breaker: new CountBreaker({ threshold: failurePercent / 100, size: windowSends, minimumNumberOfCalls: minimumSends }),
  })
  const counts = { successes: 0, failures: 0, refusals: 0, skipped: 0, opened: 0 }
  policy.onBreak(() => counts.opened++)

  async function sendThroughProvider(msg: OutboundMessage, ctx: SendContext): Promise<SendResult> {
    try {
      return await adapter.send(msg, ctx)
    } catch (err) {
      return { ok: false, error: { code: 'unknown', retryable: true, message: `adapter threw: ${(err as Error).message}` } }
    }
  }

  /** `open` turns `half-open` once the cool-down is over: the next send is the probe. */
  function state(): ProviderHealth['state'] {
    if (policy.state === CircuitState.Closed) return 'closed'
    if (policy.state === CircuitState.HalfOpen) return 'half-open'
    const { ownState } = policy.toJSON() as { ownState: { openedAt?: number } }
    return ownState.openedAt !== undefined && Date.now() - ownState.openedAt >= coolDownMs ? 'half-open' : 'open'
  }

  return {
    name,
    async send(msg, ctx) {
      let result: SendResult
      try {
        result = await policy.execute(() => sendThroughProvider(msg, ctx))
      } catch (err) {
        if (!(err instanceof BrokenCircuitError)) throw err
        counts.skipped++
        return { kind: 'skipped' }
      }
      if (result.ok) {
        counts.successes++
        return { kind: 'sent', providerId: result.providerId }
      }
      if (result.error.retryable) {
        counts.failures++
        return { kind: 'failed', error: result.error }
      }
      counts.refusals++
      return { kind: 'refused', error: result.error }
    },
    health: () => ({ provider: name, state: state(), ...counts }),
  }
}
