// Loaded as a worker by intake-thread.test.ts: reports what intakeThread() says inside a thread.
import { parentPort } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
const { intakeThread } = await import('./intake-thread.ts')
parentPort.postMessage(intakeThread())
