/**
 * The intake write in one SQL statement (and, since the audit hash chain, its events appended after
 * it in the same transaction: see access.ts). A gateway process spends most of a message's time in
 * round trips to the server (each one a wakeup of this process and of a backend, costly on a busy
 * machine): a transaction of BEGIN, eight INSERTs and COMMIT measured several times slower than
 * this one statement, whose data-modifying CTEs run as one implicit transaction — all or nothing.
 * Every insert is gated on the inbox claim, so a provider's retry writes nothing; foreign keys are
 * checked at the end of the statement, so the messages may name the case inserted beside them.
 * Lists arrive as JSON arrays of rows keyed by column name (json_populate_recordset), inserted in
 * array order (WITH ORDINALITY), so the message `seq` and event ids keep the write order.
 */
import type { Case, CaseMessage, InboundWrite } from '@intake/core'
import { newCaseStatsRow } from './case-stats.ts'
import { COMPONENT } from './errors.ts'

export const RECORD_INBOUND_SQL = `
with claim as (
  insert into inbox (id, channel_id, external_id, received_at, payload, case_id, message_id)
  values ($1, $2, $3, $4, $5::json, $6, $7)
  on conflict (channel_id, external_id) do nothing
  returning id
),
new_case as (
  insert into cases (id, tracking_code, status, office_id, category, urgency, channel_id, citizen_id, citizen_name,
    contact, anonymous, summary, place, place_code, place_name, language, deadline_at, created_at, updated_at, resolved_at, rating,
    assignee_id, assigned_at, cluster_id, accept_deadline_at, accepted_at, reopen_count)
  select r.id, r.tracking_code, r.status, r.office_id, r.category, r.urgency, r.channel_id, r.citizen_id, r.citizen_name,
    r.contact, r.anonymous, r.summary, r.place, r.place_code, r.place_name, r.language, r.deadline_at, r.created_at, r.updated_at,
    r.resolved_at, r.rating, r.assignee_id, r.assigned_at, r.cluster_id, r.accept_deadline_at, r.accepted_at, r.reopen_count
  from json_populate_recordset(null::cases, $8::json) r
  where exists (select 1 from claim)
  returning id
),
touched as (
  update cases set
    updated_at = $10::bigint,
    rating = coalesce($12::int, rating),
    status = case when $12::int is not null then 'closed' when $11::boolean then 'received' else status end,
    resolved_at = case when $12::int is null and $11::boolean then null else resolved_at end
  where id = $9::text and exists (select 1 from claim)
  returning id
),
new_messages as (
  insert into messages (id, case_id, direction, channel_id, external_id, author, subject, text, attachments, delivery_status, created_at)
  select r.id, r.case_id, r.direction, r.channel_id, r.external_id, r.author, r.subject, r.text, r.attachments, r.delivery_status, r.created_at
  from json_populate_recordset(null::messages, $13::json) with ordinality r
  where exists (select 1 from claim)
  order by r.ordinality
  returning id
),
new_attachments as (
  insert into attachments (id, message_id, case_id, filename, content_type, size, sha256, blob_key)
  select r.id, r.message_id, r.case_id, r.filename, r.content_type, r.size, r.sha256, r.blob_key
  from json_populate_recordset(null::attachments, $14::json) r
  where exists (select 1 from claim)
  returning id
),
new_events as (
  insert into case_events (case_id, at, type, actor, public, data)
  select r.case_id, r.at, r.type, r.actor, r.public, r.data
  from json_populate_recordset(null::case_events, $15::json) with ordinality r
  where exists (select 1 from claim)
  order by r.ordinality
  returning id
),
new_outbox as (
  insert into outbox (id, message_id, case_id, channel_id, status, attempts, next_attempt_at, last_error, provider_id,
    idempotency_key, payload, lease_until, created_at, updated_at)
  select r.id, r.message_id, r.case_id, r.channel_id, r.status, r.attempts, r.next_attempt_at, r.last_error, r.provider_id,
    r.idempotency_key, r.payload, null, r.created_at, r.updated_at
  from json_populate_recordset(null::outbox, $16::json) r
  where exists (select 1 from claim)
  returning id
),
new_transcription as (
  insert into transcriptions (message_id, case_id, blob_key, content_type, language, attempts, next_attempt_at, lease_until, last_error)
  select r.message_id, r.case_id, r.blob_key, r.content_type, r.language, r.attempts, r.next_attempt_at, null, r.last_error
  from json_populate_recordset(null::transcriptions, $17::json) r
  where exists (select 1 from claim)
  returning message_id
),
new_cluster_keys as (
  insert into cluster_keys (case_id, category, place_key, lat, lon, created_at, text)
  select r.case_id, r.category, r.place_key, r.lat, r.lon, r.created_at, r.text
  from json_populate_recordset(null::cluster_keys, $18::json) r
  where exists (select 1 from claim)
  returning case_id
),
-- The new case's stats row, its own events folded in already (the insert trigger then finds it there).
new_case_stats as (
  insert into case_stats (case_id, office_id, channel_id, category, place_code, status, received_at, deadline_at, accept_deadline_at,
    accepted_at, first_resolved_at, resolved_at, resolved_on_time, closed_at, rating, satisfied, reopen_count)
  select r.case_id, r.office_id, r.channel_id, r.category, r.place_code, r.status, r.received_at, r.deadline_at, r.accept_deadline_at,
    r.accepted_at, r.first_resolved_at, r.resolved_at, r.resolved_on_time, r.closed_at, r.rating, r.satisfied, r.reopen_count
  from json_populate_recordset(null::case_stats, $19::json) r
  where exists (select 1 from claim)
  returning case_id
),
-- The case's timers when the plan only adds (a new case's): planning one again moves it.
new_timers as (
  insert into timers (id, case_id, kind, point, due_at, lease_until, version)
  select r.id, r.case_id, r.kind, r.point, r.due_at, null, 1
  from json_populate_recordset(null::timers, $20::json) r
  where exists (select 1 from claim)
  on conflict (id) do update set due_at = excluded.due_at, lease_until = null, version = timers.version + 1
  returning id
)
select (select count(*) from claim)::int as claimed, (select count(*) from touched)::int as touched`

/** The statement's parameters for one inbound write (rows as JSON, keyed by column name). */
export function recordInboundParams(write: InboundWrite): unknown[] {
  const messages = [write.message, ...write.outbound.map((o) => o.message)]
  const inStatement = splitInbound(write)
  const touch = inStatement.touch ? write.touchCase : undefined
  return [
    write.inbox.id,
    write.inbox.channelId,
    write.inbox.externalId,
    write.inbox.receivedAt,
    JSON.stringify(write.inbox.payload) ?? null,
    write.message.caseId,
    write.message.id,
    JSON.stringify(write.newCase ? [caseRow(write.newCase)] : []),
    touch?.id ?? null,
    touch?.updatedAt ?? null,
    touch?.reopen ?? false,
    touch?.rating ?? null,
    JSON.stringify(messages.map(messageRow)),
    JSON.stringify(messages.flatMap(attachmentRows)),
    // Events are appended after the statement, on the audit chain (access.ts, in the same
    // transaction): the statement's event insert is given none.
    '[]',
    JSON.stringify(
      write.outbound.map(({ outbox: o }) => ({
        id: o.id,
        message_id: o.messageId,
        case_id: o.caseId || null,
        channel_id: o.channelId,
        status: o.status,
        attempts: o.attempts,
        next_attempt_at: o.nextAttemptAt,
        last_error: o.lastError,
        provider_id: o.providerId,
        idempotency_key: o.idempotencyKey,
        payload: o.payload,
        created_at: o.createdAt,
        updated_at: o.updatedAt,
      })),
    ),
    JSON.stringify(
      write.transcription
        ? [
            {
              message_id: write.transcription.messageId,
              case_id: write.transcription.caseId,
              blob_key: write.transcription.blobKey,
              content_type: write.transcription.contentType,
              language: write.transcription.language ?? null,
              attempts: write.transcription.attempts,
              next_attempt_at: write.transcription.nextAttemptAt,
              last_error: write.transcription.lastError,
            },
          ]
        : [],
    ),
    JSON.stringify(
      write.newCase && write.clusterKeys
        ? [
            {
              case_id: write.newCase.id,
              category: write.clusterKeys.category,
              place_key: write.clusterKeys.placeKey,
              lat: write.clusterKeys.lat,
              lon: write.clusterKeys.lon,
              created_at: write.newCase.createdAt,
              text: write.clusterKeys.text,
            },
          ]
        : [],
    ),
    JSON.stringify(write.newCase ? [statsRowColumns(newCaseStatsRow(write.newCase, write.events))] : []),
    JSON.stringify(
      inStatement.timers
        ? dedupeTimers(timerCaseId(write), inStatement.timers.timers).map((t) => ({ id: timerId(t.caseId, t.kind, t.point), case_id: t.caseId, kind: t.kind, point: t.point, due_at: t.dueAt }))
        : [],
    ),
  ]
}

/** The case a write's timer plan is for (as SQLite's driver decides it). */
export const timerCaseId = (write: InboundWrite) => write.newCase?.id ?? write.touchCase?.id ?? write.message.caseId

export const timerId = (caseId: string, kind: string, point: string) => `${caseId}|${kind}|${point}`

/** One row per timer id (the last planned wins): an upsert may not touch a row twice. */
export function dedupeTimers(caseId: string, list: readonly { kind: string; point: string; dueAt: number }[]) {
  const byId = new Map<string, { caseId: string; kind: string; point: string; dueAt: number }>()
  for (const t of list) byId.set(timerId(caseId, t.kind, t.point), { caseId, kind: t.kind, point: t.point, dueAt: t.dueAt })
  return [...byId.values()]
}

/**
 * What of a write the statement does itself: all of it, unless it carries a case patch (applied
 * after, in the same transaction, as a case change) or a timer plan that cancels (likewise).
 */
export function splitInbound(write: InboundWrite): { timers?: InboundWrite['timers']; touch: boolean; later: { patch?: NonNullable<InboundWrite['touchCase']>['patch']; timers?: InboundWrite['timers'] } } {
  const patch = write.touchCase?.patch
  const timersLater = write.timers && write.timers.cancel !== undefined ? write.timers : undefined
  return {
    timers: timersLater ? undefined : write.timers,
    touch: patch === undefined,
    later: { ...(patch ? { patch } : {}), ...(timersLater ? { timers: timersLater } : {}) },
  }
}

function statsRowColumns(r: ReturnType<typeof newCaseStatsRow>) {
  return {
    case_id: r.caseId,
    office_id: r.officeId,
    channel_id: r.channelId,
    category: r.category,
    place_code: r.placeCode,
    status: r.status,
    received_at: r.receivedAt,
    deadline_at: r.deadlineAt,
    accept_deadline_at: r.acceptDeadlineAt,
    accepted_at: r.acceptedAt,
    first_resolved_at: r.firstResolvedAt,
    resolved_at: r.resolvedAt,
    resolved_on_time: r.resolvedOnTime,
    closed_at: r.closedAt,
    rating: r.rating,
    satisfied: r.satisfied,
    reopen_count: r.reopenCount,
  }
}

function caseRow(c: Case) {
  if (c.citizen.channelId !== c.channelId) {
    // The table keeps one channel column for both; refuse rather than silently lose one of them.
    throw new Error(`${COMPONENT} case ${c.id}: citizen.channelId '${c.citizen.channelId}' differs from channelId '${c.channelId}'`)
  }
  return {
    id: c.id,
    tracking_code: c.trackingCode,
    status: c.status,
    office_id: c.officeId,
    category: c.category,
    urgency: c.urgency,
    channel_id: c.channelId,
    citizen_id: c.citizen.id,
    citizen_name: c.citizen.displayName ?? null,
    contact: c.contact,
    anonymous: c.anonymous,
    summary: c.summary,
    place: c.place,
    place_code: c.placeCode ?? null,
    place_name: c.placeName ?? null,
    language: c.language,
    deadline_at: c.deadlineAt,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    resolved_at: c.resolvedAt,
    rating: c.rating,
    assignee_id: c.assigneeId,
    assigned_at: c.assigneeId === null ? null : c.createdAt,
    cluster_id: c.clusterId ?? null,
    accept_deadline_at: c.acceptDeadlineAt ?? null,
    accepted_at: c.acceptedAt ?? null,
    reopen_count: c.reopenCount ?? 0,
  }
}

function messageRow(m: CaseMessage) {
  return {
    id: m.id,
    // A status answer to someone who is not the case's citizen belongs to no case ('' in the model).
    case_id: m.caseId || null,
    direction: m.direction,
    channel_id: m.channelId,
    external_id: m.externalId,
    author: m.author,
    subject: m.subject,
    text: m.text,
    attachments: m.attachments,
    delivery_status: m.deliveryStatus,
    created_at: m.createdAt,
  }
}

function attachmentRows(m: CaseMessage) {
  return m.attachments.map((a) => ({
    // The model lets an attachment arrive before the blob store has named it.
    id: a.id ?? crypto.randomUUID(),
    message_id: m.id,
    case_id: m.caseId || null,
    filename: a.filename ?? null,
    content_type: a.contentType,
    size: a.size,
    sha256: a.sha256 ?? null,
    blob_key: a.blobKey ?? null,
  }))
}
