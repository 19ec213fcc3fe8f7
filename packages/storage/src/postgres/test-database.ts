/**
 * Throw-away PostgreSQL databases for tests: each call makes a fresh, empty database on the test
 * server (INTAKE_TEST_DATABASE_URL, default the local `test` database with trust auth) and
 * `dropTestDatabases` removes them. A database per store rather than a schema: drizzle-kit's
 * migrations name the `public` schema in their foreign keys, so a schema cannot stand in for one.
 *
 * Without a server the tests that need one are skipped, saying what to install; with
 * INTAKE_REQUIRE_POSTGRES=1 (CI) they fail instead.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

export const POSTGRES_TEST_URL = process.env.INTAKE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const REQUIRED = process.env.INTAKE_REQUIRE_POSTGRES === '1'

const INSTALL_HINT =
  "install Debian's postgresql package (apt-get install -y postgresql) and start it " +
  '(pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start), or point INTAKE_TEST_DATABASE_URL at a server'

let probed: Promise<string | undefined> | undefined

/** Why PostgreSQL cannot be used here (undefined when it can). Asked once per process. */
export function postgresUnavailable(): Promise<string | undefined> {
  probed ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_TEST_URL, connectionTimeoutMillis: 3_000 })
    try {
      await client.connect()
      await client.query('select 1')
      return undefined
    } catch (error) {
      return `PostgreSQL is not reachable at ${redact(POSTGRES_TEST_URL)} (${(error as Error).message || (error as { code?: string }).code}): ${INSTALL_HINT}`
    } finally {
      await client.end().catch(() => {})
    }
  })()
  return probed
}

/**
 * `describe` for tests that need PostgreSQL: skipped with the reason in its title when the server
 * is absent, or failing when INTAKE_REQUIRE_POSTGRES=1. Call at the top level with `await`.
 */
export async function postgresSuite(
  describe: { (title: string, fn: () => void): void; skip: (title: string, fn: () => void) => void },
  it: (title: string, fn: () => void) => void,
  title: string,
  fn: () => void,
): Promise<void> {
  const reason = await postgresUnavailable()
  if (!reason) return describe(title, fn)
  if (REQUIRED) {
    return describe(title, () => {
      it('needs PostgreSQL', () => {
        throw new Error(`INTAKE_REQUIRE_POSTGRES=1 but ${reason}`)
      })
    })
  }
  describe.skip(`${title} — skipped: ${reason}; INTAKE_REQUIRE_POSTGRES=1 makes this fail`, fn)
}

const created: string[] = []

/** A new, empty database on the test server; its URL. */
export async function createTestDatabase(): Promise<string> {
  const name = `intake_test_${process.pid}_${randomBytes(4).toString('hex')}`
  await admin(async (client) => {
    await client.query(`create database ${name}`)
  })
  created.push(name)
  const url = new URL(POSTGRES_TEST_URL)
  url.pathname = `/${name}`
  return url.toString()
}

let reusable: Promise<string> | undefined

/**
 * A database that is empty of rows: the first call creates it, later calls in this process empty
 * every table of the previous user (whose stores must be closed by then) and hand it out again.
 * Much faster than a new database and its migrations for each of the kit's cases; the schema stays
 * migrated, so a driver's migrate() finds nothing to do.
 */
export async function emptyTestDatabase(): Promise<string> {
  if (!reusable) {
    reusable = createTestDatabase()
    return reusable
  }
  const url = await reusable
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ name: string }>(
      `select quote_ident(tablename) as name from pg_tables where schemaname = 'public'`,
    )
    if (rows.length > 0) await client.query(`truncate ${rows.map((r) => r.name).join(', ')} restart identity cascade`)
  } finally {
    await client.end()
  }
  return url
}

/** Drops every database createTestDatabase made in this process (connections to them are closed first). */
export async function dropTestDatabases(): Promise<void> {
  reusable = undefined
  const names = created.splice(0)
  if (names.length === 0) return
  await admin(async (client) => {
    for (const name of names) await client.query(`drop database if exists ${name} with (force)`)
  })
}

async function admin(run: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_TEST_URL })
  await client.connect()
  try {
    await run(client)
  } finally {
    await client.end()
  }
}

function redact(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(an unparsable URL)'
  }
}
