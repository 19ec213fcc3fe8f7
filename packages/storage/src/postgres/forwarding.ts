/**
 * Cases handed to another system, on PostgreSQL, as ../sqlite/forwarding.ts keeps them. Several
 * processes may poll the same channel: an update is applied under the link's row lock, and only
 * over the report it was computed from.
 */
import { and, asc, eq, inArray } from 'drizzle-orm'
import type { NodePgDatabase } from 'drizzle-orm/node-postgres'
import { OPEN_STATUSES, type CaseChange, type CaseEventInput, type ExternalLink, type StoreForwardingMethods } from '@intake/core'
import { caseLinks, cases } from './schema.ts'

type Db = NodePgDatabase<Record<string, never>>
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

export interface ForwardingContext {
  db: () => Db
  write: <T>(run: (tx: Tx) => Promise<T>) => Promise<T>
  applyChange: (tx: Tx, change: CaseChange) => Promise<unknown>
  appendEvents: (tx: Tx, events: CaseEventInput[]) => Promise<void>
}

const toLink = (row: typeof caseLinks.$inferSelect): ExternalLink => ({ ...row })
const thisLink = (caseId: string, channelId: string) => and(eq(caseLinks.caseId, caseId), eq(caseLinks.channelId, channelId))

export function forwardingMethods({ db, write, applyChange, appendEvents }: ForwardingContext): StoreForwardingMethods {
  return {
    async linkExternal({ caseId, channelId, externalId, at }) {
      return write(async (tx) => {
        const inserted = await tx.insert(caseLinks).values({ caseId, channelId, externalId, linkedAt: at, seen: null }).onConflictDoNothing().returning()
        if (inserted.length === 0) {
          const [before] = await tx.select().from(caseLinks).where(thisLink(caseId, channelId)).for('update')
          if (before?.externalId === externalId) return false
          await tx.update(caseLinks).set({ externalId }).where(thisLink(caseId, channelId))
        }
        await appendEvents(tx, [{ caseId, at, type: 'forwarded', actor: 'system', public: false, data: { channelId, externalId } }])
        return inserted.length > 0
      })
    },

    async listExternalLinks(channelId, limit) {
      const rows = await db()
        .select({ link: caseLinks })
        .from(caseLinks)
        .innerJoin(cases, eq(cases.id, caseLinks.caseId))
        .where(and(eq(caseLinks.channelId, channelId), inArray(cases.status, [...OPEN_STATUSES])))
        .orderBy(asc(caseLinks.linkedAt), asc(caseLinks.caseId))
        .limit(limit)
      return rows.map((r) => toLink(r.link))
    },

    async externalLinksOf(caseId) {
      return (await db().select().from(caseLinks).where(eq(caseLinks.caseId, caseId)).orderBy(asc(caseLinks.linkedAt))).map(toLink)
    },

    async applyExternalUpdate({ caseId, channelId, expectedSeen, seen, change }) {
      return write(async (tx) => {
        const [row] = await tx.select({ seen: caseLinks.seen }).from(caseLinks).where(thisLink(caseId, channelId)).for('update')
        if (!row || row.seen !== expectedSeen) return false
        await tx.update(caseLinks).set({ seen }).where(thisLink(caseId, channelId))
        if (change) await applyChange(tx, change)
        return true
      })
    },
  }
}
