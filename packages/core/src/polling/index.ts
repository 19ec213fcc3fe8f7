import type { Logger } from '../log/index.ts'

/** A loop that runs `cycle` every `pollMs`, on demand (`wake`), and to exhaustion (`drain`). */
export interface PollingLoop {
  readonly running: boolean
  /** Run a cycle now, then every `pollMs`. */
  start(): void
  /** Stop polling and wait for the cycle in flight. */
  stop(): Promise<void>
  /** Run a cycle now instead of at the next poll (one more right after a cycle in flight). */
  wake(): void
  /** Run cycles until one does no work (tests, one-shot commands). Returns the work done. */
  drain(): Promise<number>
}

/**
 * The loop behind the outbox and transcription workers: one cycle at a time, a failed cycle logged
 * (and retried at the next poll), the timer unref'd so it never keeps a process alive.
 *
 * @example
 * const loop = pollingLoop({ name: 'outbox', pollMs: 1000, log, cycle: async () => deliverDue() })
 */
export function pollingLoop({ name, pollMs, log, cycle, runAtStart = true }: {
  name: string
  pollMs: number
  log: Logger
  /** One pass over the due work; resolves to how much it did (0: nothing was due). */
  cycle: () => Promise<number>
  /** Run a cycle as soon as the loop starts (default), or wait for the first poll. */
  runAtStart?: boolean
}): PollingLoop {
  let running = false
  let timer: NodeJS.Timeout | undefined
  let current: Promise<number> | undefined
  let again = false

  function cycleNow(): Promise<number> {
    if (current) {
      again = true
      return current
    }
    current = cycle()
      .catch((err) => {
        log.error(`${name} cycle failed`, { error: err })
        return 0
      })
      .finally(() => {
        current = undefined
        if (again && running) {
          again = false
          void cycleNow()
        }
      })
    return current
  }

  function schedule() {
    if (!running) return
    timer = setTimeout(async () => {
      await cycleNow()
      schedule()
    }, pollMs)
    timer.unref?.()
  }

  return {
    get running() {
      return running
    },
    start() {
      if (running) return
      running = true
      if (runAtStart) void cycleNow()
      schedule()
    },
    async stop() {
      running = false
      if (timer) clearTimeout(timer)
      await current
    },
    wake() {
      if (running) void cycleNow()
    },
    async drain() {
      let total = 0
      for (;;) {
        if (current) await current
        const n = await cycleNow()
        total += n
        if (n === 0) return total
      }
    },
  }
}
