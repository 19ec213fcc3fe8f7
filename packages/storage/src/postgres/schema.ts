/**
 * The PostgreSQL tables behind the Store contract, column for column the SQLite ones
 * (../sqlite/schema.ts) so that `intake migrate-store` copies rows across unchanged. Timestamps are
 * bigint milliseconds since the epoch (read back as numbers: they stay far below 2^53); nested
 * values are `json`, not `jsonb`, because jsonb reorders keys and drops duplicates, and an audit
 * trail keeps what it was given. Migrations in ../../migrations/postgres are generated from this
 * file by drizzle-kit (`pnpm db:generate`); edit this file, then regenerate, never the SQL by hand.
 */
import { sql } from 'drizzle-orm'
import { bigint, boolean, doublePrecision, index, integer, json, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core'
import type {
  Attachment,
  CaseEvent,
  CaseMessage,
  CaseStatus,
  Contact,
  DeliveryStatus,
  Office,
  OfficeSettings,
  OutboundMessage,
  OutboxStatus,
  Urgency,
  AccountEvent,
  ApiToken,
  StaffUser,
  WebhookDeliveryStatus,
  WebhookEventType,
} from '@intake/core'

/** Milliseconds since the epoch. */
const millis = (name: string) => bigint(name, { mode: 'number' })

export const offices = pgTable('offices', {
  id: text('id').primaryKey(),
  // The office tree is read whole and never queried by field, so one JSON document is enough.
  data: json('data').$type<Office>().notNull(),
})

export const cases = pgTable(
  'cases',
  {
    id: text('id').primaryKey(),
    trackingCode: text('tracking_code').notNull().unique(),
    status: text('status').$type<CaseStatus>().notNull(),
    officeId: text('office_id').notNull(),
    category: text('category'),
    urgency: text('urgency').$type<Urgency>().notNull(),
    // Doubles as the citizen address's channel: a case is answered on the channel it came in on.
    channelId: text('channel_id').notNull(),
    citizenId: text('citizen_id').notNull(),
    citizenName: text('citizen_name'),
    contact: json('contact').$type<Contact>(),
    anonymous: boolean('anonymous').notNull(),
    summary: text('summary').notNull(),
    place: text('place'),
    // The administrative place routing found; lists filter by code prefix (a subtree of places).
    placeCode: text('place_code'),
    placeName: text('place_name'),
    language: text('language').notNull(),
    deadlineAt: millis('deadline_at'),
    createdAt: millis('created_at').notNull(),
    updatedAt: millis('updated_at').notNull(),
    resolvedAt: millis('resolved_at'),
    rating: integer('rating'),
    assigneeId: text('assignee_id'),
    // When the current assignee got the case: round-robin continues after the latest.
    assignedAt: millis('assigned_at'),
    // When the retention policy removed the citizen's personal data from the case.
    erasedAt: millis('erased_at'),
    clusterId: text('cluster_id'),
    acceptDeadlineAt: millis('accept_deadline_at'),
    acceptedAt: millis('accepted_at'),
    reopenCount: integer('reopen_count').notNull().default(0),
  },
  (t) => [
    index('cases_status_idx').on(t.status),
    index('cases_office_load_idx').on(t.officeId, t.status, t.assigneeId),
    index('cases_office_assigned_idx').on(t.officeId, t.assignedAt, t.id).where(sql`${t.assignedAt} is not null`),
    index('cases_sender_idx').on(t.channelId, t.citizenId, t.updatedAt),
    index('cases_created_idx').on(t.createdAt, t.id),
    index('cases_deadline_idx').on(t.deadlineAt),
    index('cases_place_idx').on(t.placeCode, t.createdAt),
    index('cases_office_created_idx').on(t.officeId, t.createdAt, t.id),
    index('cases_office_status_created_idx').on(t.officeId, t.status, t.createdAt, t.id),
    // A cluster's members; only clustered cases are in it.
    index('cases_cluster_idx').on(t.clusterId).where(sql`${t.clusterId} is not null`),
  ],
)

/** Duplicate clusters; their members are the cases whose cluster_id names them. */
export const clusters = pgTable('clusters', {
  id: text('id').primaryKey(),
  createdAt: millis('created_at').notNull(),
  updatedAt: millis('updated_at').notNull(),
  createdBy: text('created_by').notNull(),
})

/**
 * What a new case is compared on to find the open case it duplicates (one row per case that has a
 * category and a place). Kept apart from `cases` because only duplicate matching reads it.
 */
export const clusterKeys = pgTable(
  'cluster_keys',
  {
    caseId: text('case_id')
      .primaryKey()
      .references(() => cases.id),
    category: text('category').notNull(),
    placeKey: text('place_key'),
    lat: doublePrecision('lat'),
    lon: doublePrecision('lon'),
    createdAt: millis('created_at').notNull(),
    text: text('text').notNull(),
  },
  (t) => [
    index('cluster_keys_place_idx').on(t.category, t.placeKey, t.createdAt).where(sql`${t.placeKey} is not null`),
    index('cluster_keys_point_idx').on(t.category, t.lat).where(sql`${t.lat} is not null`),
  ],
)

export const messages = pgTable(
  'messages',
  {
    id: text('id').primaryKey(),
    // Write order: an inbound message and its acknowledgement share a timestamp (SQLite's rowid).
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity(),
    // NULL for a status answer to someone who is not the case's citizen: it belongs to no case.
    caseId: text('case_id').references(() => cases.id),
    direction: text('direction').$type<CaseMessage['direction']>().notNull(),
    channelId: text('channel_id').notNull(),
    externalId: text('external_id'),
    author: text('author').notNull(),
    subject: text('subject'),
    text: text('text').notNull(),
    attachments: json('attachments').$type<Attachment[]>().notNull(),
    deliveryStatus: text('delivery_status').$type<DeliveryStatus>().notNull(),
    createdAt: millis('created_at').notNull(),
  },
  (t) => [
    index('messages_case_idx').on(t.caseId, t.createdAt),
    index('messages_external_idx').on(t.channelId, t.externalId),
  ],
)

export const caseEvents = pgTable(
  'case_events',
  {
    // The store's (the next after the chain's head, under the chain's lock): the id order is the
    // append order of the audit trail.
    id: bigint('id', { mode: 'number' }).primaryKey(),
    caseId: text('case_id')
      .notNull()
      .references(() => cases.id),
    at: millis('at').notNull(),
    type: text('type').$type<CaseEvent['type']>().notNull(),
    actor: text('actor').notNull(),
    public: boolean('public').notNull(),
    data: json('data').$type<Record<string, unknown>>().notNull(),
    // The audit hash chain (core audit/chain.ts): the previous row's hash, and this row's own.
    prevHash: text('prev_hash'),
    hash: text('hash'),
  },
  (t) => [
    index('case_events_case_idx').on(t.caseId),
    // Supervision's case filters (escalated, extension pending: supervision-conditions.ts) read
    // these few rows instead of every open case's events.
    index('case_events_escalated_idx').on(t.caseId).where(sql`${t.type} = 'escalated'`),
    index('case_events_extension_requested_idx').on(t.caseId, t.id).where(sql`${t.type} = 'extension_requested'`),
    index('case_events_extension_decided_idx').on(t.caseId, t.id).where(sql`${t.type} = 'extension_decided'`),
  ],
)

export const inbox = pgTable(
  'inbox',
  {
    id: text('id').primaryKey(),
    channelId: text('channel_id').notNull(),
    externalId: text('external_id').notNull(),
    receivedAt: millis('received_at').notNull(),
    // Raw provider payload, kept verbatim for audit and replay; NULL when the adapter kept none.
    payload: json('payload'),
    caseId: text('case_id').notNull(),
    messageId: text('message_id').notNull(),
  },
  // The idempotency key of intake: a provider's retry of the same message hits this constraint,
  // whichever process it reaches.
  (t) => [uniqueIndex('inbox_channel_external_uq').on(t.channelId, t.externalId)],
)

export const outbox = pgTable(
  'outbox',
  {
    id: text('id').primaryKey(),
    messageId: text('message_id')
      .notNull()
      .references(() => messages.id),
    // NULL for a status answer that belongs to no case (see messages.case_id).
    caseId: text('case_id').references(() => cases.id),
    channelId: text('channel_id').notNull(),
    status: text('status').$type<OutboxStatus>().notNull(),
    attempts: integer('attempts').notNull(),
    nextAttemptAt: millis('next_attempt_at').notNull(),
    lastError: text('last_error'),
    providerId: text('provider_id'),
    idempotencyKey: text('idempotency_key').notNull(),
    payload: json('payload').$type<OutboundMessage>().notNull(),
    // Set while a worker holds the row in `sending`; a lease in the past means that worker died.
    leaseUntil: millis('lease_until'),
    createdAt: millis('created_at').notNull(),
    updatedAt: millis('updated_at').notNull(),
  },
  (t) => [
    index('outbox_due_idx').on(t.status, t.nextAttemptAt),
    index('outbox_case_idx').on(t.caseId),
  ],
)

export const attachments = pgTable(
  'attachments',
  {
    id: text('id').primaryKey(),
    messageId: text('message_id')
      .notNull()
      .references(() => messages.id),
    caseId: text('case_id')
      .notNull()
      .references(() => cases.id),
    filename: text('filename'),
    contentType: text('content_type').notNull(),
    size: integer('size').notNull(),
    sha256: text('sha256'),
    blobKey: text('blob_key'),
  },
  (t) => [index('attachments_message_idx').on(t.messageId)],
)

/** Citizens who asked for no more messages on a channel (STOP, 退订); START deletes the row. */
export const optOuts = pgTable(
  'opt_outs',
  {
    channelId: text('channel_id').notNull(),
    citizenId: text('citizen_id').notNull(),
    optedOutAt: millis('opted_out_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.citizenId] })],
)

/** Cases handed to another system (an office's `forwardTo`): the id it gave, and what it said last. */
export const caseLinks = pgTable(
  'case_links',
  {
    caseId: text('case_id')
      .notNull()
      .references(() => cases.id),
    channelId: text('channel_id').notNull(),
    externalId: text('external_id').notNull(),
    linkedAt: millis('linked_at').notNull(),
    seen: text('seen'),
  },
  (t) => [primaryKey({ columns: [t.caseId, t.channelId] }), index('case_links_channel_idx').on(t.channelId)],
)

/** Voice messages waiting for a transcript; the row goes when the transcript (or the last attempt) is recorded. */
export const transcriptions = pgTable(
  'transcriptions',
  {
    messageId: text('message_id')
      .primaryKey()
      .references(() => messages.id),
    caseId: text('case_id')
      .notNull()
      .references(() => cases.id),
    blobKey: text('blob_key').notNull(),
    contentType: text('content_type').notNull(),
    language: text('language'),
    attempts: integer('attempts').notNull(),
    nextAttemptAt: millis('next_attempt_at').notNull(),
    // While a worker holds it: a lease in the past means that worker died.
    leaseUntil: millis('lease_until'),
    lastError: text('last_error'),
  },
  (t) => [index('transcriptions_due_idx').on(t.nextAttemptAt)],
)

/** Offices' contacts, rosters and deadlines changed live by administrators, laid over the offices file. */
export const officeSettings = pgTable('office_settings', {
  officeId: text('office_id').primaryKey(),
  data: json('data').$type<OfficeSettings>().notNull(),
  updatedAt: millis('updated_at').notNull(),
})

/** Duty changes made through the API; staff not listed here are as the offices file says. */
export const staffDuty = pgTable('staff_duty', {
  staffId: text('staff_id').primaryKey(),
  onDuty: boolean('on_duty').notNull(),
  updatedAt: millis('updated_at').notNull(),
})

/** Delivery reports that arrived before the outbox recorded the provider id they name. */
export const heldDeliveryReports = pgTable(
  'held_delivery_reports',
  {
    channelId: text('channel_id').notNull(),
    providerId: text('provider_id').notNull(),
    status: text('status').$type<DeliveryStatus>().notNull(),
    receivedAt: millis('received_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.providerId] }), index('held_delivery_reports_received_idx').on(t.receivedAt)],
)

/**
 * Assignments decided by pickAssignee, so that processes sharing the database decide in turn: the
 * latest pick is round-robin's last assignee, and a pick whose case is not written (committed) yet
 * still counts for least-open. Picks older than PICK_MEMORY_MS are pruned as others are made.
 */
export const assignmentPicks = pgTable(
  'assignment_picks',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    officeId: text('office_id').notNull(),
    staffId: text('staff_id').notNull(),
    caseId: text('case_id').notNull(),
    at: millis('at').notNull(),
  },
  (t) => [index('assignment_picks_office_idx').on(t.officeId, t.seq)],
)

/**
 * One row per case for statistics (core stats/projection.ts): the case's current dimensions and
 * status (kept by triggers, see case-stats.ts), and facts folded from its events in the same
 * transaction; `intake stats rebuild` recomputes it from them.
 */
export const caseStats = pgTable(
  'case_stats',
  {
    caseId: text('case_id')
      .primaryKey()
      .references(() => cases.id),
    officeId: text('office_id').notNull(),
    channelId: text('channel_id').notNull(),
    category: text('category'),
    placeCode: text('place_code'),
    status: text('status').$type<CaseStatus>().notNull(),
    receivedAt: millis('received_at').notNull(),
    deadlineAt: millis('deadline_at'),
    acceptDeadlineAt: millis('accept_deadline_at'),
    acceptedAt: millis('accepted_at'),
    firstResolvedAt: millis('first_resolved_at'),
    resolvedAt: millis('resolved_at'),
    resolvedOnTime: boolean('resolved_on_time'),
    closedAt: millis('closed_at'),
    rating: integer('rating'),
    satisfied: boolean('satisfied'),
    reopenCount: integer('reopen_count').notNull(),
  },
  (t) => [
    index('case_stats_office_idx').on(t.officeId, t.receivedAt),
    index('case_stats_place_idx').on(t.placeCode, t.receivedAt),
  ],
)

/**
 * Timers of the lifecycle (acceptance due, reminders, escalation, the survey): one row per
 * (case, kind, point), gone once it fired. Worked like the outbox: leased with FOR UPDATE SKIP
 * LOCKED, and fired only by the holder of its current `version`, so a timer fires once across
 * processes, restarts and re-plans.
 */
export const timers = pgTable(
  'timers',
  {
    // `${caseId}|${kind}|${point}`: planning the same timer again moves it instead of doubling it.
    id: text('id').primaryKey(),
    caseId: text('case_id')
      .notNull()
      .references(() => cases.id),
    kind: text('kind').notNull(),
    point: text('point').notNull(),
    dueAt: millis('due_at').notNull(),
    leaseUntil: millis('lease_until'),
    version: integer('version').notNull(),
  },
  (t) => [index('timers_due_idx').on(t.dueAt, t.id), index('timers_case_idx').on(t.caseId)],
)

/** Staff accounts (core access/). */
export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey(),
    login: text('login').notNull(),
    name: text('name').notNull(),
    officeId: text('office_id').notNull(),
    role: text('role').$type<StaffUser['role']>().notNull(),
    passwordHash: text('password_hash').notNull(),
    disabled: boolean('disabled').notNull(),
    createdAt: millis('created_at').notNull(),
    updatedAt: millis('updated_at').notNull(),
  },
  // Logins are compared lower-cased: "Li.Wei" and "li.wei" are one account.
  (t) => [uniqueIndex('users_login_uq').on(sql`lower(${t.login})`), index('users_office_idx').on(t.officeId)],
)

/** API tokens; only the SHA-256 of the secret is kept. */
export const apiTokens = pgTable('api_tokens', {
  id: text('id').primaryKey(),
  hash: text('hash').notNull().unique(),
  name: text('name').notNull(),
  userId: text('user_id').references(() => users.id),
  officeId: text('office_id'),
  scopes: json('scopes').$type<ApiToken['scopes']>().notNull(),
  createdAt: millis('created_at').notNull(),
  revokedAt: millis('revoked_at'),
})

/** Console sessions, by the SHA-256 of the cookie's id. */
export const sessions = pgTable(
  'sessions',
  {
    idHash: text('id_hash').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    csrfToken: text('csrf_token').notNull(),
    createdAt: millis('created_at').notNull(),
    lastSeenAt: millis('last_seen_at').notNull(),
    expiresAt: millis('expires_at').notNull(),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
)

/** Account changes, on a hash chain of their own (like case_events). */
export const accountEvents = pgTable('account_events', {
  id: bigint('id', { mode: 'number' }).primaryKey(),
  at: millis('at').notNull(),
  type: text('type').$type<AccountEvent['type']>().notNull(),
  actor: text('actor').notNull(),
  subject: text('subject').notNull(),
  data: json('data').$type<Record<string, unknown>>().notNull(),
  prevHash: text('prev_hash'),
  hash: text('hash'),
})

/** Event subscriptions made through the API (the config's are not stored). */
export const webhookSubscriptions = pgTable('webhook_subscriptions', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  // The HMAC key each delivery is signed with: kept as given, since signing needs it.
  secret: text('secret').notNull(),
  events: json('events').$type<WebhookEventType[]>().notNull(),
  officeId: text('office_id'),
  includeContact: boolean('include_contact').notNull(),
  createdAt: millis('created_at').notNull(),
  createdBy: text('created_by').notNull(),
})

/**
 * One case event on its way to one subscription, worked like the outbox (leased, retried, dead).
 * `subscription_id` has no foreign key: a config subscription has no row.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    subscriptionId: text('subscription_id').notNull(),
    eventId: bigint('event_id', { mode: 'number' }).notNull(),
    caseId: text('case_id').notNull(),
    eventType: text('event_type').$type<WebhookEventType>().notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    // The exact JSON text that is signed and sent on every attempt.
    payload: text('payload').notNull(),
    status: text('status').$type<WebhookDeliveryStatus>().notNull(),
    attempts: integer('attempts').notNull(),
    nextAttemptAt: millis('next_attempt_at').notNull(),
    lastError: text('last_error'),
    responseStatus: integer('response_status'),
    leaseUntil: millis('lease_until'),
    createdAt: millis('created_at').notNull(),
    updatedAt: millis('updated_at').notNull(),
  },
  (t) => [
    // An event is queued once per subscription, whoever's feed read it.
    uniqueIndex('webhook_deliveries_event_uq').on(t.subscriptionId, t.eventId),
    // The claim's "an earlier event of this case is still on its way" lookup.
    index('webhook_deliveries_case_idx').on(t.subscriptionId, t.caseId, t.eventId),
    index('webhook_deliveries_due_idx').on(t.status, t.nextAttemptAt),
  ],
)

/** How far the webhook feed has read the case events (one row, `name` = 'case_events'). */
export const webhookCursor = pgTable('webhook_cursor', {
  name: text('name').primaryKey(),
  eventId: bigint('event_id', { mode: 'number' }).notNull(),
})
