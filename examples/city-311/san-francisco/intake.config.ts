/**
 * A US city's 311 line on Intake, routed by service category: the request's words give a category
 * of ../categories.yaml, and the department whose remit holds it takes the case; what matches no
 * category stays with SF311, its intake desk. Every department serves the whole city, so the
 * place is the city itself. Run it with `intake start --config examples/city-311/san-francisco/intake.config.ts`;
 * measure its routing with `intake route-eval examples/city-311/san-francisco/eval.csv --config …`.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { defineConfig } from '@intake/core'
import { webForm } from '@intake/channels/web-form'
import { byCategory, byTrackingCode, byUrgency, loadTaxonomy, toIntakeDesk } from '@intake/routing'
import { sqliteStore } from '@intake/storage/sqlite'

const here = import.meta.dirname
const env = process.env
const dataDir = env.INTAKE_DATA_DIR ?? './data/san-francisco'

export default defineConfig({
  store: sqliteStore({ file: join(dataDir, 'intake.db') }),
  offices: join(here, 'offices.yaml'),
  channels: { web: webForm() },
  routing: [
    byTrackingCode(),
    byUrgency(),
    byCategory({ taxonomy: loadTaxonomy(readFileSync(join(here, '..', 'categories.yaml'), 'utf8')), placeOffice: () => 'sf', unlisted: 'pass-on' }),
    toIntakeDesk(),
  ],
  deadlines: { urgent: '4h', normal: '3 working days', complex: '10 working days' },
  calendar: { timeZone: 'America/Los_Angeles' },
  locale: 'en',
  // A demo key: set INTAKE_API_KEYS anywhere but a laptop.
  apiKeys: [env.INTAKE_API_KEY ?? 'demo-api-key-change-me'],
  dataDir,
})
