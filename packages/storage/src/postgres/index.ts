import { fileURLToPath } from 'node:url'
import { and, asc, between, desc, eq, gte, inArray, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import { migrate as applyMigrations } from 'drizzle-orm/node-postgres/migrator'
import pg from 'pg'
import {
  CaseEvent,
  CaseFilter,
  OPEN_STATUSES,
  StoreConflictError,
  type Case,
  type CaseChange,
  type CaseEventInput,
  type CaseMessage,
  type CasePage,
  type ClusterCandidate,
  type ClusterLink,
  type ClusterLinkResult,
  type DueTimer,
  type TimerPlan,
  type DeliveryStatus,
  type HeldLease,
  type OutboundWrite,
  type Store,
} from '@intake/core'
import { decodeCursor as decodeSqliteCursor, encodeCursor, toCase, toEvent, toMessage, toOutboxItem } from '../sqlite/rows.ts'
import {
  assignmentPicks,
  attachments,
  caseEvents,
  cases,
  caseStats,
  clusterKeys,
  clusters,
  timers,
  heldDeliveryReports,
  inbox,
  messages,
  offices,
  optOuts,
  outbox,
  staffDuty,
  transcriptions,
  webhookDeliveries,
} from './schema.ts'
import { caseNotFound, COMPONENT, isRetryable, isUniqueViolation, outboxNotFound, pgError } from './errors.ts'
import { dedupeTimers, RECORD_INBOUND_SQL, recordInboundParams, splitInbound, timerCaseId, timerId } from './record-inbound.ts'
import { accessMethods, appendCaseEvents, appendCaseEventsAndCommit, CASE_CHAIN_FUNCTION, inScope } from './access.ts'
import { START_WEBHOOK_CURSOR_SQL, webhookMethods } from './webhooks.ts'
import { erasedWebhookPayload } from '../sqlite/webhooks.ts'
import { forwardingMethods } from './forwarding.ts'
import { CASE_STATS_TRIGGERS, foldStatsEvents, queryCaseStats, rebuildCaseStats } from './case-stats.ts'
import { queryCaseVolumes } from './case-volumes.ts'
import { pseudonym } from '../sqlite/pseudonym.ts'
import { escalatedCondition, extensionPendingCondition } from '../sqlite/supervision-conditions.ts'
import { inlineParameters } from './simple-protocol.ts'
import { inOneCall, RECORD_INBOUND_FUNCTION, recordInboundCallParams, recordInOneCall } from './record-inbound-function.ts'
import { tryHoldAdvisoryLease } from './lease.ts'

export { COMPONENT } from './errors.ts'


export interface PostgresStoreOptions {
  /** A libpq connection URL: `postgres://user:password@host:5432/database`. */
  url: string
  /**
   * Connections this process keeps open at most (default 10). Every gateway process, and its
   * delivery thread, has a pool of its own: mind the server's `max_connections`.
   */
  poolSize?: number
  /** Shown in `pg_stat_activity`, so a DBA can tell Intake's connections apart (default `intake`). */
  applicationName?: string
}

const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations/postgres', import.meta.url))

/**
 * Key of the session-level advisory lock that migrations run under, so that processes starting
 * together migrate once: the first applies, the others wait and then find nothing to do.
 * (An arbitrary constant: 'intake' as ASCII, as an int8.)
 */
const MIGRATION_LOCK_KEY = 0x696e74616b65

type Db = NodePgDatabase<Record<string, never>>
/** A transaction handle, or the pool itself for a single statement. */
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

/**
 * The Store on PostgreSQL through node-postgres and drizzle-orm, for several gateway processes on
 * one database: every write is one transaction; leases are taken with `FOR UPDATE SKIP LOCKED`;
 * idempotency is the inbox's unique key, decided by the database whichever process a retry
 * reaches. The pool connects on first use, so building a config object has no side effect;
 * misconfiguration still throws here, at call time.
 *
 * @example
 * const store = postgresStore({ url: 'postgres://intake@db.internal:5432/intake' })
 * await store.migrate()
 */
export function postgresStore({ url, poolSize = 10, applicationName = 'intake' }: PostgresStoreOptions): Store {
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\/./.test(url)) {
    // Not echoed: a URL carries the password.
    throw Object.assign(new Error(`${COMPONENT} option 'url' must be a 'postgres://' URL`), { code: 'invalid_option' })
  }
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) {
    throw optionError('poolSize', 'a positive integer', poolSize)
  }

  let opened: { pool: pg.Pool; db: Db } | undefined
  let closed = false
  const leases = new Set<HeldLease>()

  function open(): { pool: pg.Pool; db: Db } {
    if (closed) throw Object.assign(new Error(`${COMPONENT} store is closed`), { code: 'store_closed' })
    if (!opened) {
      const pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: applicationName })
      // An idle connection the server dropped (a restart, a DBA's pg_terminate_backend) must not
      // take the process down: the pool discards it and the next query connects afresh.
      pool.on('error', () => {})
      opened = { pool, db: drizzle({ client: pool }) }
    }
    return opened
  }

  const db = () => open().db
  let hot: ReturnType<typeof hotQueries> | undefined
  /** The lookups every message makes, built once and run as named prepared statements (parsed once per connection). */
  const prepared = () => (hot ??= hotQueries(db()))

  /**
   * One transaction. A deadlock or serialization failure is the database telling one of two
   * writers to try again; the whole transaction is retried a few times before the error surfaces.
   */
  async function write<T>(run: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await db().transaction(run)
      } catch (error) {
        if (attempt >= 5 || !isRetryable(error)) throw error
      }
    }
  }

  /**
   * A transaction on one pool connection, for raw statements and drizzle queries together. The case
   * events `run` pushes to `chain` are appended last, in the same round trip as the COMMIT (see
   * appendCaseEventsAndCommit): the chain's lock is then held only for that.
   */
  async function onOneConnection<T>(run: (client: pg.PoolClient, tx: Db, chain: CaseEventInput[]) => Promise<T>): Promise<T> {
    const client = await open().pool.connect()
    let broken: Error | undefined
    try {
      await client.query('begin')
      const chain: CaseEventInput[] = []
      const result = await run(client, drizzle({ client }) as unknown as Db, chain)
      await appendCaseEventsAndCommit(client, chain)
      return result
    } catch (error) {
      await client.query('rollback').catch((e: Error) => (broken = e))
      throw error
    } finally {
      client.release(broken)
    }
  }

  async function applyChange(tx: Tx, change: CaseChange): Promise<Case> {
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
    const [updated] = await tx.update(cases).set(set).where(eq(cases.id, change.caseId)).returning()
    if (!updated) throw caseNotFound(change.caseId)
    await insertOutbound(tx, change.outbound ?? [])
    await applyTimerPlan(tx, change.caseId, change.timers)
    // Last: the chain's lock is held from here to the commit.
    await insertEvents(tx, change.events)
    return toCase(updated)
  }

  const store: Store = {
    driver: 'postgres',

    async migrate() {
      const client = await open().pool.connect()
      let broken: unknown
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY])
        try {
          await applyMigrations(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER })
          await client.query(CASE_STATS_TRIGGERS)
          await client.query(START_WEBHOOK_CURSOR_SQL)
          await client.query(CASE_CHAIN_FUNCTION)
          await client.query(RECORD_INBOUND_FUNCTION)
          // Cases from before the stats rows existed get theirs from their events.
          const { rows } = await client.query<{ missing: boolean }>('select (select count(*) from cases) <> (select count(*) from case_stats) as missing')
          if (rows[0]!.missing) {
            await client.query('begin')
            try {
              await rebuildCaseStats(drizzle({ client }))
              await client.query('commit')
            } catch (error) {
              await client.query('rollback')
              throw error
            }
          }
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
        }
      } catch (error) {
        broken = error
        throw error
      } finally {
        // A connection whose unlock failed may still hold the lock: close it rather than pool it.
        client.release(broken instanceof Error ? broken : undefined)
      }
    },

    async close() {
      if (closed) return
      closed = true
      await Promise.all([...leases].map((lease) => lease.release()))
      // Queries already issued finish first: pool.end() waits for checked-out connections.
      await opened?.pool.end()
      opened = undefined
    },

    async ping() {
      await db().execute(sql`select 1`)
    },

    async tryHoldLease(name) {
      if (closed) throw Object.assign(new Error(`${COMPONENT} store is closed`), { code: 'store_closed' })
      const lease = await tryHoldAdvisoryLease(url, applicationName, name)
      if (lease) leases.add(lease)
      return lease
    },

    async saveOffices(list) {
      if (list.length === 0) return
      await write(async (tx) => {
        await tx
          .insert(offices)
          .values(list.map((office) => ({ id: office.id, data: office })))
          .onConflictDoUpdate({ target: offices.id, set: { data: sql`excluded.data` } })
      })
    },

    async listOffices() {
      const rows = await db().select().from(offices).orderBy(asc(offices.id))
      return rows.map((row) => row.data)
    },

    async recordInbound(inbound) {
      const { pool } = open()
      // The common writes in one round trip (record-inbound-function.ts); the rest in a transaction.
      const oneCall = inOneCall(inbound)
      const params = oneCall ? recordInboundCallParams(inbound) : recordInboundParams(inbound)
      for (let attempt = 1; ; attempt++) {
        try {
          const query = { name: 'intake_record_inbound', text: RECORD_INBOUND_SQL, values: params }
          const join = inbound.newCase && inbound.joinCluster ? { ...inbound.joinCluster, caseId: inbound.newCase.id, at: inbound.newCase.createdAt } : undefined
          // Events that change the stats of a case other than the new one (whose row the statement
          // writes folded already) are folded after the statement, in the same transaction.

          // A new case that duplicates an open one joins its cluster in the same transaction (a
          // refused link leaves the case unclustered, as on SQLite).
          // A follow-up's case patch and a timer plan that cancels are applied after the statement too.
          const later = splitInbound(inbound).later
          // The events go on the audit chain after the statement, in the same transaction.
          const { rows } = oneCall ? await recordInOneCall(pool, params) : await onOneConnection(async (client, tx, chain) => {
            const written = await client.query<{ claimed: number; touched: number }>(query)
            if (written.rows[0]!.claimed === 1) {
              if (later.patch && inbound.touchCase) {
                await applyChange(tx as unknown as Tx, { caseId: inbound.touchCase.id, at: inbound.touchCase.updatedAt, patch: later.patch, events: [] })
              }
              await applyTimerPlan(tx, timerCaseId(inbound), later.timers)
              // The statement wrote the new case's stats row with its own events folded in.
              await foldStatsEvents(tx, inbound.newCase ? inbound.events.filter((e) => e.caseId !== inbound.newCase!.id) : inbound.events)
              chain.push(...inbound.events)
              if (join) {
                const { withCaseId, newClusterId, data, caseId, at } = join
                await link(tx, { op: 'pair', caseId, withCaseId, newClusterId, at, actor: 'system', ...(data ? { data } : {}) }, async (events) => {
                  await foldStatsEvents(tx, events)
                  chain.push(...events)
                })
              }
            }
            return written
          })
          if (rows[0]!.claimed === 1) {
            if (inbound.touchCase && !inbound.touchCase.patch && rows[0]!.touched === 0) throw new Error(`${COMPONENT} follow-up written without its case (unreachable: the message's foreign key refuses it)`)
            return { duplicate: false as const }
          }
          // The idempotency key: a retry of the same provider message, in this process or another,
          // finds the first one's row (a new statement, so it sees a commit made since the last began).
          const [first] = await db()
            .select({ caseId: inbox.caseId, messageId: inbox.messageId })
            .from(inbox)
            .where(and(eq(inbox.channelId, inbound.inbox.channelId), eq(inbox.externalId, inbound.inbox.externalId)))
          if (!first) throw new Error(`${COMPONENT} inbox conflict without a row (corrupt unique index?)`)
          return { duplicate: true as const, caseId: first.caseId, messageId: first.messageId }
        } catch (error) {
          if (isUniqueViolation(error, 'cases_tracking_code_unique')) throw new StoreConflictError('tracking_code')
          // A follow-up whose case is gone: the message's foreign key refused the whole write.
          if (inbound.touchCase && pgError(error)?.code === '23503') throw caseNotFound(inbound.touchCase.id)
          if (attempt >= 5 || !isRetryable(error)) throw error
        }
      }
    },

    async applyCaseChange(change) {
      return write((tx) => applyChange(tx, change))
    },

    async applyCaseChanges(changes) {
      return write(async (tx) => {
        const changed: Case[] = []
        for (const change of changes) changed.push(await applyChange(tx, change))
        return changed
      })
    },

    async findClusterCandidates({ category, since, limit, placeKey, box }) {
      const candidates = (where: SQL | undefined) =>
        db()
          .select(CLUSTER_CANDIDATE_COLUMNS)
          .from(clusterKeys)
          .innerJoin(cases, eq(cases.id, clusterKeys.caseId))
          .where(and(eq(clusterKeys.category, category), gte(clusterKeys.createdAt, since), inArray(cases.status, [...OPEN_STATUSES]), where))
          .orderBy(desc(clusterKeys.createdAt))
          .limit(limit)
      const byPlace: ClusterCandidate[] = placeKey === undefined ? [] : await prepared().clusterCandidatesAtPlace.execute({ category, since, placeKey, limit })
      const byPoint: ClusterCandidate[] =
        box === undefined ? [] : await candidates(and(between(clusterKeys.lat, box.minLat, box.maxLat), between(clusterKeys.lon, box.minLon, box.maxLon)))
      const seen = new Set<string>()
      return [...byPlace, ...byPoint]
        .filter((row) => !seen.has(row.caseId) && seen.add(row.caseId))
        .sort((a, b) => b.createdAt - a.createdAt)
        .slice(0, limit)
    },

    async getCluster(id) {
      const [cluster] = await db().select().from(clusters).where(eq(clusters.id, id))
      if (!cluster) return undefined
      const members = await db().select().from(cases).where(eq(cases.clusterId, id)).orderBy(asc(cases.createdAt), asc(cases.id))
      return { cluster, members: members.map(toCase) }
    },

    async linkCluster(l) {
      // A refusal must leave nothing behind: thrown inside the transaction (rolled back), answered as the value.
      const refused = Symbol('refused')
      try {
        return await write(async (tx) => {
          const result = await link(tx, l)
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
      if (limit <= 0) return []
      const due = db()
        .select({ messageId: transcriptions.messageId })
        .from(transcriptions)
        .where(and(lte(transcriptions.nextAttemptAt, now), or(isNull(transcriptions.leaseUntil), lt(transcriptions.leaseUntil, now))))
        .orderBy(asc(transcriptions.nextAttemptAt), asc(transcriptions.messageId))
        .limit(limit)
        // Another process's claim holds its rows: take the next ones instead of waiting.
        .for('update', { skipLocked: true })
      const rows = await db()
        .update(transcriptions)
        .set({ leaseUntil: now + leaseMs, attempts: sql`${transcriptions.attempts} + 1` })
        .where(inArray(transcriptions.messageId, due))
        .returning()
      return rows
        .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || compare(a.messageId, b.messageId))
        .map(({ leaseUntil: _lease, language, ...row }) => ({ ...row, ...(language ? { language } : {}) }))
    },

    async recordTranscription(messageId, outcome, now) {
      await write(async (tx) => {
        const [row] = await tx.select().from(transcriptions).where(eq(transcriptions.messageId, messageId)).for('update')
        // Recorded already (another worker's lease ran out while this one was still transcribing).
        if (!row) return
        if ('retryAt' in outcome) {
          await tx
            .update(transcriptions)
            .set({ nextAttemptAt: outcome.retryAt, leaseUntil: null, lastError: outcome.error })
            .where(eq(transcriptions.messageId, messageId))
          return
        }
        await tx.delete(transcriptions).where(eq(transcriptions.messageId, messageId))
        if ('text' in outcome) await tx.update(messages).set({ text: outcome.text }).where(eq(messages.id, messageId))
        await applyChange(tx, { ...outcome.change, at: outcome.change.at ?? now })
      })
    },

    async getCase(id, scope) {
      const [row] = await db().select().from(cases).where(and(eq(cases.id, id), scope ? inScope(cases.officeId, scope.officeIds) : undefined))
      return row && toCase(row)
    },

    async getCaseByTrackingCode(code, scope) {
      const [row] = await db()
        .select()
        .from(cases)
        .where(and(eq(cases.trackingCode, code), scope ? inScope(cases.officeId, scope.officeIds) : undefined))
      return row && toCase(row)
    },

    async countCases(input = {}, upTo) {
      const where = and(...caseConditions(CaseFilter.parse(input)))
      if (upTo === undefined) {
        const [row] = await db().select({ n: sql<number>`count(*)::int` }).from(cases).where(where)
        return row?.n ?? 0
      }
      // Counting stops at `upTo`: a list header needs "10,000+", not a scan of a million rows per page view.
      const capped = db().select({ one: sql`1`.as('one') }).from(cases).where(where).limit(upTo).as('capped')
      const [row] = await db().select({ n: sql<number>`count(*)::int` }).from(capped)
      return row?.n ?? 0
    },

    async caseVolumes(query) {
      return queryCaseVolumes(open().pool, query)
    },

    async listCases(input = {}) {
      const filter = CaseFilter.parse(input)
      const where = caseConditions(filter)
      if (filter.cursor !== undefined) {
        const after = decodeCursor(filter.cursor)
        where.push(or(lt(cases.createdAt, after.createdAt), and(eq(cases.createdAt, after.createdAt), lt(cases.id, after.id))))
      }
      // One row more than asked tells whether a next page exists without a second query.
      const rows = await db()
        .select()
        .from(cases)
        .where(and(...where))
        .orderBy(desc(cases.createdAt), desc(cases.id))
        .limit(filter.limit + 1)
      const page = rows.slice(0, filter.limit).map(toCase)
      const last = page.at(-1)
      const result: CasePage = { cases: page }
      if (rows.length > filter.limit && last) result.nextCursor = encodeCursor(last)
      return result
    },

    async findOpenCaseBySender(channelId, citizenId, since) {
      const [row] = await prepared().openCaseBySender.execute({ channelId, citizenId, since })
      return row && toCase(row)
    },

    async findResolvedCaseBySender(channelId, citizenId, since) {
      const [row] = await db()
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
      return row && toCase(row)
    },

    async findCaseByMessageRef(channelId, refs) {
      if (refs.length === 0) return undefined
      const [row] = await db()
        .select({ found: cases })
        .from(messages)
        .innerJoin(cases, eq(cases.id, messages.caseId))
        .where(and(eq(messages.channelId, channelId), inArray(messages.externalId, refs)))
        .orderBy(desc(messages.createdAt))
        .limit(1)
      return row && toCase(row.found)
    },

    async listMessages(caseId) {
      const rows = await db()
        .select()
        .from(messages)
        .where(eq(messages.caseId, caseId))
        // seq breaks ties in write order: an inbound message and its acknowledgement share a timestamp.
        .orderBy(asc(messages.createdAt), asc(messages.seq))
      return rows.map(toMessage)
    },

    async listEvents(caseId) {
      const rows = await db().select().from(caseEvents).where(eq(caseEvents.caseId, caseId)).orderBy(asc(caseEvents.id))
      return rows.map(toEvent)
    },

    async claimOutbox(now, limit, leaseMs) {
      if (limit <= 0) return []
      const due = db()
        .select({ id: outbox.id })
        .from(outbox)
        .where(
          or(
            and(eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, now)),
            and(eq(outbox.status, 'sending'), lt(outbox.leaseUntil, now)),
          ),
        )
        .orderBy(asc(outbox.nextAttemptAt), asc(outbox.createdAt), asc(outbox.id))
        .limit(limit)
        // Another process's claim holds its rows until it commits: take the next due ones instead
        // of waiting for them (and then finding them leased).
        .for('update', { skipLocked: true })
      const rows = await db()
        .update(outbox)
        .set({ status: 'sending', leaseUntil: now + leaseMs, attempts: sql`${outbox.attempts} + 1`, updatedAt: now })
        .where(inArray(outbox.id, due))
        .returning()
      return rows
        .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.createdAt - b.createdAt || compare(a.id, b.id))
        .map(toOutboxItem)
    },

    async completeOutbox(id, providerId, now) {
      const [missing] = await completeSent(open().pool, [{ id, providerId }], now)
      if (missing) throw outboxNotFound(missing)
    },

    async completeOutboxBatch(deliveries, now) {
      return completeSent(open().pool, deliveries, now)
    },

    async failOutbox(id, failure, now) {
      await write(async (tx) => {
        const [row] = await tx.select().from(outbox).where(eq(outbox.id, id)).for('update')
        if (!row) throw outboxNotFound(id)
        // Only the lease holder's verdict counts: a worker whose lease expired while another one
        // delivered the message must not put a sent (or dead) row back in the queue.
        if (row.status !== 'sending') return
        if ('dead' in failure) {
          await tx.update(outbox).set({ status: 'dead', lastError: failure.error, leaseUntil: null, updatedAt: now }).where(eq(outbox.id, id))
          await tx.update(messages).set({ deliveryStatus: 'dead' }).where(eq(messages.id, row.messageId))
          // A status answer to a stranger has no case to put the failure on.
          if (row.caseId) {
            await insertEvents(tx, [
              { caseId: row.caseId, at: now, type: 'delivery_failed', actor: 'outbox', public: false, data: { outboxId: id, error: failure.error } },
            ])
          }
          return
        }
        await tx
          .update(outbox)
          .set({ status: 'pending', nextAttemptAt: failure.retryAt, lastError: failure.error, leaseUntil: null, updatedAt: now })
          .where(eq(outbox.id, id))
      })
    },

    async listOutbox({ status, caseId, limit = 100, officeIds }) {
      const rows = await db()
        .select()
        .from(outbox)
        .where(
          and(
            status !== undefined ? eq(outbox.status, status) : undefined,
            caseId !== undefined ? eq(outbox.caseId, caseId) : undefined,
            officeIds !== undefined ? inArray(outbox.caseId, db().select({ id: cases.id }).from(cases).where(inScope(cases.officeId, officeIds))) : undefined,
          ),
        )
        .orderBy(desc(outbox.createdAt), desc(outbox.id))
        .limit(limit)
      return rows.map(toOutboxItem)
    },

    async retryOutbox(id, now, scope) {
      return write(async (tx) => {
        const [row] = await tx
          .update(outbox)
          .set({ status: 'pending', attempts: 0, nextAttemptAt: now, leaseUntil: null, updatedAt: now })
          .where(
            and(
              eq(outbox.id, id),
              eq(outbox.status, 'dead'),
              scope ? inArray(outbox.caseId, tx.select({ id: cases.id }).from(cases).where(inScope(cases.officeId, scope.officeIds))) : undefined,
            ),
          )
          .returning()
        if (!row) return undefined
        await tx.update(messages).set({ deliveryStatus: 'pending' }).where(eq(messages.id, row.messageId))
        return toOutboxItem(row)
      })
    },

    async updateDeliveryStatus(channelId, providerId, status, at) {
      // Reports arrive out of order (Twilio may post `sent` after `delivered`): a status only
      // replaces an earlier stage, never a later one.
      const stage = DELIVERY_STAGES.indexOf(status as DeliveryStage)
      if (stage < 1) return false
      const earlier = DELIVERY_STAGES.slice(0, stage) as DeliveryStatus[]
      return write(async (tx) => {
        await lockReportsOf(tx, channelId, providerId)
        // Delivery reports concern messages we sent; an inbound message may carry the same provider id.
        const sent = and(eq(messages.channelId, channelId), eq(messages.externalId, providerId), eq(messages.direction, 'out'))
        const updated = await tx
          .update(messages)
          .set({ deliveryStatus: status })
          .where(and(sent, inArray(messages.deliveryStatus, earlier)))
          .returning({ id: messages.id })
        if (updated.length > 0) return true
        if ((await tx.select({ id: messages.id }).from(messages).where(sent).limit(1)).length > 0) return false
        // No message carries this id yet: hold the report for completeOutbox (the latest stage wins).
        await tx.delete(heldDeliveryReports).where(lt(heldDeliveryReports.receivedAt, at - HOLD_REPORTS_MS))
        await tx
          .insert(heldDeliveryReports)
          .values({ channelId, providerId, status, receivedAt: at })
          .onConflictDoUpdate({
            target: [heldDeliveryReports.channelId, heldDeliveryReports.providerId],
            set: { status, receivedAt: at },
            where: sql`${stageOf(sql`${heldDeliveryReports.status}`)} < ${stage}`,
          })
        return false
      })
    },

    async setOnDuty(staffId, onDuty, at) {
      await db()
        .insert(staffDuty)
        .values({ staffId, onDuty, updatedAt: at })
        .onConflictDoUpdate({ target: staffDuty.staffId, set: { onDuty, updatedAt: at } })
    },

    async listDuty() {
      const rows = await db().select({ staffId: staffDuty.staffId, onDuty: staffDuty.onDuty }).from(staffDuty)
      return Object.fromEntries(rows.map((r) => [r.staffId, r.onDuty]))
    },

    async assignmentLoad(officeId) {
      const { openCases, lastAssigneeId } = await loadOf(db(), officeId)
      return { openCases, lastAssigneeId }
    },

    async pickAssignee(officeId, caseId, at, pick) {
      return write(async (tx) => {
        // One decision at a time per office, across processes: the next waits here until this one
        // commits, then (its next statement being a new snapshot) sees its pick.
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext('intake.assignment'), hashtext(${officeId}))`)
        // The office's whole load in one round trip: the lock is held across it.
        const result = await tx.execute<{ load: PickLoad }>(sql`
          select json_build_object(
            'open', (select coalesce(json_object_agg(assignee_id, n), '{}') from (
              select assignee_id, count(*)::int as n from ${cases}
              where office_id = ${officeId} and status in (${sql.join(OPEN_STATUSES.map((s) => sql`${s}`), sql`, `)}) and assignee_id is not null
              group by assignee_id) o),
            -- Picks whose case does not carry them yet: written by a transaction still in flight.
            'pending', (select coalesce(json_object_agg(staff_id, n), '{}') from (
              select p.staff_id, count(*)::int as n from ${assignmentPicks} p
              where p.office_id = ${officeId} and p.at >= ${at - PICK_MEMORY_MS}
                and not exists (select 1 from ${cases} c where c.id = p.case_id and c.assignee_id = p.staff_id)
              group by p.staff_id) q),
            'latestPick', (select json_build_object('staffId', staff_id, 'at', at) from ${assignmentPicks}
              where office_id = ${officeId} order by seq desc limit 1),
            'lastAssigned', (select json_build_object('staffId', assignee_id, 'at', assigned_at) from ${cases}
              where office_id = ${officeId} and assigned_at is not null order by assigned_at desc, id desc limit 1)
          ) as load`)
        const load = result.rows[0]!.load
        const openCases: Record<string, number> = { ...load.open }
        for (const [staffId, n] of Object.entries(load.pending)) openCases[staffId] = (openCases[staffId] ?? 0) + n
        // A pick at least as recent as the latest assignment on record (one by hand, or after old picks were pruned) is the last.
        const { latestPick: latest, lastAssigned } = load
        const lastAssigneeId = latest && (!lastAssigned || latest.at >= lastAssigned.at) ? latest.staffId : (lastAssigned?.staffId ?? null)
        const staffId = pick({ openCases, lastAssigneeId })
        await tx.execute(sql`
          with pruned as (delete from ${assignmentPicks} where office_id = ${officeId} and at < ${at - PICK_MEMORY_MS})
          insert into ${assignmentPicks} (office_id, staff_id, case_id, at)
          select ${officeId}, ${staffId}, ${caseId}, ${at} where ${staffId}::text is not null`)
        return staffId
      })
    },

    async setOptOut(channelId, citizenId, optedOut, at) {
      if (!optedOut) {
        await db().delete(optOuts).where(and(eq(optOuts.channelId, channelId), eq(optOuts.citizenId, citizenId)))
        return
      }
      await db().insert(optOuts).values({ channelId, citizenId, optedOutAt: at }).onConflictDoNothing()
    },

    async isOptedOut(channelId, citizenId) {
      const rows = await prepared().optedOut.execute({ channelId, citizenId })
      return rows.length > 0
    },

    async areOptedOut(addresses) {
      if (addresses.length === 0) return []
      const list = JSON.stringify(addresses.map(({ channelId, citizenId }, i) => ({ i, channel_id: channelId, citizen_id: citizenId })))
      const { rows } = await open().pool.query<{ i: number }>({ name: 'intake_opted_out_among', text: OPTED_OUT_AMONG_SQL, values: [list] })
      const stopped = new Set(rows.map((r) => r.i))
      return addresses.map((_, i) => stopped.has(i))
    },

    async caseStats(selection) {
      return queryCaseStats(open().pool, selection)
    },

    async rebuildCaseStats() {
      return write(async (tx) => ({ cases: await rebuildCaseStats(tx) }))
    },

    async findClosedCaseBySender(channelId, citizenId, since) {
      const [row] = await db()
        .select()
        .from(cases)
        .where(and(eq(cases.channelId, channelId), eq(cases.citizenId, citizenId), eq(cases.status, 'closed'), sql`${cases.updatedAt} >= ${since}`))
        .orderBy(desc(cases.updatedAt))
        .limit(1)
      return row && toCase(row)
    },

    async planTimers(caseId, plan) {
      await write((tx) => applyTimerPlan(tx, caseId, plan))
    },

    async claimTimers(now, limit, leaseMs) {
      if (limit <= 0) return []
      const due = db()
        .select({ id: timers.id })
        .from(timers)
        .where(and(lte(timers.dueAt, now), or(isNull(timers.leaseUntil), lt(timers.leaseUntil, now))))
        .orderBy(asc(timers.dueAt), asc(timers.id))
        .limit(limit)
        // Another process's claim holds its rows: take the next due ones instead of waiting.
        .for('update', { skipLocked: true })
      const rows = await db()
        .update(timers)
        .set({ leaseUntil: now + leaseMs, version: sql`${timers.version} + 1` })
        .where(inArray(timers.id, due))
        .returning({ id: timers.id, caseId: timers.caseId, kind: timers.kind, point: timers.point, dueAt: timers.dueAt, version: timers.version })
      return rows.sort((a, b) => a.dueAt - b.dueAt || compare(a.id, b.id)) as DueTimer[]
    },

    async completeTimer(timer, change) {
      return write(async (tx) => {
        // The version check is the whole of "fires once": a re-plan or a second lease changed it.
        const fired = await tx.delete(timers).where(and(eq(timers.id, timer.id), eq(timers.version, timer.version))).returning({ id: timers.id })
        if (fired.length === 0) return false
        if (change) await applyChange(tx, change)
        return true
      })
    },

    async listTimers(caseId) {
      return db()
        .select({ id: timers.id, kind: timers.kind, point: timers.point, dueAt: timers.dueAt, leaseUntil: timers.leaseUntil })
        .from(timers)
        .where(eq(timers.caseId, caseId))
        .orderBy(asc(timers.dueAt), asc(timers.id))
    },

    async listCasesToErase(before, limit) {
      const rows = await db()
        .select({ id: cases.id })
        .from(cases)
        .where(and(eq(cases.status, 'closed'), isNull(cases.erasedAt), lt(cases.updatedAt, before)))
        .orderBy(asc(cases.updatedAt), asc(cases.id))
        .limit(limit)
      return rows.map((r) => r.id)
    },

    async eraseCitizenData(caseId, at, reason) {
      await write(async (tx) => {
        // Locked, so two processes' retention runs erase (and record it) once.
        const [kase] = await tx.select().from(cases).where(eq(cases.id, caseId)).for('update')
        if (!kase || kase.erasedAt !== null) return
        const alias = pseudonym(kase.channelId, kase.citizenId)
        await tx
          .update(cases)
          .set({ citizenId: alias, citizenName: null, contact: null, place: null, summary: '[erased]', erasedAt: at })
          .where(eq(cases.id, caseId))
        // The citizen's own messages lose their words and their sender; ours keep their author.
        await tx
          .update(messages)
          .set({ text: '', subject: null, attachments: [], author: sql`case when ${messages.direction} = 'in' then ${alias} else ${messages.author} end` })
          .where(eq(messages.caseId, caseId))
        await tx.update(attachments).set({ filename: null, sha256: null, blobKey: null }).where(eq(attachments.caseId, caseId))
        await tx.update(inbox).set({ payload: null }).where(eq(inbox.caseId, caseId))
        // The words kept for duplicate matching are the citizen's words too; a closed case matches nothing.
        await tx.delete(clusterKeys).where(eq(clusterKeys.caseId, caseId))
        for (const row of await tx.select({ id: outbox.id, payload: outbox.payload }).from(outbox).where(eq(outbox.caseId, caseId))) {
          const to = { channelId: row.payload.to.channelId, id: alias }
          await tx.update(outbox).set({ payload: { ...row.payload, to, text: '' } }).where(eq(outbox.id, row.id))
        }
        for (const row of await tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.caseId, caseId))) {
          await tx.update(webhookDeliveries).set({ payload: erasedWebhookPayload(row) }).where(eq(webhookDeliveries.id, row.id))
        }
        await insertEvents(tx, [{ caseId, at, type: 'erased', actor: 'system', public: false, data: { reason } }])
      })
    },

    async exportCitizen(channelId, citizenId) {
      const rows = await db()
        .select()
        .from(cases)
        .where(and(eq(cases.channelId, channelId), eq(cases.citizenId, citizenId)))
        .orderBy(asc(cases.createdAt), asc(cases.id))
      const found = []
      for (const row of rows) found.push({ case: toCase(row), messages: await store.listMessages(row.id), events: await store.listEvents(row.id) })
      return { channelId, citizenId, cases: found }
    },

    ...accessMethods(() => db(), (run) => write((tx) => run(tx))),
    ...webhookMethods(() => db(), (run) => write((tx) => run(tx))),
    ...forwardingMethods({ db, write, applyChange, appendEvents: insertEvents }),
  }
  return store
}

const CLUSTER_CANDIDATE_COLUMNS = {
  caseId: clusterKeys.caseId,
  clusterId: cases.clusterId,
  category: clusterKeys.category,
  placeKey: clusterKeys.placeKey,
  lat: clusterKeys.lat,
  lon: clusterKeys.lon,
  createdAt: clusterKeys.createdAt,
  text: clusterKeys.text,
}

/** The hot path's lookups as drizzle prepared queries, named: no query building per call, and the server parses each once per connection. */
function hotQueries(db: Db) {
  const p = sql.placeholder
  return {
    openCaseBySender: db
      .select()
      .from(cases)
      .where(and(eq(cases.channelId, p('channelId')), eq(cases.citizenId, p('citizenId')), sql`${cases.updatedAt} >= ${p('since')}`, inArray(cases.status, [...OPEN_STATUSES])))
      .orderBy(desc(cases.updatedAt), desc(cases.createdAt), desc(cases.id))
      .limit(1)
      .prepare('intake_open_case_by_sender'),
    optedOut: db
      .select({ at: optOuts.optedOutAt })
      .from(optOuts)
      .where(and(eq(optOuts.channelId, p('channelId')), eq(optOuts.citizenId, p('citizenId'))))
      .prepare('intake_opted_out'),
    clusterCandidatesAtPlace: db
      .select(CLUSTER_CANDIDATE_COLUMNS)
      .from(clusterKeys)
      .innerJoin(cases, eq(cases.id, clusterKeys.caseId))
      .where(and(eq(clusterKeys.category, p('category')), gte(clusterKeys.createdAt, p('since')), inArray(cases.status, [...OPEN_STATUSES]), eq(clusterKeys.placeKey, p('placeKey'))))
      .orderBy(desc(clusterKeys.createdAt))
      .limit(p('limit'))
      .prepare('intake_cluster_candidates_at_place'),
  }
}

/** Messages in one statement, in the given order (their `seq`), and their attachments. */
async function insertMessages(tx: Tx, list: CaseMessage[]): Promise<void> {
  if (list.length === 0) return
  await tx.insert(messages).values(list)
  const files = list.flatMap((message) =>
    message.attachments.map((attachment) => ({
      // The model lets an attachment arrive before the blob store has named it.
      id: attachment.id ?? crypto.randomUUID(),
      messageId: message.id,
      caseId: message.caseId,
      filename: attachment.filename ?? null,
      contentType: attachment.contentType,
      size: attachment.size,
      sha256: attachment.sha256 ?? null,
      blobKey: attachment.blobKey ?? null,
    })),
  )
  if (files.length > 0) await tx.insert(attachments).values(files)
}

async function insertEvents(tx: Tx | Db, events: CaseEventInput[]): Promise<void> {
  if (events.length === 0) return
  // The stats rows first: their row locks are taken before the chain's lock, which is then held
  // by a transaction that waits on nothing else (no lock cycle with an intake write, which takes
  // the chain's lock last).
  await foldStatsEvents(tx, events)
  // Parsing fills the default `data` and rejects an unknown event type before it reaches the
  // audit trail; the id is always the store's, so the append order cannot be forged. One
  // multi-row INSERT numbers the rows in the order given.
  await appendCaseEvents(tx, events)
}

async function insertOutboxRows(tx: Tx, outbound: OutboundWrite[]): Promise<void> {
  if (outbound.length === 0) return
  await tx.insert(outbox).values(outbound.map(({ outbox: item }) => ({ ...item, leaseUntil: null })))
}

async function insertOutbound(tx: Tx, outbound: OutboundWrite[]): Promise<void> {
  await insertMessages(
    tx,
    outbound.map((o) => o.message),
  )
  await insertOutboxRows(tx, outbound)
}

/**
 * Deliveries the providers accepted, in one round trip: a simple-protocol query of two statements,
 * which PostgreSQL runs as one transaction (no BEGIN or COMMIT to send). The first takes each
 * delivery's report lock (see lockReportsOf), in one order so two batches never wait on each
 * other crosswise; the second, a new statement with a new snapshot, then sees any report a racing
 * updateDeliveryStatus committed before the lock was granted. Whatever state a row is in, the
 * provider has accepted the message: it is recorded as sent, so that no later retry of a stale
 * lease sends it twice; the message carries the provider id, and a report held for it (made
 * before we recorded the send) is applied if it is later than sent. Returns the ids with no row.
 */
async function completeSent(pool: pg.Pool, deliveries: ReadonlyArray<{ id: string; providerId: string }>, now: number): Promise<string[]> {
  if (deliveries.length === 0) return []
  const list = JSON.stringify(deliveries.map(({ id, providerId }) => ({ id, provider_id: providerId })))
  const client = await pool.connect()
  try {
    const [locked] = (await client.query(inlineParameters(client, COMPLETE_SENT_SQL, [list, now]))) as unknown as pg.QueryResult<{ id: string }>[]
    const found = new Set(locked!.rows.map((r) => r.id))
    return deliveries.filter((d) => !found.has(d.id)).map((d) => d.id)
  } finally {
    client.release()
  }
}

const COMPLETE_SENT_SQL = `
select id, pg_advisory_xact_lock(hashtext(channel_id), hashtext(provider_id)) from (
  select o.id, o.channel_id, d.provider_id from outbox o join json_to_recordset($1::json) as d(id text, provider_id text) on o.id = d.id
  order by o.channel_id, d.provider_id, o.id
) deliveries;
with d as (select * from json_to_recordset($1::json) as d(id text, provider_id text)),
sent as (
  update outbox o set status = 'sent', provider_id = d.provider_id, lease_until = null, updated_at = $2::bigint
  from d where o.id = d.id
  returning o.message_id, o.channel_id, o.provider_id
),
held as (
  delete from held_delivery_reports h using sent
  where h.channel_id = sent.channel_id and h.provider_id = sent.provider_id
  returning h.channel_id, h.provider_id, h.status
)
update messages m set external_id = sent.provider_id,
  delivery_status = coalesce((select held.status from held where held.channel_id = sent.channel_id and held.provider_id = sent.provider_id
    and held.status in ('delivered', 'failed')), 'sent')
from sent where m.id = sent.message_id`

/** Which of a list of addresses (`[{i, channel_id, citizen_id}]`) opted out, by their place in it. */
const OPTED_OUT_AMONG_SQL = `
select d.i from json_to_recordset($1::json) as d(i int, channel_id text, citizen_id text)
join opt_outs o on o.channel_id = d.channel_id and o.citizen_id = d.citizen_id`

/**
 * Serialises, within a transaction, the delivery report and the send verdict about one provider
 * id: without it a report could be held just after completeOutbox looked for held ones (two
 * processes, two transactions), and be lost.
 */
async function lockReportsOf(tx: Tx, channelId: string, providerId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${channelId}), hashtext(${providerId}))`)
}

/**
 * Cluster membership changes inside a transaction; refusals are values. The cases involved are
 * locked first (in id order, so two links never wait on each other crosswise): two new cases
 * duplicating the same open case at once, in two processes, end up in one cluster.
 */
async function link(q: Tx | Db, l: ClusterLink, emit: (events: CaseEventInput[]) => Promise<void> = (events) => insertEvents(q, events)): Promise<ClusterLinkResult> {
  if (l.op === 'pair' && l.withCaseId === l.caseId) return { ok: false, code: 'same_case', caseId: l.caseId }
  const ids = l.op === 'pair' ? [l.caseId, l.withCaseId].sort() : [l.caseId]
  const locked = await q.select().from(cases).where(inArray(cases.id, ids)).orderBy(asc(cases.id)).for('update')
  const kase = locked.find((row) => row.id === l.caseId)
  if (!kase) return { ok: false, code: 'case_not_found', caseId: l.caseId }
  // The events go out together once the link is made (the chain's lock is taken last).
  const events: CaseEventInput[] = []
  const event = (caseId: string, type: 'clustered' | 'unclustered', clusterId: string, data = l.data) =>
    events.push({ caseId, at: l.at, type, actor: l.actor, public: false, data: { clusterId, ...data } })
  const setCluster = (caseId: string, clusterId: string | null) => q.update(cases).set({ clusterId, updatedAt: l.at }).where(eq(cases.id, caseId))
  const touchCluster = (id: string) => q.update(clusters).set({ updatedAt: l.at }).where(eq(clusters.id, id))
  const clusterExists = async (id: string) => (await q.select({ id: clusters.id }).from(clusters).where(eq(clusters.id, id))).length > 0

  if (l.op === 'leave') {
    if (!(await clusterExists(l.clusterId))) return { ok: false, code: 'cluster_not_found', caseId: l.caseId, clusterId: l.clusterId }
    if (kase.clusterId !== l.clusterId) return { ok: false, code: 'not_a_member', caseId: l.caseId, clusterId: l.clusterId }
    await setCluster(l.caseId, null)
    await touchCluster(l.clusterId)
    event(l.caseId, 'unclustered', l.clusterId)
    await emit(events)
    return { ok: true, clusterId: l.clusterId, changed: true }
  }

  let target: string
  if (l.op === 'join') {
    if (!(await clusterExists(l.clusterId))) return { ok: false, code: 'cluster_not_found', caseId: l.caseId, clusterId: l.clusterId }
    target = l.clusterId
  } else {
    const other = locked.find((row) => row.id === l.withCaseId)
    if (!other) return { ok: false, code: 'case_not_found', caseId: l.withCaseId }
    if (other.clusterId) target = other.clusterId
    else {
      if (kase.clusterId) return { ok: false, code: 'already_clustered', caseId: l.caseId, clusterId: kase.clusterId }
      target = l.newClusterId
      await q.insert(clusters).values({ id: target, createdAt: l.at, updatedAt: l.at, createdBy: l.actor })
      await setCluster(l.withCaseId, target)
      event(l.withCaseId, 'clustered', target, { withCaseId: l.caseId })
    }
  }
  if (kase.clusterId === target) {
    await emit(events)
    return { ok: true, clusterId: target, changed: false }
  }
  if (kase.clusterId) return { ok: false, code: 'already_clustered', caseId: l.caseId, clusterId: kase.clusterId }
  await setCluster(l.caseId, target)
  await touchCluster(target)
  event(l.caseId, 'clustered', target)
  await emit(events)
  return { ok: true, clusterId: target, changed: true }
}

/** The WHERE of a case list or count: the filter's fields, the caller's scope, overdue and due-soon windows. */
function caseConditions(filter: ReturnType<typeof CaseFilter.parse>): (SQL | undefined)[] {
  const where: (SQL | undefined)[] = [
    filter.status && eq(cases.status, filter.status),
    filter.officeId !== undefined ? eq(cases.officeId, filter.officeId) : undefined,
    filter.officeIds !== undefined ? inScope(cases.officeId, filter.officeIds) : undefined,
    filter.channelId !== undefined ? eq(cases.channelId, filter.channelId) : undefined,
    filter.category !== undefined ? eq(cases.category, filter.category) : undefined,
    filter.urgency && eq(cases.urgency, filter.urgency),
    filter.assigneeId !== undefined ? eq(cases.assigneeId, filter.assigneeId) : undefined,
    filter.citizenId !== undefined ? eq(cases.citizenId, filter.citizenId) : undefined,
    // A prefix range in byte order, not LIKE: no wildcard in a code can widen it.
    filter.placeCode !== undefined
      ? and(sql`${cases.placeCode} collate "C" >= ${filter.placeCode}`, sql`${cases.placeCode} collate "C" < ${filter.placeCode + '\uffff'}`)
      : undefined,
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
  if (filter.dueAfter !== undefined) where.push(gte(cases.deadlineAt, filter.dueAfter))
  return where
}

/** A case's timer plan: drop the cancelled kinds, then plan (or move) each timer. */
async function applyTimerPlan(q: Tx | Db, caseId: string, plan: TimerPlan | undefined): Promise<void> {
  if (!plan) return
  if (plan.cancel === 'all') await q.delete(timers).where(eq(timers.caseId, caseId))
  else if (plan.cancel && plan.cancel.length > 0) await q.delete(timers).where(and(eq(timers.caseId, caseId), inArray(timers.kind, [...plan.cancel])))
  const planned = dedupeTimers(caseId, plan.timers)
  if (planned.length === 0) return
  await q
    .insert(timers)
    .values(planned.map((t) => ({ id: timerId(caseId, t.kind, t.point), caseId, kind: t.kind, point: t.point, dueAt: t.dueAt, leaseUntil: null, version: 1 })))
    // Moved, not doubled; the new version takes the timer from any worker still holding the old lease.
    .onConflictDoUpdate({ target: timers.id, set: { dueAt: sql`excluded.due_at`, leaseUntil: null, version: sql`${timers.version} + 1` } })
}

/** An office's open cases per assignee, and its latest assignment on record. */
async function loadOf(q: Tx | Db, officeId: string) {
  const counts = await q
    .select({ assigneeId: cases.assigneeId, open: sql<number>`count(*)::int` })
    .from(cases)
    .where(and(eq(cases.officeId, officeId), inArray(cases.status, [...OPEN_STATUSES]), sql`${cases.assigneeId} is not null`))
    .groupBy(cases.assigneeId)
  const [last] = await q
    .select({ assigneeId: cases.assigneeId, assignedAt: cases.assignedAt })
    .from(cases)
    .where(and(eq(cases.officeId, officeId), sql`${cases.assignedAt} is not null`))
    .orderBy(desc(cases.assignedAt), desc(cases.id))
    .limit(1)
  return {
    openCases: Object.fromEntries(counts.map((r) => [r.assigneeId!, r.open])) as Record<string, number>,
    lastAssigneeId: last?.assigneeId ?? null,
    lastAssignedAt: last?.assignedAt ?? null,
  }
}

/** What pickAssignee reads about an office in one statement. */
interface PickLoad {
  open: Record<string, number>
  pending: Record<string, number>
  latestPick: { staffId: string; at: number } | null
  lastAssigned: { staffId: string; at: number } | null
}

/**
 * How long a pick is remembered: long enough for its case to be committed (a pick older than this
 * whose case never arrived was for a write that failed), short enough that a case reassigned or
 * closed soon after its pick is counted twice only briefly.
 */
const PICK_MEMORY_MS = 10_000

/** The order a sent message moves through; a carrier's late failure report wins over `delivered`. */
const DELIVERY_STAGES = ['pending', 'sent', 'delivered', 'failed'] as const
type DeliveryStage = (typeof DELIVERY_STAGES)[number]
/** A status's place in DELIVERY_STAGES, in SQL (array_position is 1-based). */
const stageOf = (status: SQL) => sql`(array_position(array['pending','sent','delivered','failed']::text[], ${status}) - 1)`
/** A report about a provider id no message carries after this long is about nothing we sent. */
const HOLD_REPORTS_MS = 24 * 60 * 60 * 1000

/** Binary order of ids, as the database's "C" collation and JavaScript's `<` agree on for ASCII. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

function decodeCursor(cursor: string): { createdAt: number; id: string } {
  try {
    return decodeSqliteCursor(cursor)
  } catch {
    throw Object.assign(new Error(`${COMPONENT} invalid cursor '${cursor}'`), { code: 'invalid_cursor' })
  }
}

function optionError(option: string, expected: string, got: unknown): Error {
  return Object.assign(new Error(`${COMPONENT} option '${option}' must be ${expected}; got ${JSON.stringify(got) ?? String(got)}`), {
    code: 'invalid_option',
  })
}
