/**
 * San Francisco's SF311 on Intake (see ../city-config.ts). Run it with
 * `intake start --config examples/city-311/san-francisco/intake.config.ts`; measure its routing with
 * `intake route-eval examples/city-311/san-francisco/eval.csv --config …`.
 */
import { cityConfig } from '../city-config.ts'

export default cityConfig({ folder: import.meta.dirname, cityOffice: 'sf', timeZone: 'America/Los_Angeles' })
