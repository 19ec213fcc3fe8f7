import { Worker, type WorkerOptions } from 'node:worker_threads'

/** Flags a worker's execArgv may not carry that Node does not name when it refuses them. */
const MAIN_SCRIPT_FLAG = /^--input-type(=|$)/

/**
 * A worker on `url` with this process's flags (the tsx loader, --cpu-prof), but not those a worker
 * refuses: a main script's (`node --input-type=module -e …`: ERR_INPUT_TYPE_NOT_ALLOWED when
 * inherited) and V8's (`intake start` runs with --max-semi-space-size; --trace-gc…:
 * ERR_WORKER_INVALID_EXEC_ARGV when given), which hold for every thread of the process anyway.
 */
export function workerWithProcessFlags(url: URL, options: Omit<WorkerOptions, 'execArgv'> = {}, execArgv: readonly string[] = process.execArgv): Worker {
  const flags = execArgv.filter((arg) => !MAIN_SCRIPT_FLAG.test(arg))
  try {
    return new Worker(url, { ...options, execArgv: flags })
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw error
    // Node names the refused flags in its message: "… invalid execArgv flags: --a, --b=1".
    const refused = new Set((error as Error).message.split('flags: ')[1]?.split(', ') ?? [])
    return new Worker(url, { ...options, execArgv: flags.filter((arg) => !refused.has(arg)) })
  }
}
