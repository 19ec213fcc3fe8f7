import type { HeldLease, Store } from '../contracts/store.ts'
import type { Logger } from '../log/index.ts'

/** Work that runs in one process at a time among those sharing a store (see Store.tryHoldLease). */
export interface LeasedWork {
  /** True while this process holds the lease and its work is started. */
  readonly holding: boolean
  /** Try for the lease now (the work is started before this resolves if it is taken), then every `retryMs`. */
  start(): Promise<void>
  /** Stop the work if it runs here, let the lease go, and stop trying. */
  stop(): Promise<void>
}

/**
 * Runs `begin` in whichever process holds the named lease, and `end` when it stops holding it. The
 * others ask again every `retryMs`, so when the holder dies (its lease goes with its connection)
 * one of them takes over within about that long. The channel listeners and pollers (an SMTP
 * server, IMAP and Telegram polling) run this way: one SMTP server on the port, one reader of the
 * mailbox, one long poll per bot, however many gateway processes share the database.
 *
 * @example
 * const listeners = leasedWork({ store, name: 'channel-listeners', log, begin: startAdapters, end: stopAdapters })
 * await listeners.start()
 */
export function leasedWork({
  store,
  name,
  log,
  begin,
  end,
  retryMs = 2_000,
}: {
  store: Store
  name: string
  log: Logger
  begin: () => Promise<void>
  end: () => Promise<void>
  retryMs?: number
}): LeasedWork {
  let lease: HeldLease | undefined
  let stopped = true
  let timer: NodeJS.Timeout | undefined
  let attempt: Promise<void> | undefined

  const later = () => {
    if (stopped) return
    timer = setTimeout(() => void tryOnce(), retryMs)
    timer.unref?.()
  }

  const tryOnce = () =>
    (attempt ??= (async () => {
      try {
        const held = await store.tryHoldLease(name)
        if (!held) return later()
        if (stopped) return await held.release()
        try {
          await begin()
        } catch (error) {
          log.error('could not start the work of a held lease; letting it go', { lease: name, error })
          await held.release()
          return later()
        }
        lease = held
        log.info('this process holds the lease and runs its work', { lease: name, pid: process.pid })
        void held.lost.then(async () => {
          if (lease !== held) return
          lease = undefined
          log.warn('lease lost (its connection broke): stopping its work here', { lease: name })
          await end().catch((error: unknown) => log.error('stopping the work of a lost lease failed', { lease: name, error }))
          later()
        })
      } catch (error) {
        log.warn('could not ask for the lease; asking again later', { lease: name, error })
        later()
      }
    })().finally(() => (attempt = undefined)))

  return {
    get holding() {
      return lease !== undefined
    },
    async start() {
      if (!stopped) return
      stopped = false
      await tryOnce()
    },
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await attempt
      const held = lease
      lease = undefined
      if (!held) return
      await end()
      await held.release()
    },
  }
}
