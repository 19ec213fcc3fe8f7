import type { Store } from '../contracts/store.ts'
import type { IdGenerator } from '../ids/index.ts'
import type { Logger } from '../log/index.ts'
import type { OfficeDirectory } from '../offices/index.ts'
import type { PollingLoop } from '../polling/index.ts'
import { createWebhookDeliveryWorker, type WebhookDeliveryOptions } from './delivery-worker.ts'
import { createWebhookFeed } from './feed.ts'
import type { WebhookSubscription } from './model.ts'
import { subscriptionProblems, type WebhookSubscriptionInput } from './subscriptions.ts'
import type { GatewayAddress } from './target-check.ts'
import type { z } from 'zod'

/** A subscription as the API hands it over, parsed (defaults filled). */
export type NewSubscription = z.output<typeof WebhookSubscriptionInput>

/** The config's `webhooks`: subscriptions, and how the feed and the deliveries run. */
export interface WebhooksOptions extends WebhookDeliveryOptions {
  /** How many case events the feed reads per cycle (default 500). */
  feedBatchSize?: number
}

export interface WebhooksDeps {
  store: Store
  offices: OfficeDirectory
  /** From the config, checked at start (resolveConfig and createIntake). */
  configured: readonly WebhookSubscription[]
  gateway: GatewayAddress
  ids: IdGenerator
  now: () => number
  log: Logger
  random?: () => number
}

export type CreateSubscriptionResult =
  | { ok: true; subscription: WebhookSubscription }
  | { ok: false; problems: Array<{ field: 'url' | 'officeId'; message: string }> }

/** Event webhooks: the feed that queues deliveries from the audit trail, the worker that sends them, the subscriptions. */
export interface Webhooks {
  readonly feed: PollingLoop
  readonly deliveries: PollingLoop
  /** The config's subscriptions, then the API's (oldest first). */
  subscriptions(): Promise<WebhookSubscription[]>
  create(input: NewSubscription, actor: string): Promise<CreateSubscriptionResult>
  start(): void
  stop(): Promise<void>
  /** Queue and send everything due (tests and one-shot commands); returns the work done. */
  drain(): Promise<number>
}

export function createWebhooks(deps: WebhooksDeps, options: WebhooksOptions = {}): Webhooks {
  const { store, offices, configured, gateway, ids, now, log } = deps
  const subscriptions = async () => [...configured, ...(await store.listWebhookSubscriptions())]
  const deliveries = createWebhookDeliveryWorker({ store, subscriptions, log: log.child({ component: 'webhooks' }), now, random: deps.random }, options)
  const feed = createWebhookFeed(
    { store, offices, subscriptions, ids, now, log: log.child({ component: 'webhook-feed' }), onQueued: () => deliveries.wake() },
    { batchSize: options.feedBatchSize, pollMs: options.pollMs },
  )
  return {
    feed,
    deliveries,
    subscriptions,
    async create(input, actor) {
      const problems = subscriptionProblems(input, gateway, offices)
      if (problems.length > 0) return { ok: false, problems }
      // `sub_`: config ids are kebab-case, so a stored id never takes a configured one's name.
      const subscription: WebhookSubscription = { ...input, id: `sub_${ids()}`, source: 'api', createdAt: now(), createdBy: actor }
      await store.saveWebhookSubscription(subscription)
      return { ok: true, subscription }
    },
    start() {
      feed.start()
      deliveries.start()
    },
    async stop() {
      await feed.stop()
      await deliveries.stop()
    },
    async drain() {
      let total = 0
      for (;;) {
        const done = (await feed.drain()) + (await deliveries.drain())
        total += done
        if (done === 0) return total
      }
    },
  }
}
