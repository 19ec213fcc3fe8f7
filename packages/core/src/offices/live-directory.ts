import type { Office } from '../model/index.ts'
import { buildOfficeDirectory, type OfficeDirectory } from './index.ts'
import { withSettings, type OfficeSettings } from './settings.ts'

/**
 * The office directory a gateway runs on: the offices file (the seed) with the administrators' live
 * settings laid over it. Everything holds this one object and reads through it, so a change applied
 * here is what the next case sees (its deadline, its assignment, its office alert).
 */
export interface LiveOfficeDirectory extends OfficeDirectory {
  /** The offices as the offices file defines them. */
  readonly seed: readonly Office[]
  /** The settings in force, by office. */
  settings(officeId: string): OfficeSettings | undefined
  /** Lay these settings over the seed (the whole set: an office not in it is as the seed says). */
  apply(settings: readonly OfficeSettings[]): void
}

export function liveOfficeDirectory(seed: readonly Office[]): LiveOfficeDirectory {
  let current = buildOfficeDirectory(seed)
  let byOffice = new Map<string, OfficeSettings>()
  return {
    seed,
    get all() {
      return current.all
    },
    get: (id) => current.get(id),
    children: (id) => current.children(id),
    depth: (id) => current.depth(id),
    lineage: (id) => current.lineage(id),
    covers: (ancestorId, id) => current.covers(ancestorId, id),
    intakeDesk: () => current.intakeDesk(),
    settings: (officeId) => byOffice.get(officeId),
    apply(settings) {
      const next = new Map(settings.filter((s) => seed.some((o) => o.id === s.officeId)).map((s) => [s.officeId, s]))
      // Settings never touch parents or the intake desk, so the tree stays the one validated at start.
      current = buildOfficeDirectory(seed.map((o) => withSettings(o, next.get(o.id))))
      byOffice = next
    },
  }
}
