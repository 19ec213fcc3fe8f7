import type { StatsCounts, StatsSelection } from '../stats/figures.ts'
import type {
  Case,
  CaseEventInput,
  CaseEvent,
  CaseFilterInput,
  CaseMessage,
  Cluster,
  CaseStatus,
  DeliveryStatus,
  Office,
  OutboxItem,
  OutboxStatus,
} from '../model/index.ts'
import type { AccountEvent, AccountEventInput, ApiToken, StaffSession, StaffUser } from '../access/model.ts'
import type { CaseScope } from '../access/identity.ts'
import type { ChainVerdict } from '../audit/chain.ts'
import type { WebhookDelivery, WebhookDeliveryStatus, WebhookSubscription } from '../webhooks/model.ts'
import type { OfficeSettings } from '../offices/settings.ts'

/** The raw provider payload as it arrived, kept for audit and replay. */
export interface InboxRow {
  id: string
  channelId: string
  externalId: string
  receivedAt: number
  payload: unknown
}

/** A reply headed for the outbox: the message on the record and its delivery row. */
export interface OutboundWrite {
  message: CaseMessage
  outbox: OutboxItem
}

/**
 * Everything one inbound message changes, written in one transaction:
 * the inbox row, the case (new, or touched when this is a follow-up), the message,
 * the events and the acknowledgement's outbox rows. All or nothing.
 */
export interface InboundWrite {
  inbox: InboxRow
  /**
   * `caseId: ''` (with no newCase or touchCase, and the outbound rows' caseId '' too) records a
   * status lookup that belongs to no case: someone asked about a case that is not theirs, or a code
   * that names none. The cited case is left untouched; the inbox row still makes the message idempotent.
   */
  message: CaseMessage
  /** Present when the message opens a new case. */
  newCase?: Case
  /**
   * Present when the message follows up an existing case: `reopen` puts a resolved case back to
   * work; `rating` (1–5, the citizen's answer to the resolution notice) closes it with that rating;
   * `patch` sets fields as a case change does (the lifecycle's rating: closed, or reopened).
   */
  touchCase?: { id: string; updatedAt: number; reopen?: boolean; rating?: number; patch?: CaseChange['patch'] }
  events: CaseEventInput[]
  outbound: OutboundWrite[]
  /** Timers of the case (new or touched) to plan in the same transaction. */
  timers?: TimerPlan
  /** Present when the message is audio that still needs a transcript: the worker takes it from here. */
  transcription?: PendingTranscription
  /** What the new case is compared on when later cases look for the open case they duplicate. */
  clusterKeys?: ClusterKeys
  /** The new case duplicates this open case: both join its cluster (a new one when it has none). */
  joinCluster?: { withCaseId: string; newClusterId: string; data?: Record<string, unknown> }
}

/**
 * What a case is matched on for duplicate clusters: its category, its place (a key such as the
 * lowest place code, or a normalized place name) and/or a point, and its words.
 */
export interface ClusterKeys {
  category: string
  placeKey: string | null
  lat: number | null
  lon: number | null
  /** The citizen's words (normalized and cut to a few hundred characters by the caller). */
  text: string
}

/** Open cases a new case may duplicate: same category, created at or after `since`, same place key or a point in the box. */
export interface ClusterCandidateQuery {
  category: string
  since: number
  placeKey?: string
  /** Latitude and longitude bounds around the new case's point, in degrees. */
  box?: { minLat: number; maxLat: number; minLon: number; maxLon: number }
  /** Newest first, at most this many. */
  limit: number
}

export interface ClusterCandidate extends ClusterKeys {
  caseId: string
  clusterId: string | null
  createdAt: number
}

/**
 * A staff member's (or intake's) change to cluster membership. Atomic; the store writes the
 * `clustered` / `unclustered` events with `data` merged in.
 * - `join`: put the case into an existing cluster.
 * - `pair`: put the case into `withCaseId`'s cluster, creating `newClusterId` when that case has none.
 * - `leave`: take the case out of its cluster.
 */
export type ClusterLink =
  | { op: 'join'; caseId: string; clusterId: string; at: number; actor: string; data?: Record<string, unknown> }
  | { op: 'pair'; caseId: string; withCaseId: string; newClusterId: string; at: number; actor: string; data?: Record<string, unknown> }
  | { op: 'leave'; caseId: string; clusterId: string; at: number; actor: string; data?: Record<string, unknown> }

export type ClusterLinkResult =
  | { ok: true; clusterId: string; changed: boolean }
  | { ok: false; code: 'case_not_found' | 'cluster_not_found' | 'already_clustered' | 'not_a_member' | 'same_case'; caseId: string; clusterId?: string }

/** A cluster with its member cases, oldest first. */
export interface ClusterView {
  cluster: Cluster
  members: Case[]
}

/** A voice message waiting for its transcript (the first attempt failed or no engine answered in time). */
export interface PendingTranscription {
  messageId: string
  caseId: string
  /** The audio attachment to transcribe. */
  blobKey: string
  contentType: string
  language?: string
  attempts: number
  nextAttemptAt: number
  lastError: string | null
}

/** What became of one transcription attempt. */
export type TranscriptionOutcome =
  /** The message's text becomes the transcript; the change carries the events (and any re-routing). */
  | { text: string; change: CaseChange }
  | { retryAt: number; error: string }
  /** Given up: the change records it on the case (staff listen to the audio). */
  | { dead: true; error: string; change: CaseChange }

export type InboundWriteResult =
  | { duplicate: false }
  /** (channelId, externalId) was already in the inbox: nothing was written. */
  | { duplicate: true; caseId: string; messageId: string }

/** A change a person or a rule makes to a case: fields, events and replies together. */
export interface CaseChange {
  caseId: string
  at: number
  patch?: Partial<
    Pick<
      Case,
      'status' | 'officeId' | 'category' | 'urgency' | 'deadlineAt' | 'resolvedAt' | 'rating' | 'summary' | 'assigneeId' | 'acceptDeadlineAt' | 'acceptedAt' | 'reopenCount'
    >
  >
  events: CaseEventInput[]
  outbound?: OutboundWrite[]
  /** Timers of this case to (re)plan in the same transaction. */
  timers?: TimerPlan
}

/** What a timer does when it comes due; other areas may add kinds. */
export type TimerKind = 'accept_due' | 'remind' | 'deadline_due' | 'escalate' | 'survey' | 'survey_expire' | (string & {})

/** A timer to plan: one per (case, kind, point); planning it again moves it. */
export interface PlannedTimer {
  kind: TimerKind
  /** Tells apart timers of one kind on a case ('1 working day before', '2'); '' when there is one. */
  point: string
  dueAt: number
}

/**
 * A case's timers to change: first the pending timers of the `cancel` kinds (or all of them) are
 * dropped, then `timers` are planned (an existing (case, kind, point) is moved, not doubled).
 */
export interface TimerPlan {
  cancel?: readonly TimerKind[] | 'all'
  timers: readonly PlannedTimer[]
}

/** A due timer leased to one worker. `version` changes whenever it is re-planned or leased again. */
export interface DueTimer extends PlannedTimer {
  id: string
  caseId: string
  version: number
}

export interface CasePage {
  cases: Case[]
  /** Pass back as `cursor` for the next page; absent on the last page. */
  nextCursor?: string
}

export type OutboxFailure =
  | { retryAt: number; error: string }
  | { dead: true; error: string }

/** What one webhook attempt came to, with the receiver's HTTP status when it answered. */
export type WebhookAttempt = ({ delivered: true } | OutboxFailure) & { responseStatus: number | null }

/** Everything stored about one citizen on one channel, for a data request (`intake export-citizen`). */
export interface CitizenExport {
  channelId: string
  citizenId: string
  cases: Array<{ case: Case; messages: CaseMessage[]; events: CaseEvent[] }>
}

/** An office's assignment load: open cases per assignee, and who was given a case last. */
export interface AssignmentLoad {
  openCases: Record<string, number>
  lastAssigneeId: string | null
}

/** Thrown by a driver when a unique value (a tracking code) is already taken. */
export class StoreConflictError extends Error {
  readonly code = 'store_conflict'
  constructor(readonly field: string) {
    super(`[store] conflict on ${field}`)
  }
}

/**
 * The store the pipeline writes through. Each method is atomic. Drivers live in
 * packages/storage and prove themselves with its conformance kit (`testStore`).
 *
 * @example
 * const store = sqliteStore({ file: './data/intake.db' })
 * await store.migrate()
 * const { cases } = await store.listCases({ status: 'received' })
 */
/** A lease this process holds (see Store.tryHoldLease). */
export interface HeldLease {
  /** Resolves if the lease is lost without release(): its holding connection broke. Stop the work it guards. */
  readonly lost: Promise<void>
  release(): Promise<void>
}

export interface Store {
  readonly driver: string
  migrate(): Promise<void>
  close(): Promise<void>
  /** Cheap liveness query for /readyz. */
  ping(): Promise<void>

  /**
   * Take the named lease if no one holds it, among every process on this store (and every caller in
   * this one): the work that must run once — an SMTP listener, a mailbox or long-poll poller — runs
   * in its holder only. Undefined when another holds it. A holder that dies loses it (PostgreSQL: a
   * session advisory lock on a connection of its own, released by the server when the process's
   * connection drops; SQLite: one process per file, so a lease within the process).
   *
   * @example
   * const lease = await store.tryHoldLease('channel-listeners')
   * if (lease) { await startListeners(); void lease.lost.then(stopListeners) }
   */
  tryHoldLease(name: string): Promise<HeldLease | undefined>

  saveOffices(offices: Office[]): Promise<void>
  listOffices(): Promise<Office[]>

  recordInbound(write: InboundWrite): Promise<InboundWriteResult>
  applyCaseChange(change: CaseChange): Promise<Case>
  /** Several case changes in one transaction (an answer sent to every member of a cluster): all or nothing. */
  applyCaseChanges(changes: CaseChange[]): Promise<Case[]>

  /** With a scope, a case of an office outside it is not found (the query itself is scoped). */
  getCase(id: string, scope?: CaseScope): Promise<Case | undefined>
  getCaseByTrackingCode(code: string, scope?: CaseScope): Promise<Case | undefined>
  listCases(filter?: CaseFilterInput): Promise<CasePage>
  /** How many cases match (the same filter as listCases, cursor and limit ignored); with `upTo`, counting stops there. */
  countCases(filter?: CaseFilterInput, upTo?: number): Promise<number>
  /**
   * The cases received in [since, until) in a scope, counted the four ways the dashboard draws them:
   * per local day and channel, per office, per category, per status. Each is the size of the period
   * or of its dimension, never of the number of cases (their product would be about one row per case).
   */
  caseVolumes(query: VolumeQuery): Promise<CaseVolumes>
  /** The newest open case from this sender on this channel updated at or after `since`. */
  findOpenCaseBySender(channelId: string, citizenId: string, since: number): Promise<Case | undefined>
  /** The newest resolved (not yet rated) case from this sender on this channel, resolved at or after `since`. */
  findResolvedCaseBySender(channelId: string, citizenId: string, since: number): Promise<Case | undefined>
  /** The newest closed case from this sender on this channel updated at or after `since` (a second rating finds it). */
  findClosedCaseBySender(channelId: string, citizenId: string, since: number): Promise<Case | undefined>
  /** The case one of these provider message ids (inbound or sent) belongs to. */
  findCaseByMessageRef(channelId: string, refs: string[]): Promise<Case | undefined>
  listMessages(caseId: string): Promise<CaseMessage[]>
  listEvents(caseId: string): Promise<CaseEvent[]>

  /**
   * Statistics of the cases received in a period, grouped, from the per-case stats rows the store
   * keeps in the same transaction as each case write and event (see stats/projection.ts).
   */
  caseStats(selection: StatsSelection): Promise<StatsCounts[]>
  /** Recompute every case's stats row from the case and its events; returns how many rows. */
  rebuildCaseStats(): Promise<{ cases: number }>

  /**
   * Lease up to `limit` due outbox rows (pending and due, or sending with an expired lease),
   * marking them `sending` until `now + leaseMs`. Two workers never lease the same row.
   */
  claimOutbox(now: number, limit: number, leaseMs: number): Promise<OutboxItem[]>
  completeOutbox(id: string, providerId: string, now: number): Promise<void>
  /**
   * `completeOutbox` for a batch of deliveries the providers accepted, in one write (the outbox
   * worker records a claimed batch's sends together). Returns the ids it found no row for, in the
   * order given; the others are recorded all the same.
   *
   * @example
   * const missing = await store.completeOutboxBatch([{ id: 'ob-1', providerId: 'SM1' }, { id: 'ob-2', providerId: 'SM2' }], now)
   */
  completeOutboxBatch(deliveries: ReadonlyArray<{ id: string; providerId: string }>, now: number): Promise<string[]>
  failOutbox(id: string, failure: OutboxFailure, now: number): Promise<void>
  /** With `officeIds`, only rows of cases at those offices. */
  listOutbox(filter: { status?: OutboxStatus; caseId?: string; limit?: number; officeIds?: readonly string[] }): Promise<OutboxItem[]>
  /** Put a dead row back in the queue, due now, with its attempts reset (with a scope: only a row of a case inside it). */
  retryOutbox(id: string, now: number, scope?: CaseScope): Promise<OutboxItem | undefined>
  /**
   * A provider's delivery report for a message it accepted earlier. Reports only move a message
   * forward (sent → delivered or failed): a late `sent` never undoes a `delivered`. A report about a
   * provider id no message carries yet (the provider answered the callback before the outbox
   * recorded its send) is held and applied when `completeOutbox` records that id; held reports
   * older than a day are dropped. Returns whether a message changed now.
   */
  updateDeliveryStatus(channelId: string, providerId: string, status: DeliveryStatus, at: number): Promise<boolean>

  /**
   * Lease up to `limit` due transcriptions until `now + leaseMs`, counting the attempt; two workers
   * never lease the same one.
   */
  claimTranscriptions(now: number, limit: number, leaseMs: number): Promise<PendingTranscription[]>
  /** Record an attempt's outcome: the transcript and its case change, a retry time, or the end. */
  recordTranscription(messageId: string, outcome: TranscriptionOutcome, now: number): Promise<void>

  /** (Re)plan a case's timers on their own (a change to the case plans them with `CaseChange.timers`). */
  planTimers(caseId: string, plan: TimerPlan): Promise<void>
  /**
   * Lease up to `limit` timers due at `now` (never fired, lease free or expired) until `now + leaseMs`,
   * earliest first. Each lease gives the timer a new `version`; two workers never hold the same one.
   */
  claimTimers(now: number, limit: number, leaseMs: number): Promise<DueTimer[]>
  /**
   * Fire a leased timer: remove it and apply `change` (its events, replies, next timers) in one
   * transaction — only if it still has this `version` (not re-planned, not leased again since).
   * Returns whether it fired; a timer fires once.
   */
  completeTimer(timer: Pick<DueTimer, 'id' | 'version'>, change?: CaseChange): Promise<boolean>
  /** The pending timers of a case, earliest first (staff views, tests). */
  listTimers(caseId: string): Promise<Array<PlannedTimer & { id: string; leaseUntil: number | null }>>

  /** Staff going on or off duty (overrides the office file's `onDuty` until changed again). */
  setOnDuty(staffId: string, onDuty: boolean, at: number): Promise<void>
  /** Duty changes made since start, by staff id. */
  listDuty(): Promise<Record<string, boolean>>
  /** For assignment inside an office: open cases per assignee, and who was given a case last. */
  assignmentLoad(officeId: string): Promise<AssignmentLoad>
  /**
   * Optional, for stores that several processes share: decide who at `officeId` gets case `caseId`
   * inside the store, one decision at a time per office across every process. `pick` is handed the
   * office's load — committed open cases plus the picks of cases not written yet, whichever process
   * made them, and the latest pick or assignment — and its answer is recorded as a pick before the
   * next one is decided, so round-robin and least-open hold across processes. Without it, core
   * counts its own process's recent picks (exact with one process, as with SQLite).
   */
  pickAssignee?(officeId: string, caseId: string, at: number, pick: (load: AssignmentLoad) => string | null): Promise<string | null>

  /** Open cases a new case may duplicate (an indexed lookup: it runs once per new case at intake). */
  findClusterCandidates(query: ClusterCandidateQuery): Promise<ClusterCandidate[]>
  getCluster(id: string): Promise<ClusterView | undefined>
  linkCluster(link: ClusterLink): Promise<ClusterLinkResult>

  /** Record a citizen's STOP (`optedOut: true`) or START (`false`) on one channel. */
  setOptOut(channelId: string, citizenId: string, optedOut: boolean, at: number): Promise<void>
  /** Whether this address asked for no more messages on this channel. */
  isOptedOut(channelId: string, citizenId: string): Promise<boolean>
  /** `isOptedOut` for several addresses in one lookup (an outbox batch's), answered in the order given. */
  areOptedOut(addresses: ReadonlyArray<{ channelId: string; citizenId: string }>): Promise<boolean[]>

  /** Ids of closed cases last changed before `before` whose citizen data is not erased yet, oldest first. */
  listCasesToErase(before: number, limit: number): Promise<string[]>
  /**
   * Remove the citizen's personal data from a case (the retention policy): contact, name, address
   * (replaced by a pseudonym, so one citizen's cases still count as one), place text, summary,
   * message texts and subjects, attachments, raw provider payloads and queued reply texts. The case,
   * its status, dates, office, category, events and figures stay; an `erased` event is appended.
   * Erasing twice changes nothing more.
   */
  eraseCitizenData(caseId: string, at: number, reason: string): Promise<void>
  /** Every case of this citizen on this channel, with its messages and events. */
  exportCitizen(channelId: string, citizenId: string): Promise<CitizenExport>
  /** Add or change a staff account, with the event that records who did it. Logins are unique (case-insensitive). */
  saveUser(user: StaffUser, event: AccountEventInput): Promise<void>
  getUser(id: string): Promise<StaffUser | undefined>
  findUserByLogin(login: string): Promise<StaffUser | undefined>
  /** With a scope: the staff of those offices only. */
  listUsers(scope?: CaseScope): Promise<StaffUser[]>
  saveApiToken(token: ApiToken, event: AccountEventInput): Promise<void>
  /** The token with this SHA-256, revoked or not. */
  findApiToken(hash: string): Promise<ApiToken | undefined>
  saveSession(session: StaffSession): Promise<void>
  findSession(idHash: string): Promise<StaffSession | undefined>
  touchSession(idHash: string, at: number): Promise<void>
  /** Sign out one session, or every session of a user (disabled, password reset). */
  deleteSessions(which: { idHash: string } | { userId: string }): Promise<void>
  recordAccountEvent(event: AccountEventInput): Promise<void>
  listAccountEvents(filter?: { beforeId?: number; limit?: number }): Promise<AccountEvent[]>

  /** Case events after `afterId` in id order, at most `limit`: the webhook feed reads the trail as it grows. */
  listEventsAfter(afterId: number, limit: number): Promise<CaseEvent[]>
  /**
   * The id of the last case event the webhook feed has handled. The first call sets it to the newest
   * event's id, so a deployment that starts using webhooks is not sent its history.
   */
  webhookCursor(): Promise<number>
  /** The id of the newest case event (0 when there is none): the feed moves past events no subscription wants without reading them. */
  newestEventId(): Promise<number>
  /**
   * Queue deliveries and move the feed's cursor from `move.from` to `move.to` in one transaction —
   * only while the cursor is still at `from` (another process moved it first: nothing is written,
   * false). A (subscription, event) already queued is not queued again.
   */
  enqueueWebhookDeliveries(move: { from: number; to: number }, deliveries: WebhookDelivery[]): Promise<boolean>
  /**
   * Lease up to `limit` due deliveries (pending and due, or sending with an expired lease) until
   * `now + leaseMs`, counting the attempt — never one whose subscription still has an earlier event
   * of the same case pending or sending, so a case's events reach a subscriber in order. Two
   * workers never lease the same delivery.
   */
  claimWebhookDeliveries(now: number, limit: number, leaseMs: number): Promise<WebhookDelivery[]>
  /** Record a leased attempt's outcome (a delivery no longer `sending` is left as it is). */
  recordWebhookAttempt(id: string, attempt: WebhookAttempt, now: number): Promise<void>
  /** A subscription's deliveries, newest event first. */
  listWebhookDeliveries(filter: { subscriptionId: string; status?: WebhookDeliveryStatus; limit?: number }): Promise<WebhookDelivery[]>
  /** Put a dead delivery of this subscription back in the queue, due now, its attempts reset. */
  retryWebhookDelivery(subscriptionId: string, id: string, now: number): Promise<WebhookDelivery | undefined>
  /** Add a subscription made through the API (the config's are never stored). */
  saveWebhookSubscription(subscription: WebhookSubscription): Promise<void>
  listWebhookSubscriptions(): Promise<WebhookSubscription[]>
  /** Remove a subscription and every delivery of it; false when there was none with that id. */
  deleteWebhookSubscription(id: string): Promise<boolean>
  /**
   * An office's live settings (laid over the offices file), with the account event recording the
   * change, in one write. `resetDuty`: staff whose duty changes (`setOnDuty`) end in the same write,
   * so a roster an administrator just saved is in force as written.
   */
  saveOfficeSettings(write: { settings: OfficeSettings; event: AccountEventInput; resetDuty?: readonly string[] }): Promise<void>
  /** Every office's live settings. */
  listOfficeSettings(): Promise<OfficeSettings[]>

  /** Case events newest first, for the audit view; with a scope only cases of those offices. */
  listAuditEvents(filter?: { scope?: CaseScope; beforeId?: number; limit?: number }): Promise<CaseEvent[]>
  /** Walk both hash chains (case events, account events) and name the first row that does not fit. */
  verifyAudit(): Promise<{ caseEvents: ChainVerdict; accountEvents: ChainVerdict }>

  /**
   * Keep the id another system gave a forwarded case (one per case and channel; a later answer
   * replaces it), with a `forwarded` event the first time. Returns whether the link is new.
   */
  linkExternal(link: { caseId: string; channelId: string; externalId: string; at: number }): Promise<boolean>
  /** The forwarded cases of a channel that are still open (received … replied), oldest link first. */
  listExternalLinks(channelId: string, limit: number): Promise<ExternalLink[]>
  /** A case's links to other systems. */
  externalLinksOf(caseId: string): Promise<ExternalLink[]>
  /**
   * Record what the other system said (`seen`, a fingerprint of it) and apply its change, in one
   * transaction — only if the link still has `expectedSeen`, so two processes polling at once apply
   * an update once. Returns whether it applied.
   */
  applyExternalUpdate(update: { caseId: string; channelId: string; expectedSeen: string | null; seen: string; at: number; change?: CaseChange }): Promise<boolean>
}

/** A case handed to another system, and the last thing that system said about it. */
export interface ExternalLink {
  caseId: string
  channelId: string
  externalId: string
  linkedAt: number
  /** The fingerprint of the other system's last report (null: none read yet). */
  seen: string | null
}

export interface VolumeQuery {
  scope?: CaseScope
  since: number
  until: number
  /** Minutes east of UTC of the deployment's calendar, so a day is the office's day (Asia/Shanghai: 480). */
  utcOffsetMinutes: number
}

/**
 * @example
 * { byDayAndChannel: [{ day: '2025-12-01', channelId: 'sms', count: 412 }, …], byOffice: [{ officeId: 'county-03', count: 8012 }, …],
 *   byCategory: [{ category: 'roads', count: 10233 }, { category: null, count: 12 }, …], byStatus: [{ status: 'resolved', count: 50117 }, …] }
 */
export interface CaseVolumes {
  /** Per local day (`YYYY-MM-DD`, in the offset's time zone) and channel. */
  byDayAndChannel: Array<{ day: string; channelId: string; count: number }>
  byOffice: Array<{ officeId: string; count: number }>
  /** `category: null`: the cases without one. */
  byCategory: Array<{ category: string | null; count: number }>
  byStatus: Array<{ status: CaseStatus; count: number }>
}

/** The Store's links to other systems (forwarded cases): what a driver implements in its forwarding module. */
export type StoreForwardingMethods = Pick<Store, 'linkExternal' | 'listExternalLinks' | 'externalLinksOf' | 'applyExternalUpdate'>

/** The Store's accounts, sessions, tokens and audit chain: what a driver implements in its access module. */
export type StoreAccessMethods = Pick<
  Store,
  | 'saveUser'
  | 'getUser'
  | 'findUserByLogin'
  | 'listUsers'
  | 'saveApiToken'
  | 'findApiToken'
  | 'saveSession'
  | 'findSession'
  | 'touchSession'
  | 'deleteSessions'
  | 'recordAccountEvent'
  | 'listAccountEvents'
  | 'saveOfficeSettings'
  | 'listOfficeSettings'
  | 'listAuditEvents'
  | 'verifyAudit'
>

/** The Store's event webhooks: subscriptions, the feed's cursor and the deliveries (a driver's webhooks module). */
export type StoreWebhookMethods = Pick<
  Store,
  | 'listEventsAfter'
  | 'webhookCursor'
  | 'newestEventId'
  | 'enqueueWebhookDeliveries'
  | 'claimWebhookDeliveries'
  | 'recordWebhookAttempt'
  | 'listWebhookDeliveries'
  | 'retryWebhookDelivery'
  | 'saveWebhookSubscription'
  | 'listWebhookSubscriptions'
  | 'deleteWebhookSubscription'
>
