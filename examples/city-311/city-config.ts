/**
 * A US city's 311 line on Intake, routed by service category: the request's words give a category
 * of categories.yaml, and the department whose remit holds it takes the case; what matches no
 * category stays with the city's intake desk. Every department serves the whole city, so the place
 * is the city itself. Each city's intake.config.ts names its folder, root office and time zone.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { defineConfig, type IntakeConfig } from '@intake/core'
import { webForm } from '@intake/channels/web-form'
import { byCategory, byTrackingCode, byUrgency, loadTaxonomy, toIntakeDesk } from '@intake/routing'
import { sqliteStore } from '@intake/storage/sqlite'

export function cityConfig({ folder, cityOffice, timeZone }: { folder: string; cityOffice: string; timeZone: string }): IntakeConfig {
  const env = process.env
  const name = folder.split(/[\\/]/).at(-1)!
  const dataDir = env.INTAKE_DATA_DIR ?? `./data/${name}`
  return defineConfig({
    store: sqliteStore({ file: join(dataDir, 'intake.db') }),
    offices: join(folder, 'offices.yaml'),
    channels: { web: webForm() },
    routing: [
      byTrackingCode(),
      byUrgency(),
      byCategory({ taxonomy: loadTaxonomy(readFileSync(join(import.meta.dirname, 'categories.yaml'), 'utf8')), placeOffice: () => cityOffice, unlisted: 'pass-on' }),
      toIntakeDesk(),
    ],
    deadlines: { urgent: '4h', normal: '3 working days', complex: '10 working days' },
    calendar: { timeZone },
    locale: 'en',
    // A demo key: set INTAKE_API_KEYS anywhere but a laptop.
    apiKeys: [env.INTAKE_API_KEY ?? 'demo-api-key-change-me'],
    dataDir,
  })
}
