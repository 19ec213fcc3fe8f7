/**
 * The outbox worker in its own thread: `intake start` runs intake (HTTP, parsing, routing, the
 * inbox transaction) on the main thread and deliveries here, so each has a core and a burst of
 * incoming messages does not starve the acknowledgements. The thread loads the same config (adapters
 * are functions and sockets, which cannot cross threads) and opens its own store connection; the main
 * thread only posts "wake" when it queues replies. A config tells the two apart with `intakeThread()`.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { configDirOf } from '../config/index.ts'
import { createIntake } from '../intake.ts'
import { providerHealthOf } from '../failover/health.ts'
import { loadConfig } from './load-config.ts'

/** How often the main thread hears the breakers' state, when it changed. */
const PROVIDER_HEALTH_EVERY_MS = 500

const { configPath } = workerData as { configPath: string }
const intake = createIntake(await loadConfig(configPath), { configDir: configDirOf(configPath) })
intake.outbox.start()
parentPort!.on('message', async (message: 'wake' | 'stop') => {
  if (message === 'wake') intake.outbox.wake()
  if (message === 'stop') {
    await intake.outbox.stop()
    await intake.store.close()
    parentPort!.postMessage('stopped')
  }
})
parentPort!.postMessage('ready')
// The breakers live here, where sends happen; /metrics and the console are served by the main thread.
if (providerHealthOf(intake.config.channels).length) {
  let last = ''
  setInterval(() => {
    const providerHealth = providerHealthOf(intake.config.channels)
    const text = JSON.stringify(providerHealth)
    if (text === last) return
    last = text
    parentPort!.postMessage({ providerHealth })
  }, PROVIDER_HEALTH_EVERY_MS).unref()
}
