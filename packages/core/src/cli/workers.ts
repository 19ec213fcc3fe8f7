/**
 * `intake start --workers N`: N gateway processes on one port, on node:cluster. The primary only
 * supervises: it forks the workers, replaces one that dies, and passes SIGTERM/SIGINT on. Each
 * worker is a whole gateway (HTTP, its delivery thread, its store pool) — the cluster module hands
 * each incoming connection to one of them in turn. Nothing a worker keeps in memory is needed by
 * another: the store is the only shared state, so N > 1 needs a store that several processes may
 * write, PostgreSQL; a SQLite file is written by one process and is refused.
 */
import cluster, { type Worker } from 'node:cluster'

/** How long a worker that died waits before it is replaced (a crash at start must not spin). */
export const RESTART_AFTER_MS = 1000

/** The --workers value as a count, or an error message for the user. */
export function parseWorkerCount(value: string | undefined): number | string {
  if (value === undefined) return 1
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 256) return `--workers takes a whole number from 1 to 256, not "${value}"`
  return n
}

/** Why this store cannot serve `workers` processes (undefined when it can). */
export function workersRefusal(workers: number, storeDriver: string): string | undefined {
  if (workers <= 1 || storeDriver === 'postgres') return undefined
  return (
    `intake start --workers ${workers} needs a PostgreSQL store: this config's store is ${storeDriver}, ` +
    'whose file one process writes. Run one process (--workers 1), or put the deployment on PostgreSQL ' +
    "(store: postgresStore({ url }) in the config, or INTAKE_DATABASE_URL=postgres://… for the demo; " +
    'intake migrate-store copies a SQLite deployment over)'
  )
}

/** The primary's part: fork `workers` gateways, keep that many running, stop them on a signal. Resolves with the exit code. */
export function superviseWorkers(workers: number, say: (line: string) => void = (line) => console.error(line)): Promise<number> {
  let stopping = false
  const running = new Set<Worker>()
  return new Promise((resolve) => {
    const fork = () => {
      const worker = cluster.fork()
      running.add(worker)
      worker.once('exit', (code, signal) => {
        running.delete(worker)
        if (stopping) {
          if (running.size === 0) resolve(0)
          return
        }
        say(`[intake] worker ${worker.id} (pid ${worker.process.pid}) exited (${signal ?? `code ${code}`}); starting another in ${RESTART_AFTER_MS} ms`)
        setTimeout(fork, RESTART_AFTER_MS)
      })
    }
    for (let i = 0; i < workers; i++) fork()
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return
      stopping = true
      say(`[intake] ${signal}: stopping ${running.size} workers`)
      if (running.size === 0) resolve(0)
      for (const worker of running) worker.process.kill('SIGTERM')
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
  })
}

export const isClusterWorker = () => cluster.isWorker
export const clusterWorkerId = () => cluster.worker?.id
