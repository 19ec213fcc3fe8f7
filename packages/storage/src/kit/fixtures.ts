/**
 * Builders of valid Store inputs for tests: the storage kit, other drivers' tests and the core
 * pipeline's tests. Ids and tracking codes come from one counter, so every value is unique within a
 * test file and the same on every run. Every builder takes overrides for the fields a test cares about.
 */
import {
  newTrackingCode,
  type Case,
  type CaseEventInput,
  type CaseMessage,
  type InboundWrite,
  type OutboundWrite,
  type OutboxItem,
} from '@intake/core'

/** 2025-01-06 09:00 UTC, a Monday: the clock every fixture starts from. */
export const FIXTURE_TIME = Date.UTC(2025, 0, 6, 9, 0, 0)

let sequence = 0

/**
 * A unique id such as `case-000042`. Zero-padded so that string order equals creation order in
 * every database collation, which paging assertions rely on.
 */
export function fixtureId(prefix: string): string {
  sequence += 1
  return `${prefix}-${String(sequence).padStart(6, '0')}`
}

/** A unique, well-formed tracking code (valid check character), derived from the counter. */
export function fixtureTrackingCode(): string {
  sequence += 1
  let rest = sequence
  // Seven base-31 digits of the counter instead of random ones: unique and reproducible.
  return newTrackingCode((n) => {
    const digit = rest % n
    rest = Math.floor(rest / n)
    return digit
  })
}

export function makeCase(overrides: Partial<Case> = {}): Case {
  const channelId = overrides.channelId ?? overrides.citizen?.channelId ?? 'sms'
  const at = overrides.createdAt ?? FIXTURE_TIME
  return {
    id: fixtureId('case'),
    trackingCode: fixtureTrackingCode(),
    status: 'received',
    officeId: 'intake-desk',
    category: null,
    urgency: 'normal',
    channelId,
    citizen: { channelId, id: '+15550100' },
    contact: null,
    anonymous: false,
    summary: 'Streetlight out on Elm Street',
    place: null,
    placeCode: null,
    placeName: null,
    language: 'en',
    deadlineAt: null,
    createdAt: at,
    updatedAt: at,
    resolvedAt: null,
    rating: null,
    assigneeId: null,
    clusterId: null,
    ...overrides,
  }
}

/** The citizen's message (direction `in`). */
export function makeInboundMessage(overrides: Partial<CaseMessage> & Pick<CaseMessage, 'caseId'>): CaseMessage {
  return {
    id: fixtureId('msg'),
    direction: 'in',
    channelId: 'sms',
    externalId: fixtureId('SM'),
    author: '+15550100',
    subject: null,
    text: 'The streetlight on Elm Street has been out for a week.',
    attachments: [],
    deliveryStatus: 'received',
    createdAt: FIXTURE_TIME,
    ...overrides,
  }
}

export interface OutboundOptions {
  kind?: 'acknowledgement' | 'reply' | 'notice'
  text?: string
  at?: number
  /** When the outbox may first try it; default `at`. */
  nextAttemptAt?: number
  author?: string
}

/** A reply to the citizen of `forCase`, on the case's channel: the message and its pending outbox row. */
export function makeOutbound(forCase: Case, options: OutboundOptions = {}): OutboundWrite {
  const { kind = 'acknowledgement', at = FIXTURE_TIME, author = kind === 'reply' ? 'staff-1' : 'system' } = options
  const text = options.text ?? `We received your message. Tracking code: ${forCase.trackingCode}`
  const message: CaseMessage = {
    id: fixtureId('msg'),
    caseId: forCase.id,
    direction: 'out',
    channelId: forCase.channelId,
    externalId: null,
    author,
    subject: null,
    text,
    attachments: [],
    deliveryStatus: 'pending',
    createdAt: at,
  }
  const outboxId = fixtureId('out')
  const item: OutboxItem = {
    id: outboxId,
    messageId: message.id,
    caseId: forCase.id,
    channelId: forCase.channelId,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: options.nextAttemptAt ?? at,
    lastError: null,
    providerId: null,
    idempotencyKey: `intake-${outboxId}`,
    payload: {
      id: message.id,
      caseId: forCase.id,
      channelId: forCase.channelId,
      to: forCase.citizen,
      kind,
      text,
      trackingCode: forCase.trackingCode,
      statusUrl: `https://intake.example.org/s/${forCase.trackingCode}`,
      language: forCase.language,
    },
    createdAt: at,
    updatedAt: at,
  }
  return { message, outbox: item }
}

export interface InboundWriteOptions {
  channelId?: string
  /** The provider's message id; unique by default. */
  externalId?: string
  citizenId?: string
  at?: number
  text?: string
  /** Fields of the new case (status, officeId, deadlineAt, trackingCode...). */
  case?: Partial<Case>
  /** Fields of the citizen's message. */
  message?: Partial<CaseMessage>
  /** Queue an acknowledgement (default true). */
  acknowledge?: boolean
  /** When the acknowledgement is due; default `at`. */
  ackDueAt?: number
  payload?: unknown
}

/**
 * What the pipeline writes for a message that opens a case: the inbox row, the case, the message,
 * `received` + `routed` (+ `acknowledged`) events and the acknowledgement in the outbox.
 *
 * @example
 * const write = makeInboundWrite({ channelId: 'web', case: { officeId: 'roads' } })
 * await store.recordInbound(write)
 * write.newCase.id // the case it opened
 */
export function makeInboundWrite(
  options: InboundWriteOptions = {},
): InboundWrite & { newCase: Case } {
  const at = options.at ?? FIXTURE_TIME
  const channelId = options.channelId ?? options.case?.channelId ?? 'sms'
  const citizenId = options.citizenId ?? options.case?.citizen?.id ?? '+15550100'
  const externalId = options.externalId ?? fixtureId('SM')
  const text = options.text ?? 'The streetlight on Elm Street has been out for a week.'
  const newCase = makeCase({
    channelId,
    citizen: { channelId, id: citizenId },
    summary: text.slice(0, 120),
    createdAt: at,
    updatedAt: at,
    ...options.case,
  })
  const message = makeInboundMessage({
    caseId: newCase.id,
    channelId,
    externalId,
    author: citizenId,
    text,
    createdAt: at,
    ...options.message,
  })
  const events: CaseEventInput[] = [
    { caseId: newCase.id, at, type: 'received', actor: 'citizen', public: true, data: { messageId: message.id } },
    {
      caseId: newCase.id,
      at,
      type: 'routed',
      actor: 'keywords',
      public: false,
      data: { officeId: newCase.officeId, reason: 'matched keyword "streetlight"', confidence: 0.9 },
    },
  ]
  const outbound: OutboundWrite[] = []
  if (options.acknowledge ?? true) {
    outbound.push(makeOutbound(newCase, { at, nextAttemptAt: options.ackDueAt ?? at }))
    events.push({ caseId: newCase.id, at, type: 'acknowledged', actor: 'system', public: true })
  }
  return {
    inbox: {
      id: fixtureId('inbox'),
      channelId,
      externalId,
      receivedAt: at,
      payload: options.payload ?? { From: citizenId, Body: text, MessageSid: externalId },
    },
    message,
    newCase,
    events,
    outbound,
  }
}

export interface FollowUpWriteOptions {
  externalId?: string
  at?: number
  text?: string
  reopen?: boolean
  /** Queue a notice that the follow-up was added (default false). */
  acknowledge?: boolean
}

/** What the pipeline writes when a citizen writes again about `existing`: the case is touched, not created. */
export function makeFollowUpWrite(existing: Case, options: FollowUpWriteOptions = {}): InboundWrite {
  const at = options.at ?? existing.updatedAt + 60_000
  const externalId = options.externalId ?? fixtureId('SM')
  const text = options.text ?? 'Any news? It is still dark at night.'
  const message = makeInboundMessage({
    caseId: existing.id,
    channelId: existing.channelId,
    externalId,
    author: existing.citizen.id,
    text,
    createdAt: at,
  })
  return {
    inbox: { id: fixtureId('inbox'), channelId: existing.channelId, externalId, receivedAt: at, payload: { Body: text } },
    message,
    touchCase: { id: existing.id, updatedAt: at, ...(options.reopen ? { reopen: true } : {}) },
    events: [
      { caseId: existing.id, at, type: 'follow_up', actor: 'citizen', public: true, data: { messageId: message.id } },
    ],
    outbound: options.acknowledge ? [makeOutbound(existing, { at, kind: 'notice', text: 'Added to your case.' })] : [],
  }
}

