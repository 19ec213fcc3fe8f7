import { OPEN_STATUSES } from '@intake/core'

const OPEN = OPEN_STATUSES.map((s) => `'${s}'`).join(', ')

/**
 * cluster_keys carries a copy of its case's open-ness and cluster, so the candidate query reads its
 * own rows instead of joining a case row per candidate: the gateway's reading connection starts cold
 * after every commit of the writer thread (SQLite resets a connection's page cache when another one
 * has written), and twenty case lookups were most of that query's page reads.
 * These triggers keep the copy in step whatever changes a case — the lifecycle, the console, a
 * cluster link — in the same transaction.
 */
export const CLUSTER_KEYS_TRIGGERS = [
  `create trigger if not exists cluster_keys_on_case_update after update of status, cluster_id on cases begin
     update cluster_keys set open = (new.status in (${OPEN})), cluster_id = new.cluster_id
     where case_id = new.id and (open is not (new.status in (${OPEN})) or cluster_id is not new.cluster_id);
   end`,
]

/** Bring every copy in step (the migration that added the columns, or rows written with the trigger missing). */
export const SYNC_CLUSTER_KEYS = `update cluster_keys set
    open = coalesce((select c.status in (${OPEN}) from cases c where c.id = cluster_keys.case_id), 0),
    cluster_id = (select c.cluster_id from cases c where c.id = cluster_keys.case_id)`
