/**
 * The SQLite tables behind the Store contract. Timestamps are integer milliseconds since the epoch,
 * booleans are 0/1 integers, and nested values (contact, attachments, payloads) are JSON text.
 * Migrations in ../../migrations/sqlite are generated from this file by drizzle-kit
 * (`pnpm db:generate`); edit this file, then regenerate, never the SQL by hand.
 */
import { sql } from 'drizzle-orm'
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import type {
  AccountEvent,
  ApiToken,
  StaffUser,
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
  WebhookDeliveryStatus,
  WebhookEventType,
} from '@intake/core'

export const offices = sqliteTable('offices', {
  id: text('id').primaryKey(),
  // The office tree is read whole and never queried by field, so one JSON document is enough.
  data: text('data', { mode: 'json' }).$type<Office>().notNull(),
})

export const cases = sqliteTable(
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
    contact: text('contact', { mode: 'json' }).$type<Contact>(),
    anonymous: integer('anonymous', { mode: 'boolean' }).notNull(),
    summary: text('summary').notNull(),
    place: text('place'),
    // The administrative place routing found; lists filter by code prefix (a subtree of places).
    placeCode: text('place_code'),
    placeName: text('place_name'),
    language: text('language').notNull(),
    deadlineAt: integer('deadline_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    resolvedAt: integer('resolved_at'),
    rating: integer('rating'),
    assigneeId: text('assignee_id'),
    // When the current assignee got the case: round-robin continues after the latest.
    assignedAt: integer('assigned_at'),
    // When the retention policy removed the citizen's personal data from the case.
    erasedAt: integer('erased_at'),
    clusterId: text('cluster_id'),
    acceptDeadlineAt: integer('accept_deadline_at'),
    acceptedAt: integer('accepted_at'),
    reopenCount: integer('reopen_count').notNull().default(0),
  },
  (t) => [
    // Retention's sweep (listCasesToErase): closed cases not yet erased, oldest first. Partial, so a
    // case enters it only when it closes — intake writes no entry (an index on status alone did, on
    // every new case, and answered no query better than the indexes below).
    index('cases_erasable_idx').on(t.updatedAt, t.id).where(sql`${t.status} = 'closed' and ${t.erasedAt} is null`),
    // Filters by office, and an office's open cases per assignee read from the index alone (assignment).
    index('cases_office_load_idx').on(t.officeId, t.status, t.assigneeId),
    // The office's latest assignment, for round-robin; only assigned cases are in it.
    index('cases_office_assigned_idx').on(t.officeId, t.assignedAt, t.id).where(sql`${t.assignedAt} is not null`),
    index('cases_sender_idx').on(t.channelId, t.citizenId, t.updatedAt),
    index('cases_created_idx').on(t.createdAt, t.id),
    // An office's (or a subtree's) case list, newest first, read in index order.
    index('cases_office_created_idx').on(t.officeId, t.createdAt, t.id),
    // The same list filtered by status (the console's most used filter), still in index order.
    index('cases_office_status_created_idx').on(t.officeId, t.status, t.createdAt, t.id),
    index('cases_deadline_idx').on(t.deadlineAt),
    // A cluster's members; only clustered cases are in it.
    index('cases_cluster_idx').on(t.clusterId).where(sql`${t.clusterId} is not null`),
    index('cases_place_idx').on(t.placeCode, t.createdAt),
  ],
)

/** Duplicate clusters; their members are the cases whose cluster_id names them. */
export const clusters = sqliteTable('clusters', {
  id: text('id').primaryKey(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  createdBy: text('created_by').notNull(),
})

/**
 * What a new case is compared on to find the open case it duplicates (one row per case that has a
 * category and a place). Kept apart from `cases` because only duplicate matching reads it.
 */
export const clusterKeys = sqliteTable(
  'cluster_keys',
  {
    caseId: text('case_id')
      .primaryKey()
      .references(() => cases.id),
    category: text('category').notNull(),
    placeKey: text('place_key'),
    lat: real('lat'),
    lon: real('lon'),
    createdAt: integer('created_at').notNull(),
    text: text('text').notNull(),
    // Copies of the case's state, kept in step by triggers on cases (cluster-keys.ts): the candidate
    // query at intake then reads this table's index alone, not one case row per candidate.
    open: integer('open', { mode: 'boolean' }).notNull().default(true),
    clusterId: text('cluster_id'),
  },
  (t) => [
    // Candidates at intake: same category and place, open, newest first, within the window. The
    // gateway keeps each place's answer in memory (candidate-cache.ts) and reads it again only every
    // few seconds, so the index carries the keys alone: every new case writes one entry, and a copy
    // of its words in the index cost each intake more than the occasional read of twenty rows saves.
    index('cluster_keys_place_idx')
      .on(t.category, t.placeKey, t.open, t.createdAt, t.caseId)
      .where(sql`${t.placeKey} is not null`),
    // Candidates by point: same category, open, latitude in a band (longitude filtered on the rows found).
    index('cluster_keys_open_point_idx').on(t.category, t.open, t.lat).where(sql`${t.lat} is not null`),
  ],
)

export const messages = sqliteTable(
  'messages',
  {
    id: text('id').primaryKey(),
    // NULL for a status answer to someone who is not the case's citizen: it belongs to no case.
    caseId: text('case_id').references(() => cases.id),
    direction: text('direction').$type<CaseMessage['direction']>().notNull(),
    channelId: text('channel_id').notNull(),
    externalId: text('external_id'),
    author: text('author').notNull(),
    subject: text('subject'),
    text: text('text').notNull(),
    attachments: text('attachments', { mode: 'json' }).$type<Attachment[]>().notNull(),
    deliveryStatus: text('delivery_status').$type<DeliveryStatus>().notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    index('messages_case_idx').on(t.caseId, t.createdAt),
    index('messages_external_idx').on(t.channelId, t.externalId),
  ],
)

export const caseEvents = sqliteTable(
  'case_events',
  {
    // AUTOINCREMENT so ids are never reused: the id order is the append order of the audit trail.
    id: integer('id').primaryKey({ autoIncrement: true }),
    caseId: text('case_id')
      .notNull()
      .references(() => cases.id),
    at: integer('at').notNull(),
    type: text('type').$type<CaseEvent['type']>().notNull(),
    actor: text('actor').notNull(),
    public: integer('public', { mode: 'boolean' }).notNull(),
    data: text('data', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    // The audit hash chain (packages/core/src/audit/chain.ts): the previous row's hash, and this
    // row's own over its content and that link. NULL only on rows written before the chain existed,
    // which migrate() chains once.
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

export const inbox = sqliteTable(
  'inbox',
  {
    id: text('id').primaryKey(),
    channelId: text('channel_id').notNull(),
    externalId: text('external_id').notNull(),
    receivedAt: integer('received_at').notNull(),
    // Raw provider payload, kept verbatim for audit and replay; NULL when the adapter kept none.
    payload: text('payload'),
    caseId: text('case_id').notNull(),
    messageId: text('message_id').notNull(),
  },
  // The idempotency key of intake: a provider's retry of the same message hits this constraint.
  (t) => [uniqueIndex('inbox_channel_external_uq').on(t.channelId, t.externalId)],
)

export const outbox = sqliteTable(
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
    nextAttemptAt: integer('next_attempt_at').notNull(),
    lastError: text('last_error'),
    providerId: text('provider_id'),
    idempotencyKey: text('idempotency_key').notNull(),
    payload: text('payload', { mode: 'json' }).$type<OutboundMessage>().notNull(),
    // Set while a worker holds the row in `sending`; a lease in the past means that worker died.
    leaseUntil: integer('lease_until'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('outbox_due_idx').on(t.status, t.nextAttemptAt),
    index('outbox_case_idx').on(t.caseId),
  ],
)

export const attachments = sqliteTable(
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
export const optOuts = sqliteTable(
  'opt_outs',
  {
    channelId: text('channel_id').notNull(),
    citizenId: text('citizen_id').notNull(),
    optedOutAt: integer('opted_out_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.citizenId] })],
)

/** Cases handed to another system (an office's `forwardTo`): the id it gave, and what it said last. */
export const caseLinks = sqliteTable(
  'case_links',
  {
    caseId: text('case_id')
      .notNull()
      .references(() => cases.id),
    channelId: text('channel_id').notNull(),
    externalId: text('external_id').notNull(),
    linkedAt: integer('linked_at').notNull(),
    seen: text('seen'),
  },
  (t) => [primaryKey({ columns: [t.caseId, t.channelId] }), index('case_links_channel_idx').on(t.channelId)],
)

/** Voice messages waiting for a transcript; the row goes when the transcript (or the last attempt) is recorded. */
export const transcriptions = sqliteTable(
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
    nextAttemptAt: integer('next_attempt_at').notNull(),
    // While a worker holds it: a lease in the past means that worker died.
    leaseUntil: integer('lease_until'),
    lastError: text('last_error'),
  },
  (t) => [index('transcriptions_due_idx').on(t.nextAttemptAt)],
)

/** Offices' contacts, rosters and deadlines changed live by administrators, laid over the offices file. */
export const officeSettings = sqliteTable('office_settings', {
  officeId: text('office_id').primaryKey(),
  data: text('data', { mode: 'json' }).$type<OfficeSettings>().notNull(),
  updatedAt: integer('updated_at').notNull(),
})

/** Duty changes made through the API; staff not listed here are as the offices file says. */
export const staffDuty = sqliteTable('staff_duty', {
  staffId: text('staff_id').primaryKey(),
  onDuty: integer('on_duty', { mode: 'boolean' }).notNull(),
  updatedAt: integer('updated_at').notNull(),
})

/** Delivery reports that arrived before the outbox recorded the provider id they name. */
export const heldDeliveryReports = sqliteTable(
  'held_delivery_reports',
  {
    channelId: text('channel_id').notNull(),
    providerId: text('provider_id').notNull(),
    status: text('status').$type<DeliveryStatus>().notNull(),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.providerId] }), index('held_delivery_reports_received_idx').on(t.receivedAt)],
)

/** Staff accounts (packages/core/src/access). */
export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    login: text('login').notNull(),
    name: text('name').notNull(),
    officeId: text('office_id').notNull(),
    role: text('role').$type<StaffUser['role']>().notNull(),
    passwordHash: text('password_hash').notNull(),
    disabled: integer('disabled', { mode: 'boolean' }).notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  // Logins are compared lower-cased: "Li.Wei" and "li.wei" are one account.
  (t) => [uniqueIndex('users_login_uq').on(sql`lower(${t.login})`), index('users_office_idx').on(t.officeId)],
)

/** API tokens; only the SHA-256 of the secret is kept. */
export const apiTokens = sqliteTable('api_tokens', {
  id: text('id').primaryKey(),
  hash: text('hash').notNull().unique(),
  name: text('name').notNull(),
  userId: text('user_id').references(() => users.id),
  officeId: text('office_id'),
  scopes: text('scopes', { mode: 'json' }).$type<ApiToken['scopes']>().notNull(),
  createdAt: integer('created_at').notNull(),
  revokedAt: integer('revoked_at'),
})

/** Console sessions, by the SHA-256 of the cookie's id. */
export const sessions = sqliteTable(
  'sessions',
  {
    idHash: text('id_hash').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    csrfToken: text('csrf_token').notNull(),
    createdAt: integer('created_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
)

/** Account changes, on a hash chain of their own (like case_events). */
export const accountEvents = sqliteTable('account_events', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  at: integer('at').notNull(),
  type: text('type').$type<AccountEvent['type']>().notNull(),
  actor: text('actor').notNull(),
  subject: text('subject').notNull(),
  data: text('data', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  prevHash: text('prev_hash'),
  hash: text('hash'),
})
/**
 * One row per case for statistics (core stats/projection.ts): the case's current dimensions and
 * status, and facts folded from its events. Written in the same transaction as the case and its
 * events; `intake stats rebuild` recomputes it from them.
 */
export const caseStats = sqliteTable(
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
    receivedAt: integer('received_at').notNull(),
    deadlineAt: integer('deadline_at'),
    acceptDeadlineAt: integer('accept_deadline_at'),
    acceptedAt: integer('accepted_at'),
    firstResolvedAt: integer('first_resolved_at'),
    resolvedAt: integer('resolved_at'),
    resolvedOnTime: integer('resolved_on_time', { mode: 'boolean' }),
    closedAt: integer('closed_at'),
    rating: integer('rating'),
    satisfied: integer('satisfied', { mode: 'boolean' }),
    reopenCount: integer('reopen_count').notNull(),
  },
  (t) => [
    // An office subtree over a period: one range per office of the subtree, read from this index
    // alone (it carries every column the figures use), in order, instead of one table page per case
    // scattered over the file. Measured in bench/stats: 100,000 cases of a county.
    index('case_stats_office_cover_idx').on(
      t.officeId,
      t.receivedAt,
      t.status,
      t.deadlineAt,
      t.acceptDeadlineAt,
      t.acceptedAt,
      t.firstResolvedAt,
      t.resolvedAt,
      t.resolvedOnTime,
      t.rating,
      t.satisfied,
      t.reopenCount,
      t.channelId,
      t.category,
      t.placeCode,
    ),
    index('case_stats_place_idx').on(t.placeCode, t.receivedAt),
  ],
)

/**
 * Timers of the lifecycle (acceptance due, reminders, escalation, the survey): one row per
 * (case, kind, point), gone once it fired. Worked like the outbox: leased, and fired only by the
 * holder of its current `version`, so a timer fires once even across restarts and re-plans.
 */
export const timers = sqliteTable(
  'timers',
  {
    // `${caseId}|${kind}|${point}`: planning the same timer again moves it instead of doubling it.
    id: text('id').primaryKey(),
    caseId: text('case_id')
      .notNull()
      .references(() => cases.id),
    kind: text('kind').notNull(),
    point: text('point').notNull(),
    dueAt: integer('due_at').notNull(),
    leaseUntil: integer('lease_until'),
    version: integer('version').notNull(),
  },
  // (due_at, id) is the claim's ORDER BY: the due timers come off the index in order, no sort of the backlog.
  (t) => [index('timers_due_idx').on(t.dueAt, t.id), index('timers_case_idx').on(t.caseId)],
)

/** Event subscriptions made through the API (the config's are not stored). */
export const webhookSubscriptions = sqliteTable('webhook_subscriptions', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  // The HMAC key each delivery is signed with: kept as given, since signing needs it.
  secret: text('secret').notNull(),
  events: text('events', { mode: 'json' }).$type<WebhookEventType[]>().notNull(),
  officeId: text('office_id'),
  includeContact: integer('include_contact', { mode: 'boolean' }).notNull(),
  createdAt: integer('created_at').notNull(),
  createdBy: text('created_by').notNull(),
})

/**
 * One case event on its way to one subscription, worked like the outbox (leased, retried, dead).
 * `subscription_id` has no foreign key: a config subscription has no row.
 */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    subscriptionId: text('subscription_id').notNull(),
    eventId: integer('event_id').notNull(),
    caseId: text('case_id').notNull(),
    eventType: text('event_type').$type<WebhookEventType>().notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    // The exact JSON text that is signed and sent on every attempt.
    payload: text('payload').notNull(),
    status: text('status').$type<WebhookDeliveryStatus>().notNull(),
    attempts: integer('attempts').notNull(),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    lastError: text('last_error'),
    responseStatus: integer('response_status'),
    leaseUntil: integer('lease_until'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
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
export const webhookCursor = sqliteTable('webhook_cursor', {
  name: text('name').primaryKey(),
  eventId: integer('event_id').notNull(),
})
