// Worker threads do not inherit the TypeScript loader the gateway runs under (Node 20): register it
// here, then run the thread's TypeScript entry.
import { register } from 'tsx/esm/api'

register()
await import('./writer-thread.ts')
