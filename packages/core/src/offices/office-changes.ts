import type { Store } from '../contracts/store.ts'
import { parseDuration } from '../deadlines/index.ts'
import type { Office } from '../model/index.ts'
import type { LiveOfficeDirectory } from './live-directory.ts'
import { SETTINGS_FIELDS, type OfficeSettings, type OfficeSettingsChange } from './settings.ts'

export type OfficeChangeResult =
  | { ok: true; office: Office; settings: OfficeSettings }
  | { ok: false; code: 'unknown_office' | 'invalid_deadline' | 'invalid_staff' | 'nothing_to_change'; message: string }

/** Every duration an office's own deadline policy names, with where it sits (`categories.roads.urgent`). */
export function deadlineProblems(deadlines: Office['deadlines']): string[] {
  if (!deadlines) return []
  const entries: Array<[string, string | undefined]> = [
    ...(['urgent', 'normal', 'complex', 'accept'] as const).map((k): [string, string | undefined] => [k, deadlines[k]]),
    ...Object.entries(deadlines.categories ?? {}).flatMap(([cat, p]) => Object.entries(p).map(([k, v]): [string, string | undefined] => [`categories.${cat}.${k}`, v])),
  ]
  const problems: string[] = []
  for (const [key, value] of entries) {
    if (value === undefined) continue
    try {
      parseDuration(value)
    } catch (err) {
      problems.push(`deadlines.${key}: ${(err as Error).message}`)
    }
  }
  return problems
}

/**
 * An administrator changes an office's contacts, duty roster or deadline policy, live: one store
 * write holds the new settings and an `office_changed` account event with the actor and each
 * changed field's value before and after (a field put back to the offices file is named in
 * `reverted`); then the directory this process runs on takes it, so the next case reaching the
 * office meets it. Other processes read it at their next refresh.
 */
export async function changeOffice(
  deps: { store: Store; offices: LiveOfficeDirectory },
  officeId: string,
  change: OfficeSettingsChange,
  actor: string,
  at: number,
): Promise<OfficeChangeResult> {
  const office = deps.offices.get(officeId)
  if (!office) return { ok: false, code: 'unknown_office', message: `no office "${officeId}"` }
  const problems = deadlineProblems(change.deadlines ?? undefined)
  if (problems.length) return { ok: false, code: 'invalid_deadline', message: problems.join('; ') }
  if (change.staff) {
    const ids = change.staff.map((s) => s.id)
    const twice = ids.find((id, i) => ids.indexOf(id) !== i)
    if (twice) return { ok: false, code: 'invalid_staff', message: `"${twice}" is on the roster twice` }
  }
  const fields = SETTINGS_FIELDS.filter((f) => change[f] !== undefined)
  if (fields.length === 0) return { ok: false, code: 'nothing_to_change', message: 'give contact, staff or deadlines' }

  // null: back to the offices file — the live value goes, the seed's is in force again.
  const reverted = fields.filter((f) => change[f] === null)
  const seed = deps.offices.seed.find((o) => o.id === officeId)
  const previous = deps.offices.settings(officeId)
  const kept = SETTINGS_FIELDS.filter((f) => previous?.[f] !== undefined && !fields.includes(f))
  const settings: OfficeSettings = {
    officeId,
    ...Object.fromEntries(kept.map((f) => [f, previous![f]])),
    ...Object.fromEntries(fields.filter((f) => change[f] !== null).map((f) => [f, change[f]])),
    updatedAt: at,
    updatedBy: actor,
  }
  const before = Object.fromEntries(fields.map((f) => [f, office[f] ?? null]))
  const after = Object.fromEntries(fields.map((f) => [f, change[f] === null ? (seed?.[f] ?? null) : change[f]]))
  const staffNow = change.staff === null ? (seed?.staff ?? []) : change.staff
  await deps.store.saveOfficeSettings({
    settings,
    event: { at, type: 'office_changed', actor, subject: officeId, data: { fields, before, after, ...(reverted.length ? { reverted } : {}) } },
    ...(staffNow ? { resetDuty: [...new Set([...office.staff, ...staffNow].map((s) => s.id))] } : {}),
  })
  await refreshOffices(deps)
  return { ok: true, office: deps.offices.get(officeId)!, settings }
}

/** Read the live settings from the store and lay them over the seed (at start, and now and then with several processes). */
export async function refreshOffices(deps: { store: Store; offices: LiveOfficeDirectory }): Promise<void> {
  deps.offices.apply(await deps.store.listOfficeSettings())
}
