import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { memoryLogger, Office } from '@intake/core'
import { byLocation } from './by-location.ts'
import { RoutingConfigError } from './errors.ts'
import { demoOffices } from './demo-fixtures.ts'
import { caseDraft, routingContext, testStrategy } from './kit/index.ts'

const areas = JSON.parse(readFileSync(new URL('./fixtures/kashgar-areas.geojson', import.meta.url), 'utf8'))
const at = (lat: number, lon: number, text = '这里的路灯坏了') => ({ text, place: { lat, lon } })

testStrategy({
  name: 'location',
  strategy: byLocation({ areas }),
  offices: demoOffices,
  cases: [
    {
      title: 'a point in 巴仁镇: the town, not its county or prefecture',
      draft: at(39.4947, 76.7247),
      expect: { officeId: 'jiashi-bairen', reasonIncludes: 'location 39.49470, 76.72470 lies within 巴仁镇 (the smallest of 3 areas containing it)' },
    },
    { title: 'a point in 西克尔库勒镇', draft: at(39.55, 76.52), expect: { officeId: 'jiashi-xikeerkule' } },
    { title: 'a point in 伽师县 outside its towns', draft: at(39.8, 77.2), expect: { officeId: 'jiashi', confidence: { min: 0.9, max: 0.9 } } },
    { title: 'a point in the hole of 伽师县 (an enclave): the prefecture', draft: at(39.47, 77.1), expect: { officeId: 'kashgar' } },
    { title: 'a point in the main part of 疏勒县 (MultiPolygon)', draft: at(39.3, 76.05), expect: { officeId: 'shule' } },
    { title: 'a point in the detached part of 疏勒县 (MultiPolygon)', draft: at(39.0, 76.42), expect: { officeId: 'shule' } },
    { title: 'a point in 喀什市', draft: at(39.56, 75.99, 'Where is the nearest clinic?'), expect: { officeId: 'kashgar-city' } },
    { title: 'a point outside every area (Ürümqi)', draft: at(43.825, 87.617), expect: { none: true } },
    { title: 'a place without coordinates', draft: { text: '伽师县巴仁镇', place: { text: '伽师县巴仁镇' } }, expect: { none: true } },
  ],
  quiet: ['伽师县巴仁镇的路灯坏了', { text: 'only a latitude', place: { lat: 39.49 } }, at(-33.86, 151.21)],
})

describe('byLocation', () => {
  it('at equal size, the office deeper in the tree wins', async () => {
    const outline = areas.features.find((f: { properties: { officeId: string } }) => f.properties.officeId === 'jiashi')
    const twice = {
      type: 'FeatureCollection',
      features: [outline, { ...outline, properties: { officeId: 'jiashi-procuratorate' } }],
    }
    const decision = await byLocation({ areas: twice })(caseDraft(at(39.8, 77.2)), routingContext(demoOffices))
    expect(decision?.officeId).toBe('jiashi-procuratorate')
    expect(decision?.reason).toContain('lies within 伽师县人民检察院 (the smallest of 2 areas')
  })

  it('passes over an area whose office the directory lacks, with a warning, and takes the next', async () => {
    const offices = demoOffices.filter((o) => o.id !== 'jiashi-bairen')
    const log = memoryLogger()
    const decision = await byLocation({ areas })(caseDraft(at(39.4947, 76.7247)), { ...routingContext(offices), log })
    expect(decision?.officeId).toBe('jiashi')
    expect(log.lines.join('\n')).toContain('"officeId":"jiashi-bairen"')
  })

  it('ranks by size, whatever the order of the features', async () => {
    const reversed = { ...areas, features: [...areas.features].reverse() }
    expect((await byLocation({ areas: reversed })(caseDraft(at(39.4947, 76.7247)), routingContext(demoOffices)))?.officeId).toBe('jiashi-bairen')
  })

  it('takes a confidence', async () => {
    const offices = [Office.parse({ id: 'desk', name: 'Desk', intakeDesk: true }), Office.parse({ id: 'jiashi', name: '伽师县' })]
    const decision = await byLocation({ areas, confidence: 0.7 })(caseDraft(at(39.8, 77.2)), routingContext(offices))
    expect(decision).toMatchObject({ officeId: 'jiashi', confidence: 0.7 })
  })

  const ring = [[76, 39], [77, 39], [77, 40], [76, 39]]
  it.each<[string, unknown, RegExp]>([
    ['no collection', undefined, /FeatureCollection/],
    ['no features', { type: 'FeatureCollection', features: [] }, /no areas given/],
    ['a feature without an officeId', { type: 'FeatureCollection', features: [{ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [ring] } }] }, /officeId/],
    ['a ring that does not close', { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { officeId: 'a' }, geometry: { type: 'Polygon', coordinates: [[[76, 39], [77, 39], [77, 40], [76, 40]]] } }] }, /end where it starts/],
    ['a ring of three positions', { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { officeId: 'a' }, geometry: { type: 'Polygon', coordinates: [[[76, 39], [77, 39], [76, 39]]] } }] }, /four or more/],
    ['latitude and longitude swapped out of range', { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { officeId: 'a' }, geometry: { type: 'Polygon', coordinates: [[[39, 176], [40, 176], [40, 177], [39, 176]]] } }] }, /90/],
    ['a point, not an area', { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { officeId: 'a' }, geometry: { type: 'Point', coordinates: [76, 39] } }] }, /geometry/],
  ])('refuses %s at the factory', (_title, bad, message) => {
    expect(() => byLocation({ areas: bad })).toThrow(RoutingConfigError)
    expect(() => byLocation({ areas: bad })).toThrow(message)
  })
})
