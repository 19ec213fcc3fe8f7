import { isMainThread, workerData } from 'node:worker_threads'

/** `main`: the gateway (or a script's only thread); `delivery`: `intake start`'s outbox thread; `other`: any other worker. */
export type IntakeThread = 'main' | 'delivery' | 'other'

/** What `intake start` puts in its delivery thread's `workerData`, beside the config path. */
export const DELIVERY_THREAD_DATA = { intakeThread: 'delivery' } as const

/**
 * Which thread is evaluating the config. `intake start` loads the config file twice: in the main
 * thread (HTTP, intake, routing, each adapter's `start`) and in its delivery thread (the outbox
 * worker, which only calls `send`; adapters, functions and sockets cannot be handed across threads,
 * so it builds its own from the same file). A config's top-level side effects — a helper server, a
 * cache warmed at load — therefore run twice unless guarded. Listeners belong in an adapter's
 * `start`, which only the main thread calls; for anything else, ask:
 *
 * @example
 * import { createServer } from 'node:http'
 * import { intakeThread } from '@intake/core'
 *
 * // A helper page beside the gateway: started once, not once per thread.
 * if (intakeThread() === 'main') createServer((_req, res) => res.end('ok')).listen(3999, '127.0.0.1')
 */
export function intakeThread(): IntakeThread {
  if (isMainThread) return 'main'
  return (workerData as { intakeThread?: unknown } | null)?.intakeThread === DELIVERY_THREAD_DATA.intakeThread ? 'delivery' : 'other'
}
