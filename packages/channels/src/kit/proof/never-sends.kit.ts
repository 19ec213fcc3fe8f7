import { runKit } from './sample.ts'

runKit('never-sends')
