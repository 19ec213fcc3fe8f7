/**
 * The conformance cases of duplicate clusters (Store.findClusterCandidates, getCluster, linkCluster,
 * applyCaseChanges and InboundWrite.clusterKeys/joinCluster), run by `testStore` for every driver.
 */
import { expect } from 'vitest'
import type { ClusterKeys, Store } from '@intake/core'
import { FIXTURE_TIME, fixtureId, makeInboundWrite, makeOutbound, type InboundWriteOptions } from './fixtures.ts'

const T = FIXTURE_TIME
const HOUR = 60 * 60 * 1000
const DAY = 24 * HOUR

export function clusterCases(test: (title: string, fn: () => Promise<void>) => void, store: () => Store): void {
  const keys = (over: Partial<ClusterKeys> = {}): ClusterKeys => ({
    category: 'streetlights',
    placeKey: 'code:653129',
    lat: null,
    lon: null,
    text: 'streetlight out on Elm Street',
    ...over,
  })
  async function open(clusterKeys?: ClusterKeys, options: InboundWriteOptions = {}, joinCluster?: { withCaseId: string; newClusterId: string; data?: Record<string, unknown> }) {
    const write = makeInboundWrite({ citizenId: fixtureId('+1555'), ...options })
    await expect(store().recordInbound({ ...write, ...(clusterKeys ? { clusterKeys } : {}), ...(joinCluster ? { joinCluster } : {}) })).resolves.toEqual({ duplicate: false })
    return write.newCase
  }
  const ids = (list: readonly { caseId: string }[]) => list.map((c) => c.caseId)

  test('clusters: candidates are open cases of the category at the place (or in the box), within the window, newest first', async () => {
    const older = await open(keys({ text: 'lamp dark' }), { at: T })
    const newer = await open(keys({ text: 'lamp still dark' }), { at: T + HOUR })
    await open(keys({ category: 'potholes' }), { at: T + HOUR })
    await open(keys({ placeKey: 'code:653130' }), { at: T + HOUR })
    await open(keys(), { at: T - 10 * DAY })
    await open(keys(), { at: T + HOUR, case: { status: 'resolved' } })
    const near = await open(keys({ placeKey: null, lat: 39.5, lon: 76.7 }), { at: T + 2 * HOUR })
    await open(keys({ placeKey: null, lat: 39.6, lon: 76.7 }), { at: T + 2 * HOUR })
    await open(undefined, { at: T + 2 * HOUR })

    const found = await store().findClusterCandidates({ category: 'streetlights', placeKey: 'code:653129', since: T - DAY, limit: 10 })
    expect(ids(found)).toEqual([newer.id, older.id])
    expect(found[1]).toEqual({ caseId: older.id, clusterId: null, category: 'streetlights', placeKey: 'code:653129', lat: null, lon: null, text: 'lamp dark', createdAt: T })
    expect(ids(await store().findClusterCandidates({ category: 'streetlights', placeKey: 'code:653129', since: T - DAY, limit: 1 }))).toEqual([newer.id])
    const box = { minLat: 39.49, maxLat: 39.51, minLon: 76.69, maxLon: 76.71 }
    expect(ids(await store().findClusterCandidates({ category: 'streetlights', box, since: T - DAY, limit: 10 }))).toEqual([near.id])
    expect(ids(await store().findClusterCandidates({ category: 'streetlights', placeKey: 'code:653129', box, since: T - DAY, limit: 10 }))).toEqual([near.id, newer.id, older.id])
  })

  test('clusters: a case stops being a candidate when it is resolved and is one again when reopened; a staff link shows in its candidate row', async () => {
    const a = await open(keys({ text: 'lamp dark' }), { at: T })
    const b = await open(keys({ text: 'lamp dark again' }), { at: T + HOUR })
    const candidates = async () =>
      (await store().findClusterCandidates({ category: 'streetlights', placeKey: 'code:653129', since: T - DAY, limit: 10 })).map((c) => [c.caseId, c.clusterId])
    const change = (status: 'resolved' | 'received', at: number) =>
      store().applyCaseChange({ caseId: a.id, at, patch: { status }, events: [{ caseId: a.id, at, type: 'status_changed', actor: 'staff-1', public: false, data: { to: status } }] })
    await change('resolved', T + 2 * HOUR)
    expect(await candidates()).toEqual([[b.id, null]])
    await change('received', T + 3 * HOUR)
    expect(await candidates()).toEqual([[b.id, null], [a.id, null]])
    await store().linkCluster({ op: 'pair', caseId: b.id, withCaseId: a.id, newClusterId: 'k-link', at: T + 4 * HOUR, actor: 'staff-1' })
    expect(await candidates()).toEqual([[b.id, 'k-link'], [a.id, 'k-link']])
    await store().linkCluster({ op: 'leave', caseId: a.id, clusterId: 'k-link', at: T + 5 * HOUR, actor: 'staff-1' })
    expect(await candidates()).toEqual([[b.id, 'k-link'], [a.id, null]])
  })

  test('clusters: a new case written with joinCluster makes a cluster with the case it duplicates; the next joins that cluster', async () => {
    const first = await open(keys(), { at: T })
    const second = await open(keys(), { at: T + HOUR }, { withCaseId: first.id, newClusterId: 'cluster-a' })
    // The matcher's findings ride on the new case's event, after the cluster's id (quotes and all).
    const data = { withCaseId: second.id, similarity: 0.875, via: 'intake', note: 'lamp "Elm" \\ 路灯' }
    const third = await open(keys(), { at: T + 2 * HOUR }, { withCaseId: second.id, newClusterId: 'cluster-unused', data })

    const view = await store().getCluster('cluster-a')
    expect(view?.cluster).toEqual({ id: 'cluster-a', createdAt: T + HOUR, updatedAt: T + 2 * HOUR, createdBy: 'system' })
    expect(view?.members.map((m) => [m.id, m.clusterId])).toEqual([
      [first.id, 'cluster-a'],
      [second.id, 'cluster-a'],
      [third.id, 'cluster-a'],
    ])
    expect(await store().getCluster('cluster-unused')).toBeUndefined()
    expect((await store().getCase(third.id))?.clusterId).toBe('cluster-a')
    expect((await store().listEvents(first.id)).filter((e) => e.type === 'clustered').map((e) => e.data)).toEqual([{ clusterId: 'cluster-a', withCaseId: second.id }])
    expect((await store().listEvents(third.id)).filter((e) => e.type === 'clustered').map((e) => [e.actor, e.at, e.data])).toEqual([['system', T + 2 * HOUR, { clusterId: 'cluster-a', ...data }]])
    expect((await store().verifyAudit()).caseEvents).toMatchObject({ ok: true })
    const candidates = await store().findClusterCandidates({ category: 'streetlights', placeKey: 'code:653129', since: T - DAY, limit: 10 })
    expect(candidates.map((c) => c.clusterId)).toEqual(['cluster-a', 'cluster-a', 'cluster-a'])
  })

  test('clusters: two new cases matching the same unclustered case at once end up in one cluster', async () => {
    const first = await open(keys(), { at: T })
    const [a, b] = [makeInboundWrite({ citizenId: fixtureId('+1555'), at: T + HOUR }), makeInboundWrite({ citizenId: fixtureId('+1555'), at: T + HOUR })]
    await Promise.all([
      store().recordInbound({ ...a, clusterKeys: keys(), joinCluster: { withCaseId: first.id, newClusterId: 'race-a' } }),
      store().recordInbound({ ...b, clusterKeys: keys(), joinCluster: { withCaseId: first.id, newClusterId: 'race-b' } }),
    ])
    const clusterIds = await Promise.all([first.id, a.newCase.id, b.newCase.id].map(async (id) => (await store().getCase(id))?.clusterId))
    expect(new Set(clusterIds).size).toBe(1)
    expect(clusterIds[0]).toMatch(/^race-[ab]$/)
    expect((await store().getCluster(clusterIds[0]!))?.members).toHaveLength(3)
    expect(await store().getCluster(clusterIds[0] === 'race-a' ? 'race-b' : 'race-a')).toBeUndefined()
  })

  test('clusters: staff link and unlink; refusals (unknown case or cluster, already clustered, not a member) change nothing', async () => {
    const a = await open(keys())
    const b = await open(keys())
    const c = await open(keys())
    const d = await open(keys())
    const at = T + HOUR
    expect(await store().linkCluster({ op: 'pair', caseId: b.id, withCaseId: a.id, newClusterId: 'k1', at, actor: 'staff-1' })).toEqual({ ok: true, clusterId: 'k1', changed: true })
    expect(await store().linkCluster({ op: 'pair', caseId: d.id, withCaseId: c.id, newClusterId: 'k2', at, actor: 'staff-1' })).toEqual({ ok: true, clusterId: 'k2', changed: true })
    expect(await store().linkCluster({ op: 'join', caseId: b.id, clusterId: 'k1', at, actor: 'staff-1' })).toEqual({ ok: true, clusterId: 'k1', changed: false })

    expect(await store().linkCluster({ op: 'join', caseId: 'case-nope', clusterId: 'k1', at, actor: 'staff-1' })).toEqual({ ok: false, code: 'case_not_found', caseId: 'case-nope' })
    expect(await store().linkCluster({ op: 'join', caseId: a.id, clusterId: 'k-nope', at, actor: 'staff-1' })).toEqual({ ok: false, code: 'cluster_not_found', caseId: a.id, clusterId: 'k-nope' })
    expect(await store().linkCluster({ op: 'join', caseId: c.id, clusterId: 'k1', at, actor: 'staff-1' })).toEqual({ ok: false, code: 'already_clustered', caseId: c.id, clusterId: 'k2' })
    expect(await store().linkCluster({ op: 'pair', caseId: c.id, withCaseId: a.id, newClusterId: 'k3', at, actor: 'staff-1' })).toEqual({ ok: false, code: 'already_clustered', caseId: c.id, clusterId: 'k2' })
    expect(await store().linkCluster({ op: 'pair', caseId: a.id, withCaseId: a.id, newClusterId: 'k3', at, actor: 'staff-1' })).toEqual({ ok: false, code: 'same_case', caseId: a.id })
    expect(await store().linkCluster({ op: 'leave', caseId: c.id, clusterId: 'k1', at, actor: 'staff-1' })).toEqual({ ok: false, code: 'not_a_member', caseId: c.id, clusterId: 'k1' })
    expect(await store().getCluster('k3')).toBeUndefined()
    expect((await store().getCluster('k1'))?.members.map((m) => m.id)).toEqual([a.id, b.id])

    expect(await store().linkCluster({ op: 'leave', caseId: b.id, clusterId: 'k1', at: at + HOUR, actor: 'staff-2' })).toEqual({ ok: true, clusterId: 'k1', changed: true })
    expect((await store().getCase(b.id))?.clusterId).toBeNull()
    expect((await store().listEvents(b.id)).filter((e) => e.type === 'clustered' || e.type === 'unclustered').map((e) => [e.type, e.actor, e.data.clusterId])).toEqual([
      ['clustered', 'staff-1', 'k1'],
      ['unclustered', 'staff-2', 'k1'],
    ])
    expect(await store().linkCluster({ op: 'join', caseId: b.id, clusterId: 'k2', at: at + 2 * HOUR, actor: 'staff-2' })).toEqual({ ok: true, clusterId: 'k2', changed: true })
    expect((await store().getCluster('k2'))?.members.map((m) => m.id)).toEqual([b.id, c.id, d.id].sort())
  })

  test('clusters: applyCaseChanges writes every change or none', async () => {
    const a = await open()
    const b = await open()
    const at = T + HOUR
    const reply = (kase: typeof a) => ({
      caseId: kase.id,
      at,
      patch: { status: 'replied' as const },
      events: [{ caseId: kase.id, at, type: 'replied' as const, actor: 'staff-1', public: true }],
      outbound: [makeOutbound(kase, { kind: 'reply', at, text: 'Fixed.' })],
    })
    await expect(store().applyCaseChanges([reply(a), { ...reply(b), caseId: 'case-nope' }])).rejects.toThrow()
    expect((await store().getCase(a.id))?.status).toBe('received')
    expect((await store().listOutbox({ caseId: a.id })).map((o) => o.payload.kind)).toEqual(['acknowledgement'])

    const changed = await store().applyCaseChanges([reply(a), reply(b)])
    expect(changed.map((c) => [c.id, c.status])).toEqual([
      [a.id, 'replied'],
      [b.id, 'replied'],
    ])
    expect((await store().listOutbox({ caseId: b.id })).map((o) => o.payload.text).sort()).toEqual(['Fixed.', expect.stringContaining('We received')].sort())
  })
}
