import * as crypto from 'node:crypto'

/**
 * The audit trail is a hash chain: every row carries the hash of the row before it and a hash of
 * its own content together with that previous hash. Editing a row changes its hash; deleting or
 * inserting one breaks the next row's link. `verifyChain` names the first row that does not fit.
 * (Whoever can rewrite the whole table from the edit onwards can forge it too; publishing the head
 * hash elsewhere — `intake audit verify` prints it — pins what came before.)
 */
export const GENESIS = ''

/** The fields of an audit row exactly as stored: `data` is the stored JSON text, not a re-serialisation. */
export interface ChainRow {
  id: number
  /** The row's fields in a fixed order; numbers and booleans as stored. */
  fields: ReadonlyArray<string | number | boolean | null>
  prevHash: string | null
  hash: string | null
}

/**
 * SHA-256 in one call where Node has it (20.12 and later): a new case chains five or six events on
 * the writer's critical path, and a Hash object per event cost twice the hashing itself.
 */
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function' ? (text) => crypto.hash('sha256', text, 'hex') : (text) => crypto.createHash('sha256').update(text).digest('hex')

export function rowHash(prevHash: string, id: number, fields: ChainRow['fields']): string {
  // JSON of an array is unambiguous (no field can spill into the next), unlike a joined string.
  return sha256Hex(JSON.stringify([prevHash, id, ...fields]))
}

export type ChainVerdict =
  | { ok: true; rows: number; head: string }
  | { ok: false; rows: number; id: number; problem: 'edited' | 'out_of_order' | 'unchained'; message: string }

/** Walk rows in id order; the first that does not fit is named. */
export function verifyChain(rows: Iterable<ChainRow>, table: string): ChainVerdict {
  let prev = GENESIS
  let prevId: number | undefined
  let count = 0
  for (const row of rows) {
    count++
    if (row.hash === null || row.prevHash === null) {
      return { ok: false, rows: count, id: row.id, problem: 'unchained', message: `${table} row ${row.id} has no hash: it was written around the chain or its hash was removed` }
    }
    if (row.prevHash !== prev) {
      return {
        ok: false,
        rows: count,
        id: row.id,
        problem: 'out_of_order',
        message: `${table} row ${row.id} does not follow ${prevId === undefined ? 'the start of the chain' : `row ${prevId}`}: a row before it was deleted, or it was inserted out of order`,
      }
    }
    if (rowHash(row.prevHash, row.id, row.fields) !== row.hash) {
      return { ok: false, rows: count, id: row.id, problem: 'edited', message: `${table} row ${row.id} was edited after it was written (its content no longer matches its hash)` }
    }
    prev = row.hash
    prevId = row.id
  }
  return { ok: true, rows: count, head: prev }
}
