/**
 * The county-hotline demo with a classifier trained on the hotline's own history first: it reads
 * the category (and the office, when trained with offices) the way past cases were dispatched;
 * what it is unsure of goes on to the demo's rules (routing.ts).
 *
 *   intake train examples/county-hotline/eval.csv --config examples/county-hotline/trained-routing.config.ts
 *   intake train --from-store --config examples/county-hotline/trained-routing.config.ts
 *   intake route-eval examples/county-hotline/eval.csv --folds 5 --config examples/county-hotline/trained-routing.config.ts
 *
 * The model file is INTAKE_ROUTING_MODEL, by default routing.model.json in the data directory.
 */
import { join } from 'node:path'
import { defineConfig } from '@intake/core'
import { byCategory, byJurisdiction, byTrackingCode, byTrainedClassifier, byUrgency, toIntakeDesk } from '@intake/routing'
import demo from './intake.config.ts'
import { xinjiangPlaces } from './routing.ts'

const jurisdiction = byJurisdiction({ places: xinjiangPlaces })
const model = process.env.INTAKE_ROUTING_MODEL ?? join(demo.dataDir ?? './data', 'routing.model.json')

export default defineConfig({
  ...demo,
  routing: [
    byTrackingCode(),
    byUrgency(),
    // Categories only: the places are the place finder's, the bureaus the remits' (a few hundred
    // messages spread over twenty offices teach an office head little).
    byTrainedClassifier({ model, within: jurisdiction, learn: 'category', unlistedAtRoot: 'place-office' }),
    byCategory({ within: jurisdiction, unlistedAtRoot: 'place-office' }),
    jurisdiction,
    toIntakeDesk(),
  ],
})
