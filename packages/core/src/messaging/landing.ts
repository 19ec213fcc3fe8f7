import type { CaseEventInput, Case } from '../model/index.ts'
import type { OutboundWrite } from '../contracts/store.ts'

/** What a case landing in an office (at intake, dispatch, transfer, return) adds to its change. */
export interface Landing {
  assigneeId: string | null
  events: CaseEventInput[]
  outbound: OutboundWrite[]
}

/**
 * The assignee, event and alert for a case landing in `officeId`: the case actions provide it, the
 * pipeline calls it for a new case.
 */
export type LandCase = (kase: Case, officeId: string, at: number, actor: string) => Promise<Landing>
