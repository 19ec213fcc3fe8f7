import type Database from 'better-sqlite3'
import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm'
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core'
import { AccountEvent, GENESIS, rowHash, StoreConflictError, verifyChain, type AccountEventInput, type ChainRow, type StoreAccessMethods } from '@intake/core'
import { toEvent } from './rows.ts'
import { accountEvents, apiTokens, caseEvents, cases, officeSettings, sessions, staffDuty, users } from './schema.ts'
import { accountEventFields, caseEventFields } from './statements.ts'

type Connection = BaseSQLiteDatabase<'sync', Database.RunResult>

export interface AccessContext {
  db: () => BetterSQLite3Database
  client: () => Database.Database
  write: <T>(run: (tx: Connection) => T) => Promise<T>
}


/** Append account events to their chain, inside the caller's write. */
export function insertAccountEvents(tx: Connection, inputs: AccountEventInput[]): void {
  if (inputs.length === 0) return
  const head = tx.select({ id: accountEvents.id, hash: accountEvents.hash }).from(accountEvents).orderBy(desc(accountEvents.id)).limit(1).get()
  let id = head?.id ?? 0
  let prevHash = head?.hash ?? GENESIS
  for (const input of inputs) {
    const { id: _ignored, ...e } = AccountEvent.parse(input)
    id++
    const row = { at: e.at, type: e.type, actor: e.actor, subject: e.subject, data: JSON.stringify(e.data) }
    const hash = rowHash(prevHash, id, accountEventFields(row))
    // drizzle would serialise a json column again: write the exact text that was hashed.
    tx.run(sql`insert into account_events (id, at, type, actor, subject, data, prev_hash, hash)
      values (${id}, ${row.at}, ${row.type}, ${row.actor}, ${row.subject}, ${row.data}, ${prevHash}, ${hash})`)
    prevHash = hash
  }
}

/** Raw rows (the stored text of `data`), with the names the field lists read. */
const SELECT_CHAIN = {
  case_events: `select id, case_id as caseId, at, type, actor, public, data, prev_hash, hash from case_events`,
  account_events: `select id, at, type, actor, subject, data, prev_hash, hash from account_events`,
} as const

/**
 * Rows written before the chain existed (an older Intake) are chained once, at migrate, in id order
 * — only when they all come after the last chained row, so a hash removed later is reported, not healed.
 */
export function chainUnhashedRows(client: Database.Database): void {
  for (const table of ['case_events', 'account_events'] as const) {
    const lastHashed = client.prepare(`select max(id) from ${table} where hash is not null`).pluck().get() as number | null
    const firstUnhashed = client.prepare(`select min(id) from ${table} where hash is null`).pluck().get() as number | null
    if (firstUnhashed === null || (lastHashed !== null && firstUnhashed < lastHashed)) continue
    let prev = lastHashed === null ? GENESIS : (client.prepare(`select hash from ${table} where id = ?`).pluck().get(lastHashed) as string)
    const update = client.prepare(`update ${table} set prev_hash = ?, hash = ? where id = ?`)
    const rows = client.prepare(`${SELECT_CHAIN[table]} where id >= ? order by id`).all(firstUnhashed) as Array<Record<string, unknown>>
    client.transaction(() => {
      for (const r of rows) {
        const fields = table === 'case_events' ? caseEventFields(r as never) : accountEventFields(r as never)
        const hash = rowHash(prev, r.id as number, fields)
        update.run(prev, hash, r.id)
        prev = hash
      }
    })()
  }
}

function* chainRows(client: Database.Database, table: 'case_events' | 'account_events'): Generator<ChainRow> {
  // Raw rows (data as its stored text), in id order, streamed: a chain of millions never sits in memory.
  for (const r of client.prepare(`${SELECT_CHAIN[table]} order by id`).iterate() as Iterable<Record<string, unknown>>) {
    yield {
      id: r.id as number,
      fields: table === 'case_events' ? caseEventFields(r as never) : accountEventFields(r as never),
      prevHash: r.prev_hash as string | null,
      hash: r.hash as string | null,
    }
  }
}

const toUser = (row: typeof users.$inferSelect) => ({ ...row })

export function accessMethods({ db, client, write }: AccessContext): StoreAccessMethods {
  return {
    async saveUser(user, event) {
      await write((tx) => {
        const clash = tx
          .select({ id: users.id })
          .from(users)
          .where(and(sql`lower(${users.login}) = lower(${user.login})`, sql`${users.id} <> ${user.id}`))
          .get()
        if (clash) throw new StoreConflictError('login')
        tx.insert(users)
          .values(user)
          .onConflictDoUpdate({
            target: users.id,
            set: { login: user.login, name: user.name, officeId: user.officeId, role: user.role, passwordHash: user.passwordHash, disabled: user.disabled, updatedAt: user.updatedAt },
          })
          .run()
        insertAccountEvents(tx, [event])
      })
    },
    async getUser(id) {
      const row = db().select().from(users).where(eq(users.id, id)).get()
      return row && toUser(row)
    },
    async findUserByLogin(login) {
      const row = db().select().from(users).where(sql`lower(${users.login}) = lower(${login.trim()})`).get()
      return row && toUser(row)
    },
    async listUsers(scope) {
      return db()
        .select()
        .from(users)
        .where(scope ? inArray(users.officeId, [...scope.officeIds]) : undefined)
        .orderBy(users.officeId, users.name)
        .all()
        .map(toUser)
    },
    async saveApiToken(token, event) {
      await write((tx) => {
        tx.insert(apiTokens)
          .values(token)
          .onConflictDoUpdate({ target: apiTokens.id, set: { revokedAt: token.revokedAt, name: token.name, scopes: token.scopes, officeId: token.officeId } })
          .run()
        insertAccountEvents(tx, [event])
      })
    },
    async findApiToken(hash) {
      return db().select().from(apiTokens).where(eq(apiTokens.hash, hash)).get()
    },
    async saveSession(session) {
      await write((tx) => tx.insert(sessions).values(session).run())
    },
    async findSession(idHash) {
      return db().select().from(sessions).where(eq(sessions.idHash, idHash)).get()
    },
    async touchSession(idHash, at) {
      await write((tx) => tx.update(sessions).set({ lastSeenAt: at }).where(eq(sessions.idHash, idHash)).run())
    },
    async deleteSessions(which) {
      await write((tx) =>
        tx.delete(sessions).where('idHash' in which ? eq(sessions.idHash, which.idHash) : eq(sessions.userId, which.userId)).run(),
      )
    },
    async recordAccountEvent(event) {
      await write((tx) => insertAccountEvents(tx, [event]))
    },
    async listAccountEvents({ beforeId, limit = 100 } = {}) {
      return db()
        .select()
        .from(accountEvents)
        .where(beforeId !== undefined ? lt(accountEvents.id, beforeId) : undefined)
        .orderBy(desc(accountEvents.id))
        .limit(limit)
        .all()
        .map(({ prevHash: _p, hash: _h, ...e }) => e)
    },
    async listAuditEvents({ scope, beforeId, limit = 100 } = {}) {
      const where = and(
        beforeId !== undefined ? lt(caseEvents.id, beforeId) : undefined,
        scope ? inArray(cases.officeId, [...scope.officeIds]) : undefined,
      )
      return db()
        .select({ event: caseEvents })
        .from(caseEvents)
        .innerJoin(cases, eq(cases.id, caseEvents.caseId))
        .where(where)
        .orderBy(desc(caseEvents.id))
        .limit(limit)
        .all()
        .map((r) => toEvent(r.event))
    },
    async saveOfficeSettings({ settings, event, resetDuty }) {
      await write((tx) => {
        tx.insert(officeSettings)
          .values({ officeId: settings.officeId, data: settings, updatedAt: settings.updatedAt })
          .onConflictDoUpdate({ target: officeSettings.officeId, set: { data: settings, updatedAt: settings.updatedAt } })
          .run()
        if (resetDuty?.length) tx.delete(staffDuty).where(inArray(staffDuty.staffId, [...resetDuty])).run()
        insertAccountEvents(tx, [event])
      })
    },
    async listOfficeSettings() {
      return db().select().from(officeSettings).orderBy(officeSettings.officeId).all().map((r) => r.data)
    },
    async verifyAudit() {
      const c = client()
      return { caseEvents: verifyChain(chainRows(c, 'case_events'), 'case_events'), accountEvents: verifyChain(chainRows(c, 'account_events'), 'account_events') }
    },
  }
}
