import type { Store } from '../contracts/store.ts'
import type { IdGenerator } from '../ids/index.ts'
import type { Logger } from '../log/index.ts'
import type { Case, CaseEvent, CaseMessage } from '../model/index.ts'
import type { OfficeDirectory } from '../offices/index.ts'
import { pollingLoop, type PollingLoop } from '../polling/index.ts'
import { webhookEventTypeOf } from './event-types.ts'
import type { WebhookDelivery, WebhookSubscription } from './model.ts'
import { idempotencyKeyOf, webhookBody } from './payload.ts'
import { subscriptionWants } from './subscriptions.ts'

export interface WebhookFeedDeps {
  store: Store
  offices: OfficeDirectory
  /** The config's subscriptions and the stored ones, read at every cycle. */
  subscriptions: () => Promise<WebhookSubscription[]>
  ids: IdGenerator
  now: () => number
  log: Logger
  /** Deliveries were queued: the delivery worker may start now instead of at its next poll. */
  onQueued?: () => void
}

/** Events whose data names the offices a case moved between (`from`, `to`): the office it left hears of it too. */
const MOVES = new Set<CaseEvent['type']>(['dispatched', 'transferred', 'returned'])

/**
 * Turns the case events on the audit trail into webhook deliveries, from a durable cursor: each
 * cycle reads the events after it, queues a delivery per (matching subscription, event) and moves
 * the cursor in the same transaction, so an event is queued once even when the process dies
 * between (the next cycle reads it again) or several processes read at once (the cursor only moves
 * from where a process read it; the loser's cycle writes nothing). The trail's id order is its
 * commit order in both drivers — an append holds the chain's lock until it commits — so the cursor
 * never passes an event that is not committed yet.
 */
const IDLE_SKIP_MS = 60_000

export function createWebhookFeed(deps: WebhookFeedDeps, { batchSize = 500, pollMs = 1_000 }: { batchSize?: number; pollMs?: number } = {}): PollingLoop {
  const { store, offices, now, ids, log } = deps

  /** When the cursor last skipped ahead while nobody subscribed. */
  let skippedAt = -Infinity

  async function cycle(): Promise<number> {
    const subscriptions = await deps.subscriptions()
    const from = await store.webhookCursor()
    if (subscriptions.length === 0) {
      // Nobody to tell: reading every event the gateway writes would only cost the intake path. The
      // cursor still moves (now and then, without reading rows), so a subscription added later is
      // not sent the history from before it — a config one has no creation time to filter on.
      if (now() - skippedAt < IDLE_SKIP_MS) return 0
      skippedAt = now()
      const newest = await store.newestEventId()
      if (newest > from) await store.enqueueWebhookDeliveries({ from, to: newest }, [])
      return 0
    }
    const events = (await store.listEventsAfter(from, batchSize)) as Array<CaseEvent & { id: number }>
    if (events.length === 0) return 0
    const deliveries = await deliveriesFor(events, subscriptions)
    const moved = await store.enqueueWebhookDeliveries({ from, to: events.at(-1)!.id }, deliveries)
    if (!moved) {
      log.debug('webhook feed: another process moved the cursor first', { from })
      return events.length
    }
    if (deliveries.length > 0) deps.onQueued?.()
    return events.length
  }

  async function deliveriesFor(events: Array<CaseEvent & { id: number }>, subscriptions: WebhookSubscription[]): Promise<WebhookDelivery[]> {
    const at = now()
    const cases = new Map<string, Case | undefined>()
    const messages = new Map<string, CaseMessage[]>()
    const out: WebhookDelivery[] = []
    for (const [i, event] of events.entries()) {
      const type = webhookEventTypeOf(event, events[i - 1])
      if (!type) continue
      if (!cases.has(event.caseId)) cases.set(event.caseId, await store.getCase(event.caseId))
      const kase = cases.get(event.caseId)
      if (!kase) continue
      const officeIds = [kase.officeId, ...(MOVES.has(event.type) ? [event.data.from, event.data.to].filter((o): o is string => typeof o === 'string') : [])]
      const wanting = subscriptions.filter((s) => subscriptionWants(s, type, event.at, officeIds, offices))
      if (wanting.length === 0) continue
      let message: CaseMessage | undefined
      if (type === 'message.received' && typeof event.data.messageId === 'string') {
        if (!messages.has(kase.id)) messages.set(kase.id, await store.listMessages(kase.id))
        message = messages.get(kase.id)!.find((m) => m.id === event.data.messageId)
      }
      for (const subscription of wanting) {
        out.push({
          id: ids(),
          subscriptionId: subscription.id,
          eventId: event.id,
          caseId: kase.id,
          eventType: type,
          idempotencyKey: idempotencyKeyOf(subscription.id, event.id),
          payload: webhookBody(subscription, type, event, kase, message),
          status: 'pending',
          attempts: 0,
          nextAttemptAt: at,
          lastError: null,
          responseStatus: null,
          createdAt: at,
          updatedAt: at,
        })
      }
    }
    return out
  }

  return pollingLoop({ name: 'webhook feed', pollMs, log, cycle })
}
