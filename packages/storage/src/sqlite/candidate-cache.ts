import { OPEN_STATUSES, type ClusterCandidate, type ClusterCandidateQuery, type InboundWrite, type Store } from '@intake/core'
import { WRITE_METHODS, type WriteMethod } from './writer.ts'

/** How long an answer is kept whatever happened: a write this process did not make shows within it. */
const TTL_MS = 2_000

/** Writes that change no case's open-ness, cluster or candidate row. */
const LEAVES_CANDIDATES: ReadonlySet<WriteMethod> = new Set<WriteMethod>([
  'claimOutbox',
  'completeOutbox',
  'completeOutboxBatch',
  'failOutbox',
  'retryOutbox',
  'updateDeliveryStatus',
  'claimTranscriptions',
  'setOnDuty',
  'setOptOut',
  'saveUser',
  'saveApiToken',
  'saveSession',
  'touchSession',
  'deleteSessions',
  'recordAccountEvent',
  'saveOfficeSettings',
  'planTimers',
  'claimTimers',
  'enqueueWebhookDeliveries',
  'claimWebhookDeliveries',
  'recordWebhookAttempt',
  'retryWebhookDelivery',
  'saveWebhookSubscription',
  'deleteWebhookSubscription',
])

interface Answer {
  since: number
  readAt: number
  /** Newest first (then by case id, descending), at most the query's limit: the database's answer, kept up to date. */
  rows: ClusterCandidate[]
}

/** More places than this in memory, and the cache starts again (answers are cheap to read again). */
const MAX_PLACES = 10_000

/**
 * Duplicate-cluster candidates kept in memory between intakes at the same place.
 *
 * Every new case asks for the open cases of its category at its place (`findClusterCandidates`),
 * and the answer changes only when a case is written: the gateway's reading connection, though,
 * starts cold after each commit of the writer (SQLite resets a connection's page cache when another
 * connection has written), so the same few index pages were read again for every message — about a
 * tenth of the CPU of a message at intake. This cache answers a place's query from memory and keeps
 * the answer exact by following the store's own writes:
 *
 * - a new case recorded at intake is added to its place's answer, with the cluster it joined, once
 *   its write has committed (a new case that starts a cluster with its duplicate drops the answers
 *   holding either: which of the writes in flight named the cluster is the database's to say);
 * - any other write that can change a case's open-ness or cluster (a case change, a cluster link, a
 *   follow-up, a timer firing, an erasure, an external update…) empties the cache, when it is sent
 *   and again when it has committed (a read in between could have seen the state before it);
 * - writes that touch no case (outbox, sessions, users, webhooks, timers planned…) leave it alone;
 * - an answer is re-read from the database after TTL_MS whatever happened, so a write this process
 *   did not make (another process on the same file, a hand edit) shows within that time.
 *
 * Only place-key queries are kept (a point's box is asked of the database), per (category, place,
 * limit); a query reaching further back than the one that filled an answer reads the database.
 * SQLite deployments run one gateway process (`intake start --workers` is refused on SQLite), so its
 * own writes are every case write there is but the ones the time-to-live covers.
 */
export function withCandidateCache(store: Store): Store {
  /** By category and place, then by limit. */
  const places = new Map<string, Map<number, Answer>>()
  /** Moves on every change to the cache: an answer read while it moved may predate a write, and is not kept. */
  let generation = 0
  const placeOf = (category: string, placeKey: string) => `${category}\u0000${placeKey}`
  const forgetAll = () => {
    generation++
    places.clear()
  }

  /** Where a case's row is kept in memory: the given place's answers first, then any (a case is kept only at its own category and place). */
  const rowInMemory = (caseId: string, first: string | undefined): { place: string; row: ClusterCandidate } | undefined => {
    const at = (place: string, byLimit: Map<number, Answer>) => {
      for (const answer of byLimit.values()) {
        const row = answer.rows.find((r) => r.caseId === caseId)
        if (row) return { place, row }
      }
      return undefined
    }
    const here = first === undefined ? undefined : places.get(first)
    const found = here && at(first!, here)
    if (found) return found
    for (const [place, byLimit] of places) {
      const elsewhere = byLimit !== here ? at(place, byLimit) : undefined
      if (elsewhere) return elsewhere
    }
    return undefined
  }

  /**
   * A new case is in the database now: put it in its place's answers, with the cluster it joined.
   * A join whose partner has no cluster in memory made a new cluster, whose id the write decided
   * among those in flight (or the partner is not in memory at all): the answers holding the partner
   * and the new case's own place are read again. Nothing else changed, so nothing else is forgotten
   * — emptying everything here made every answer miss under load, each miss making the next.
   */
  const recorded = (write: InboundWrite) => {
    const kase = write.newCase
    const keys = write.clusterKeys
    if (!kase || !keys) return
    generation++
    const keptHere = keys.placeKey !== null && OPEN_STATUSES.includes(kase.status)
    const place = keptHere ? placeOf(keys.category, keys.placeKey!) : undefined
    const byLimit = place === undefined ? undefined : places.get(place)
    let clusterId = kase.clusterId ?? null
    if (write.joinCluster) {
      const partner = rowInMemory(write.joinCluster.withCaseId, place)
      if (!partner?.row.clusterId) {
        if (partner) places.delete(partner.place)
        if (place !== undefined) places.delete(place)
        return
      }
      clusterId = partner.row.clusterId
    }
    if (!byLimit) return
    for (const [limit, answer] of byLimit) {
      const row: ClusterCandidate = Object.freeze({ ...keys, caseId: kase.id, clusterId, createdAt: kase.createdAt })
      const rows = answer.rows.filter((r) => r.caseId !== kase.id)
      let at = rows.findIndex((r) => r.createdAt < row.createdAt || (r.createdAt === row.createdAt && r.caseId < row.caseId))
      if (at === -1) at = rows.length
      rows.splice(at, 0, row)
      answer.rows = rows.slice(0, limit)
    }
  }

  const cached: Store = { ...store }
  cached.findClusterCandidates = async (query: ClusterCandidateQuery) => {
    const { category, placeKey, since, limit, box } = query
    if (placeKey === undefined || box !== undefined) return store.findClusterCandidates(query)
    const place = placeOf(category, placeKey)
    const t = performance.now()
    let answer = places.get(place)?.get(limit)
    if (!answer || since < answer.since || t - answer.readAt >= TTL_MS) {
      const before = generation
      const rows = await store.findClusterCandidates(query)
      answer = { since, readAt: t, rows: rows.map((r) => Object.freeze(r)) }
      if (generation === before) {
        if (places.size >= MAX_PLACES) forgetAll()
        let byLimit = places.get(place)
        if (!byLimit) places.set(place, (byLimit = new Map()))
        byLimit.set(limit, answer)
      }
    }
    // Rows are frozen (shared by every answer until replaced), the list is the caller's own.
    return answer.rows.filter((r) => r.createdAt >= since)
  }
  cached.recordInbound = async (write) => {
    const touches = write.touchCase !== undefined
    if (touches) forgetAll()
    const result = await store.recordInbound(write)
    if (touches) forgetAll()
    else if (!result.duplicate) recorded(write)
    return result
  }
  for (const method of WRITE_METHODS) {
    if (method === 'recordInbound' || LEAVES_CANDIDATES.has(method)) continue
    const write = store[method] as (...args: unknown[]) => Promise<unknown>
    ;(cached as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[method] = async (...args) => {
      forgetAll()
      try {
        return await write.apply(store, args)
      } finally {
        forgetAll()
      }
    }
  }
  return cached
}
