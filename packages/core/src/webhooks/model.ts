import { z } from 'zod'

/**
 * What other systems may subscribe to. Each is one kind of case event on the audit trail
 * (event-types.ts maps them), so a subscriber hears exactly what the record says happened.
 */
export const WEBHOOK_EVENT_TYPES = [
  'case.created',
  'case.routed',
  'case.dispatched',
  'case.transferred',
  'case.returned',
  'case.assigned',
  'case.accepted',
  'case.started',
  'case.answered',
  'case.resolved',
  'case.closed',
  'case.reopened',
  'case.rated',
  'case.escalated',
  'case.overdue',
  'message.received',
  'delivery.failed',
] as const
export const WebhookEventType = z.enum(WEBHOOK_EVENT_TYPES)
export type WebhookEventType = z.infer<typeof WebhookEventType>

/**
 * Where events are POSTed, signed with `secret` (the api channel's scheme), for the cases of one
 * office's subtree or of every office.
 *
 * @example
 * { id: 'city-crm', url: 'https://crm.example.gov/intake-events', secret: process.env.CRM_WEBHOOK_SECRET,
 *   events: ['case.created', 'case.resolved'], officeId: 'city', includeContact: false }
 */
export interface WebhookSubscription {
  id: string
  url: string
  /** The HMAC key; never shown by the API once set. */
  secret: string
  events: WebhookEventType[]
  /** Only cases of this office and the offices below it; null: every office. */
  officeId: string | null
  /** Whether payloads carry the citizen's address, name, phone and email (they are left out otherwise). */
  includeContact: boolean
  /** `config` subscriptions come from the gateway's config and cannot be changed by the API. */
  source: 'config' | 'api'
  /** A subscription receives the events recorded from then on (0 for the config's). */
  createdAt: number
  createdBy: string
}

export const WebhookDeliveryStatus = z.enum(['pending', 'sending', 'delivered', 'dead'])
export type WebhookDeliveryStatus = z.infer<typeof WebhookDeliveryStatus>

/** One event on its way to one subscription: leased, retried and dead-lettered like an outbox row. */
export interface WebhookDelivery {
  id: string
  subscriptionId: string
  /** The case event it reports (the audit trail's id): deliveries of one case go out in this order. */
  eventId: number
  caseId: string
  eventType: WebhookEventType
  /** Derived from the subscription and the event: the same on every attempt, and on a retry by hand. */
  idempotencyKey: string
  /** The JSON body, the same bytes on every attempt (only the signature's timestamp changes). */
  payload: string
  status: WebhookDeliveryStatus
  attempts: number
  nextAttemptAt: number
  lastError: string | null
  /** The receiver's last HTTP status (null when it never answered). */
  responseStatus: number | null
  createdAt: number
  updatedAt: number
}
