import { describe, expect, it } from 'vitest'
import type { ClusterCandidate, ClusterKeys } from '../contracts/store.ts'
import { buildOfficeDirectory } from '../offices/index.ts'
import { Office } from '../model/index.ts'
import { bestDuplicate, ClusterOptions, clusterKeysOf, samePlace } from './cluster-matching.ts'
import { boxAround, distanceMetres, placeNamesOf } from './cluster-place.ts'
import { textSimilarity } from './text-similarity.ts'

const offices = buildOfficeDirectory([
  Office.parse({ id: 'desk', name: '受理中心', intakeDesk: true }),
  Office.parse({ id: 'jiashi', name: '伽师县人民政府', jurisdiction: { places: [{ name: '伽师县', aliases: ['Jiashi'] }] } }),
  Office.parse({ id: 'bairen', name: '巴仁镇人民政府', parentId: 'jiashi', jurisdiction: { places: [{ name: '巴仁镇' }] } }),
  Office.parse({ id: 'bairen-shule', name: '巴仁乡人民政府', jurisdiction: { places: [{ name: '巴仁乡' }] } }),
])
const names = placeNamesOf(offices)
const options = ClusterOptions.parse({})

describe('duplicate matching', () => {
  it('keys a case by the deepest office place named (not the county, though it is as long), and takes place names out of the words', () => {
    expect(clusterKeysOf({ category: 'streetlights', text: '伽师县巴仁镇幸福路的路灯坏了' }, names)).toEqual({
      category: 'streetlights',
      placeKey: 'place:巴仁镇',
      lat: null,
      lon: null,
      text: '幸福路的路灯坏了',
    })
    expect(clusterKeysOf({ category: 'streetlights', text: '路灯坏了', place: { code: '653129101' } }, names)?.placeKey).toBe('code:653129101')
    expect(clusterKeysOf({ category: 'roads', text: 'Pothole', place: { text: ' Elm St. & 3rd ' } }, names)?.placeKey).toBe('text:elm st 3rd')
    // No category, or no place and no point: nothing to match on.
    expect(clusterKeysOf({ category: null, text: '伽师县巴仁镇路灯坏了' }, names)).toBeUndefined()
    expect(clusterKeysOf({ category: 'streetlights', text: '路灯坏了' }, names)).toBeUndefined()
  })

  it('two points closer than the distance are the same place; the box holds every point within it', () => {
    const a: ClusterKeys = { category: 'c', placeKey: null, lat: 37.77, lon: -122.43, text: '' }
    const near = { ...a, lat: 37.77 + 200 / 111_320 }
    const far = { ...a, lat: 37.77 + 400 / 111_320 }
    expect(Math.round(distanceMetres({ lat: a.lat!, lon: a.lon! }, { lat: near.lat, lon: near.lon! }))).toBe(200)
    expect(samePlace(a, near, options)).toBe(true)
    expect(samePlace(a, far, options)).toBe(false)
    const box = boxAround({ lat: 37.77, lon: -122.43 }, 300)
    expect(near.lat).toBeLessThan(box.maxLat)
    expect(far.lat).toBeGreaterThan(box.maxLat)
  })

  it('similar words score higher than another matter in the same place', () => {
    const same = textSimilarity('幸福路的路灯坏了一个星期了，晚上漆黑', '幸福路路灯全部不亮，晚上漆黑一片')
    const other = textSimilarity('幸福路的路灯坏了一个星期了，晚上漆黑', '团结路的下水道井盖丢了，车辆经过很危险')
    expect(same).toBeGreaterThan(options.threshold.han)
    expect(other).toBeLessThan(options.threshold.han)
    expect(textSimilarity('Streetlight out on Elm, dark at night', 'The street light on Elm is out, very dark at night')).toBeGreaterThan(options.threshold.other)
  })

  it('joins the cluster whose members are alike on average, not a neighbour that one member resembles', () => {
    const keys = (text: string): ClusterKeys => ({ category: 'streetlights', placeKey: 'place:巴仁镇', lat: null, lon: null, text })
    const candidate = (caseId: string, clusterId: string | null, text: string): ClusterCandidate => ({ ...keys(text), caseId, clusterId, createdAt: 0 })
    const incoming = keys('幸福路路灯不亮了，已经好几天，晚上漆黑一片')
    const candidates = [
      candidate('a', 'k1', '幸福路的路灯坏了好几天了，晚上一片漆黑'),
      candidate('b', 'k1', '幸福路路灯全部不亮，晚上漆黑'),
      candidate('c', 'k2', '幸福路路灯不亮'),
      candidate('d', 'k2', '团结路路灯杆被车撞歪了，电线露出来'),
      candidate('e', 'k2', '团结路市场门口的路灯杆被撞弯了'),
      candidate('f', 'k2', '团结路的下水道井盖丢了，车辆经过很危险'),
      candidate('g', 'k2', '团结路井盖破了一半，行人容易踩空'),
      candidate('h', 'k2', '团结路电线杆歪了，存在安全隐患'),
    ]
    expect(bestDuplicate(incoming, candidates, options)?.candidate.clusterId).toBe('k1')
    // k2 drifted into another matter: one member resembles the new case, the cluster as a whole does not.
    expect(bestDuplicate(incoming, candidates.slice(2), options)).toBeUndefined()
    expect(bestDuplicate(incoming, [candidates[2]!], options)?.candidate.caseId).toBe('c')
    expect(bestDuplicate({ ...incoming, category: 'roads' }, candidates, options)).toBeUndefined()
  })

  it('refuses options out of range at parse time', () => {
    expect(() => ClusterOptions.parse({ threshold: 2 })).toThrow()
    expect(() => ClusterOptions.parse({ distanceMetres: 0 })).toThrow()
    expect(() => ClusterOptions.parse({ windw: 1 })).toThrow()
    expect(ClusterOptions.parse({ threshold: 0.4 }).threshold).toEqual({ han: 0.4, other: 0.4 })
  })
})
