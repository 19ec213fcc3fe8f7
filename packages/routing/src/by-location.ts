import { z } from 'zod'
import type { CaseDraft, RoutingContext, RoutingStrategy } from '@intake/core'
import { RoutingConfigError } from './errors.ts'

// GeoJSON as RFC 7946 defines it: positions are [longitude, latitude(, altitude)] (§3.1.1); a
// linear ring has four or more positions and its first and last are the same (§3.1.6); the first
// ring of a Polygon is its exterior, the others are holes (§3.1.6).
const Position = z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]).rest(z.number())
const Ring = z
  .array(Position)
  .min(4, 'a linear ring needs four or more positions (RFC 7946 §3.1.6)')
  .refine((ring) => ring[0]![0] === ring[ring.length - 1]![0] && ring[0]![1] === ring[ring.length - 1]![1], {
    message: 'a linear ring must end where it starts (RFC 7946 §3.1.6)',
  })
const PolygonCoordinates = z.array(Ring).min(1, 'a polygon needs an exterior ring')
const Geometry = z.discriminatedUnion('type', [
  z.object({ type: z.literal('Polygon'), coordinates: PolygonCoordinates }),
  z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(PolygonCoordinates).min(1) }),
])
const Feature = z.object({
  type: z.literal('Feature'),
  geometry: Geometry,
  properties: z.looseObject({
    officeId: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'officeId must be an office id (kebab-case)'),
    /** Shown in reasons; defaults to the office's name. */
    name: z.string().optional(),
    /** The area's administrative code, recorded on the case as its place (default: the office's first jurisdiction code). */
    code: z.string().optional(),
  }),
})
const FeatureCollection = z.object({ type: z.literal('FeatureCollection'), features: z.array(Feature).min(1, 'no areas given') })

export interface ByLocationOptions {
  /**
   * Each office's area: a GeoJSON FeatureCollection whose features are Polygons or MultiPolygons
   * (holes respected) with an `officeId` property, and optionally a `name` for the reasons.
   */
  areas: unknown
  /**
   * Default 0.9. A shared location is where the citizen is, which is usually, not always, where the
   * problem is; a place named in the form or the text is stronger evidence.
   */
  confidence?: number
}

type Point = readonly [lon: number, lat: number]
type Rings = readonly (readonly (readonly number[])[])[]

interface Area {
  officeId: string
  name?: string
  code?: string
  polygons: Rings[]
  /** [minLon, minLat, maxLon, maxLat]: most points are outside most areas, and this says so cheaply. */
  bbox: [number, number, number, number]
  /** Planar area in square degrees scaled by cos(latitude): only compared, never shown. */
  size: number
}

/**
 * Ray casting (the even–odd rule): a horizontal ray from the point crosses the ring's edges an odd
 * number of times when the point is inside. A point exactly on an edge may count either way.
 */
function insideRing([x, y]: Point, ring: readonly (readonly number[])[]): boolean {
  let inside = false
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as [number, number]
    const [xj, yj] = ring[j] as [number, number]
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside
  }
  return inside
}

function insidePolygon(point: Point, rings: Rings): boolean {
  const [exterior, ...holes] = rings
  return exterior !== undefined && insideRing(point, exterior) && !holes.some((hole) => insideRing(point, hole))
}

/** The shoelace formula, for ranking areas by size. */
function ringSize(ring: readonly (readonly number[])[]): number {
  let twice = 0
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as [number, number]
    const [xj, yj] = ring[j] as [number, number]
    twice += (xj + xi) * (yj - yi)
  }
  return Math.abs(twice) / 2
}

function compileArea(feature: z.infer<typeof Feature>): Area {
  const polygons: Rings[] = feature.geometry.type === 'Polygon' ? [feature.geometry.coordinates] : feature.geometry.coordinates
  const positions = polygons.flatMap((p) => p[0] ?? [])
  const lons = positions.map((p) => p[0]!)
  const lats = positions.map((p) => p[1]!)
  const bbox: Area['bbox'] = [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)]
  const scale = Math.cos((((bbox[1] + bbox[3]) / 2) * Math.PI) / 180)
  const size = polygons.reduce((sum, [exterior, ...holes]) => sum + ringSize(exterior!) - holes.reduce((h, ring) => h + ringSize(ring), 0), 0) * scale
  return { officeId: feature.properties.officeId, name: feature.properties.name, code: feature.properties.code, polygons, bbox, size }
}

const round = (n: number) => Math.round(n * 1e5) / 1e5

/**
 * Routes by coordinates: a point the citizen sent (a location picked on the web form, a WeChat or
 * Telegram location) that lies inside an office's area. Where areas nest (a town inside its county),
 * the smallest area containing the point wins, and at equal size the office deeper in the tree.
 * Returns undefined without coordinates, or when the point lies in no area.
 *
 * @example
 * byLocation({ areas: JSON.parse(readFileSync('areas.geojson', 'utf8')) })
 * // "location 39.49470, 76.72470 lies within 巴仁镇 → office 伽师县巴仁镇人民政府 (jiashi-bairen)"
 */
export function byLocation({ areas, confidence = 0.9 }: ByLocationOptions): RoutingStrategy {
  const parsed = FeatureCollection.safeParse(areas)
  if (!parsed.success) throw new RoutingConfigError('by-location', `areas is not a usable GeoJSON FeatureCollection:\n${z.prettifyError(parsed.error)}`)
  if (!Number.isFinite(confidence) || confidence < 0 || confidence > 1) {
    throw new RoutingConfigError('by-location', `confidence must be between 0 and 1, got ${confidence}`)
  }
  const compiled = parsed.data.features.map(compileArea)

  // locates: the chain asks it for the place even after another strategy decided.
  return Object.assign(async function byLocation(draft: CaseDraft, ctx: RoutingContext) {
    const { lat, lon } = draft.place ?? {}
    if (lat === undefined || lon === undefined || !Number.isFinite(lat) || !Number.isFinite(lon)) return undefined
    const point: Point = [lon, lat]
    const containing = compiled.filter(
      (a) => lon >= a.bbox[0] && lon <= a.bbox[2] && lat >= a.bbox[1] && lat <= a.bbox[3] && a.polygons.some((p) => insidePolygon(point, p)),
    )
    const known = containing.filter((a) => {
      if (ctx.offices.get(a.officeId)) return true
      ctx.log.warn('an area names an office not in the directory', { officeId: a.officeId, area: a.name })
      return false
    })
    if (known.length === 0) return undefined
    const best = known.reduce((a, b) =>
      b.size < a.size || (b.size === a.size && ctx.offices.depth(b.officeId) > ctx.offices.depth(a.officeId)) ? b : a,
    )
    const office = ctx.offices.get(best.officeId)!
    const code = best.code ?? office.jurisdiction.codes[0]
    const within = known.length > 1 ? ` (the smallest of ${known.length} areas containing it)` : ''
    return {
      officeId: office.id,
      strategy: 'location',
      reason: `location ${round(lat).toFixed(5)}, ${round(lon).toFixed(5)} lies within ${best.name ?? office.name}${within} → office ${office.name} (${office.id})`,
      confidence,
      ...(code !== undefined ? { place: { code, name: best.name ?? office.name } } : {}),
    }
  }, { locates: true as const })
}
