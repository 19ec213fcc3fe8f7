import type { Store } from '../contracts/store.ts'
import type { Logger } from '../log/index.ts'
import { pollingLoop, type PollingLoop } from '../polling/index.ts'

/**
 * Data retention: a citizen's personal data is kept while their case is worked and for a while
 * after, then removed (`Store.eraseCitizenData`) — contact, name, address, message texts,
 * attachments — while the case's shape, its events and the published figures stay. The office
 * decides the while (`retention: { closedCasesAfter: '365 days' }` in the config); without it,
 * nothing is erased.
 *
 * @example
 * const retention = createRetention({ store, now: Date.now, log, afterMs: 365 * 86_400_000 })
 * await retention.sweep()   // or retention.loop.start(): once an hour
 */
export interface Retention {
  /** Erase every case closed longer ago than the policy allows; resolves to how many. */
  sweep(): Promise<number>
  /** The sweep once an hour (started with the gateway). */
  readonly loop: PollingLoop
}

export function createRetention({ store, now, log, afterMs, batchSize = 200, pollMs = 3_600_000 }: {
  store: Store
  now: () => number
  log: Logger
  /** How long after a case was closed its citizen data is kept. */
  afterMs: number
  batchSize?: number
  pollMs?: number
}): Retention {
  const reason = `retention: ${Math.round(afterMs / 86_400_000)} days after closing`
  async function sweep(): Promise<number> {
    let erased = 0
    for (;;) {
      const at = now()
      const due = await store.listCasesToErase(at - afterMs, batchSize)
      for (const caseId of due) await store.eraseCitizenData(caseId, at, reason)
      erased += due.length
      if (due.length < batchSize) break
    }
    if (erased > 0) log.info('citizen data erased by the retention policy', { cases: erased })
    return erased
  }
  return { sweep, loop: pollingLoop({ name: 'retention', pollMs, log, cycle: sweep }) }
}
