/**
 * Several statements in one round trip. node-postgres sends one query at a time and waits for its
 * answer (no pipelining); a simple-protocol query may hold several statements, run in order, each
 * with its own snapshot (READ COMMITTED) — but takes no parameters. `inlineParameters` turns a
 * parameterised statement into text for such a query, each value a literal (strings through
 * node-postgres's escapeLiteral, which quotes and escapes; integers as digits; booleans as words).
 */
import type pg from 'pg'

export function inlineParameters(client: pg.ClientBase, text: string, values: ReadonlyArray<string | number | boolean | null>): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => {
    const value = values[Number(n) - 1]
    if (value === undefined) throw new Error(`[storage/postgres] no value for $${n}`)
    if (value === null) return 'null'
    if (typeof value === 'boolean') return String(value)
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) throw new Error(`[storage/postgres] $${n} must be an integer, got ${value}`)
      return String(value)
    }
    return client.escapeLiteral(value)
  })
}
