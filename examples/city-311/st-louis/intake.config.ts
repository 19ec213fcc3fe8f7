/**
 * St. Louis's Citizens' Service Bureau on Intake (see ../city-config.ts). Run it with
 * `intake start --config examples/city-311/st-louis/intake.config.ts`; measure its routing with
 * `intake route-eval examples/city-311/st-louis/eval.csv --config …`.
 */
import { cityConfig } from '../city-config.ts'

export default cityConfig({ folder: import.meta.dirname, cityOffice: 'stl', timeZone: 'America/Chicago' })
