import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import type { ClusterCandidate, ClusterKeys, Store } from '@intake/core'
import { FIXTURE_TIME, fixtureId, makeInboundWrite } from '../kit/index.ts'
import { withCandidateCache } from './candidate-cache.ts'
import { sqliteStore } from './index.ts'

const dir = mkdtempSync(join(tmpdir(), 'intake-candidates-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const T = FIXTURE_TIME
const DAY = 24 * 60 * 60 * 1000
const PLACES = ['code:653129', 'code:653130', 'code:653131']
const CATEGORIES = ['streetlights', 'potholes']
const LIMIT = 5

/** What the database itself holds: the query's answer read straight from the file, no cache anywhere. */
function fromFile(file: string, category: string, placeKey: string, since: number): Array<[string, string | null]> {
  const raw = new Database(file, { readonly: true })
  try {
    return (
      raw
        .prepare(
          `select case_id as caseId, cluster_id as clusterId from cluster_keys
           where category = ? and place_key = ? and open = 1 and created_at >= ? order by created_at desc, case_id desc limit ?`,
        )
        .all(category, placeKey, since, LIMIT) as Array<{ caseId: string; clusterId: string | null }>
    ).map((r) => [r.caseId, r.clusterId])
  } finally {
    raw.close()
  }
}

const pairs = (rows: readonly ClusterCandidate[]) => rows.map((r): [string, string | null] => [r.caseId, r.clusterId])

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number) {
  let s = seed
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32)
}

describe.each(['inline', 'thread'] as const)('cluster candidates kept in memory (writer %s)', (writer) => {
  it('answer exactly what the database holds through new cases, joins, resolutions, reopenings and staff links', async () => {
    const file = join(dir, `differential-${writer}.db`)
    const store: Store = sqliteStore({ file, writer })
    await store.migrate()
    const next = random(writer === 'inline' ? 7 : 11)
    const pick = <T,>(list: readonly T[]) => list[Math.floor(next() * list.length)]!
    const open: string[] = []
    let at = T
    try {
      for (let step = 0; step < 160; step++) {
        at += 60_000
        const category = pick(CATEGORIES)
        const placeKey = pick(PLACES)
        const roll = next()
        if (roll < 0.6 || open.length < 3) {
          // A new case, half the time joining the newest candidate at its place (as intake does).
          const candidates = await store.findClusterCandidates({ category, placeKey, since: at - DAY, limit: LIMIT })
          const keys: ClusterKeys = { category, placeKey, lat: null, lon: null, text: `report ${step}` }
          const write = makeInboundWrite({ citizenId: fixtureId('+1555'), at })
          const join = candidates.length > 0 && next() < 0.5 ? { withCaseId: candidates[0]!.caseId, newClusterId: `k-${step}` } : undefined
          // Some writes go in together, as concurrent messages do in one group commit.
          const also = next() < 0.2 ? makeInboundWrite({ citizenId: fixtureId('+1555'), at }) : undefined
          await Promise.all([
            store.recordInbound({ ...write, clusterKeys: keys, ...(join ? { joinCluster: join } : {}) }),
            ...(also ? [store.recordInbound({ ...also, clusterKeys: keys, ...(join ? { joinCluster: { ...join, newClusterId: `k-${step}-also` } } : {}) })] : []),
          ])
          open.push(write.newCase.id, ...(also ? [also.newCase.id] : []))
        } else if (roll < 0.8) {
          const caseId = pick(open)
          const status = next() < 0.5 ? 'resolved' : 'received'
          await store.applyCaseChange({ caseId, at, patch: { status }, events: [{ caseId, at, type: 'status_changed', actor: 'staff-1', public: false, data: { to: status } }] })
        } else {
          const caseId = pick(open)
          const kase = await store.getCase(caseId)
          if (kase?.clusterId) await store.linkCluster({ op: 'leave', caseId, clusterId: kase.clusterId, at, actor: 'staff-1' })
          else await store.linkCluster({ op: 'pair', caseId, withCaseId: pick(open), newClusterId: `staff-${step}`, at, actor: 'staff-1' })
        }
        for (const c of CATEGORIES) {
          for (const p of PLACES) {
            const cached = pairs(await store.findClusterCandidates({ category: c, placeKey: p, since: at - DAY, limit: LIMIT }))
            expect(cached, `step ${step}: ${c} at ${p}`).toEqual(fromFile(file, c, p, at - DAY))
          }
        }
      }
    } finally {
      await store.close()
    }
  })
})

describe('cluster candidates kept in memory', () => {
  it('show a case another process wrote once the time-to-live has passed', async () => {
    const file = join(dir, 'two-processes.db')
    const gateway = sqliteStore({ file })
    await gateway.migrate()
    const other = sqliteStore({ file })
    const query = { category: 'streetlights', placeKey: PLACES[0]!, since: T - DAY, limit: LIMIT }
    const keys: ClusterKeys = { category: 'streetlights', placeKey: PLACES[0]!, lat: null, lon: null, text: 'lamp dark' }
    try {
      expect(await gateway.findClusterCandidates(query)).toEqual([])
      const write = makeInboundWrite({ citizenId: fixtureId('+1555'), at: T })
      await other.recordInbound({ ...write, clusterKeys: keys })
      await new Promise((resolve) => setTimeout(resolve, 2_100))
      expect(pairs(await gateway.findClusterCandidates(query))).toEqual([[write.newCase.id, null]])
    } finally {
      await other.close()
      await gateway.close()
    }
  })
})

describe('cluster candidates kept in memory, under load', () => {
  it('forget only the answers a join changed, so a join at a place not in memory does not make every place read again', async () => {
    // The database as a map of answers, and a count of the reads that reach it.
    const rows: Record<string, ClusterCandidate[]> = {
      [PLACES[0]!]: [{ caseId: 'a1', clusterId: 'c1', category: 'streetlights', placeKey: PLACES[0]!, lat: null, lon: null, text: 'lamp', createdAt: T }],
      [PLACES[1]!]: [{ caseId: 'b1', clusterId: null, category: 'streetlights', placeKey: PLACES[1]!, lat: null, lon: null, text: 'lamp', createdAt: T }],
      [PLACES[2]!]: [],
    }
    let reads = 0
    const database = {
      async findClusterCandidates(q: { placeKey?: string }) {
        reads++
        return rows[q.placeKey!]!.map((r) => ({ ...r }))
      },
      async recordInbound() {
        return { duplicate: false }
      },
    } as unknown as Store
    const store = withCandidateCache(database)
    const ask = (place: string) => store.findClusterCandidates({ category: 'streetlights', placeKey: place, since: T - DAY, limit: LIMIT })
    const newCaseAt = (place: string, joinWith: string) => {
      const write = makeInboundWrite({ citizenId: fixtureId('+1555'), at: T + 1 })
      const keys: ClusterKeys = { category: 'streetlights', placeKey: place, lat: null, lon: null, text: 'lamp' }
      return store.recordInbound({ ...write, clusterKeys: keys, joinCluster: { withCaseId: joinWith, newClusterId: 'k2' } })
    }

    await ask(PLACES[0]!)
    await ask(PLACES[1]!)
    expect(reads).toBe(2)
    // A case at a third place (not in memory) joins a1's cluster: nothing in memory changed.
    await newCaseAt(PLACES[2]!, 'a1')
    expect(pairs(await ask(PLACES[0]!))).toEqual([['a1', 'c1']])
    await ask(PLACES[1]!)
    expect(reads).toBe(2)
    // One joins b1, which had no cluster: the write gave it one, so b1's place is read again, a1's is not.
    rows[PLACES[1]!]![0]!.clusterId = 'k2'
    await newCaseAt(PLACES[2]!, 'b1')
    expect(pairs(await ask(PLACES[1]!))).toEqual([['b1', 'k2']])
    expect(reads).toBe(3)
    await ask(PLACES[0]!)
    expect(reads).toBe(3)
  })
})
