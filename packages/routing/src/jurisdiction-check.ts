import type { OfficeDirectory, OfficeProblem } from '@intake/core'
import type { PlaceGazetteer } from './place-gazetteer.ts'
import { normalizeForMatching } from './text-match.ts'

/**
 * The offices' jurisdictions read against a place list: every code must be a place of the list, or
 * the beginning of the codes of some (a prefecture's "6531" covers its counties' 6531xx), and every
 * place name must be a name the list has. A mistyped code or name would otherwise become a place of
 * its own that no message ever names, and the office would quietly get none of the cases meant for it.
 * Aliases are not checked: they are spellings people write (pinyin, an old name) that a list need not carry.
 */
export function jurisdictionProblems(directory: OfficeDirectory, list: PlaceGazetteer): OfficeProblem[] {
  const problems: OfficeProblem[] = []
  let allCodes: string[] | undefined
  const beginsSomeCode = (prefix: string) => {
    allCodes ??= Array.from({ length: list.size }, (_, p) => list.code(p))
    return allCodes.some((code) => code.startsWith(prefix))
  }
  for (const office of directory.all) {
    office.jurisdiction.codes.forEach((raw, i) => {
      const code = raw.trim()
      if (code !== '' && (list.byCode(code) >= 0 || beginsSomeCode(code))) return
      problems.push({ officeId: office.id, key: `jurisdiction.codes[${i}]`, message: `no place in ${list.label} has the code "${raw}" or a code that begins with it` })
    })
    office.jurisdiction.places.forEach((place, i) => {
      if (isListedName(list, place.name)) return
      problems.push({
        officeId: office.id,
        key: `jurisdiction.places[${i}].name`,
        message: `"${place.name}" is not a place in ${list.label} (write the name as the list has it, e.g. with its 县/镇/乡; an agency's own places go in a placeList)`,
      })
    })
  }
  return problems
}

/** Whether the whole of `name` is a name (or the informal form of one) that the list knows. */
function isListedName(list: PlaceGazetteer, name: string): boolean {
  const normalized = normalizeForMatching(name).trim()
  if (normalized === '') return false
  let found = false
  list.scan(normalized, (term, start, end) => {
    if (start === 0 && end === normalized.length && list.readings(term).length > 0) found = true
  })
  return found
}
