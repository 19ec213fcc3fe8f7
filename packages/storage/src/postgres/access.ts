/**
 * Staff accounts, tokens, sessions and the audit hash chains on PostgreSQL, as ../sqlite/access.ts
 * keeps them in SQLite. Both chains are single lines in id order across every process: an append
 * takes the chain's transaction-level advisory lock, reads the head (a new statement: it sees the
 * previous holder's commit), and writes the next ids with their hashes.
 */
import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm'
import type { NodePgDatabase } from 'drizzle-orm/node-postgres'
import {
  AccountEvent,
  CaseEvent,
  GENESIS,
  rowHash,
  StoreConflictError,
  verifyChain,
  type AccountEventInput,
  type CaseEventInput,
  type ChainRow,
  type StoreAccessMethods,
} from '@intake/core'
import { accountEventFields, caseEventFields } from '../sqlite/statements.ts'
import { toEvent } from '../sqlite/rows.ts'
import { isUniqueViolation } from './errors.ts'
import { accountEvents, apiTokens, caseEvents, cases, officeSettings, sessions, staffDuty, users } from './schema.ts'

type Q = Pick<NodePgDatabase<Record<string, never>>, 'select' | 'update' | 'insert' | 'delete' | 'execute'>

const CASE_CHAIN_LOCK = 0x696e74616b66
const ACCOUNT_CHAIN_LOCK = 0x696e74616b67

/** Append case events to the chain, inside the caller's transaction. */
export async function appendCaseEvents(q: Q, inputs: readonly CaseEventInput[]): Promise<void> {
  if (inputs.length === 0) return
  await q.execute(sql`select pg_advisory_xact_lock(${CASE_CHAIN_LOCK})`)
  const head = await q.execute<{ id: string; hash: string | null }>(sql`select id, hash from case_events order by id desc limit 1`)
  let id = Number(head.rows[0]?.id ?? 0)
  let prevHash = head.rows[0]?.hash ?? GENESIS
  const values = []
  for (const input of inputs) {
    // Parsing fills the default `data` and rejects an unknown event type before it reaches the audit trail.
    const { id: _ignored, ...e } = CaseEvent.parse(input)
    id++
    const row = { caseId: e.caseId, at: e.at, type: e.type, actor: e.actor, public: e.public ? 1 : 0, data: JSON.stringify(e.data) }
    const hash = rowHash(prevHash, id, caseEventFields(row))
    // The exact text that was hashed goes into the json column (drizzle would serialise it again).
    values.push(sql`(${id}, ${row.caseId}, ${row.at}, ${row.type}, ${row.actor}, ${e.public}, ${row.data}::json, ${prevHash}, ${hash})`)
    prevHash = hash
  }
  await q.execute(sql`insert into case_events (id, case_id, at, type, actor, public, data, prev_hash, hash) values ${sql.join(values, sql`, `)}`)
}

async function appendAccountEvents(q: Q, inputs: readonly AccountEventInput[]): Promise<void> {
  if (inputs.length === 0) return
  await q.execute(sql`select pg_advisory_xact_lock(${ACCOUNT_CHAIN_LOCK})`)
  const head = await q.execute<{ id: string; hash: string | null }>(sql`select id, hash from account_events order by id desc limit 1`)
  let id = Number(head.rows[0]?.id ?? 0)
  let prevHash = head.rows[0]?.hash ?? GENESIS
  for (const input of inputs) {
    const { id: _ignored, ...e } = AccountEvent.parse(input)
    id++
    const row = { at: e.at, type: e.type, actor: e.actor, subject: e.subject, data: JSON.stringify(e.data) }
    const hash = rowHash(prevHash, id, accountEventFields(row))
    await q.execute(sql`insert into account_events (id, at, type, actor, subject, data, prev_hash, hash)
      values (${id}, ${row.at}, ${row.type}, ${row.actor}, ${row.subject}, ${row.data}::json, ${prevHash}, ${hash})`)
    prevHash = hash
  }
}

/** A chain's rows in id order, a chunk at a time, with `data` as its stored text. */
async function* chainRows(q: Q, table: 'case_events' | 'account_events'): AsyncGenerator<ChainRow> {
  let after = 0
  for (;;) {
    const chunk =
      table === 'case_events'
        ? await q.execute<Record<string, unknown>>(
            sql`select id, case_id as "caseId", at, type, actor, public, data::text as data, prev_hash, hash from case_events where id > ${after} order by id limit 5000`,
          )
        : await q.execute<Record<string, unknown>>(
            sql`select id, at, type, actor, subject, data::text as data, prev_hash, hash from account_events where id > ${after} order by id limit 5000`,
          )
    if (chunk.rows.length === 0) return
    for (const r of chunk.rows) {
      const id = Number(r.id)
      const fields =
        table === 'case_events'
          ? caseEventFields({ caseId: r.caseId as string, at: Number(r.at), type: r.type as string, actor: r.actor as string, public: r.public ? 1 : 0, data: r.data as string })
          : accountEventFields({ at: Number(r.at), type: r.type as string, actor: r.actor as string, subject: r.subject as string, data: r.data as string })
      yield { id, fields, prevHash: r.prev_hash as string | null, hash: r.hash as string | null }
      after = id
    }
  }
}

async function verify(q: Q, table: 'case_events' | 'account_events') {
  const rows: ChainRow[] = []
  for await (const row of chainRows(q, table)) rows.push(row)
  return verifyChain(rows, table)
}

/** An office scope's condition; an empty scope sees nothing rather than everything. */
export const inScope = (column: Parameters<typeof inArray>[0], officeIds: readonly string[]) =>
  officeIds.length === 0 ? sql`false` : inArray(column, [...officeIds])


export function accessMethods(db: () => Q, write: <T>(run: (tx: Q) => Promise<T>) => Promise<T>): StoreAccessMethods {
  return {
    async saveUser(user, event) {
      try {
        await write(async (tx) => {
          const [clash] = await tx
            .select({ id: users.id })
            .from(users)
            .where(and(sql`lower(${users.login}) = lower(${user.login})`, sql`${users.id} <> ${user.id}`))
          if (clash) throw new StoreConflictError('login')
          await tx
            .insert(users)
            .values(user)
            .onConflictDoUpdate({
              target: users.id,
              set: { login: user.login, name: user.name, officeId: user.officeId, role: user.role, passwordHash: user.passwordHash, disabled: user.disabled, updatedAt: user.updatedAt },
            })
          await appendAccountEvents(tx, [event])
        })
      } catch (error) {
        // Two processes adding one account at the same moment (demo staff seeded at start): the second
        // insert meets the first on the lower(login) index, which ON CONFLICT (id) does not arbitrate.
        if (isUniqueViolation(error, 'users_login_uq')) throw new StoreConflictError('login')
        throw error
      }
    },
    async getUser(id) {
      const [row] = await db().select().from(users).where(eq(users.id, id))
      return row && { ...row }
    },
    async findUserByLogin(login) {
      const [row] = await db().select().from(users).where(sql`lower(${users.login}) = lower(${login.trim()})`)
      return row && { ...row }
    },
    async listUsers(scope) {
      const rows = await db()
        .select()
        .from(users)
        .where(scope ? inScope(users.officeId, scope.officeIds) : undefined)
        .orderBy(users.officeId, users.name)
      return rows.map((r) => ({ ...r }))
    },
    async saveApiToken(token, event) {
      await write(async (tx) => {
        await tx
          .insert(apiTokens)
          .values(token)
          .onConflictDoUpdate({ target: apiTokens.id, set: { revokedAt: token.revokedAt, name: token.name, scopes: token.scopes, officeId: token.officeId } })
        await appendAccountEvents(tx, [event])
      })
    },
    async findApiToken(hash) {
      const [row] = await db().select().from(apiTokens).where(eq(apiTokens.hash, hash))
      return row
    },
    async saveSession(session) {
      await db().insert(sessions).values(session)
    },
    async findSession(idHash) {
      const [row] = await db().select().from(sessions).where(eq(sessions.idHash, idHash))
      return row
    },
    async touchSession(idHash, at) {
      await db().update(sessions).set({ lastSeenAt: at }).where(eq(sessions.idHash, idHash))
    },
    async deleteSessions(which) {
      await db()
        .delete(sessions)
        .where('idHash' in which ? eq(sessions.idHash, which.idHash) : eq(sessions.userId, which.userId))
    },
    async recordAccountEvent(event) {
      await write((tx) => appendAccountEvents(tx, [event]))
    },
    async listAccountEvents({ beforeId, limit = 100 } = {}) {
      const rows = await db()
        .select()
        .from(accountEvents)
        .where(beforeId !== undefined ? lt(accountEvents.id, beforeId) : undefined)
        .orderBy(desc(accountEvents.id))
        .limit(limit)
      return rows.map(({ prevHash: _p, hash: _h, ...e }) => e)
    },
    async listAuditEvents({ scope, beforeId, limit = 100 } = {}) {
      const rows = await db()
        .select({ event: caseEvents })
        .from(caseEvents)
        .innerJoin(cases, eq(cases.id, caseEvents.caseId))
        .where(and(beforeId !== undefined ? lt(caseEvents.id, beforeId) : undefined, scope ? inScope(cases.officeId, scope.officeIds) : undefined))
        .orderBy(desc(caseEvents.id))
        .limit(limit)
      return rows.map((r) => toEvent(r.event))
    },
    async saveOfficeSettings({ settings, event, resetDuty }) {
      await write(async (tx) => {
        await tx
          .insert(officeSettings)
          .values({ officeId: settings.officeId, data: settings, updatedAt: settings.updatedAt })
          .onConflictDoUpdate({ target: officeSettings.officeId, set: { data: settings, updatedAt: settings.updatedAt } })
        if (resetDuty?.length) await tx.delete(staffDuty).where(inArray(staffDuty.staffId, [...resetDuty]))
        await appendAccountEvents(tx, [event])
      })
    },
    async listOfficeSettings() {
      const rows = await db().select().from(officeSettings).orderBy(officeSettings.officeId)
      return rows.map((r) => r.data)
    },
    async verifyAudit() {
      return { caseEvents: await verify(db(), 'case_events'), accountEvents: await verify(db(), 'account_events') }
    },
  }
}
