/**
 * The conformance cases of forwarded cases (Store.linkExternal, listExternalLinks, externalLinksOf,
 * applyExternalUpdate), run by `testStore` for every driver.
 */
import { expect } from 'vitest'
import type { Store } from '@intake/core'
import { FIXTURE_TIME, fixtureId, makeInboundWrite, makeOutbound } from './fixtures.ts'

const T = FIXTURE_TIME

export function forwardingCases(test: (title: string, fn: () => Promise<void>) => void, store: () => Store): void {
  async function open(status: 'received' | 'resolved' = 'received') {
    const write = makeInboundWrite({ citizenId: fixtureId('+1555'), at: T, case: { status } })
    await store().recordInbound(write)
    return write.newCase
  }

  test('forwarding: the id another system gave a case is kept, with one forwarded event; a later answer replaces it', async () => {
    const kase = await open()
    expect(await store().linkExternal({ caseId: kase.id, channelId: 'city-311', externalId: 'SR-1', at: T + 1 })).toBe(true)
    expect(await store().linkExternal({ caseId: kase.id, channelId: 'city-311', externalId: 'SR-1', at: T + 2 })).toBe(false)
    expect(await store().externalLinksOf(kase.id)).toEqual([{ caseId: kase.id, channelId: 'city-311', externalId: 'SR-1', linkedAt: T + 1, seen: null }])
    const forwarded = (await store().listEvents(kase.id)).filter((e) => e.type === 'forwarded')
    expect(forwarded.map((e) => e.data)).toEqual([{ channelId: 'city-311', externalId: 'SR-1' }])
    expect(await store().linkExternal({ caseId: kase.id, channelId: 'city-311', externalId: 'SR-2', at: T + 3 })).toBe(false)
    expect((await store().externalLinksOf(kase.id))[0]!.externalId).toBe('SR-2')
    expect((await store().listEvents(kase.id)).filter((e) => e.type === 'forwarded')).toHaveLength(2)
  })

  test('forwarding: only open cases of the channel are listed for polling', async () => {
    const first = await open()
    const second = await open()
    const done = await open('resolved')
    await store().linkExternal({ caseId: first.id, channelId: 'city-311', externalId: 'A', at: T + 1 })
    await store().linkExternal({ caseId: second.id, channelId: 'other-311', externalId: 'B', at: T + 1 })
    await store().linkExternal({ caseId: done.id, channelId: 'city-311', externalId: 'C', at: T + 1 })
    expect((await store().listExternalLinks('city-311', 10)).map((l) => l.externalId)).toEqual(['A'])
  })

  test('forwarding: an update applies once, over the report it was computed from, with its case change', async () => {
    const kase = await open()
    await store().linkExternal({ caseId: kase.id, channelId: 'city-311', externalId: 'SR-1', at: T + 1 })
    const reply = makeOutbound(kase, { kind: 'reply', text: 'A crew is on its way.', at: T + 2 })
    const change = { caseId: kase.id, at: T + 2, patch: { status: 'replied' as const }, events: [{ caseId: kase.id, at: T + 2, type: 'external_update' as const, actor: 'city-311', public: false, data: { status: 'open' } }], outbound: [reply] }
    expect(await store().applyExternalUpdate({ caseId: kase.id, channelId: 'city-311', expectedSeen: null, seen: 'open|fixing', at: T + 2, change })).toBe(true)
    // A second poller that read the link before the first applied: refused, nothing doubled.
    expect(await store().applyExternalUpdate({ caseId: kase.id, channelId: 'city-311', expectedSeen: null, seen: 'open|fixing', at: T + 2, change })).toBe(false)
    expect((await store().getCase(kase.id))!.status).toBe('replied')
    expect((await store().listEvents(kase.id)).filter((e) => e.type === 'external_update')).toHaveLength(1)
    expect(await store().listOutbox({ caseId: kase.id })).toHaveLength(2)
    expect((await store().externalLinksOf(kase.id))[0]!.seen).toBe('open|fixing')
    expect(await store().applyExternalUpdate({ caseId: kase.id, channelId: 'nowhere', expectedSeen: null, seen: 'x', at: T + 3 })).toBe(false)
  })
}
