/**
 * The intake write in one round trip: a server function (created by migrate(), as the chain's is)
 * that runs the intake statement (record-inbound.ts), joins the new case to its duplicate's
 * cluster, and appends the events to the audit chain — one call, run in autocommit, so it is a
 * transaction of its own without a BEGIN or a COMMIT sent apart. Called as a named prepared
 * statement: no query text built per message, and the server plans the function's statements once
 * per connection.
 *
 * It takes the common writes: a new case (joining a cluster or not) and a follow-up that needs no
 * case patch, no timer cancel, and no stats folded into another case's row. The rest go the
 * transaction's way (index.ts), which does those in TypeScript.
 */
import type pg from 'pg'
import { STATS_EVENT_TYPES, type InboundWrite } from '@intake/core'
import { chainInput } from './access.ts'
import { RECORD_INBOUND_SQL, recordInboundParams, splitInbound } from './record-inbound.ts'
import { inlineParameters } from './simple-protocol.ts'

/**
 * The cluster link of a new case (`link` is `{caseId, withCaseId, newClusterId, at, actor, data}`,
 * `data` the text of the event's extra fields), as index.ts's `link` makes a 'pair': the duplicate
 * is locked first, so two new cases joining it at once, in two processes, end in one cluster (the
 * second waits, then reads the first's cluster: a new statement, a new snapshot). A duplicate gone
 * meanwhile leaves the new case unclustered, as a refused link does. The events' `data` texts are
 * `{"clusterId": …, …the rest}`, as `{ clusterId, ...data }` stringifies.
 */
export const RECORD_INBOUND_FUNCTION = `
create or replace function intake_record_inbound(text, text, text, bigint, json, text, text, json, text, bigint, boolean, int,
  json, json, json, json, json, json, json, json, p_events json, p_link json, out o_claimed int, out o_touched int)
language plpgsql volatile as $$
declare
  v_other_found boolean;
  v_target text;
  v_at bigint := (p_link->>'at')::bigint;
  v_actor text := p_link->>'actor';
  v_rest text := p_link->>'data';
  v_events jsonb := p_events::jsonb;
begin
  ${RECORD_INBOUND_SQL.replace(/\)::int as touched\s*$/, ')::int as touched into o_claimed, o_touched')};
  if o_claimed = 0 then return; end if;
  if p_link is not null then
    select true, cluster_id into v_other_found, v_target from cases where id = p_link->>'withCaseId' for update;
    if v_other_found then
      if v_target is null then
        v_target := p_link->>'newClusterId';
        insert into clusters (id, created_at, updated_at, created_by) values (v_target, v_at, v_at, v_actor);
        update cases set cluster_id = v_target, updated_at = v_at where id = p_link->>'withCaseId';
        v_events := v_events || jsonb_build_array(jsonb_build_object('case_id', p_link->>'withCaseId', 'at', v_at, 'type', 'clustered', 'actor', v_actor,
          'public', false, 'data', '{"clusterId":' || to_json(v_target)::text || ',"withCaseId":' || to_json(p_link->>'caseId')::text || '}'));
      end if;
      update cases set cluster_id = v_target, updated_at = v_at where id = p_link->>'caseId';
      update clusters set updated_at = v_at where id = v_target;
      v_events := v_events || jsonb_build_array(jsonb_build_object('case_id', p_link->>'caseId', 'at', v_at, 'type', 'clustered', 'actor', v_actor,
        'public', false, 'data', '{"clusterId":' || to_json(v_target)::text || case when v_rest = '{}' then '}' else ',' || substr(v_rest, 2) end));
    end if;
  end if;
  if jsonb_array_length(v_events) > 0 then perform intake_append_case_events(v_events::json); end if;
end $$;`

const CALL_SQL = `select o_claimed as claimed, o_touched as touched from intake_record_inbound(${Array.from({ length: 22 }, (_, i) => `$${i + 1}`).join(', ')})`

/**
 * The call, in one round trip that returns only once the write is durable, without holding the
 * audit chain's lock across the WAL flush. The chain's lock is held to the end of the transaction;
 * with a synchronous commit that end is after the commit's fsync, so every intake write of every
 * process would wait for the previous one's fsync in turn (one commit per fsync: no group commit).
 * So the transaction commits asynchronously (the lock goes as soon as the commit record is in the
 * WAL buffers), and a second transaction in the same query — one that takes a transaction id and
 * commits synchronously — waits until the WAL is flushed past it, and so past this write's commit:
 * the caller still hears of the write only once it is on disk (a 2xx still means stored), and the
 * flushes of concurrent writers are shared. Whoever acts on the write durably (the outbox's claim,
 * the webhook feed's enqueue, a follow-up's write) commits after it in the WAL, so it cannot
 * outlive it in a crash; only a bare read in the few milliseconds before the flush may show what
 * a crash of the machine then loses.
 */
export async function recordInOneCall(pool: pg.Pool, params: unknown[]): Promise<pg.QueryResult<{ claimed: number; touched: number }>> {
  const client = await pool.connect()
  let broken: Error | undefined
  try {
    const text = inlineParameters(client, CALL_SQL, params as Array<string | number | boolean | null>)
    const results = (await client.query(`begin; set local synchronous_commit = off; ${text}; commit; select txid_current()`)) as unknown as pg.QueryResult[]
    return results[2] as pg.QueryResult<{ claimed: number; touched: number }>
  } catch (error) {
    await client.query('rollback').catch((e: Error) => (broken = e))
    throw error
  } finally {
    client.release(broken)
  }
}

/** Whether the function takes this write whole (else the transaction's way). */
export function inOneCall(write: InboundWrite): boolean {
  const { later } = splitInbound(write)
  if (later.patch || later.timers) return false
  if (write.newCase && write.joinCluster && write.newCase.clusterId) return false
  // Stats folded into a row other than the new case's need that row read and locked first.
  return !write.events.some((e) => STATS_EVENT_TYPES.has(e.type) && e.caseId && e.caseId !== write.newCase?.id)
}

/** The function's parameters: the intake statement's, the events, the cluster link. */
export function recordInboundCallParams(write: InboundWrite): unknown[] {
  const join = write.newCase && write.joinCluster
  const link = join
    ? JSON.stringify({
        caseId: write.newCase!.id,
        withCaseId: join.withCaseId,
        newClusterId: join.newClusterId,
        at: write.newCase!.createdAt,
        actor: 'system',
        data: JSON.stringify(join.data ?? {}),
      })
    : null
  return [...recordInboundParams(write), chainInput(write.events), link]
}
