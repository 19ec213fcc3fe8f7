import type { Case, CaseEvent, CaseMessage, OutboxItem } from '@intake/core'
import type { caseEvents, cases, messages, outbox } from './schema.ts'

/** Rows as drizzle reads them, turned into the model's types; and the case list's paging cursor. */
export const COMPONENT = '[store/sqlite]'

type CaseRow = typeof cases.$inferSelect
type MessageRow = typeof messages.$inferSelect
type EventRow = typeof caseEvents.$inferSelect
export type OutboxRow = typeof outbox.$inferSelect

export function toCase(row: CaseRow): Case {
  return {
    id: row.id,
    trackingCode: row.trackingCode,
    status: row.status,
    officeId: row.officeId,
    category: row.category,
    urgency: row.urgency,
    channelId: row.channelId,
    citizen:
      row.citizenName === null
        ? { channelId: row.channelId, id: row.citizenId }
        : { channelId: row.channelId, id: row.citizenId, displayName: row.citizenName },
    contact: row.contact,
    anonymous: row.anonymous,
    summary: row.summary,
    place: row.place,
    placeCode: row.placeCode,
    placeName: row.placeName,
    language: row.language,
    deadlineAt: row.deadlineAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    resolvedAt: row.resolvedAt,
    rating: row.rating,
    assigneeId: row.assigneeId,
    clusterId: row.clusterId,
    acceptDeadlineAt: row.acceptDeadlineAt,
    acceptedAt: row.acceptedAt,
    reopenCount: row.reopenCount,
  }
}

export function toMessage(row: MessageRow): CaseMessage {
  return {
    id: row.id,
    caseId: row.caseId ?? '',
    direction: row.direction,
    channelId: row.channelId,
    externalId: row.externalId,
    author: row.author,
    subject: row.subject,
    text: row.text,
    attachments: row.attachments,
    deliveryStatus: row.deliveryStatus,
    createdAt: row.createdAt,
  }
}

export function toEvent(row: EventRow): CaseEvent {
  return {
    id: row.id,
    caseId: row.caseId ?? '',
    at: row.at,
    type: row.type,
    actor: row.actor,
    public: row.public,
    data: row.data,
  }
}

export function toOutboxItem(row: OutboxRow): OutboxItem {
  return {
    id: row.id,
    messageId: row.messageId,
    caseId: row.caseId ?? '',
    channelId: row.channelId,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.nextAttemptAt,
    lastError: row.lastError,
    providerId: row.providerId,
    idempotencyKey: row.idempotencyKey,
    payload: row.payload,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

/** The cursor is the sort key of the last case on the page: (createdAt, id), newest first. */
export function encodeCursor(last: Case): string {
  return Buffer.from(JSON.stringify([last.createdAt, last.id])).toString('base64url')
}

export function decodeCursor(cursor: string): { createdAt: number; id: string } {
  let decoded: unknown
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    decoded = undefined
  }
  if (
    !Array.isArray(decoded) ||
    decoded.length !== 2 ||
    !Number.isSafeInteger(decoded[0]) ||
    typeof decoded[1] !== 'string'
  ) {
    throw Object.assign(new Error(`${COMPONENT} invalid cursor '${cursor}'`), { code: 'invalid_cursor' })
  }
  return { createdAt: decoded[0] as number, id: decoded[1] }
}
