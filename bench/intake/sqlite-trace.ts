/**
 * Counts and times what better-sqlite3 does underneath the store (prepares, statements, transactions)
 * by wrapping its prototypes in this process, and keeps the statements of the last transaction so a
 * phase can replay them with statements prepared once. Bench-only: `stop()` puts everything back.
 */
import type BetterSqlite3 from 'better-sqlite3'

export interface TracedStatement {
  sql: string
  method: 'run' | 'get' | 'all'
  params: unknown[]
}

export interface SqliteTrace {
  /** Calls and total milliseconds per key: `prepare`, `transaction`, or `<method> <first words of the SQL>`. */
  stats: Map<string, { calls: number; ms: number }>
  /** Statements run inside the most recent transaction, BEGIN and COMMIT excluded. */
  lastTransaction: TracedStatement[]
  reset(): void
  stop(): void
}

type Patchable = Record<string, (...args: unknown[]) => unknown>

export function traceSqlite(Database: typeof BetterSqlite3): SqliteTrace {
  const stats = new Map<string, { calls: number; ms: number }>()
  let current: TracedStatement[] = []
  const trace: SqliteTrace = { stats, lastTransaction: [], reset: () => stats.clear(), stop }
  const add = (key: string, ms: number) => {
    const s = stats.get(key) ?? { calls: 0, ms: 0 }
    s.calls++
    s.ms += ms
    stats.set(key, s)
  }
  const restore: Array<() => void> = []
  const patch = (target: Patchable, name: string, wrap: (original: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown) => {
    const original = target[name]!
    target[name] = wrap(original)
    restore.push(() => (target[name] = original))
  }

  // The Statement class is only reachable through a statement.
  const scratch = new Database(':memory:')
  const statementProto = Object.getPrototypeOf(scratch.prepare('SELECT 1')) as Patchable
  scratch.close()

  patch(Database.prototype as unknown as Patchable, 'prepare', (original) =>
    function prepare(this: unknown, ...args: unknown[]) {
      const t = performance.now()
      const statement = original.apply(this, args)
      add('prepare', performance.now() - t)
      return statement
    },
  )
  for (const method of ['run', 'get', 'all'] as const) {
    patch(statementProto, method, (original) =>
      function traced(this: { source: string }, ...params: unknown[]) {
        const t = performance.now()
        const result = original.apply(this, params)
        const ms = performance.now() - t
        const sql = this.source
        if (/^BEGIN/i.test(sql)) current = []
        else if (/^COMMIT/i.test(sql)) trace.lastTransaction = current
        else current.push({ sql, method, params })
        add(`${method} ${sql.replace(/\s+/g, ' ').slice(0, 34)}`, ms)
        return result
      },
    )
  }
  patch(Database.prototype as unknown as Patchable, 'transaction', (original) =>
    function transaction(this: unknown, ...args: unknown[]) {
      const fn = original.apply(this, args) as Patchable & ((...a: unknown[]) => unknown)
      const timed = (run: (...a: unknown[]) => unknown) =>
        function timedTransaction(this: unknown, ...a: unknown[]) {
          const t = performance.now()
          const result = run.apply(this, a)
          add('transaction (whole, incl. the JS that builds its statements)', performance.now() - t)
          return result
        }
      const wrapped = Object.assign(timed(fn), {
        deferred: timed(fn.deferred!),
        immediate: timed(fn.immediate!),
        exclusive: timed(fn.exclusive!),
      })
      return wrapped
    },
  )

  function stop() {
    for (const undo of restore.reverse()) undo()
  }
  return trace
}
