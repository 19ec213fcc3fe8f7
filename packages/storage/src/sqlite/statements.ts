import { randomUUID } from 'node:crypto'
import type Database from 'better-sqlite3'
import { and, eq, sql } from 'drizzle-orm'
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import {
  caseEventToAppend,
  GENESIS,
  rowHash,
  OPEN_STATUSES,
  StoreConflictError,
  type Case,
  type CaseEventInput,
  type CaseMessage,
  type OutboundWrite,
  type TimerPlan,
} from '@intake/core'
import { COMPONENT, type OutboxRow } from './rows.ts'
import { foldStatsEvents, prepareStatsStatements } from './case-stats.ts'
import { attachments, cases, heldDeliveryReports, inbox, messages, outbox } from './schema.ts'

const p = (name: string) => sql.placeholder(name)

/** An outbox row as schema.ts maps it, read with plain SQL: the payload is still JSON text. */
const OUTBOX_COLUMNS = `id, message_id as messageId, case_id as caseId, channel_id as channelId, status, attempts,
  next_attempt_at as nextAttemptAt, last_error as lastError, provider_id as providerId, idempotency_key as idempotencyKey,
  payload, lease_until as leaseUntil, created_at as createdAt, updated_at as updatedAt`
type RawOutboxRow = Omit<OutboxRow, 'payload'> & { payload: string }
export const fromRawOutboxRow = (row: RawOutboxRow): OutboxRow => ({ ...row, payload: JSON.parse(row.payload) })

/**
 * Drizzle builds and compiles a query's SQL on every call unless it is prepared; on the intake path
 * that was most of the cost of a message (bench/README.md). These run with placeholders instead.
 * better-sqlite3 has one connection, so statements prepared on `db` run inside its transactions.
 */
export function prepareHotStatements(db: BetterSQLite3Database, client: Database.Database) {
  return {
    stats: prepareStatsStatements(client),
    // Plain SQL: drizzle binds LIMIT as a parameter, and SQLite plans `LIMIT ?` with this ORDER BY
    // several times slower than `LIMIT 1` (measured 55 µs vs 7 µs per lookup, once per message).
    // Assignment, once per case landing in an office that assigns: both read indexes only
    // (cases_office_load_idx, cases_office_assigned_idx).
    openCasesPerAssignee: client.prepare(
      `select assignee_id as assigneeId, count(*) as open from cases
       where office_id = ? and status in (${OPEN_STATUSES.map((s) => `'${s}'`).join(', ')}) and assignee_id is not null
       group by assignee_id`,
    ),
    lastAssigneeId: client
      .prepare(
        `select assignee_id from cases where office_id = ? and assigned_at is not null
         order by assigned_at desc, id desc limit 1`,
      )
      .pluck(),
    staffDuty: client.prepare(`select staff_id as staffId, on_duty as onDuty from staff_duty`),
    openCaseIdBySender: client
      .prepare(
        `select id from cases where channel_id = ? and citizen_id = ? and updated_at >= ?
         and status in (${OPEN_STATUSES.map((s) => `'${s}'`).join(', ')})
         order by updated_at desc, created_at desc, id desc limit 1`,
      )
      .pluck(),
    // The inserts run once or more per message: plain SQL with named parameters skips drizzle's
    // per-value mapping (measured as a tenth of the gateway's CPU under load). Column lists follow
    // schema.ts; the kit's round-trip tests catch any drift.
    claimInbox: client.prepare(
      `insert into inbox (id, channel_id, external_id, received_at, payload, case_id, message_id)
       values (@id, @channelId, @externalId, @receivedAt, @payload, @caseId, @messageId)
       on conflict (channel_id, external_id) do nothing returning id`,
    ),
    insertCaseRow: client.prepare(
      `insert into cases (id, tracking_code, status, office_id, category, urgency, channel_id, citizen_id,
         citizen_name, contact, anonymous, summary, place, place_code, place_name, language, deadline_at, created_at, updated_at, resolved_at, rating,
         assignee_id, assigned_at, cluster_id, accept_deadline_at, accepted_at, reopen_count)
       values (@id, @trackingCode, @status, @officeId, @category, @urgency, @channelId, @citizenId,
         @citizenName, @contact, @anonymous, @summary, @place, @placeCode, @placeName, @language, @deadlineAt, @createdAt, @updatedAt, @resolvedAt, @rating,
         @assigneeId, @assignedAt, @clusterId, @acceptDeadlineAt, @acceptedAt, @reopenCount)`,
    ),
    insertMessageRow: client.prepare(
      `insert into messages (id, case_id, direction, channel_id, external_id, author, subject, text, attachments, delivery_status, created_at)
       values (@id, @caseId, @direction, @channelId, @externalId, @author, @subject, @text, @attachments, @deliveryStatus, @createdAt)`,
    ),
    // Timers: planning moves an existing (case, kind, point) and gives it a new version, so a
    // worker still holding the old lease cannot fire it.
    planTimer: client.prepare(
      `insert into timers (id, case_id, kind, point, due_at, lease_until, version)
       values (@id, @caseId, @kind, @point, @dueAt, null, 1)
       on conflict (id) do update set due_at = excluded.due_at, lease_until = null, version = timers.version + 1`,
    ),
    touchCaseOnly: client.prepare(`update cases set updated_at = ? where id = ?`),
    cancelTimersOfCase: client.prepare(`delete from timers where case_id = ?`),
    cancelTimerKind: client.prepare(`delete from timers where case_id = ? and kind = ?`),
    dueTimers: client.prepare(
      `select id from timers where due_at <= @now and (lease_until is null or lease_until < @now)
       order by due_at, id limit @limit`,
    ),
    leaseTimer: client.prepare(
      `update timers set lease_until = @leaseUntil, version = version + 1 where id = @id
       returning id, case_id as caseId, kind, point, due_at as dueAt, version`,
    ),
    fireTimer: client.prepare(`delete from timers where id = @id and version = @version`),
    // The chain's head, read inside the write transaction (BEGIN IMMEDIATE holds the lock), so two
    // writers never link to the same row.
    lastEvent: client.prepare(`select id, hash from case_events order by id desc limit 1`),
    insertEventRow: client.prepare(
      `insert into case_events (id, case_id, at, type, actor, public, data, prev_hash, hash)
       values (@id, @caseId, @at, @type, @actor, @public, @data, @prevHash, @hash)`,
    ),
    insertOutboxRow: client.prepare(
      `insert into outbox (id, message_id, case_id, channel_id, status, attempts, next_attempt_at, last_error, provider_id,
         idempotency_key, payload, lease_until, created_at, updated_at)
       values (@id, @messageId, @caseId, @channelId, @status, @attempts, @nextAttemptAt, @lastError, @providerId,
         @idempotencyKey, @payload, null, @createdAt, @updatedAt)`,
    ),
    insertClusterKeys: client.prepare(
      `insert into cluster_keys (case_id, category, place_key, lat, lon, created_at, text, open, cluster_id)
       values (@caseId, @category, @placeKey, @lat, @lon, @createdAt, @text, @open, @clusterId)`,
    ),
    // When a place's answer is not in memory (candidate-cache.ts): cluster_keys_place_idx, then the
    // rows of the newest candidates; or cluster_keys_open_point_idx then the rows in the latitude band.
    clusterCandidatesByPlace: client.prepare(
      `select case_id as caseId, cluster_id as clusterId, category, place_key as placeKey, lat, lon, created_at as createdAt, text
       from cluster_keys
       where category = @category and place_key = @placeKey and open = 1 and created_at >= @since
       order by created_at desc, case_id desc limit @limit`,
    ),
    clusterCandidatesByPoint: client.prepare(
      `select case_id as caseId, cluster_id as clusterId, category, place_key as placeKey, lat, lon, created_at as createdAt, text
       from cluster_keys
       where category = @category and open = 1 and lat between @minLat and @maxLat and lon between @minLon and @maxLon
         and created_at >= @since
       order by created_at desc, case_id desc limit @limit`,
    ),
    // Cluster membership (linkCluster, and a new case joining at intake).
    setCaseCluster: client.prepare(`update cases set cluster_id = @clusterId, updated_at = @updatedAt where id = @id`),
    touchCluster: client.prepare(`update clusters set updated_at = @updatedAt where id = @id`),
    clusterExists: client.prepare(`select 1 from clusters where id = @id`).pluck(),
    // What a cluster link reads of a case: whether it exists, and its cluster (not the whole row
    // through drizzle's mapping, which cost a joining message ~70 µs on the writer thread).
    caseClusterById: client.prepare(`select cluster_id as clusterId from cases where id = @id`) as Database.Statement<
      [{ id: string }],
      { clusterId: string | null }
    >,
    insertCluster: client.prepare(`insert into clusters (id, created_at, updated_at, created_by) values (@id, @at, @at, @createdBy)`),
    inboxByKey: db
      .select({ caseId: inbox.caseId, messageId: inbox.messageId })
      .from(inbox)
      .where(and(eq(inbox.channelId, p('channelId')), eq(inbox.externalId, p('externalId'))))
      .prepare(),
    touchCase: db.update(cases).set({ updatedAt: sql`${p('updatedAt')}` }).where(eq(cases.id, p('id'))).returning({ id: cases.id }).prepare(),
    reopenCase: db
      .update(cases)
      .set({ updatedAt: sql`${p('updatedAt')}`, status: 'received', resolvedAt: null })
      .where(eq(cases.id, p('id')))
      .returning({ id: cases.id })
      .prepare(),
    insertAttachment: db
      .insert(attachments)
      .values({
        id: p('id'),
        messageId: p('messageId'),
        caseId: p('caseId'),
        filename: p('filename'),
        contentType: p('contentType'),
        size: p('size'),
        sha256: p('sha256'),
        blobKey: p('blobKey'),
      })
      .prepare(),
    caseById: db.select().from(cases).where(eq(cases.id, p('id'))).prepare(),
    caseByTrackingCode: db.select().from(cases).where(eq(cases.trackingCode, p('code'))).prepare(),
    // The outbox's claim, completion and opt-out check run for every reply: plain SQL, as the inserts.
    dueOutbox: client.prepare(
      `select id from outbox
       where (status = 'pending' and next_attempt_at <= @now) or (status = 'sending' and lease_until < @now)
       order by next_attempt_at, created_at, id limit @limit`,
    ) as Database.Statement<[{ now: number; limit: number }], { id: string }>,
    leaseOutbox: client.prepare(
      `update outbox set status = 'sending', lease_until = @leaseUntil, attempts = attempts + 1, updated_at = @now where id = @id
       returning ${OUTBOX_COLUMNS}`,
    ) as Database.Statement<[{ id: string; leaseUntil: number; now: number }], RawOutboxRow>,
    completeOutbox: client.prepare(
      `update outbox set status = 'sent', provider_id = @providerId, lease_until = null, updated_at = @now where id = @id
       returning message_id as messageId, channel_id as channelId`,
    ) as Database.Statement<[{ id: string; providerId: string; now: number }], { messageId: string; channelId: string }>,
    // Asked before every delivery.
    optedOut: client.prepare(`select 1 from opt_outs where channel_id = @channelId and citizen_id = @citizenId`).pluck() as Database.Statement<
      [{ channelId: string; citizenId: string }],
      number
    >,
    heldReport: client.prepare(`select status from held_delivery_reports where channel_id = @channelId and provider_id = @providerId`) as Database.Statement<
      [{ channelId: string; providerId: string }],
      { status: string }
    >,
    dropHeldReport: db
      .delete(heldDeliveryReports)
      .where(and(eq(heldDeliveryReports.channelId, p('channelId')), eq(heldDeliveryReports.providerId, p('providerId'))))
      .prepare(),
    setMessageDeliveryStatus: db.update(messages).set({ deliveryStatus: sql`${p('status')}` }).where(eq(messages.id, p('id'))).prepare(),
    markMessageSent: client.prepare(`update messages set delivery_status = 'sent', external_id = @providerId where id = @id`),
    markMessageDead: db.update(messages).set({ deliveryStatus: 'dead' }).where(eq(messages.id, p('id'))).prepare(),
    outboxById: db.select().from(outbox).where(eq(outbox.id, p('id'))).prepare(),
    killOutbox: db
      .update(outbox)
      .set({ status: 'dead', lastError: sql`${p('error')}`, leaseUntil: null, updatedAt: sql`${p('now')}` })
      .where(eq(outbox.id, p('id')))
      .prepare(),
    retryOutboxLater: db
      .update(outbox)
      .set({
        status: 'pending',
        nextAttemptAt: sql`${p('retryAt')}`,
        lastError: sql`${p('error')}`,
        leaseUntil: null,
        updatedAt: sql`${p('now')}`,
      })
      .where(eq(outbox.id, p('id')))
      .prepare(),
  }
}
export type HotStatements = ReturnType<typeof prepareHotStatements>

export function insertCase(q: HotStatements, c: Case): void {
  if (c.citizen.channelId !== c.channelId) {
    // The table keeps one channel column for both; refuse rather than silently lose one of them.
    throw new Error(
      `${COMPONENT} case ${c.id}: citizen.channelId '${c.citizen.channelId}' differs from channelId '${c.channelId}'`,
    )
  }
  try {
    q.insertCaseRow.run({
      id: c.id,
      trackingCode: c.trackingCode,
      status: c.status,
      officeId: c.officeId,
      category: c.category,
      urgency: c.urgency,
      channelId: c.channelId,
      citizenId: c.citizen.id,
      citizenName: c.citizen.displayName ?? null,
      contact: c.contact === null ? null : JSON.stringify(c.contact),
      anonymous: c.anonymous ? 1 : 0,
      summary: c.summary,
      place: c.place,
      placeCode: c.placeCode ?? null,
      placeName: c.placeName ?? null,
      language: c.language,
      deadlineAt: c.deadlineAt,
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
      resolvedAt: c.resolvedAt,
      rating: c.rating,
      assigneeId: c.assigneeId,
      assignedAt: c.assigneeId === null ? null : c.createdAt,
      clusterId: c.clusterId ?? null,
      acceptDeadlineAt: c.acceptDeadlineAt,
      acceptedAt: c.acceptedAt,
      reopenCount: c.reopenCount,
    })
  } catch (error) {
    if (isUniqueViolation(error, 'cases.tracking_code')) throw new StoreConflictError('tracking_code')
    throw error
  }
}

/** Apply a case's timer plan: drop the cancelled kinds, then plan (or move) each timer. */
export function applyTimerPlan(q: HotStatements, caseId: string, plan: TimerPlan | undefined): void {
  if (!plan) return
  if (plan.cancel === 'all') q.cancelTimersOfCase.run(caseId)
  else for (const kind of plan.cancel ?? []) q.cancelTimerKind.run(caseId, kind)
  for (const t of plan.timers) q.planTimer.run({ id: timerId(caseId, t.kind, t.point), caseId, kind: t.kind, point: t.point, dueAt: t.dueAt })
}

export const timerId = (caseId: string, kind: string, point: string) => `${caseId}|${kind}|${point}`

export function insertMessage(q: HotStatements, message: CaseMessage): void {
  // A status answer to someone who is not the case's citizen belongs to no case ('' in the model).
  q.insertMessageRow.run({ ...message, caseId: message.caseId || null, attachments: JSON.stringify(message.attachments) })
  for (const attachment of message.attachments) {
    q.insertAttachment.run({
      // The model lets an attachment arrive before the blob store has named it.
      id: attachment.id ?? randomUUID(),
      messageId: message.id,
      caseId: message.caseId,
      filename: attachment.filename ?? null,
      contentType: attachment.contentType,
      size: attachment.size,
      sha256: attachment.sha256 ?? null,
      blobKey: attachment.blobKey ?? null,
    })
  }
}

export function insertEvents(q: HotStatements, events: CaseEventInput[]): void {
  if (events.length === 0) return
  const head = q.lastEvent.get() as { id: number; hash: string | null } | undefined
  // Ids are the store's (the next after the head), so the append order cannot be forged; AUTOINCREMENT
  // keeps them from being reused should the head row ever be deleted.
  let id = head?.id ?? 0
  let prevHash = head?.hash ?? GENESIS
  for (const input of events) {
    // Checking fills the default `data` and rejects an unknown event type before it reaches the audit trail.
    const event = caseEventToAppend(input)
    id++
    const row = { caseId: event.caseId, at: event.at, type: event.type, actor: event.actor, public: event.public ? 1 : 0, data: JSON.stringify(event.data) }
    const hash = rowHash(prevHash, id, caseEventFields(row))
    q.insertEventRow.run({ ...row, id, prevHash, hash })
    prevHash = hash
  }
  foldStatsEvents(q.stats, events)
}

/** The hashed fields of a case event, as stored. */
export const caseEventFields = (r: { caseId: string; at: number; type: string; actor: string; public: number; data: string }) =>
  [r.caseId, r.at, r.type, r.actor, r.public, r.data] as const

/** The hashed fields of an account event, as stored. */
export const accountEventFields = (r: { at: number; type: string; actor: string; subject: string; data: string }) =>
  [r.at, r.type, r.actor, r.subject, r.data] as const

export function insertOutbound(q: HotStatements, outbound: OutboundWrite[]): void {
  for (const { message, outbox: item } of outbound) {
    insertMessage(q, message)
    q.insertOutboxRow.run({ ...item, caseId: item.caseId || null, payload: JSON.stringify(item.payload) })
  }
}

function isUniqueViolation(error: unknown, column: string): boolean {
  // better-sqlite3 throws SqliteError directly; drizzle's async paths wrap it in `cause`.
  for (let e = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code
    if ((code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') && e.message.includes(column)) {
      return true
    }
  }
  return false
}
