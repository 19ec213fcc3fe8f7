// A thread of the test process that opens the same store as the main thread (like `intake start`'s
// delivery thread) and, when told, writes `count` opt-outs in bursts of ten; it reports how many were written or the error.
import { parentPort, workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
const { sqliteStore } = await import('./index.ts')
const { file, count, busyTimeoutMs } = workerData
const store = sqliteStore({ file, writer: 'thread', busyTimeoutMs })
await store.ping()
parentPort.postMessage('ready')
await new Promise((resolve) => parentPort.once('message', resolve))
const writes = []
for (let burst = 0; burst < count / 10; burst++) {
  // Each outcome is taken at once: a write that fails must not sit unhandled until the last burst.
  for (let i = burst * 10; i < burst * 10 + 10; i++) writes.push(store.setOptOut('sms', `+8613800${i}`, true, 1_700_000_000_000).then(() => ({}), (error) => ({ error })))
  await new Promise((resolve) => setImmediate(resolve))
}
const results = await Promise.all(writes)
await store.close()
const failed = results.find((r) => r.error)
parentPort.postMessage(failed ? { error: String(failed.error?.code ?? failed.error) } : { written: results.length })
