import { z } from 'zod'
import type { OfficeDirectory } from '../offices/index.ts'
import { WebhookEventType, type WebhookSubscription } from './model.ts'
import { webhookTargetProblem, type GatewayAddress } from './target-check.ts'

/** What the config and `POST /api/v1/webhooks` take for a subscription. */
export const WebhookSubscriptionInput = z
  .object({
    url: z.string().trim().min(1).max(2000),
    /** 16 characters or more: the receiver's HMAC key. */
    secret: z.string().min(16, 'the secret must be at least 16 characters').max(500),
    events: z.array(WebhookEventType).min(1, 'name at least one event type').transform((events) => [...new Set(events)]),
    /** Only the cases of this office and the offices below it. */
    officeId: z.string().min(1).nullable().default(null),
    includeContact: z.boolean().default(false),
  })
  .strict()
export type WebhookSubscriptionInput = z.input<typeof WebhookSubscriptionInput>

/** A config subscription: the same, with the id that names it in URLs and idempotency keys. */
export const ConfigWebhookSubscription = WebhookSubscriptionInput.extend({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'subscription ids are kebab-case (a-z, 0-9, -), up to 63 characters'),
}).strict()
export type ConfigWebhookSubscription = z.input<typeof ConfigWebhookSubscription>

/** What is wrong with a subscription beyond its shape: a URL that is not allowed, an office that does not exist. */
export function subscriptionProblems(input: { url: string; officeId: string | null }, gateway: GatewayAddress, offices: OfficeDirectory): Array<{ field: 'url' | 'officeId'; message: string }> {
  const problems: Array<{ field: 'url' | 'officeId'; message: string }> = []
  const url = webhookTargetProblem(input.url, gateway)
  if (url) problems.push({ field: 'url', message: url })
  if (input.officeId !== null && !offices.get(input.officeId)) problems.push({ field: 'officeId', message: `no office "${input.officeId}"` })
  return problems
}

/** The config's subscriptions, as the feed reads them. */
export function configSubscriptions(list: readonly z.infer<typeof ConfigWebhookSubscription>[]): WebhookSubscription[] {
  return list.map((s) => ({ ...s, source: 'config', createdAt: 0, createdBy: 'config' }))
}

/**
 * Whether a subscription is sent this event: it names the type, the event was recorded after the
 * subscription was made, and one of `officeIds` (the case's office; for a move also the office it
 * left) is in the subscription's subtree.
 */
export function subscriptionWants(
  subscription: WebhookSubscription,
  type: WebhookEventType,
  at: number,
  officeIds: readonly string[],
  offices: OfficeDirectory,
): boolean {
  if (!subscription.events.includes(type) || at < subscription.createdAt) return false
  const root = subscription.officeId
  return root === null || officeIds.some((id) => offices.covers(root, id))
}
