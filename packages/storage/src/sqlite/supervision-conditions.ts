import { sql, type SQL, type Column } from 'drizzle-orm'

/**
 * The case filters of supervision (`CaseFilter.escalated`, `.extensionPending`), read from the case's
 * own record. Plain SQL both dialects speak, shared by the SQLite and PostgreSQL drivers. Written as
 * `id IN (the few cases with such an event)`, served by the partial indexes on those event types
 * (case_events_escalated_idx, _extension_requested_idx, _extension_decided_idx): an `EXISTS` per
 * case read every open case's events, 300–400 ms for an office of 100,000 cases (bench/console).
 */
export const escalatedCondition = (caseId: Column): SQL => sql`${caseId} in (select e.case_id from case_events e where e.type = 'escalated')`

/** A request with no decision after it (event ids are the append order). */
export const extensionPendingCondition = (caseId: Column): SQL =>
  sql`${caseId} in (select r.case_id from case_events r where r.type = 'extension_requested'
    and not exists (select 1 from case_events d where d.case_id = r.case_id and d.type = 'extension_decided' and d.id > r.id))`
