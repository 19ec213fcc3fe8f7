/**
 * Every case records the place found (code and name), whichever strategy decided: byJurisdiction
 * and byLocation put it on their decisions, and the chain keeps it past a later decision.
 */
import { describe, expect, it } from 'vitest'
import { runRoutingChain, type RoutingStrategy } from '@intake/core'
import { byJurisdiction, byKeywords, byLocation, byTrackingCode, toIntakeDesk } from './index.ts'
import { demoKeywordRules, demoOffices, earlierCase } from './demo-fixtures.ts'
import { caseDraft, routingContext } from './kit/index.ts'

const ctx = routingContext(demoOffices, { cases: [earlierCase('K7F3-9Q28', 'jiashi-bairen')] })

describe('the place on a routing decision', () => {
  it('byJurisdiction names the place it matched, by code and name', async () => {
    const decision = await byJurisdiction()(caseDraft({ text: '伽师县巴仁镇的路灯坏了一个月了' }), ctx)
    expect(decision?.place).toMatchObject({ name: expect.stringContaining('巴仁镇') })
    expect(decision?.place?.code).toMatch(/^653129/)
  })

  it('byLocation names the area it found the point in', async () => {
    const areas = {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: { officeId: 'jiashi-bairen', name: '巴仁镇', code: '653129100' }, geometry: { type: 'Polygon', coordinates: [[[76, 39], [77, 39], [77, 40], [76, 40], [76, 39]]] } },
      ],
    }
    const decision = await byLocation({ areas })(caseDraft({ text: '这里', place: { lat: 39.5, lon: 76.5 } }), ctx)
    expect(decision?.place).toEqual({ code: '653129100', name: '巴仁镇' })
  })

  it('keeps the place when a later strategy decides, and asks a locating strategy for it when an earlier one decided without', async () => {
    const categoryOnly: RoutingStrategy = async function categoryOnly() {
      return { officeId: '', strategy: 'c', reason: 'category only', confidence: 0.5, category: 'roads', place: { code: '653129100', name: '巴仁镇' } }
    }
    const decides: RoutingStrategy = async function decides() {
      return { officeId: 'jiashi', strategy: 'd', reason: 'decided', confidence: 0.9 }
    }
    const kept = await runRoutingChain([categoryOnly, decides], caseDraft({ text: 'x' }), ctx)
    expect(kept.decision).toMatchObject({ officeId: 'jiashi', place: { code: '653129100', name: '巴仁镇' } })

    // The demo chain: the tracking code decides (an earlier case's office), byJurisdiction still names the place.
    const chain = [byTrackingCode(), byKeywords({ rules: demoKeywordRules }), byJurisdiction(), toIntakeDesk()]
    const { decision, trail } = await runRoutingChain(chain, caseDraft({ text: 'K7F3-9Q28 伽师县巴仁镇的路灯还是没修', trackingCodes: ['K7F3-9Q28'] }), ctx)
    expect(decision.strategy).toBe('tracking-code')
    expect(decision.place?.name).toContain('巴仁镇')
    // Asked for the place only: not in the trail.
    expect(trail.map((t) => t.strategy)).toEqual(['byTrackingCode'])
  })
})
