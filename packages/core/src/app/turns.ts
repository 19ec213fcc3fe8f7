/**
 * At most `limit` holders at once; the rest wait in order for a turn, each for at most the time it
 * gives. Used to bound what a route holds in memory (uploads: `limit × maxBodyBytes`), where a
 * client that waits is better served than one refused.
 *
 * @example
 * const uploads = turns(4)
 * const done = await uploads.take(10_000)
 * if (!done) return busy()        // no turn within 10 s
 * try { await work() } finally { done() }
 */
export interface Turns {
  /** Resolves with the function that ends the turn, or undefined when none came within `waitMs`. */
  take(waitMs: number): Promise<(() => void) | undefined>
  readonly active: number
  readonly waiting: number
}

export function turns(limit: number): Turns {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`[turns] limit: expected a whole number ≥ 1, got ${limit}`)
  let active = 0
  const queue: Array<(granted: boolean) => void> = []

  const release = () => {
    const next = queue.shift()
    if (next) next(true)
    else active--
  }
  const once = () => {
    let done = false
    return () => {
      if (done) return
      done = true
      release()
    }
  }

  return {
    get active() {
      return active
    },
    get waiting() {
      return queue.length
    },
    take(waitMs) {
      if (active < limit) {
        active++
        return Promise.resolve(once())
      }
      return new Promise((resolve) => {
        const grant = (granted: boolean) => {
          clearTimeout(timer)
          resolve(granted ? once() : undefined)
        }
        const timer = setTimeout(() => {
          const at = queue.indexOf(grant)
          if (at >= 0) queue.splice(at, 1)
          resolve(undefined)
        }, waitMs)
        queue.push(grant)
      })
    },
  }
}
