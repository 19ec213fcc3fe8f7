import type Database from 'better-sqlite3'
import { and, asc, eq, inArray } from 'drizzle-orm'
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core'
import { OPEN_STATUSES, type CaseChange, type CaseEventInput, type ExternalLink, type StoreForwardingMethods } from '@intake/core'
import { caseLinks, cases } from './schema.ts'

type Connection = BaseSQLiteDatabase<'sync', Database.RunResult>

export interface ForwardingContext {
  db: () => BetterSQLite3Database
  write: <T>(run: (tx: Connection) => T) => Promise<T>
  /** The driver's case change (fields, events, replies, timers) inside the caller's write. */
  applyChange: (tx: Connection, change: CaseChange) => unknown
  /** Append case events (hash-chained) inside the caller's write. */
  appendEvents: (events: CaseEventInput[]) => void
}

const toLink = (row: typeof caseLinks.$inferSelect): ExternalLink => ({ ...row })

/** Cases handed to another system (an office's `forwardTo`) and what that system said since. */
export function forwardingMethods({ db, write, applyChange, appendEvents }: ForwardingContext): StoreForwardingMethods {
  return {
    async linkExternal({ caseId, channelId, externalId, at }) {
      return write((tx) => {
        const before = tx.select().from(caseLinks).where(and(eq(caseLinks.caseId, caseId), eq(caseLinks.channelId, channelId))).get()
        if (before?.externalId === externalId) return false
        if (before) tx.update(caseLinks).set({ externalId }).where(and(eq(caseLinks.caseId, caseId), eq(caseLinks.channelId, channelId))).run()
        else tx.insert(caseLinks).values({ caseId, channelId, externalId, linkedAt: at, seen: null }).run()
        appendEvents([{ caseId, at, type: 'forwarded', actor: 'system', public: false, data: { channelId, externalId } }])
        return before === undefined
      })
    },

    async listExternalLinks(channelId, limit) {
      return db()
        .select({ link: caseLinks })
        .from(caseLinks)
        .innerJoin(cases, eq(cases.id, caseLinks.caseId))
        .where(and(eq(caseLinks.channelId, channelId), inArray(cases.status, [...OPEN_STATUSES])))
        .orderBy(asc(caseLinks.linkedAt), asc(caseLinks.caseId))
        .limit(limit)
        .all()
        .map((r) => toLink(r.link))
    },

    async externalLinksOf(caseId) {
      return db().select().from(caseLinks).where(eq(caseLinks.caseId, caseId)).orderBy(asc(caseLinks.linkedAt)).all().map(toLink)
    },

    async applyExternalUpdate({ caseId, channelId, expectedSeen, seen, change }) {
      return write((tx) => {
        const row = tx.select({ seen: caseLinks.seen }).from(caseLinks).where(and(eq(caseLinks.caseId, caseId), eq(caseLinks.channelId, channelId))).get()
        if (!row || row.seen !== expectedSeen) return false
        tx.update(caseLinks).set({ seen }).where(and(eq(caseLinks.caseId, caseId), eq(caseLinks.channelId, channelId))).run()
        if (change) applyChange(tx, change)
        return true
      })
    },
  }
}
