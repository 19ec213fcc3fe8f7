import type { Case, CaseEvent, CaseMessage } from '../model/index.ts'
import type { WebhookEventType, WebhookSubscription } from './model.ts'

/** Keys of event data that name or reach a person (an alert's `to`, a contact): left out unless allowed. */
const PERSONAL_KEYS = new Set(['to', 'from', 'citizen', 'contact', 'phone', 'email', 'name', 'displayName', 'address', 'author'])

/** The case as a subscriber sees it; `citizen`, `contact` and `place` (a street address) only with `includeContact`. */
export interface WebhookCase {
  id: string
  trackingCode: string
  status: Case['status']
  officeId: string
  category: string | null
  urgency: Case['urgency']
  channelId: string
  language: string
  summary: string
  placeCode: string | null
  placeName: string | null
  deadlineAt: number | null
  acceptDeadlineAt: number | null
  createdAt: number
  updatedAt: number
  resolvedAt: number | null
  rating: number | null
  clusterId: string | null
  anonymous: boolean
  citizen?: Case['citizen']
  contact?: Case['contact']
  place?: string | null
}

/**
 * The JSON body of a delivery. `id` is the idempotency key (the same on every attempt); `case` is
 * the case as it stood when the event was queued, a moment after it was recorded.
 *
 * @example
 * { "id": "whk_city-crm_42", "type": "case.resolved", "eventId": 42, "occurredAt": 1767225600000,
 *   "case": { "id": "…", "trackingCode": "K7Q-4M2-P9", "status": "resolved", "officeId": "roads", … },
 *   "data": { "from": "replied", "to": "resolved", "transition": "resolve" } }
 */
export interface WebhookPayload {
  id: string
  type: WebhookEventType
  eventId: number
  occurredAt: number
  actor: string
  case: WebhookCase
  data: Record<string, unknown>
  /** For `message.received`: the citizen's message (its author only with `includeContact`). */
  message?: { id: string; channelId: string; text: string; subject: string | null; createdAt: number; author?: string }
}

/** Stable across attempts and across a retry by hand: the subscription and the event it reports. */
export const idempotencyKeyOf = (subscriptionId: string, eventId: number) => `whk_${subscriptionId}_${eventId}`

export function webhookCase(kase: Case, includeContact: boolean): WebhookCase {
  return {
    id: kase.id,
    trackingCode: kase.trackingCode,
    status: kase.status,
    officeId: kase.officeId,
    category: kase.category,
    urgency: kase.urgency,
    channelId: kase.channelId,
    language: kase.language,
    summary: kase.summary,
    placeCode: kase.placeCode,
    placeName: kase.placeName,
    deadlineAt: kase.deadlineAt,
    acceptDeadlineAt: kase.acceptDeadlineAt,
    createdAt: kase.createdAt,
    updatedAt: kase.updatedAt,
    resolvedAt: kase.resolvedAt,
    rating: kase.rating,
    clusterId: kase.clusterId,
    anonymous: kase.anonymous,
    ...(includeContact ? { citizen: kase.citizen, contact: kase.contact, place: kase.place } : {}),
  }
}

/** The body for one subscription, as the exact text that is signed and sent on every attempt. */
export function webhookBody(
  subscription: Pick<WebhookSubscription, 'id' | 'includeContact'>,
  type: WebhookEventType,
  event: CaseEvent & { id: number },
  kase: Case,
  message?: CaseMessage,
): string {
  const allowed = subscription.includeContact
  const data = allowed ? event.data : Object.fromEntries(Object.entries(event.data).filter(([key]) => !PERSONAL_KEYS.has(key)))
  const payload: WebhookPayload = {
    id: idempotencyKeyOf(subscription.id, event.id),
    type,
    eventId: event.id,
    occurredAt: event.at,
    actor: event.actor,
    case: webhookCase(kase, allowed),
    data,
    ...(message
      ? { message: { id: message.id, channelId: message.channelId, text: message.text, subject: message.subject, createdAt: message.createdAt, ...(allowed ? { author: message.author } : {}) } }
      : {}),
  }
  return JSON.stringify(payload)
}
