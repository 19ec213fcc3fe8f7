import type { Office, OfficeDirectory } from '@intake/core'

/**
 * Who handles which kind of matter where, read from the office tree alone: each office's
 * jurisdiction (its places) and remit (its categories). The rules are the ones byJurisdiction
 * applies, so a strategy that finds the category and the place separately lands where
 * byJurisdiction would have:
 * - an office with places of its own serves them; one without (a bureau) serves the places of its
 *   nearest ancestor that has some;
 * - a government of a place with no remit listed (a town) handles what the government above it
 *   handles;
 * - for a place and a category, the office serving the place whose remit lists the category and
 *   whose territory is the smallest (the county's labour bureau, not the prefecture's) wins; at the
 *   same territory the more specialised (deeper) office, then the one listed first.
 */
export interface RemitIndex {
  readonly directory: OfficeDirectory
  /** The office whose places `officeId` serves: itself, its nearest ancestor with places, or its root. */
  territoryOf(officeId: string): string
  /** The categories `officeId` handles (its own remit, or the remit a town inherits). */
  remitOf(officeId: string): readonly string[]
  /** The office that handles `category` at the place of `placeOfficeId`, if any lists it. */
  handlerFor(placeOfficeId: string, category: string): Office | undefined
}

const indexes = new WeakMap<OfficeDirectory, RemitIndex>()

/** The remit index of a directory, built once per directory (directories are fixed for an app's life). */
export function remitIndex(directory: OfficeDirectory): RemitIndex {
  let index = indexes.get(directory)
  if (!index) {
    index = buildRemitIndex(directory)
    indexes.set(directory, index)
  }
  return index
}

const key = (name: string) => name.normalize('NFKC').trim().toLowerCase()

function buildRemitIndex(directory: OfficeDirectory): RemitIndex {
  // A place or code an ancestor already lists is not an office's own (a procuratorate listing its
  // county serves the county's places, like a bureau).
  const territorial = new Set<string>()
  for (const office of directory.all) {
    const above = directory.lineage(office.id).slice(1)
    const placesAbove = new Set(above.flatMap((a) => a.jurisdiction.places.map((p) => key(p.name))))
    const codesAbove = new Set(above.flatMap((a) => a.jurisdiction.codes))
    const ownPlace = office.jurisdiction.places.some((p) => !placesAbove.has(key(p.name)))
    const ownCode = office.jurisdiction.codes.some((c) => !codesAbove.has(c))
    if (ownPlace || ownCode) territorial.add(office.id)
  }
  const territory = new Map<string, string>()
  const remit = new Map<string, readonly string[]>()
  for (const office of directory.all) {
    const lineage = directory.lineage(office.id)
    territory.set(office.id, (lineage.find((o) => territorial.has(o.id)) ?? lineage[lineage.length - 1]!).id)
    let effective: readonly string[] = []
    for (const o of lineage) {
      if (o.remit.length > 0) {
        effective = o.remit
        break
      }
      if (!territorial.has(o.id)) break
    }
    remit.set(office.id, effective)
  }
  const territoryOf = (id: string) => territory.get(id) ?? id
  const remitOf = (id: string) => remit.get(id) ?? []

  const handlersByCategory = new Map<string, readonly Office[]>()
  const handlersOf = (category: string): readonly Office[] => {
    let handlers = handlersByCategory.get(category)
    if (!handlers) {
      handlers = directory.all
        .map((office, order) => ({ office, order }))
        // An intake desk has no remit unless one is listed for it (a 311 centre that answers
        // questions itself): then it handles that like any office.
        .filter(({ office }) => remitOf(office.id).includes(category))
        .sort(
          (a, b) =>
            directory.depth(territoryOf(b.office.id)) - directory.depth(territoryOf(a.office.id)) ||
            directory.depth(b.office.id) - directory.depth(a.office.id) ||
            a.order - b.order,
        )
        .map((h) => h.office)
      handlersByCategory.set(category, handlers)
    }
    return handlers
  }

  return {
    directory,
    territoryOf,
    remitOf,
    handlerFor(placeOfficeId, category) {
      if (!directory.get(placeOfficeId)) return undefined
      return handlersOf(category).find((o) => directory.covers(territoryOf(o.id), placeOfficeId))
    },
  }
}
