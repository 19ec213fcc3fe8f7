import type { InboundOutcome, InboundRoute, PageRoute } from '../contracts/channel.ts'

/** `twilio-sms:SM0123…`: the id a failover channel records, so a delivery report finds the provider that sent it. */
export const providerRef = (provider: string, providerId: string) => `${provider}:${providerId}`

/**
 * A provider's webhooks, mounted as they are on the failover channel (its status callback and its
 * inbound messages keep their URLs). Delivery reports are re-keyed to `provider:id`, the id the
 * outbox recorded for that provider's send; a citizen's reply that quotes a message (WhatsApp's
 * swipe-reply) names it both ways, since it may quote an inbound message (bare id) or a sent one.
 */
export function providerRoutes(provider: string, routes: readonly InboundRoute[]): InboundRoute[] {
  return routes.map((route) => ({
    ...route,
    async parse(req, ctx): Promise<InboundOutcome> {
      const outcome = await route.parse(req, ctx)
      if ('reports' in outcome) return { reports: outcome.reports.map((r) => ({ ...r, providerId: providerRef(provider, r.providerId) })) }
      if ('messages' in outcome) {
        return {
          messages: outcome.messages.map((m) =>
            m.threadRefs?.length ? { ...m, threadRefs: m.threadRefs.flatMap((ref) => [ref, providerRef(provider, ref)]) } : m,
          ),
        }
      }
      return outcome
    },
  }))
}

/** Two providers may not claim the same webhook: whose would a request be? Thrown when the channel is configured. */
export function checkDistinctPaths(providers: Array<{ name: string; routes: readonly Pick<InboundRoute | PageRoute, 'method' | 'path'>[] }>): void {
  const owner = new Map<string, string>()
  for (const { name, routes } of providers) {
    for (const { method, path } of routes) {
      const key = `${method} ${path}`
      const first = owner.get(key)
      if (first && first !== name) throw new Error(`[failover] providers "${first}" and "${name}" both serve ${key}; give one of them another path`)
      owner.set(key, name)
    }
  }
}
