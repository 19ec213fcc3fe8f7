import type { IncomingHttpHeaders } from 'node:http'
import { startProviderStandIn, type ProviderStandIn } from '../kit/provider-stand-in.ts'

export interface ReceivedCallback {
  headers: IncomingHttpHeaders
  body: string
}

/**
 * An integrator's callback endpoint on loopback, for tests and benchmarks: records what it receives,
 * answers with the status it is told to (a queue of statuses, then 200), and dedupes by
 * Idempotency-Key the way a careful receiver does. Built on the kit's provider stand-in, so the kit
 * can also refuse, reset or stall its connections.
 */
export interface CallbackServer extends ProviderStandIn {
  url: string
  received: ReceivedCallback[]
  /** Distinct Idempotency-Keys seen: what the integrator actually acted on. */
  keys: Set<string>
  /** Answer the next requests with these statuses (and optional headers), in order. */
  failNext(...answers: Array<number | { status: number; headers?: Record<string, string> }>): void
}

export async function startCallbackServer(port = 0): Promise<CallbackServer> {
  const received: ReceivedCallback[] = []
  const keys = new Set<string>()
  const provider = await startProviderStandIn({
    port,
    onReset() {
      received.length = 0
      keys.clear()
    },
    handle(req) {
      received.push({ headers: req.headers, body: req.text })
      const key = req.headers['idempotency-key']
      if (typeof key === 'string') keys.add(key)
      return { status: 200, body: { id: `cb-${received.length}` } }
    },
  })
  return Object.assign(provider, {
    url: `${provider.url}/intake-callback`,
    received,
    keys,
    failNext: (...answers: Array<number | { status: number; headers?: Record<string, string> }>) =>
      provider.answerNext(...answers.map((a) => (typeof a === 'number' ? { status: a } : a)).map((a) => ({ ...a, body: { error: `arranged ${a.status}` } }))),
  })
}
