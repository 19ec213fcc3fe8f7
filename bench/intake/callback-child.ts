/**
 * The integrator's callback endpoint during a gateway run, in its own process so the acknowledgements
 * it receives do not compete with the load generator's event loop. Talks to run.ts over IPC: sends
 * `{ url }` once listening, answers `'count'` with what it has received so far.
 */
import { startCallbackServer } from '@intake/channels/api/callback-server'

export interface CallbackCount {
  received: number
  distinctKeys: number
}

const callback = await startCallbackServer()
process.send!({ url: callback.url })
process.on('message', (msg) => {
  if (msg === 'count') {
    const count: CallbackCount = { received: callback.received.length, distinctKeys: callback.keys.size }
    process.send!({ count })
  }
})
process.on('disconnect', () => void callback.close().then(() => process.exit(0)))
