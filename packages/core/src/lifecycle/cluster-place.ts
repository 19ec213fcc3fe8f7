import type { PlaceHint } from '../model/index.ts'
import type { OfficeDirectory } from '../offices/index.ts'

/**
 * Where a case is, as duplicate clusters compare it. The lowest place code when the message gave
 * one; else the most specific place the office tree names (its name or an alias, found in the place
 * field or the text: the longest name wins, so 伽师县巴仁镇 beats 伽师县); else the place field's own
 * words. Two cases are at the same place when their keys are equal, or their points are close.
 */
export interface PlaceNames {
  /** The canonical name of the most specific known place mentioned in `text`, and the words that named it. */
  find(text: string): { name: string; mention: string } | undefined
  /** Every known place name or alias in `text` (伽师县 and 巴仁镇 in 伽师县巴仁镇), longest first. */
  mentions(text: string): string[]
}

/**
 * Known places from the office tree's jurisdictions, each name and alias. The most specific wins:
 * the place of the deepest office (a township's over its county's), then the longest name.
 */
export function placeNamesOf(offices: OfficeDirectory): PlaceNames {
  const names: Array<{ mention: string; name: string; depth: number }> = []
  for (const office of offices.all) {
    for (const place of office.jurisdiction.places) {
      for (const mention of [place.name, ...place.aliases]) {
        if (mention.trim().length >= 2) names.push({ mention: mention.trim(), name: place.name, depth: offices.depth(office.id) })
      }
    }
  }
  names.sort((a, b) => b.depth - a.depth || b.mention.length - a.mention.length)
  return {
    find(text) {
      return names.find((n) => text.includes(n.mention))
    },
    mentions(text) {
      return [...new Set(names.filter((n) => text.includes(n.mention)).map((n) => n.mention))].sort((a, b) => b.length - a.length)
    },
  }
}

/** Place text compared as words: width, case, spaces and punctuation do not count. */
export function normalizePlaceText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/[\s\p{P}\p{S}]+/gu, ' ').trim()
}

/** The key (or null: no place known) and the words to take out of the text before comparing it. */
export function placeKeyOf(place: PlaceHint | undefined, text: string, names: PlaceNames): { key: string | null; mentions: string[] } {
  const inField = place?.text ? names.find(place.text) : undefined
  const inText = names.find(text)
  const mentions = [...new Set([place?.text?.trim(), ...names.mentions(text), ...(place?.text ? names.mentions(place.text) : [])])].filter((m): m is string => !!m)
  if (place?.code) return { key: `code:${place.code.trim()}`, mentions }
  const known = inField ?? inText
  if (known) return { key: `place:${known.name}`, mentions }
  const own = place?.text ? normalizePlaceText(place.text) : ''
  return { key: own ? `text:${own}` : null, mentions }
}

const EARTH_RADIUS_M = 6_371_000
const METRES_PER_DEGREE = (Math.PI * EARTH_RADIUS_M) / 180

/** Great-circle distance in metres (haversine). */
export function distanceMetres(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180
  const dLat = (b.lat - a.lat) * rad
  const dLon = (b.lon - a.lon) * rad
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)))
}

/** A latitude/longitude box holding every point within `metres` of `p` (the index narrows, the distance decides). */
export function boxAround(p: { lat: number; lon: number }, metres: number) {
  const dLat = metres / METRES_PER_DEGREE
  const dLon = metres / (METRES_PER_DEGREE * Math.max(Math.cos((p.lat * Math.PI) / 180), 0.01))
  return { minLat: p.lat - dLat, maxLat: p.lat + dLat, minLon: p.lon - dLon, maxLon: p.lon + dLon }
}
