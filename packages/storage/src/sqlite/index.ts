import { mkdirSync } from 'node:fs'
import { isMainThread } from 'node:worker_threads'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { and, asc, desc, eq, gte, inArray, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm'
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import { migrate as applyMigrations } from 'drizzle-orm/better-sqlite3/migrator'
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core'
import {
  CaseFilter,
  OPEN_STATUSES,
  type Case,
  type CaseChange,
  type CasePage,
  type ClusterLink,
  type ClusterLinkResult,
  type DeliveryStatus,
  type DueTimer,
  type Store,
} from '@intake/core'
import { COMPONENT, decodeCursor, encodeCursor, toCase, toEvent, toMessage, toOutboxItem } from './rows.ts'
import { attachments, cases, caseEvents, caseStats, clusterKeys, clusters, heldDeliveryReports, inbox, messages, offices, optOuts, outbox, staffDuty, timers, transcriptions, webhookDeliveries } from './schema.ts'
import { pseudonym } from './pseudonym.ts'
import { withCandidateCache } from './candidate-cache.ts'
import { joinWriterThread, startWriterThread, WRITE_METHODS, type WriterThread } from './writer.ts'
import { CASE_STATS_TRIGGERS, queryCaseStats, rebuildCaseStats } from './case-stats.ts'
import { queryCaseVolumes } from './case-volumes.ts'
import { CLUSTER_KEYS_TRIGGERS, SYNC_CLUSTER_KEYS } from './cluster-keys.ts'
import { applyTimerPlan, fromRawOutboxRow, insertCase, insertEvents, insertMessage, insertOutbound, prepareHotStatements, type HotStatements } from './statements.ts'
import { accessMethods, chainUnhashedRows } from './access.ts'
import { escalatedCondition, extensionPendingCondition } from './supervision-conditions.ts'
import { erasedWebhookPayload, startWebhookCursor, webhookMethods } from './webhooks.ts'
import { forwardingMethods } from './forwarding.ts'

export interface SqliteStoreOptions {
  /** Path of the database file (its directory is created), or `':memory:'` for a throwaway store. */
  file: string
  /**
   * `full` (default) syncs the WAL on every commit, so an acknowledged message survives a power cut;
   * `normal` may lose the last commits on power loss (never on a process crash) and writes faster.
   */
  synchronous?: 'normal' | 'full'
  /** How long a write waits for another process's lock before failing with SQLITE_BUSY. Default 5000. */
  busyTimeoutMs?: number
  /**
   * `inline` (default): writes run on the calling thread, in group commits. `thread`: they run in
   * the process's writer thread for this file, with a connection of its own (writer.ts), so the
   * event loop never waits on an INSERT, an fsync or a lock — for a gateway under load (`intake
   * start`). The main thread starts the writer; a store opened in a thread started after it (the
   * delivery thread) writes through the same writer, and one opened without it writes inline.
   */
  writer?: 'inline' | 'thread'
}

const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations/sqlite', import.meta.url))

type Connection = BaseSQLiteDatabase<'sync', Database.RunResult>

/**
 * The default Store: one SQLite file through better-sqlite3 and drizzle-orm, in WAL mode so the
 * console can read while the pipeline writes. The file is opened on first use, so building a config
 * object has no side effect; misconfiguration still throws here, at call time.
 *
 * @example
 * const store = sqliteStore({ file: './data/intake.db' })
 * await store.migrate()
 */
export function sqliteStore({ file, synchronous = 'full', busyTimeoutMs = 5000, writer = 'inline' }: SqliteStoreOptions): Store {
  if (typeof file !== 'string' || file.trim() === '') {
    throw optionError('file', "a file path or ':memory:'", file)
  }
  if (synchronous !== 'normal' && synchronous !== 'full') {
    throw optionError('synchronous', "'normal' or 'full'", synchronous)
  }
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw optionError('busyTimeoutMs', 'a non-negative integer of milliseconds', busyTimeoutMs)
  }
  if (writer !== 'inline' && writer !== 'thread') {
    throw optionError('writer', "'inline' or 'thread'", writer)
  }
  if (writer === 'thread' && file === ':memory:') {
    throw optionError('writer', "'inline' for ':memory:' (a second connection would open another, empty database)", writer)
  }
  const local = inlineStore(file, synchronous, busyTimeoutMs)
  if (writer === 'inline') return withCandidateCache(local.store)
  const thread = isMainThread ? startWriterThread({ file, synchronous, busyTimeoutMs }) : joinWriterThread(file)
  return withCandidateCache(thread ? withWriterThread(local, thread) : local.store)
}

/** The store with its writes sent to the writer thread and its reads on this thread's connection. */
function withWriterThread(local: ReturnType<typeof inlineStore>, writer: WriterThread): Store {
  let closed = false
  const store: Store = { ...local.store }
  for (const method of WRITE_METHODS) {
    ;(store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[method] = async (...args) => {
      if (closed) throw Object.assign(new Error(`${COMPONENT} store is closed`), { code: 'store_closed' })
      return writer.call(method, args)
    }
  }
  const migrateThere = store.migrate
  store.migrate = async () => {
    await migrateThere()
    local.forgetStatements()
  }
  store.close = async () => {
    if (closed) return
    closed = true
    await writer.close()
    await local.store.close()
  }
  return store
}

function inlineStore(file: string, synchronous: 'normal' | 'full', busyTimeoutMs: number): { store: Store; forgetStatements: () => void } {
  let opened: { client: Database.Database; db: BetterSQLite3Database; hot?: HotStatements; savepoint?: Savepoint } | undefined
  let closed = false

  function connection(): BetterSQLite3Database {
    return open().db
  }

  /** The statements of the intake and outbox hot paths, compiled once per connection (after migrate: they need the tables). */
  function hot(): HotStatements {
    const o = open()
    return (o.hot ??= prepareHotStatements(o.db, o.client))
  }

  /**
   * Record one accepted delivery, inside a write; false when there is no such row. Whatever state
   * the row is in, the provider has accepted the message: it is recorded as sent so that no later
   * retry of a stale lease sends it twice.
   */
  function completeSent(id: string, providerId: string, now: number): boolean {
    const q = hot()
    const row = q.completeOutbox.get({ id, providerId, now })
    if (!row) return false
    q.markMessageSent.run({ id: row.messageId, providerId })
    // The provider may have reported on the message before we recorded that it took it.
    const held = q.heldReport.get({ channelId: row.channelId, providerId })
    if (held) {
      if (DELIVERY_STAGES.indexOf(held.status as DeliveryStage) > DELIVERY_STAGES.indexOf('sent')) {
        q.setMessageDeliveryStatus.run({ id: row.messageId, status: held.status })
      }
      q.dropHeldReport.run({ channelId: row.channelId, providerId })
    }
    return true
  }

  function open(): NonNullable<typeof opened> {
    if (closed) throw Object.assign(new Error(`${COMPONENT} store is closed`), { code: 'store_closed' })
    if (!opened) {
      if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true })
      const client = new Database(file, { timeout: busyTimeoutMs })
      try {
        client.pragma('journal_mode = WAL')
        client.pragma(`synchronous = ${synchronous.toUpperCase()}`)
        client.pragma('foreign_keys = ON')
        // Every write of a group commit runs in its own SAVEPOINT, and SQLite keeps the original of
        // each page a savepoint changes in a sub-journal, spilled to a temporary file past 64 KiB:
        // ~250 KB and ~150 write() calls a message under load (bench/intake, /proc/<pid>/task/*/io
        // of the writer thread). In memory, the same journal costs no system call.
        client.pragma('temp_store = MEMORY')
      } catch (error) {
        client.close()
        throw error
      }
      const db = drizzle({ client })
      opened = { client, db }
    }
    return opened
  }

  /** A case change inside a write: fields, events and replies together. */
  /** `readBack: false` when the caller has no use for the updated case (a timer firing): one read less. */
  function applyChange(tx: Connection, change: CaseChange, readBack: false): void
  function applyChange(tx: Connection, change: CaseChange, readBack?: true): Case
  function applyChange(tx: Connection, change: CaseChange, readBack = true): Case | void {
    const patch = change.patch ?? {}
    const set: Partial<typeof cases.$inferInsert> = { updatedAt: change.at }
    if (patch.status !== undefined) set.status = patch.status
    if (patch.officeId !== undefined) set.officeId = patch.officeId
    if (patch.category !== undefined) set.category = patch.category
    if (patch.urgency !== undefined) set.urgency = patch.urgency
    if (patch.deadlineAt !== undefined) set.deadlineAt = patch.deadlineAt
    if (patch.resolvedAt !== undefined) set.resolvedAt = patch.resolvedAt
    if (patch.rating !== undefined) set.rating = patch.rating
    if (patch.summary !== undefined) set.summary = patch.summary
    if (patch.assigneeId !== undefined) {
      set.assigneeId = patch.assigneeId
      set.assignedAt = patch.assigneeId === null ? null : change.at
    }
    if (patch.acceptDeadlineAt !== undefined) set.acceptDeadlineAt = patch.acceptDeadlineAt
    if (patch.acceptedAt !== undefined) set.acceptedAt = patch.acceptedAt
    if (patch.reopenCount !== undefined) set.reopenCount = patch.reopenCount
    // A change with no fields (a reminder, a note) only touches the case: prepared statements, no
    // query building (bench/timers fires thousands of these in a burst).
    const q = hot()
    let updated: typeof cases.$inferSelect | undefined
    if (Object.keys(set).length > 1) {
      updated = tx.update(cases).set(set).where(eq(cases.id, change.caseId)).returning().get()
      if (!updated) throw caseNotFound(change.caseId)
    } else if (readBack) {
      updated = q.touchCase.get({ id: change.caseId, updatedAt: change.at }) && q.caseById.get({ id: change.caseId })
      if (!updated) throw caseNotFound(change.caseId)
    } else if (q.touchCaseOnly.run(change.at, change.caseId).changes === 0) throw caseNotFound(change.caseId)
    insertEvents(hot(), change.events)
    insertOutbound(hot(), change.outbound ?? [])
    applyTimerPlan(hot(), change.caseId, change.timers)
    return updated ? toCase(updated) : undefined
  }

  /**
   * Cluster membership changes inside a write; refusals are values, and leave nothing written.
   * `insertedAsMember`: the case was written in this write already carrying its cluster (intake's
   * join, decided before the insert), so joining records the membership without changing the row.
   */
  function link(l: ClusterLink, { insertedAsMember = false } = {}): ClusterLinkResult {
    const q = hot()
    const kase = q.caseClusterById.get({ id: l.caseId })
    if (!kase) return { ok: false, code: 'case_not_found', caseId: l.caseId }
    const event = (caseId: string, type: 'clustered' | 'unclustered', clusterId: string, data = l.data) =>
      insertEvents(q, [{ caseId, at: l.at, type, actor: l.actor, public: false, data: { clusterId, ...data } }])
    const setCluster = (caseId: string, clusterId: string | null) =>
      q.setCaseCluster.run({ id: caseId, clusterId, updatedAt: l.at })
    const touchCluster = (id: string) => q.touchCluster.run({ id, updatedAt: l.at })
    const clusterExists = (id: string) => q.clusterExists.get({ id }) !== undefined

    if (l.op === 'leave') {
      if (!clusterExists(l.clusterId)) {
        return { ok: false, code: 'cluster_not_found', caseId: l.caseId, clusterId: l.clusterId }
      }
      if (kase.clusterId !== l.clusterId) return { ok: false, code: 'not_a_member', caseId: l.caseId, clusterId: l.clusterId }
      setCluster(l.caseId, null)
      touchCluster(l.clusterId)
      event(l.caseId, 'unclustered', l.clusterId)
      return { ok: true, clusterId: l.clusterId, changed: true }
    }

    let target: string
    if (l.op === 'join') {
      if (!clusterExists(l.clusterId)) {
        return { ok: false, code: 'cluster_not_found', caseId: l.caseId, clusterId: l.clusterId }
      }
      target = l.clusterId
    } else {
      if (l.withCaseId === l.caseId) return { ok: false, code: 'same_case', caseId: l.caseId }
      const other = q.caseClusterById.get({ id: l.withCaseId })
      if (!other) return { ok: false, code: 'case_not_found', caseId: l.withCaseId }
      if (other.clusterId) target = other.clusterId
      else {
        // Decided here, inside the write: two cases matching the same one at once end up in one cluster.
        if (kase.clusterId) return { ok: false, code: 'already_clustered', caseId: l.caseId, clusterId: kase.clusterId }
        target = l.newClusterId
        q.insertCluster.run({ id: target, at: l.at, createdBy: l.actor })
        setCluster(l.withCaseId, target)
        event(l.withCaseId, 'clustered', target, { withCaseId: l.caseId })
      }
    }
    if (kase.clusterId === target && !insertedAsMember) return { ok: true, clusterId: target, changed: false }
    if (kase.clusterId && kase.clusterId !== target) return { ok: false, code: 'already_clustered', caseId: l.caseId, clusterId: kase.clusterId }
    if (!insertedAsMember) setCluster(l.caseId, target)
    touchCluster(target)
    event(l.caseId, 'clustered', target)
    return { ok: true, clusterId: target, changed: true }
  }

  /**
   * Group commit. Writes queued in the same turn of the event loop run in one BEGIN IMMEDIATE
   * transaction, each inside its own SAVEPOINT: a write that throws is rolled back alone, the others
   * commit together, and every caller's promise settles only after the COMMIT (so nothing is
   * acknowledged before it is durable). One fsync then covers a whole burst of messages instead of
   * one each. BEGIN IMMEDIATE takes the write lock up front, so a second connection waits instead
   * of failing to upgrade a read lock mid-transaction — and it waits on a timer, not in SQLite's
   * busy handler, so the event loop keeps taking requests (up to the busy timeout).
   */
  interface QueuedWrite {
    run: (tx: Connection) => unknown
    resolve: (value: unknown) => void
    reject: (error: unknown) => void
  }
  let queue: QueuedWrite[] = []

  function write<T>(run: (tx: Connection) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push({ run, resolve: resolve as (value: unknown) => void, reject })
      if (queue.length === 1) setImmediate(flush)
    })
  }

  /** Since when the group waits for another connection's write lock (undefined: not waiting). */
  let busySince: number | undefined

  function flush(): void {
    if (queue.length === 0) return
    let client: Database.Database
    let db: BetterSQLite3Database
    try {
      ;({ client, db } = open())
      beginImmediateWithoutWaiting(client, busyTimeoutMs)
    } catch (error) {
      const since = (busySince ??= Date.now())
      if (isBusy(error) && Date.now() - since < busyTimeoutMs) {
        // Another connection (the delivery thread, another process) holds the write lock. Waiting
        // in SQLite's busy handler would block this thread's event loop; try again in a moment
        // instead, and let the writes queued meanwhile join this group.
        setTimeout(flush, 1)
        return
      }
      busySince = undefined
      const failed = queue
      queue = []
      for (const job of failed) job.reject(error)
      return
    }
    busySince = undefined
    const jobs = queue
    queue = []
    // Compiled once: a group of N writes runs 2N of these.
    const sp = (opened!.savepoint ??= {
      begin: client.prepare('SAVEPOINT intake_write'),
      release: client.prepare('RELEASE intake_write'),
      rollback: client.prepare('ROLLBACK TO intake_write'),
    })
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = []
    for (const job of jobs) {
      sp.begin.run()
      try {
        const value = job.run(db)
        sp.release.run()
        outcomes.push({ ok: true, value })
      } catch (error) {
        sp.rollback.run()
        sp.release.run()
        outcomes.push({ ok: false, error })
      }
    }
    try {
      client.exec('COMMIT')
    } catch (error) {
      if (client.inTransaction) client.exec('ROLLBACK')
      for (const job of jobs) job.reject(error)
      return
    }
    jobs.forEach((job, i) => {
      const outcome = outcomes[i]!
      if (outcome.ok) job.resolve(outcome.value)
      else job.reject(outcome.error)
    })
  }

  // One process writes a SQLite file: a lease is held within this process.
  const leases = new Set<string>()

  const store: Store = {
    driver: 'sqlite',

    async tryHoldLease(name) {
      if (leases.has(name)) return undefined
      leases.add(name)
      return {
        lost: new Promise<void>(() => {}),
        async release() {
          leases.delete(name)
        },
      }
    },

    async migrate() {
      const db = connection()
      // Statements compiled against the old schema must not outlive a migration.
      opened!.hot = undefined
      const hadClusterCopies = columnExists(opened!.client, 'cluster_keys', 'open')
      try {
        applyMigrations(db, { migrationsFolder: MIGRATIONS_FOLDER })
      } catch {
        // drizzle's migrator reads the applied migrations before it takes the write lock, so two
        // processes starting together can both try the same migration and the loser fails on
        // "table already exists". Run again: it now sees the winner's work. A real failure repeats.
        applyMigrations(db, { migrationsFolder: MIGRATIONS_FOLDER })
      }
      const client = opened!.client
      for (const trigger of [...CASE_STATS_TRIGGERS, ...CLUSTER_KEYS_TRIGGERS]) client.exec(trigger)
      // The migration that gave cluster_keys its copies of the case's state filled them with defaults.
      if (!hadClusterCopies) client.exec(SYNC_CLUSTER_KEYS)
      // Cases from before the stats rows existed (or written with the triggers missing) get theirs from their events.
      const missing = client.prepare('select (select count(*) from cases) != (select count(*) from case_stats)').pluck().get()
      if (missing) client.transaction(() => rebuildCaseStats(client))()
      chainUnhashedRows(client)
      startWebhookCursor(client)
    },

    async close() {
      // Writes already queued were promised a commit: make it before the connection goes.
      flush()
      closed = true
      opened?.client.close()
      opened = undefined
    },

    async ping() {
      connection().get(sql`select 1`)
    },

    async saveOffices(list) {
      await write((tx) => {
        for (const office of list) {
          tx.insert(offices)
            .values({ id: office.id, data: office })
            .onConflictDoUpdate({ target: offices.id, set: { data: office } })
            .run()
        }
      })
    },

    async listOffices() {
      return connection()
        .select()
        .from(offices)
        .orderBy(asc(offices.id))
        .all()
        .map((row) => row.data)
    },

    async recordInbound(inbound) {
      const q = hot()
      return write((tx) => {
        const claimed = q.claimInbox.get({
          id: inbound.inbox.id,
          channelId: inbound.inbox.channelId,
          externalId: inbound.inbox.externalId,
          receivedAt: inbound.inbox.receivedAt,
          payload: JSON.stringify(inbound.inbox.payload) ?? null,
          caseId: inbound.message.caseId,
          messageId: inbound.message.id,
        })
        if (!claimed) {
          const first = q.inboxByKey.get({ channelId: inbound.inbox.channelId, externalId: inbound.inbox.externalId })
          if (!first) throw new Error(`${COMPONENT} inbox conflict without a row (corrupt unique index?)`)
          return { duplicate: true as const, caseId: first.caseId, messageId: first.messageId }
        }

        // A new case joining its duplicate's cluster is inserted as a member, not inserted and then updated.
        const partner = inbound.newCase && inbound.joinCluster && !inbound.newCase.clusterId ? q.caseClusterById.get({ id: inbound.joinCluster.withCaseId }) : undefined
        const joins = partner?.clusterId ?? undefined
        if (inbound.newCase) insertCase(q, joins ? { ...inbound.newCase, clusterId: joins } : inbound.newCase)
        if (inbound.touchCase) {
          const { id, updatedAt, reopen, rating, patch } = inbound.touchCase
          // A rating closes the case; a reopened case is no longer resolved, so its resolution time goes with it.
          const touched = patch
            ? applyChange(tx, { caseId: id, at: updatedAt, patch, events: [] })
            : rating !== undefined
              ? tx.update(cases).set({ updatedAt, rating, status: 'closed' }).where(eq(cases.id, id)).returning({ id: cases.id }).get()
              : (reopen ? q.reopenCase : q.touchCase).get({ id, updatedAt })
          if (!touched) throw caseNotFound(id)
        }
        insertMessage(q, inbound.message)
        insertEvents(q, inbound.events)
        insertOutbound(q, inbound.outbound)
        applyTimerPlan(q, inbound.newCase?.id ?? inbound.touchCase?.id ?? inbound.message.caseId, inbound.timers)
        if (inbound.transcription) tx.insert(transcriptions).values({ ...inbound.transcription, leaseUntil: null }).run()
        if (inbound.newCase && inbound.clusterKeys) {
          const { id: caseId, createdAt, status, clusterId } = inbound.newCase
          q.insertClusterKeys.run({ ...inbound.clusterKeys, caseId, createdAt, open: OPEN_STATUSES.includes(status) ? 1 : 0, clusterId: joins ?? clusterId ?? null })
        }
        if (inbound.newCase && inbound.joinCluster) {
          const { withCaseId, newClusterId, data } = inbound.joinCluster
          const pair = { op: 'pair', caseId: inbound.newCase.id, withCaseId, newClusterId, at: inbound.newCase.createdAt, actor: 'system', ...(data ? { data } : {}) } as const
          link(pair, { insertedAsMember: joins !== undefined })
        }
        return { duplicate: false as const }
      })
    },

    async applyCaseChange(change) {
      return write((tx) => applyChange(tx, change))
    },

    async applyCaseChanges(changes) {
      return write((tx) => changes.map((change) => applyChange(tx, change)))
    },

    async findClusterCandidates(query) {
      const q = hot()
      const { category, since, limit, placeKey, box } = query
      const byPlace = placeKey === undefined ? [] : (q.clusterCandidatesByPlace.all({ category, since, limit, placeKey }) as CandidateRow[])
      const byPoint = box === undefined ? [] : (q.clusterCandidatesByPoint.all({ category, since, limit, ...box }) as CandidateRow[])
      const seen = new Set<string>()
      return [...byPlace, ...byPoint]
        .filter((row) => !seen.has(row.caseId) && seen.add(row.caseId))
        .sort((a, b) => b.createdAt - a.createdAt)
        .slice(0, query.limit)
    },

    async getCluster(id) {
      const db = connection()
      const cluster = db.select().from(clusters).where(eq(clusters.id, id)).get()
      if (!cluster) return undefined
      const members = db.select().from(cases).where(eq(cases.clusterId, id)).orderBy(asc(cases.createdAt), asc(cases.id)).all().map(toCase)
      return { cluster, members }
    },

    async linkCluster(l) {
      // A refusal must leave nothing behind: throw inside the write (its savepoint rolls back), answer the value.
      const refused = Symbol('refused')
      try {
        return await write(() => {
          const result = link(l)
          if (!result.ok) throw Object.assign(new Error(result.code), { [refused]: result })
          return result
        })
      } catch (error) {
        const result = (error as Record<symbol, ClusterLinkResult | undefined>)[refused]
        if (result) return result
        throw error
      }
    },

    async claimTranscriptions(now, limit, leaseMs) {
      return write((tx) => {
        const due = tx
          .select()
          .from(transcriptions)
          .where(and(lte(transcriptions.nextAttemptAt, now), or(isNull(transcriptions.leaseUntil), lt(transcriptions.leaseUntil, now))))
          .orderBy(asc(transcriptions.nextAttemptAt))
          .limit(limit)
          .all()
        for (const row of due) {
          tx.update(transcriptions)
            .set({ leaseUntil: now + leaseMs, attempts: row.attempts + 1 })
            .where(eq(transcriptions.messageId, row.messageId))
            .run()
        }
        return due.map(({ leaseUntil: _lease, language, ...row }) => ({ ...row, attempts: row.attempts + 1, ...(language ? { language } : {}) }))
      })
    },

    async recordTranscription(messageId, outcome, now) {
      await write((tx) => {
        const row = tx.select().from(transcriptions).where(eq(transcriptions.messageId, messageId)).get()
        // Recorded already (another worker's lease ran out while this one was still transcribing).
        if (!row) return
        if ('retryAt' in outcome) {
          tx.update(transcriptions)
            .set({ nextAttemptAt: outcome.retryAt, leaseUntil: null, lastError: outcome.error })
            .where(eq(transcriptions.messageId, messageId))
            .run()
          return
        }
        tx.delete(transcriptions).where(eq(transcriptions.messageId, messageId)).run()
        if ('text' in outcome) tx.update(messages).set({ text: outcome.text }).where(eq(messages.id, messageId)).run()
        applyChange(tx, { ...outcome.change, at: outcome.change.at ?? now })
      })
    },

    async getCase(id, scope) {
      const row = hot().caseById.get({ id })
      // Read by primary key, then held to the scope: the case is not found, not forbidden.
      if (!row || (scope && !scope.officeIds.includes(row.officeId))) return undefined
      return toCase(row)
    },

    async getCaseByTrackingCode(code, scope) {
      const row = hot().caseByTrackingCode.get({ code })
      if (!row || (scope && !scope.officeIds.includes(row.officeId))) return undefined
      return toCase(row)
    },

    async listCases(input = {}) {
      const filter = CaseFilter.parse(input)
      const after = filter.cursor !== undefined ? decodeCursor(filter.cursor) : undefined
      const page = (f: typeof filter) => {
        const where = caseConditions(f)
        if (after) where.push(or(lt(cases.createdAt, after.createdAt), and(eq(cases.createdAt, after.createdAt), lt(cases.id, after.id))))
        // One row more than asked tells whether a next page exists without a second query.
        return connection()
          .select()
          .from(cases)
          .where(and(...where))
          .orderBy(desc(cases.createdAt), desc(cases.id))
          .limit(filter.limit + 1)
          .all()
      }
      let rows
      const subtree = filter.officeIds
      // Supervision's filters match few cases, found from their events' partial indexes: one query
      // over the subtree reads them once (per office, each query would read them all again).
      const sparse = filter.escalated || filter.extensionPending
      if (subtree && !sparse && filter.officeId === undefined && subtree.length > 1 && subtree.length <= MERGE_OFFICES_UP_TO) {
        // office_id IN (...) ORDER BY created_at sorts every case of the subtree in a temp B-tree (25 ms
        // at 100,000 cases); one query per office reads its newest rows from cases_office_created_idx in
        // order, and the newest of those are the page.
        rows = subtree
          .flatMap((officeId) => page({ ...filter, officeIds: undefined, officeId }))
          .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
          .slice(0, filter.limit + 1)
      } else rows = page(filter)
      const result: CasePage = { cases: rows.slice(0, filter.limit).map(toCase) }
      const last = result.cases.at(-1)
      if (rows.length > filter.limit && last) result.nextCursor = encodeCursor(last)
      return result
    },

    async countCases(input = {}, upTo) {
      const filter = CaseFilter.parse(input)
      const where = and(...caseConditions(filter))
      if (upTo === undefined) return connection().select({ n: sql<number>`count(*)` }).from(cases).where(where).get()?.n ?? 0
      // Counting stops at `upTo`: a list header needs "10,000+", not a scan of a million rows per page view.
      const capped = connection().select({ one: sql`1` }).from(cases).where(where).limit(upTo).as('capped')
      return connection().select({ n: sql<number>`count(*)` }).from(capped).get()?.n ?? 0
    },

    async caseVolumes(query) {
      return queryCaseVolumes(open().client, query)
    },

    async findOpenCaseBySender(channelId, citizenId, since) {
      const q = hot()
      const id = q.openCaseIdBySender.get(channelId, citizenId, since) as string | undefined
      const row = id === undefined ? undefined : q.caseById.get({ id })
      return row && toCase(row)
    },

    async findResolvedCaseBySender(channelId, citizenId, since) {
      const row = connection()
        .select()
        .from(cases)
        .where(
          and(
            eq(cases.channelId, channelId),
            eq(cases.citizenId, citizenId),
            eq(cases.status, 'resolved'),
            isNull(cases.rating),
            sql`${cases.resolvedAt} >= ${since}`,
          ),
        )
        .orderBy(desc(cases.resolvedAt))
        .limit(1)
        .get()
      return row && toCase(row)
    },

    async findClosedCaseBySender(channelId, citizenId, since) {
      const row = connection()
        .select()
        .from(cases)
        .where(and(eq(cases.channelId, channelId), eq(cases.citizenId, citizenId), eq(cases.status, 'closed'), sql`${cases.updatedAt} >= ${since}`))
        .orderBy(desc(cases.updatedAt))
        .limit(1)
        .get()
      return row && toCase(row)
    },

    async planTimers(caseId, plan) {
      const q = hot()
      await write(() => applyTimerPlan(q, caseId, plan))
    },

    async claimTimers(now, limit, leaseMs) {
      if (limit <= 0) return []
      const q = hot()
      return write(() =>
        (q.dueTimers.all({ now, limit }) as Array<{ id: string }>).map(
          ({ id }) => q.leaseTimer.get({ id, leaseUntil: now + leaseMs }) as DueTimer,
        ),
      )
    },

    async completeTimer(timer, change) {
      const q = hot()
      return write((tx) => {
        // The version check is the whole of "fires once": a re-plan or a second lease changed it.
        if (q.fireTimer.run({ id: timer.id, version: timer.version }).changes === 0) return false
        if (change) applyChange(tx, change, false)
        return true
      })
    },

    async listTimers(caseId) {
      return connection()
        .select({ id: timers.id, kind: timers.kind, point: timers.point, dueAt: timers.dueAt, leaseUntil: timers.leaseUntil })
        .from(timers)
        .where(eq(timers.caseId, caseId))
        .orderBy(asc(timers.dueAt), asc(timers.id))
        .all()
    },

    async findCaseByMessageRef(channelId, refs) {
      if (refs.length === 0) return undefined
      const row = connection()
        .select({ found: cases })
        .from(messages)
        .innerJoin(cases, eq(cases.id, messages.caseId))
        .where(and(eq(messages.channelId, channelId), inArray(messages.externalId, refs)))
        .orderBy(desc(messages.createdAt))
        .limit(1)
        .get()
      return row && toCase(row.found)
    },

    async listMessages(caseId) {
      return connection()
        .select()
        .from(messages)
        .where(eq(messages.caseId, caseId))
        // rowid breaks ties in write order: an inbound message and its acknowledgement share a timestamp.
        .orderBy(asc(messages.createdAt), sql`rowid`)
        .all()
        .map(toMessage)
    },

    async listEvents(caseId) {
      return connection()
        .select()
        .from(caseEvents)
        .where(eq(caseEvents.caseId, caseId))
        .orderBy(asc(caseEvents.id))
        .all()
        .map(toEvent)
    },

    async caseStats(selection) {
      return queryCaseStats(open().client, selection)
    },

    async rebuildCaseStats() {
      return write(() => ({ cases: rebuildCaseStats(open().client) }))
    },

    async claimOutbox(now, limit, leaseMs) {
      if (limit <= 0) return []
      const q = hot()
      return write(() =>
        q.dueOutbox.all({ now, limit }).flatMap(({ id }) => {
          const row = q.leaseOutbox.get({ id, leaseUntil: now + leaseMs, now })
          return row ? [toOutboxItem(fromRawOutboxRow(row))] : []
        }),
      )
    },

    async completeOutbox(id, providerId, now) {
      await write(() => {
        if (!completeSent(id, providerId, now)) throw outboxNotFound(id)
      })
    },

    async completeOutboxBatch(deliveries, now) {
      return write(() => deliveries.filter(({ id, providerId }) => !completeSent(id, providerId, now)).map(({ id }) => id))
    },

    async failOutbox(id, failure, now) {
      const q = hot()
      await write(() => {
        const row = q.outboxById.get({ id })
        if (!row) throw outboxNotFound(id)
        // Only the lease holder's verdict counts: a worker whose lease expired while another one
        // delivered the message must not put a sent (or dead) row back in the queue.
        if (row.status !== 'sending') return
        if ('dead' in failure) {
          q.killOutbox.run({ id, error: failure.error, now })
          q.markMessageDead.run({ id: row.messageId })
          // A status answer to a stranger has no case to put the failure on.
          if (row.caseId) insertEvents(q, [
            {
              caseId: row.caseId!,
              at: now,
              type: 'delivery_failed',
              actor: 'outbox',
              public: false,
              data: { outboxId: id, error: failure.error },
            },
          ])
          return
        }
        q.retryOutboxLater.run({ id, retryAt: failure.retryAt, error: failure.error, now })
      })
    },

    async listOutbox({ status, caseId, limit = 100, officeIds }) {
      return connection()
        .select()
        .from(outbox)
        .where(
          and(
            status !== undefined ? eq(outbox.status, status) : undefined,
            caseId !== undefined ? eq(outbox.caseId, caseId) : undefined,
            officeIds !== undefined
              ? inArray(outbox.caseId, connection().select({ id: cases.id }).from(cases).where(inArray(cases.officeId, [...officeIds])))
              : undefined,
          ),
        )
        .orderBy(desc(outbox.createdAt), desc(outbox.id))
        .limit(limit)
        .all()
        .map(toOutboxItem)
    },

    async retryOutbox(id, now, scope) {
      return write((tx) => {
        const row = tx
          .update(outbox)
          .set({ status: 'pending', attempts: 0, nextAttemptAt: now, leaseUntil: null, updatedAt: now })
          .where(
            and(
              eq(outbox.id, id),
              eq(outbox.status, 'dead'),
              scope ? inArray(outbox.caseId, tx.select({ id: cases.id }).from(cases).where(inArray(cases.officeId, [...scope.officeIds]))) : undefined,
            ),
          )
          .returning()
          .get()
        if (!row) return undefined
        tx.update(messages).set({ deliveryStatus: 'pending' }).where(eq(messages.id, row.messageId)).run()
        return toOutboxItem(row)
      })
    },

    async updateDeliveryStatus(channelId, providerId, status, at) {
      // Reports arrive out of order (Twilio may post `sent` after `delivered`): a status only
      // replaces an earlier stage, never a later one.
      const stage = DELIVERY_STAGES.indexOf(status as DeliveryStage)
      if (stage < 1) return false
      const earlier: string[] = DELIVERY_STAGES.slice(0, stage)
      return write((tx) => {
        // Delivery reports concern messages we sent; an inbound message may carry the same provider id.
        const sent = and(eq(messages.channelId, channelId), eq(messages.externalId, providerId), eq(messages.direction, 'out'))
        const updated = tx
          .update(messages)
          .set({ deliveryStatus: status })
          .where(and(sent, inArray(messages.deliveryStatus, earlier as DeliveryStatus[])))
          .returning({ id: messages.id })
          .all()
        if (updated.length > 0) return true
        if (tx.select({ id: messages.id }).from(messages).where(sent).limit(1).get()) return false
        // No message carries this id yet: hold the report for completeOutbox (the latest stage wins).
        tx.delete(heldDeliveryReports).where(lt(heldDeliveryReports.receivedAt, at - HOLD_REPORTS_MS)).run()
        const key = and(eq(heldDeliveryReports.channelId, channelId), eq(heldDeliveryReports.providerId, providerId))
        const held = tx.select({ status: heldDeliveryReports.status }).from(heldDeliveryReports).where(key).get()
        if (!held) tx.insert(heldDeliveryReports).values({ channelId, providerId, status, receivedAt: at }).run()
        else if (DELIVERY_STAGES.indexOf(held.status as DeliveryStage) < stage) {
          tx.update(heldDeliveryReports).set({ status, receivedAt: at }).where(key).run()
        }
        return false
      })
    },

    async setOnDuty(staffId, onDuty, at) {
      await write((tx) =>
        tx
          .insert(staffDuty)
          .values({ staffId, onDuty, updatedAt: at })
          .onConflictDoUpdate({ target: staffDuty.staffId, set: { onDuty, updatedAt: at } })
          .run(),
      )
    },

    async listDuty() {
      const rows = hot().staffDuty.all() as Array<{ staffId: string; onDuty: number }>
      return Object.fromEntries(rows.map((r) => [r.staffId, r.onDuty === 1]))
    },

    async assignmentLoad(officeId) {
      const q = hot()
      const counts = q.openCasesPerAssignee.all(officeId) as Array<{ assigneeId: string; open: number }>
      return {
        openCases: Object.fromEntries(counts.map((r) => [r.assigneeId, r.open])),
        lastAssigneeId: (q.lastAssigneeId.get(officeId) as string | undefined) ?? null,
      }
    },

    async setOptOut(channelId, citizenId, optedOut, at) {
      await write((tx) => {
        if (!optedOut) {
          tx.delete(optOuts).where(and(eq(optOuts.channelId, channelId), eq(optOuts.citizenId, citizenId))).run()
          return
        }
        tx.insert(optOuts).values({ channelId, citizenId, optedOutAt: at }).onConflictDoNothing().run()
      })
    },

    async isOptedOut(channelId, citizenId) {
      return hot().optedOut.get({ channelId, citizenId }) !== undefined
    },

    async areOptedOut(addresses) {
      const q = hot()
      return addresses.map(({ channelId, citizenId }) => q.optedOut.get({ channelId, citizenId }) !== undefined)
    },

    async listCasesToErase(before, limit) {
      return connection()
        .select({ id: cases.id })
        .from(cases)
        // The status as a literal: SQLite uses the partial index cases_erasable_idx only for a condition it can see implies it.
        .where(and(sql`${cases.status} = 'closed'`, isNull(cases.erasedAt), lt(cases.updatedAt, before)))
        .orderBy(asc(cases.updatedAt), asc(cases.id))
        .limit(limit)
        .all()
        .map((r) => r.id)
    },

    async eraseCitizenData(caseId, at, reason) {
      const q = hot()
      await write((tx) => {
        const kase = tx.select().from(cases).where(eq(cases.id, caseId)).get()
        if (!kase || kase.erasedAt !== null) return
        const alias = pseudonym(kase.channelId, kase.citizenId)
        tx.update(cases)
          .set({ citizenId: alias, citizenName: null, contact: null, place: null, summary: '[erased]', erasedAt: at })
          .where(eq(cases.id, caseId))
          .run()
        // The citizen's own messages lose their words and their sender; ours keep their author.
        tx.update(messages)
          .set({ text: '', subject: null, attachments: [], author: sql`case when ${messages.direction} = 'in' then ${alias} else ${messages.author} end` })
          .where(eq(messages.caseId, caseId))
          .run()
        tx.update(attachments).set({ filename: null, sha256: null, blobKey: null }).where(eq(attachments.caseId, caseId)).run()
        tx.update(inbox).set({ payload: null }).where(eq(inbox.caseId, caseId)).run()
        // The words kept for duplicate matching are the citizen's words too; a closed case matches nothing.
        tx.delete(clusterKeys).where(eq(clusterKeys.caseId, caseId)).run()
        for (const row of tx.select({ id: outbox.id, payload: outbox.payload }).from(outbox).where(eq(outbox.caseId, caseId)).all()) {
          const to = { channelId: row.payload.to.channelId, id: alias }
          tx.update(outbox).set({ payload: { ...row.payload, to, text: '' } }).where(eq(outbox.id, row.id)).run()
        }
        for (const row of tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.caseId, caseId)).all()) {
          tx.update(webhookDeliveries).set({ payload: erasedWebhookPayload(row) }).where(eq(webhookDeliveries.id, row.id)).run()
        }
        insertEvents(q, [{ caseId, at, type: 'erased', actor: 'system', public: false, data: { reason } }])
      })
    },

    async exportCitizen(channelId, citizenId) {
      const rows = connection()
        .select()
        .from(cases)
        .where(and(eq(cases.channelId, channelId), eq(cases.citizenId, citizenId)))
        .orderBy(asc(cases.createdAt), asc(cases.id))
        .all()
      const found = []
      for (const row of rows) found.push({ case: toCase(row), messages: await store.listMessages(row.id), events: await store.listEvents(row.id) })
      return { channelId, citizenId, cases: found }
    },
    ...accessMethods({ db: connection, client: () => open().client, write }),
    ...webhookMethods({ db: connection, write }),
    ...forwardingMethods({ db: connection, write, applyChange: (tx, change) => applyChange(tx, change, false), appendEvents: (events) => insertEvents(hot(), events) }),
  }
  return {
    store,
    // Statements compiled against an old schema must go once another connection has migrated.
    forgetStatements: () => {
      if (opened) opened.hot = undefined
    },
  }
}

interface CandidateRow {
  caseId: string
  clusterId: string | null
  category: string
  placeKey: string | null
  lat: number | null
  lon: number | null
  createdAt: number
  text: string
}

/** Up to this many offices in a scope, a case list reads each office's newest cases and merges them. */
const MERGE_OFFICES_UP_TO = 64

/** The WHERE of a case list or count: the filter's fields, the caller's scope, overdue and due-soon windows. */
function caseConditions(filter: ReturnType<typeof CaseFilter.parse>): (SQL | undefined)[] {
  const where: (SQL | undefined)[] = [
    filter.status && eq(cases.status, filter.status),
    filter.officeId !== undefined ? eq(cases.officeId, filter.officeId) : undefined,
    filter.officeIds !== undefined ? inArray(cases.officeId, [...filter.officeIds]) : undefined,
    filter.channelId !== undefined ? eq(cases.channelId, filter.channelId) : undefined,
    filter.category !== undefined ? eq(cases.category, filter.category) : undefined,
    filter.urgency && eq(cases.urgency, filter.urgency),
    filter.assigneeId !== undefined ? eq(cases.assigneeId, filter.assigneeId) : undefined,
    filter.citizenId !== undefined ? eq(cases.citizenId, filter.citizenId) : undefined,
    // A prefix range, not LIKE: served by cases_place_idx, and no wildcard in a code can widen it.
    filter.placeCode !== undefined ? and(gte(cases.placeCode, filter.placeCode), lt(cases.placeCode, filter.placeCode + '\uffff')) : undefined,
    filter.createdFrom !== undefined ? gte(cases.createdAt, filter.createdFrom) : undefined,
    filter.createdTo !== undefined ? lt(cases.createdAt, filter.createdTo) : undefined,
    filter.updatedFrom !== undefined ? gte(cases.updatedAt, filter.updatedFrom) : undefined,
    filter.updatedTo !== undefined ? lt(cases.updatedAt, filter.updatedTo) : undefined,
    filter.open ? inArray(cases.status, [...OPEN_STATUSES]) : undefined,
    filter.clusterId !== undefined ? eq(cases.clusterId, filter.clusterId) : undefined,
  ]
  // Supervision's lists, read from the case's record (supervision-conditions.ts).
  if (filter.escalated || filter.extensionPending) where.push(inArray(cases.status, [...OPEN_STATUSES]))
  if (filter.escalated) where.push(escalatedCondition(cases.id))
  if (filter.extensionPending) where.push(extensionPendingCondition(cases.id))
  if (filter.overdueAt !== undefined || filter.dueBefore !== undefined) where.push(inArray(cases.status, [...OPEN_STATUSES]))
  if (filter.overdueAt !== undefined) where.push(lt(cases.deadlineAt, filter.overdueAt))
  if (filter.dueBefore !== undefined) where.push(lt(cases.deadlineAt, filter.dueBefore))
  if (filter.dueAfter !== undefined) where.push(sql`${cases.deadlineAt} >= ${filter.dueAfter}`)
  // An empty scope (an office with no id in the tree) sees nothing, rather than everything.
  if (filter.officeIds !== undefined && filter.officeIds.length === 0) where.push(sql`0`)
  return where
}

interface Savepoint {
  begin: Database.Statement
  release: Database.Statement
  rollback: Database.Statement
}

function columnExists(client: Database.Database, table: string, column: string): boolean {
  return (client.pragma(`table_info(${table})`) as Array<{ name: string }>).some((c) => c.name === column)
}

/** BEGIN IMMEDIATE that fails at once with SQLITE_BUSY when another connection holds the write lock. */
function beginImmediateWithoutWaiting(client: Database.Database, busyTimeoutMs: number): void {
  client.pragma('busy_timeout = 0')
  try {
    client.exec('BEGIN IMMEDIATE')
  } finally {
    client.pragma(`busy_timeout = ${busyTimeoutMs}`)
  }
}

const isBusy = (error: unknown) => (error as { code?: unknown } | null)?.code === 'SQLITE_BUSY'

/** The order a sent message moves through; a carrier's late failure report wins over `delivered`. */
const DELIVERY_STAGES = ['pending', 'sent', 'delivered', 'failed'] as const
type DeliveryStage = (typeof DELIVERY_STAGES)[number]
/** A report about a provider id no message carries after this long is about nothing we sent. */
const HOLD_REPORTS_MS = 24 * 60 * 60 * 1000

function caseNotFound(id: string): Error {
  return Object.assign(new Error(`${COMPONENT} case '${id}' does not exist`), { code: 'case_not_found' })
}

function outboxNotFound(id: string): Error {
  return Object.assign(new Error(`${COMPONENT} outbox row '${id}' does not exist`), { code: 'outbox_not_found' })
}

function optionError(option: string, expected: string, got: unknown): Error {
  return Object.assign(
    new Error(`${COMPONENT} option '${option}' must be ${expected}; got ${JSON.stringify(got) ?? String(got)}`),
    { code: 'invalid_option' },
  )
}
