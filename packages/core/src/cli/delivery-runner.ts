import { Worker } from 'node:worker_threads'
import type { DeliveryRunner } from '../intake.ts'
import type { Logger } from '../log/index.ts'

export interface ThreadedDeliveries extends DeliveryRunner {
  start(): Promise<void>
  stop(): Promise<void>
}

/** Runs delivery-thread.ts (logging through the gateway's logger, `log()`, once it exists), restarts it if it dies, and coalesces wakes to one per event-loop turn. */
export function threadedDeliveries(configPath: string, log: () => Logger): ThreadedDeliveries {
  let worker: Worker | undefined
  let ready = false
  let stopping = false
  let wakeScheduled = false

  const spawn = () =>
    new Promise<void>((resolve, reject) => {
      const w = new Worker(new URL('./delivery-thread.mjs', import.meta.url), { workerData: { configPath } })
      worker = w
      w.once('message', (m) => {
        if (m === 'ready') {
          ready = true
          resolve()
        }
      })
      w.once('error', (err) => {
        log().error('delivery thread failed', { error: err })
        reject(err)
      })
      w.once('exit', (code) => {
        ready = false
        if (stopping) return
        log().error('delivery thread exited; restarting it', { code })
        setTimeout(() => void spawn().catch(() => {}), 1000).unref()
      })
    })

  return {
    get running() {
      return ready
    },
    start: spawn,
    wake() {
      if (wakeScheduled || !worker) return
      wakeScheduled = true
      setImmediate(() => {
        wakeScheduled = false
        worker?.postMessage('wake')
      })
    },
    async stop() {
      stopping = true
      const w = worker
      if (!w) return
      await new Promise<void>((resolve) => {
        w.once('exit', () => resolve())
        w.on('message', (m) => m === 'stopped' && void w.terminate())
        w.postMessage('stop')
      })
    },
  }
}
