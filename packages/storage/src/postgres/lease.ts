/**
 * Store.tryHoldLease on PostgreSQL: a session advisory lock taken on a connection of its own (not a
 * pool's, which would hand the session to other work). The server releases it when that session
 * ends — at release(), or when the holding process dies and its socket closes — and the next
 * process that asks takes it. The connection is pinged; if it breaks, `lost` resolves so the holder
 * stops the work the lease guards (another process may already hold it).
 */
import pg from 'pg'
import type { HeldLease } from '@intake/core'

/** How often a held lease's connection is checked. */
export const LEASE_PING_MS = 2_000

export async function tryHoldAdvisoryLease(url: string, applicationName: string, name: string): Promise<HeldLease | undefined> {
  const client = new pg.Client({ connectionString: url, application_name: `${applicationName} lease ${name}`, keepAlive: true, query_timeout: 10_000 })
  let signalLost!: () => void
  const lost = new Promise<void>((resolve) => (signalLost = resolve))
  client.on('error', () => signalLost())
  client.on('end', () => signalLost())
  await client.connect()
  let held = false
  try {
    const { rows } = await client.query<{ held: boolean }>(`select pg_try_advisory_lock(hashtext('intake.lease'), hashtext($1)) as held`, [name])
    held = rows[0]!.held
  } finally {
    if (!held) await client.end().catch(() => {})
  }
  if (!held) return undefined
  let released = false
  const ping = setInterval(() => {
    client.query('select 1').catch(() => {
      signalLost()
      void client.end().catch(() => {})
    })
  }, LEASE_PING_MS)
  ping.unref()
  void lost.then(() => clearInterval(ping))
  return {
    lost: lost.then(() => (released ? new Promise<void>(() => {}) : undefined)),
    async release() {
      if (released) return
      released = true
      clearInterval(ping)
      // Ending the session releases the lock.
      await client.end().catch(() => {})
    },
  }
}
