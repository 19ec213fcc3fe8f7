/**
 * `intake migrate-store --from <sqlite file> --to <postgres url>`: copies a SQLite deployment's
 * data into a PostgreSQL database, table by table, in one transaction, then proves the copy by
 * comparing each table's row count and content hash on both sides.
 *
 * Generic over the schema: the PostgreSQL tables mirror the SQLite ones column for column
 * (../postgres/schema.ts), so every table the target has is copied from the source's table of the
 * same name — a table added to both schemas later is moved without touching this file. JSON columns
 * are copied as text, byte for byte (a `json` column keeps it verbatim), so anything hashed over
 * them (the event hash chain) still verifies. Event ids are kept (they are the audit trail's
 * order); message write order is kept by copying in SQLite's rowid order.
 */
import { createHash } from 'node:crypto'
import Database from 'better-sqlite3'
import pg from 'pg'
import { postgresStore } from '../postgres/index.ts'

const COMPONENT = '[migrate-store]'

/** Source tables that are bookkeeping, not data. */
const NOT_DATA = new Set(['__drizzle_migrations', 'sqlite_sequence', 'sqlite_stat1'])
/** Target tables that only multi-process stores have (nothing to copy from SQLite). */
const TARGET_ONLY = new Set(['assignment_picks'])

export interface TableReport {
  table: string
  rows: number
  /** sha256 over the table's rows in primary-key order, each as canonical JSON; equal on both sides. */
  sourceHash: string
  targetHash: string
}

export interface MigrateStoreOptions {
  /** The SQLite file of the running deployment (opened read-only; copy while it is stopped, or from a backup). */
  from: string
  /** A PostgreSQL URL; its database is migrated first and must hold no cases yet. */
  to: string
}

interface Column {
  name: string
  /** The PostgreSQL type: how a SQLite value is turned into it. */
  type: string
  /** GENERATED ALWAYS AS IDENTITY: copied with OVERRIDING SYSTEM VALUE when the source has it. */
  identity: boolean
}

/**
 * Copies every row, verifies counts and hashes, and returns the per-table report. Throws (and
 * writes nothing) when the target already holds cases, when the source has a table the target
 * lacks, or when a table's hash differs after the copy.
 *
 * @example
 * const report = await migrateStore({ from: './data/intake.db', to: 'postgres://intake@db/intake' })
 */
export async function migrateStore({ from, to }: MigrateStoreOptions): Promise<TableReport[]> {
  // The target's schema comes from the driver's own migrations (under its advisory lock).
  const store = postgresStore({ url: to, poolSize: 1 })
  try {
    await store.migrate()
  } finally {
    await store.close()
  }
  const source = new Database(from, { readonly: true, fileMustExist: true })
  const target = new pg.Client({ connectionString: to })
  await target.connect()
  try {
    const tables = await targetTables(target)
    const sourceTables = new Set(
      (source.prepare(`select name from sqlite_master where type = 'table'`).all() as Array<{ name: string }>).map((r) => r.name).filter((n) => !NOT_DATA.has(n)),
    )
    const missing = [...sourceTables].filter((t) => !tables.some((x) => x.name === t))
    if (missing.length > 0) throw failure('target_missing_tables', `the PostgreSQL schema has no table for ${missing.join(', ')}: its rows would be lost`)
    const { rows: existing } = await target.query<{ n: number }>('select count(*)::int as n from cases')
    if (existing[0]!.n > 0) throw failure('target_not_empty', `the target already holds ${existing[0]!.n} cases; migrate into an empty database`)

    await target.query('begin')
    try {
      for (const table of tables) {
        if (TARGET_ONLY.has(table.name) || !sourceTables.has(table.name)) continue
        await copyTable(source, target, table)
      }
      await target.query('commit')
    } catch (error) {
      await target.query('rollback')
      throw error
    }

    const report: TableReport[] = []
    for (const table of tables) {
      if (TARGET_ONLY.has(table.name) || !sourceTables.has(table.name)) continue
      const a = sourceDigest(source, table)
      const b = await targetDigest(source, target, table)
      if (a.rows !== b.rows || a.hash !== b.hash) {
        throw failure('verification_failed', `table ${table.name}: ${a.rows} rows (sha256 ${a.hash}) in SQLite, ${b.rows} rows (sha256 ${b.hash}) in PostgreSQL`)
      }
      report.push({ table: table.name, rows: a.rows, sourceHash: a.hash, targetHash: b.hash })
    }
    return report
  } finally {
    source.close()
    await target.end()
  }
}

interface Table {
  name: string
  columns: Column[]
  primaryKey: string[]
}

/** The target's tables in an order that satisfies their foreign keys (referenced tables first). */
async function targetTables(client: pg.Client): Promise<Table[]> {
  const { rows: cols } = await client.query<{ table: string; column: string; type: string; identity: string }>(
    `select table_name as table, column_name as column, data_type as type, is_identity as identity
     from information_schema.columns where table_schema = 'public' order by table_name, ordinal_position`,
  )
  const { rows: keys } = await client.query<{ table: string; column: string }>(
    `select tc.table_name as table, kcu.column_name as column
     from information_schema.table_constraints tc
     join information_schema.key_column_usage kcu on kcu.constraint_name = tc.constraint_name and kcu.table_schema = tc.table_schema
     where tc.table_schema = 'public' and tc.constraint_type = 'PRIMARY KEY' order by kcu.ordinal_position`,
  )
  const { rows: fks } = await client.query<{ child: string; parent: string }>(
    `select conrelid::regclass::text as child, confrelid::regclass::text as parent from pg_constraint
     where contype = 'f' and connamespace = 'public'::regnamespace`,
  )
  const byName = new Map<string, Table>()
  for (const c of cols) {
    const table = byName.get(c.table) ?? { name: c.table, columns: [], primaryKey: [] }
    table.columns.push({ name: c.column, type: c.type, identity: c.identity === 'YES' })
    byName.set(c.table, table)
  }
  for (const k of keys) byName.get(k.table)?.primaryKey.push(k.column)
  const ordered: Table[] = []
  const visit = (name: string, path: string[] = []) => {
    if (ordered.some((t) => t.name === name) || path.includes(name)) return
    for (const fk of fks) if (fk.child === name && fk.parent !== name) visit(fk.parent, [...path, name])
    const table = byName.get(name)
    if (table) ordered.push(table)
  }
  for (const name of [...byName.keys()].sort()) visit(name)
  return ordered
}

/** The columns both sides have (a target-only identity such as messages.seq is left to the target). */
function sharedColumns(source: Database.Database, table: Table): Column[] {
  const present = new Set((source.prepare(`select name from pragma_table_info(?)`).all(table.name) as Array<{ name: string }>).map((r) => r.name))
  const missing = table.columns.filter((c) => !present.has(c.name) && !c.identity)
  if (missing.length > 0) throw failure('source_missing_columns', `SQLite table ${table.name} lacks ${missing.map((c) => c.name).join(', ')}`)
  return table.columns.filter((c) => present.has(c.name))
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`
/** Source order: the primary key, or the write order (rowid) where the target numbers rows itself. */
const sourceOrder = (table: Table, shared: Column[]) =>
  targetNumbered(table, shared) || table.primaryKey.length === 0 ? 'rowid' : table.primaryKey.map(quote).join(', ')

/** A SQLite value as the PostgreSQL column takes it: 0/1 → boolean; JSON stays its text; numbers stay numbers. */
function convert(value: unknown, column: Column): unknown {
  if (value === null || value === undefined) return null
  if (column.type === 'boolean') return value === 1 || value === true
  return value
}

async function copyTable(source: Database.Database, target: pg.Client, table: Table): Promise<void> {
  const shared = sharedColumns(source, table)
  // The target held no cases when the copy began: rows here now were made by triggers as the cases
  // were copied (the stats rows), and the source's own rows replace them.
  await target.query(`delete from ${quote(table.name)}`)
  const overriding = shared.some((c) => c.identity) ? ' overriding system value' : ''
  const names = shared.map((c) => quote(c.name)).join(', ')
  // PostgreSQL takes at most 65,535 parameters per statement.
  const perBatch = Math.max(1, Math.floor(30_000 / shared.length))
  const rows = source.prepare(`select ${names} from ${quote(table.name)} order by ${sourceOrder(table, shared)}`).raw(true)
  let batch: unknown[][] = []
  const flush = async () => {
    if (batch.length === 0) return
    const values: unknown[] = []
    const tuples = batch.map((row) => `(${row.map((v, i) => {
      values.push(convert(v, shared[i]!))
      return `$${values.length}${shared[i]!.type === 'json' ? '::json' : ''}`
    }).join(', ')})`)
    await target.query(`insert into ${quote(table.name)} (${names})${overriding} values ${tuples.join(', ')}`, values)
    batch = []
  }
  for (const row of rows.iterate() as IterableIterator<unknown[]>) {
    batch.push(row)
    if (batch.length >= perBatch) await flush()
  }
  await flush()
  // The next id the target hands out continues after the copied ones.
  for (const column of shared.filter((c) => c.identity)) {
    await target.query(
      `select setval(pg_get_serial_sequence($1, $2), coalesce((select max(${quote(column.name)}) from ${quote(table.name)}), 0) + 1, false)`,
      [table.name, column.name],
    )
  }
}

/**
 * A table's rows in one order on both sides — the primary key in binary order, or the write order
 * (rowid / the target's identity) for a table the target numbers itself — each as a JSON array of
 * the shared columns, booleans as true/false and JSON columns as their text.
 */
function sourceDigest(source: Database.Database, table: Table): { rows: number; hash: string } {
  const shared = sharedColumns(source, table)
  const order = targetNumbered(table, shared) ? 'rowid' : table.primaryKey.map(quote).join(', ')
  const statement = source.prepare(`select ${shared.map((c) => quote(c.name)).join(', ')} from ${quote(table.name)} order by ${order}`).raw(true)
  const hash = createHash('sha256')
  let rows = 0
  for (const row of statement.iterate() as IterableIterator<unknown[]>) {
    hash.update(JSON.stringify(row.map((v, i) => convert(v, shared[i]!))) + '\n')
    rows++
  }
  return { rows, hash: hash.digest('hex') }
}

async function targetDigest(source: Database.Database, target: pg.Client, table: Table): Promise<{ rows: number; hash: string }> {
  const shared = sharedColumns(source, table)
  const numbered = targetNumbered(table, shared)
  // Text keys in byte order, as SQLite's BINARY collation sorts them.
  const order = numbered
    ? quote(numbered.name)
    : table.primaryKey.map((k) => `${quote(k)}${table.columns.find((c) => c.name === k)?.type === 'text' ? ' collate "C"' : ''}`).join(', ')
  const select = shared
    .map((c) => (c.type === 'json' ? `${quote(c.name)}::text as ${quote(c.name)}` : c.type === 'bigint' ? `${quote(c.name)}::float8 as ${quote(c.name)}` : quote(c.name)))
    .join(', ')
  const { rows } = await target.query({ text: `select ${select} from ${quote(table.name)} order by ${order}`, rowMode: 'array' })
  const hash = createHash('sha256')
  for (const row of rows as unknown[][]) hash.update(JSON.stringify(row) + '\n')
  return { rows: rows.length, hash: hash.digest('hex') }
}

/** The identity column the target numbers rows with that the source does not have (messages.seq). */
function targetNumbered(table: Table, shared: Column[]): Column | undefined {
  return table.columns.find((c) => c.identity && !shared.includes(c))
}

function failure(code: string, message: string): Error {
  return Object.assign(new Error(`${COMPONENT} ${message}`), { code })
}

/**
 * The command: `intake migrate-store --from <sqlite file> --to <postgres url>`. Prints each
 * table's rows and hash; exit code 0 when every table verified, 1 on a failure, 2 on usage.
 */
export async function migrateStoreCommand(args: { from?: string; to?: string }, out: (line: string) => void = console.log): Promise<number> {
  if (!args.from || !args.to) {
    out('usage: intake migrate-store --from <sqlite file> --to <postgres url>')
    return 2
  }
  try {
    const report = await migrateStore({ from: args.from, to: args.to })
    for (const r of report) out(`${r.table.padEnd(24)} ${String(r.rows).padStart(9)} rows  sha256 ${r.sourceHash}  verified`)
    out(`moved ${report.reduce((n, r) => n + r.rows, 0)} rows in ${report.length} tables; counts and content hashes equal on both sides`)
    return 0
  } catch (error) {
    out((error as Error).message)
    return 1
  }
}
