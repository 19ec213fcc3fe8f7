import { sql, type SQL, type Column } from 'drizzle-orm'

/**
 * The case filters of supervision (`CaseFilter.escalated`, `.extensionPending`), read from the case's
 * own record. Plain SQL both dialects speak, shared by the SQLite and PostgreSQL drivers; each runs
 * per open case on `case_events_case_idx`.
 */
export const escalatedCondition = (caseId: Column): SQL => sql`exists (select 1 from case_events e where e.case_id = ${caseId} and e.type = 'escalated')`

/** A request with no decision after it (event ids are the append order). */
export const extensionPendingCondition = (caseId: Column): SQL =>
  sql`exists (select 1 from case_events r where r.case_id = ${caseId} and r.type = 'extension_requested'
    and not exists (select 1 from case_events d where d.case_id = r.case_id and d.type = 'extension_decided' and d.id > r.id))`
