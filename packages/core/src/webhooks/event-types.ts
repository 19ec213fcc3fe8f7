import type { CaseEvent } from '../model/index.ts'
import type { WebhookEventType } from './model.ts'

/** Status changes that are news of their own; dispatch, transfer and return have their own events. */
const BY_TRANSITION: Partial<Record<string, WebhookEventType>> = {
  accept: 'case.accepted',
  start: 'case.started',
  answer: 'case.answered',
  resolve: 'case.resolved',
  close: 'case.closed',
  reopen: 'case.reopened',
}

const BY_EVENT: Partial<Record<CaseEvent['type'], WebhookEventType>> = {
  received: 'case.created',
  routed: 'case.routed',
  dispatched: 'case.dispatched',
  transferred: 'case.transferred',
  returned: 'case.returned',
  assigned: 'case.assigned',
  replied: 'case.answered',
  rated: 'case.rated',
  escalated: 'case.escalated',
  acceptance_overdue: 'case.overdue',
  follow_up: 'message.received',
  delivery_failed: 'delivery.failed',
}

/**
 * The webhook event a case event is reported as, or undefined when it is not reported (notes,
 * timers, transcripts, views of the contact). `previous` is the event written just before it: a
 * staff reply writes `replied` and then the `answer` status change, which is one `case.answered`.
 */
export function webhookEventTypeOf(event: CaseEvent, previous?: CaseEvent): WebhookEventType | undefined {
  if (event.type !== 'status_changed') return BY_EVENT[event.type]
  const transition = typeof event.data.transition === 'string' ? event.data.transition : ''
  if (transition === 'answer' && previous?.caseId === event.caseId && previous.type === 'replied' && previous.at === event.at) return undefined
  return BY_TRANSITION[transition]
}
