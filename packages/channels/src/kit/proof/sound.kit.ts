import { runKit } from './sample.ts'

runKit()
