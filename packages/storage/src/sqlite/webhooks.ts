/**
 * The event webhooks' part of the Store in SQLite: subscriptions made through the API, the feed's
 * cursor over case_events, and the deliveries, leased like the outbox.
 */
import type Database from 'better-sqlite3'
import { and, asc, desc, eq, gt, sql } from 'drizzle-orm'
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core'
import type { StoreWebhookMethods, WebhookAttempt, WebhookDelivery, WebhookSubscription } from '@intake/core'
import { toEvent } from './rows.ts'
import { caseEvents, webhookCursor, webhookDeliveries, webhookSubscriptions } from './schema.ts'

type Connection = BaseSQLiteDatabase<'sync', Database.RunResult>

export interface WebhookContext {
  db: () => BetterSQLite3Database
  write: <T>(run: (tx: Connection) => T) => Promise<T>
}

/** The one cursor row's name. */
export const CURSOR = 'case_events'

/** Run at migrate: the feed starts at the newest event, so a deployment is not sent its history. */
export function startWebhookCursor(client: Database.Database): void {
  client.prepare(`insert or ignore into webhook_cursor (name, event_id) select ?, coalesce(max(id), 0) from case_events`).run(CURSOR)
}

type DeliveryRow = typeof webhookDeliveries.$inferSelect

export function toWebhookDelivery({ leaseUntil: _lease, ...row }: DeliveryRow): WebhookDelivery {
  return row
}

/** The columns an attempt's outcome sets (both drivers): delivered, due again at `retryAt`, or dead; the lease ends. */
export function attemptColumns(attempt: WebhookAttempt, now: number) {
  const outcome =
    'delivered' in attempt
      ? { status: 'delivered' as const, lastError: null }
      : 'dead' in attempt
        ? { status: 'dead' as const, lastError: attempt.error }
        : { status: 'pending' as const, nextAttemptAt: attempt.retryAt, lastError: attempt.error }
  return { ...outcome, responseStatus: attempt.responseStatus, leaseUntil: null, updatedAt: now }
}

/**
 * What is left of a delivery's body once its case's citizen data is erased (retention): the event,
 * not the case's words, place or contact. A delivery still queued then sends only this.
 */
export const erasedWebhookPayload = (row: Pick<WebhookDelivery, 'idempotencyKey' | 'eventType' | 'eventId' | 'caseId'>) =>
  JSON.stringify({ id: row.idempotencyKey, type: row.eventType, eventId: row.eventId, case: { id: row.caseId }, erased: true })

export const toWebhookSubscription = (row: typeof webhookSubscriptions.$inferSelect): WebhookSubscription => ({ ...row, source: 'api' })

/**
 * Due deliveries (`d`), earliest event first, skipping any whose subscription still has an earlier
 * event of the same case on its way (pending or sending): the order per case a subscriber relies
 * on. Both drivers claim with it.
 */
export const dueInCaseOrder = (now: number, limit: number) => sql`
  select d.id from webhook_deliveries d
  where ((d.status = 'pending' and d.next_attempt_at <= ${now}) or (d.status = 'sending' and d.lease_until <= ${now}))
    and not exists (
      select 1 from webhook_deliveries e
      where e.subscription_id = d.subscription_id and e.case_id = d.case_id and e.event_id < d.event_id and e.status in ('pending', 'sending'))
  order by d.event_id
  limit ${limit}`

const claimDue = (now: number, leaseUntil: number, limit: number) => sql`
update webhook_deliveries set status = 'sending', attempts = attempts + 1, lease_until = ${leaseUntil}, updated_at = ${now}
where id in (${dueInCaseOrder(now, limit)})
returning *`

const COLUMNS: Record<string, keyof DeliveryRow> = {
  subscription_id: 'subscriptionId',
  event_id: 'eventId',
  case_id: 'caseId',
  event_type: 'eventType',
  idempotency_key: 'idempotencyKey',
  next_attempt_at: 'nextAttemptAt',
  last_error: 'lastError',
  response_status: 'responseStatus',
  lease_until: 'leaseUntil',
  created_at: 'createdAt',
  updated_at: 'updatedAt',
}
const fromRaw = (raw: Record<string, unknown>) => Object.fromEntries(Object.entries(raw).map(([k, v]) => [COLUMNS[k] ?? k, v])) as DeliveryRow

export function webhookMethods({ db, write }: WebhookContext): StoreWebhookMethods {
  return {
    async listEventsAfter(afterId, limit) {
      return db().select().from(caseEvents).where(gt(caseEvents.id, afterId)).orderBy(asc(caseEvents.id)).limit(limit).all().map(toEvent)
    },

    async newestEventId() {
      return db().select({ id: sql<number | null>`max(${caseEvents.id})` }).from(caseEvents).get()?.id ?? 0
    },

    async webhookCursor() {
      return db().select({ eventId: webhookCursor.eventId }).from(webhookCursor).where(eq(webhookCursor.name, CURSOR)).get()?.eventId ?? 0
    },

    async enqueueWebhookDeliveries({ from, to }, deliveries) {
      return write((tx) => {
        const moved = tx
          .insert(webhookCursor)
          .values({ name: CURSOR, eventId: to })
          .onConflictDoUpdate({ target: webhookCursor.name, set: { eventId: to }, setWhere: eq(webhookCursor.eventId, from) })
          .run()
        if (moved.changes === 0) return false
        for (const delivery of deliveries) tx.insert(webhookDeliveries).values({ ...delivery, leaseUntil: null }).onConflictDoNothing().run()
        return true
      })
    },

    async claimWebhookDeliveries(now, limit, leaseMs) {
      if (limit <= 0) return []
      return write((tx) => {
        const rows = tx.all<Record<string, unknown>>(claimDue(now, now + leaseMs, limit))
        return rows.map((raw) => toWebhookDelivery(fromRaw(raw))).sort((a, b) => a.eventId - b.eventId)
      })
    },

    async recordWebhookAttempt(id, attempt, now) {
      await write((tx) =>
        tx
          .update(webhookDeliveries)
          .set(attemptColumns(attempt, now))
          // Only the lease holder's verdict counts: a worker whose lease ran out must not undo another's.
          .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.status, 'sending')))
          .run(),
      )
    },

    async listWebhookDeliveries({ subscriptionId, status, limit = 100 }) {
      return db()
        .select()
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.subscriptionId, subscriptionId), status ? eq(webhookDeliveries.status, status) : undefined))
        .orderBy(desc(webhookDeliveries.eventId))
        .limit(limit)
        .all()
        .map(toWebhookDelivery)
    },

    async retryWebhookDelivery(subscriptionId, id, now) {
      return write((tx) => {
        const row = tx
          .update(webhookDeliveries)
          .set({ status: 'pending', attempts: 0, nextAttemptAt: now, leaseUntil: null, updatedAt: now })
          .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.subscriptionId, subscriptionId), eq(webhookDeliveries.status, 'dead')))
          .returning()
          .get()
        return row && toWebhookDelivery(row)
      })
    },

    async saveWebhookSubscription({ source: _source, ...subscription }) {
      await write((tx) => tx.insert(webhookSubscriptions).values(subscription).run())
    },

    async listWebhookSubscriptions() {
      return db().select().from(webhookSubscriptions).orderBy(asc(webhookSubscriptions.createdAt), asc(webhookSubscriptions.id)).all().map(toWebhookSubscription)
    },

    async deleteWebhookSubscription(id) {
      return write((tx) => {
        tx.delete(webhookDeliveries).where(eq(webhookDeliveries.subscriptionId, id)).run()
        return tx.delete(webhookSubscriptions).where(eq(webhookSubscriptions.id, id)).run().changes > 0
      })
    },
  }
}
