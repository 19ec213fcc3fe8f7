/**
 * Staff accounts, tokens, sessions and the audit hash chains on PostgreSQL, as ../sqlite/access.ts
 * keeps them in SQLite. Both chains are single lines in id order across every process: an append
 * takes the chain's transaction-level advisory lock, reads the head (a new statement: it sees the
 * previous holder's commit), and writes the next ids with their hashes.
 */
import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm'
import type { NodePgDatabase } from 'drizzle-orm/node-postgres'
import type pg from 'pg'
import {
  AccountEvent,
  caseEventToAppend,
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

/**
 * The case chain's append, run by the server: the lock, the head, each row's hash and the insert in
 * one call, so the lock (held to the end of the transaction) is never held across a round trip to
 * a gateway process. The hash is core's rowHash — SHA-256 of the JSON array [prevHash, id, caseId,
 * at, type, actor, public (0/1), data text] — built in SQL: to_json(text) escapes exactly as
 * JSON.stringify does (", \, \b \f \n \r \t, other controls as lowercase \u00xx, the rest as is),
 * and numbers print alike. Each statement of a volatile function takes its own snapshot (READ
 * COMMITTED), so the head is read after the lock is granted and sees the previous holder's commit.
 * Created by migrate() (`create or replace`: idempotent), as the stats triggers are.
 */
export const CASE_CHAIN_FUNCTION = `
create or replace function intake_append_case_events(events json) returns void language plpgsql volatile as $$
declare
  head_id bigint;
  head_hash text;
  next_hash text;
  e record;
begin
  perform pg_advisory_xact_lock(${CASE_CHAIN_LOCK});
  select id, hash into head_id, head_hash from case_events order by id desc limit 1;
  head_id := coalesce(head_id, 0);
  head_hash := coalesce(head_hash, '');
  for e in select x->>'case_id' as case_id, (x->>'at')::bigint as at, x->>'type' as type, x->>'actor' as actor, (x->>'public')::boolean as public,
      x->>'data' as data from json_array_elements(events) with ordinality as t(x, n) order by n loop
    head_id := head_id + 1;
    next_hash := encode(sha256(convert_to('[' || to_json(head_hash)::text || ',' || head_id || ',' || to_json(e.case_id)::text || ',' || e.at || ','
      || to_json(e.type)::text || ',' || to_json(e.actor)::text || ',' || (case when e.public then 1 else 0 end) || ',' || to_json(e.data)::text || ']', 'UTF8')), 'hex');
    insert into case_events (id, case_id, at, type, actor, public, data, prev_hash, hash)
      values (head_id, e.case_id, e.at, e.type, e.actor, e.public, e.data::json, head_hash, next_hash);
    head_hash := next_hash;
  end loop;
end $$;`

/** The events as the chain function takes them: parsed (the default `data` filled, an unknown type refused) and `data` as the text to store. */
export function chainInput(inputs: readonly CaseEventInput[]): string {
  return JSON.stringify(
    inputs.map((input) => {
      // The id is always the chain's, so the append order cannot be forged.
      const e = caseEventToAppend(input)
      return { case_id: e.caseId, at: e.at, type: e.type, actor: e.actor, public: e.public, data: JSON.stringify(e.data) }
    }),
  )
}

/** Append case events to the chain, inside the caller's transaction (the chain's lock is held until it ends). */
export async function appendCaseEvents(q: Q, inputs: readonly CaseEventInput[]): Promise<void> {
  if (inputs.length === 0) return
  await q.execute(sql`select intake_append_case_events(${chainInput(inputs)}::json)`)
}

/**
 * Append case events as the last act of the caller's transaction (opened with BEGIN on `client`)
 * and commit it, in one round trip: a simple-protocol query of two statements, the events inlined
 * as one literal (node-postgres's escapeLiteral; the simple protocol takes no parameters). The
 * chain's lock is then held for the append and the commit's flush only.
 */
export async function appendCaseEventsAndCommit(client: pg.ClientBase, inputs: readonly CaseEventInput[]): Promise<void> {
  if (inputs.length === 0) {
    await client.query('commit')
    return
  }
  await client.query(`select intake_append_case_events(${client.escapeLiteral(chainInput(inputs))}::json); commit`)
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
