import type { CaseChange, DueTimer } from '../contracts/store.ts'
import { pollingLoop, type PollingLoop } from '../polling/index.ts'
import type { LifecycleContext } from './context.ts'
import { DEFAULT_TIMER_HANDLERS, type TimerHandler } from './timer-handlers.ts'

/**
 * Works off due timers like the outbox works off deliveries: lease a batch, run each timer's
 * handler, and fire it (remove it and apply its change in one transaction, only if no one re-planned
 * or re-leased it meanwhile). A worker that dies mid-batch loses nothing: its leases run out and
 * the timers are leased again; one that fired already is gone. The one loop for every kind —
 * other areas add theirs to `handlers`.
 */
export type TimerWorker = PollingLoop

export function createTimerWorker(ctx: LifecycleContext, handlers: Record<string, TimerHandler> = DEFAULT_TIMER_HANDLERS): TimerWorker {
  const { store, log, now } = ctx
  const { pollMs, leaseMs, batchSize } = ctx.settings.timers

  /** The change a timer makes, or undefined (the case moved on); a failing handler leaves the timer leased. */
  async function build(timer: DueTimer): Promise<{ change?: CaseChange } | undefined> {
    try {
      const handler = handlers[timer.kind]
      if (!handler) log.warn('no handler for timer kind; dropped', { kind: timer.kind, caseId: timer.caseId })
      const kase = await store.getCase(timer.caseId)
      return { change: handler && kase ? await handler(ctx, timer, kase, now()) : undefined }
    } catch (err) {
      // Left leased: it comes due again when the lease runs out.
      log.error('timer failed', { timerId: timer.id, kind: timer.kind, error: err })
      return undefined
    }
  }

  async function cycle(): Promise<number> {
    let fired = 0
    // The last batch is being fired (committed) while the next one is claimed and built: with a
    // writer thread, its commit and this thread's handlers run at the same time.
    let firing: Promise<unknown> = Promise.resolve()
    for (;;) {
      const batch = await store.claimTimers(now(), batchSize, leaseMs)
      if (batch.length === 0) {
        await firing
        return fired
      }
      const built = await Promise.all(batch.map(build))
      await firing
      // Fired in the same turn: a store that groups writes commits the whole batch at once.
      firing = Promise.all(
        batch.map(async (timer, i) => {
          const b = built[i]
          if (!b) return
          try {
            if (await store.completeTimer(timer, b.change)) {
              fired++
              if (b.change?.outbound?.length) ctx.onOutboxQueued?.()
            }
          } catch (err) {
            log.error('timer failed', { timerId: timer.id, kind: timer.kind, error: err })
          }
        }),
      )
    }
  }

  return pollingLoop({ name: 'timers', pollMs, log, cycle })
}
