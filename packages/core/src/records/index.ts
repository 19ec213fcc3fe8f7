import type { Authentication, Authenticator } from '../access/authenticate.ts'
import type { Store } from '../contracts/store.ts'
import { OPEN_STATUSES, type Case, type CaseStatus, type Office } from '../model/index.ts'
import type { OfficeDirectory } from '../offices/index.ts'

/** A case as a protocol that publishes cases (Open311's GET requests) may show it. */
export interface CaseRecord {
  case: Case
  /** The handling office. */
  office: Office | undefined
  /** The office's latest public answer to the citizen (what the status page shows), if any. */
  latestReply: string | undefined
  /** The citizen's first message on the case, as written. */
  firstMessage: string | undefined
}

/** Which cases a lookup lists: always one channel's; newest first. */
export interface CaseRecordQuery {
  channelId: string
  categories?: readonly string[]
  /** Created in [createdFrom, createdTo). */
  createdFrom?: number
  createdTo?: number
  /** `open`: received to replied; `closed`: resolved or closed. Both (or none): every status. */
  states?: ReadonlyArray<'open' | 'closed'>
  limit: number
}

/**
 * What a channel route that answers questions about cases may read, and how it checks a key. A
 * protocol with lookups of its own (Open311's GET requests) needs them; webhooks do not.
 *
 * @example
 * const record = await ctx.records?.byTrackingCode('K7F3-9Q28', 'open311')
 * record?.latestReply // 'The street light was repaired on Monday.'
 */
export interface CaseRecords {
  readonly offices: readonly Office[]
  /** A case of this channel by its tracking code; another channel's case is not found. */
  byTrackingCode(code: string, channelId: string): Promise<CaseRecord | undefined>
  list(query: CaseRecordQuery): Promise<CaseRecord[]>
  /** Who an API key or token belongs to (the staff API's keys and tokens: core/access). */
  authenticate(key: string | undefined): Promise<Authentication>
}

const CLOSED_STATUSES: readonly CaseStatus[] = ['resolved', 'closed']

export function createCaseRecords({ store, offices, auth }: { store: Store; offices: OfficeDirectory; auth: Authenticator }): CaseRecords {
  const record = async (kase: Case): Promise<CaseRecord> => {
    const first = (await store.listMessages(kase.id)).find((m) => m.direction === 'in')
    return { case: kase, office: offices.get(kase.officeId), latestReply: await latestPublicReply(store, kase), firstMessage: first?.text }
  }
  return {
    offices: offices.all,
    async byTrackingCode(code, channelId) {
      const kase = await store.getCaseByTrackingCode(code)
      return kase && kase.channelId === channelId ? record(kase) : undefined
    },
    async list(query) {
      const states = new Set(query.states?.length ? query.states : ['open', 'closed'])
      const statuses = [...(states.has('open') ? OPEN_STATUSES : []), ...(states.has('closed') ? CLOSED_STATUSES : [])]
      const categories = query.categories?.length ? query.categories : [undefined]
      const found = new Map<string, Case>()
      // The store filters one status and one category at a time; the answer is their union.
      for (const status of statuses) {
        for (const category of categories) {
          const { cases } = await store.listCases({ channelId: query.channelId, status, category, createdFrom: query.createdFrom, createdTo: query.createdTo, limit: Math.min(query.limit, 500) })
          for (const c of cases) found.set(c.id, c)
        }
      }
      const newest = [...found.values()].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)).slice(0, query.limit)
      return Promise.all(newest.map(record))
    },
    authenticate: (key) => auth.bearer(key),
  }
}

/** The office's latest answer to the citizen, as the status page shows it. */
export async function latestPublicReply(store: Store, kase: Case): Promise<string | undefined> {
  const events = await store.listEvents(kase.id)
  const replied = events.filter((e) => e.type === 'replied' && e.public).at(-1)
  if (!replied) return undefined
  if (typeof replied.data.text === 'string') return replied.data.text
  const id = replied.data.messageId
  return (await store.listMessages(kase.id)).find((m) => m.id === id)?.text
}
