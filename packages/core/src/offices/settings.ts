import { z } from 'zod'
import { Office, OfficeDeadlines, Timestamp } from '../model/index.ts'

/**
 * What an administrator may change about an office while the gateway runs: its contacts, its duty
 * roster (who takes cases, who is on duty) and its own deadline policy. The tree itself (parents,
 * jurisdiction, remit, intake desk) stays as the offices file says: changing it moves cases, so it
 * is a deployment change, reviewed and restarted.
 *
 * A field present here overrides the offices file (the seed) for that office; a field absent is the
 * file's. `deadlines: {}` means "no deadlines of its own" (the parent's and the deployment's apply).
 *
 * @example
 * { officeId: 'jiashi', contact: { phone: '0998-5712345', dutyPhone: '0998-5712000' }, updatedAt, updatedBy: 'admin' }
 */
export const OfficeSettings = z
  .object({
    officeId: z.string().min(1),
    contact: Office.shape.contact.unwrap().optional(),
    staff: Office.shape.staff.unwrap().optional(),
    deadlines: OfficeDeadlines.optional(),
    updatedAt: Timestamp,
    /** The actor of the last change. */
    updatedBy: z.string(),
  })
  .strict()
export type OfficeSettings = z.infer<typeof OfficeSettings>

/**
 * The fields an administrator changes; each one given replaces that field whole, and `null` puts it
 * back to what the offices file says (the live value is dropped).
 *
 * @example
 * { contact: { phone: '0998-5712345' } }   // live
 * { contact: null }                         // as offices.yaml says again
 */
export const OfficeSettingsChange = z
  .object({
    contact: OfficeSettings.shape.contact.unwrap().nullable().optional(),
    staff: OfficeSettings.shape.staff.unwrap().nullable().optional(),
    deadlines: OfficeSettings.shape.deadlines.unwrap().nullable().optional(),
  })
  .strict()
export type OfficeSettingsChange = z.infer<typeof OfficeSettingsChange>

export const SETTINGS_FIELDS = ['contact', 'staff', 'deadlines'] as const

/** The seed's office with the live settings laid over it. */
export function withSettings(seed: Office, settings: OfficeSettings | undefined): Office {
  if (!settings) return seed
  const out: Office = { ...seed }
  if (settings.contact) out.contact = settings.contact
  if (settings.staff) out.staff = settings.staff
  if (settings.deadlines) {
    if (Object.keys(settings.deadlines).length === 0) delete out.deadlines
    else out.deadlines = settings.deadlines
  }
  return out
}
