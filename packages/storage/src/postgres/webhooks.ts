/**
 * The event webhooks' part of the Store on PostgreSQL, as ../sqlite/webhooks.ts keeps it in SQLite.
 * With several processes: the feed's cursor moves by compare-and-set (one process's cycle wins, the
 * other writes nothing), and a claim skips the rows another process is leasing (SKIP LOCKED).
 */
import { and, asc, desc, eq, gt, inArray, sql } from 'drizzle-orm'
import type { NodePgDatabase } from 'drizzle-orm/node-postgres'
import type { StoreWebhookMethods } from '@intake/core'
import { toEvent } from '../sqlite/rows.ts'
import { attemptColumns, CURSOR, dueInCaseOrder, toWebhookDelivery, toWebhookSubscription } from '../sqlite/webhooks.ts'
import { caseEvents, webhookCursor, webhookDeliveries, webhookSubscriptions } from './schema.ts'

type Q = Pick<NodePgDatabase<Record<string, never>>, 'select' | 'update' | 'insert' | 'delete' | 'execute'>

/** Run at migrate (under the migration lock): the feed starts at the newest event, so a deployment is not sent its history. */
export const START_WEBHOOK_CURSOR_SQL = `insert into webhook_cursor (name, event_id) select '${CURSOR}', coalesce(max(id), 0) from case_events on conflict (name) do nothing`

export function webhookMethods(db: () => Q, write: <T>(run: (tx: Q) => Promise<T>) => Promise<T>): StoreWebhookMethods {
  return {
    async listEventsAfter(afterId, limit) {
      const rows = await db().select().from(caseEvents).where(gt(caseEvents.id, afterId)).orderBy(asc(caseEvents.id)).limit(limit)
      return rows.map(toEvent)
    },

    async newestEventId() {
      const [row] = await db().select({ id: sql<string | number | null>`max(${caseEvents.id})` }).from(caseEvents)
      return Number(row?.id ?? 0)
    },

    async webhookCursor() {
      const [row] = await db().select({ eventId: webhookCursor.eventId }).from(webhookCursor).where(eq(webhookCursor.name, CURSOR))
      return row?.eventId ?? 0
    },

    async enqueueWebhookDeliveries({ from, to }, deliveries) {
      return write(async (tx) => {
        const moved = await tx
          .insert(webhookCursor)
          .values({ name: CURSOR, eventId: to })
          .onConflictDoUpdate({ target: webhookCursor.name, set: { eventId: to }, setWhere: eq(webhookCursor.eventId, from) })
          .returning({ eventId: webhookCursor.eventId })
        if (moved.length === 0) return false
        if (deliveries.length > 0) await tx.insert(webhookDeliveries).values(deliveries.map((d) => ({ ...d, leaseUntil: null }))).onConflictDoNothing()
        return true
      })
    },

    async claimWebhookDeliveries(now, limit, leaseMs) {
      if (limit <= 0) return []
      // Earliest event first, never past an earlier event of the same case still on its way to the
      // same subscription; rows another process is claiming are skipped, not waited for.
      const { rows } = await db().execute<Record<string, unknown>>(sql`
        update webhook_deliveries w set status = 'sending', attempts = w.attempts + 1, lease_until = ${now + leaseMs}, updated_at = ${now}
        from (${dueInCaseOrder(now, limit)} for update skip locked) due
        where w.id = due.id
        returning w.id`)
      if (rows.length === 0) return []
      const ids = rows.map((r) => r.id as string)
      const claimed = await db().select().from(webhookDeliveries).where(inArray(webhookDeliveries.id, ids)).orderBy(asc(webhookDeliveries.eventId))
      return claimed.map(toWebhookDelivery)
    },

    async recordWebhookAttempt(id, attempt, now) {
      await db()
        .update(webhookDeliveries)
        .set(attemptColumns(attempt, now))
        // Only the lease holder's verdict counts: a worker whose lease ran out must not undo another's.
        .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.status, 'sending')))
    },

    async listWebhookDeliveries({ subscriptionId, status, limit = 100 }) {
      const rows = await db()
        .select()
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.subscriptionId, subscriptionId), status ? eq(webhookDeliveries.status, status) : undefined))
        .orderBy(desc(webhookDeliveries.eventId))
        .limit(limit)
      return rows.map(toWebhookDelivery)
    },

    async retryWebhookDelivery(subscriptionId, id, now) {
      const [row] = await db()
        .update(webhookDeliveries)
        .set({ status: 'pending', attempts: 0, nextAttemptAt: now, leaseUntil: null, updatedAt: now })
        .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.subscriptionId, subscriptionId), eq(webhookDeliveries.status, 'dead')))
        .returning()
      return row && toWebhookDelivery(row)
    },

    async saveWebhookSubscription({ source: _source, ...subscription }) {
      await db().insert(webhookSubscriptions).values(subscription)
    },

    async listWebhookSubscriptions() {
      const rows = await db().select().from(webhookSubscriptions).orderBy(asc(webhookSubscriptions.createdAt), asc(webhookSubscriptions.id))
      return rows.map(toWebhookSubscription)
    },

    async deleteWebhookSubscription(id) {
      return write(async (tx) => {
        await tx.delete(webhookDeliveries).where(eq(webhookDeliveries.subscriptionId, id))
        const gone = await tx.delete(webhookSubscriptions).where(eq(webhookSubscriptions.id, id)).returning({ id: webhookSubscriptions.id })
        return gone.length > 0
      })
    },
  }
}
