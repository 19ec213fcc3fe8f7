/**
 * `intake start --workers N`: N gateway processes behind one port (node:cluster), on one
 * PostgreSQL database. Connections are shared out between the workers; a worker that dies is
 * replaced while the others keep answering; SIGTERM stops them all. With a SQLite store the
 * command refuses N > 1 and says why. Skipped, naming what to install, where PostgreSQL is absent.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Store } from '@intake/core'
import { startCallbackServer, type CallbackServer } from '@intake/channels/api/callback-server'
import { postgresStore } from '@intake/storage/postgres'
import { createTestDatabase, dropTestDatabases, postgresSuite } from '@intake/storage/postgres/test-database'
import { freePort } from '../bench/support/free-port.ts'
import { isAcknowledged, sendApiMessage, startGatewayProcess, type GatewayProcess, type SendOutcome } from './support/gateway-process.ts'
import { DEMO_DIR } from './support/gateway.ts'

const SECRET = 'pg-workers-secret-0000'
const ROOT = join(import.meta.dirname, '..')

afterAll(async () => {
  await dropTestDatabases()
}, 60_000)

/** The JSON log lines a process printed. */
const logLines = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg: string; worker?: number; pid?: number; path?: string; status?: number })

/** Sends messages `from`..`to`-1 with `inFlight` requests (and so connections) at a time. */
async function sendMany(port: number, from: number, to: number, inFlight = 8): Promise<SendOutcome[]> {
  const outcomes: SendOutcome[] = []
  let next = from
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < to) {
        const k = next++
        outcomes.push(await sendApiMessage(port, SECRET, { id: `w-${k}`, from: { id: `citizen-${k}` }, text: `第 ${k} 条：伽师县巴仁镇的路灯坏了` }))
      }
    }),
  )
  return outcomes
}

/** `intake start --workers <workers>` on the demo with its default store (SQLite), run to its exit. */
const startOnTheDemo = (workers: string) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'packages/core/src/cli/main.ts'), 'start', '--config', join(DEMO_DIR, 'intake.config.ts'), '--workers', workers], {
    cwd: ROOT,
    env: { ...process.env, INTAKE_DATABASE_URL: '', INTAKE_PORT: '0' },
    encoding: 'utf8',
    timeout: 60_000,
  })

describe('intake start --workers with a SQLite store', () => {
  it('refuses more than one worker, saying a SQLite file is written by one process and how to move to PostgreSQL', () => {
    const run = startOnTheDemo('2')
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('--workers 2 needs a PostgreSQL store')
    expect(run.stderr).toContain('sqlite')
    expect(run.stderr).toContain('--workers 1')
  })

  it('refuses a --workers that is not a whole number', () => {
    const run = startOnTheDemo('two')
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('--workers takes a whole number from 1 to 256, not "two"')
  })
})

await postgresSuite(describe, it, 'intake start --workers 2 on PostgreSQL', () => {
  let callback: CallbackServer
  let url: string
  let store: Store
  let gateway: GatewayProcess | undefined

  beforeEach(async () => {
    callback = await startCallbackServer()
    url = await createTestDatabase()
    store = postgresStore({ url, poolSize: 2 })
  })

  afterEach(async () => {
    await gateway?.stop()
    await store.close()
    await callback.close()
  })

  it('two workers on one port share the connections, one killed is replaced while the other answers, SIGTERM stops both', async () => {
    const port = await freePort()
    gateway = await startGatewayProcess(
      port,
      { INTAKE_DATABASE_URL: url, INTAKE_API_SECRET: SECRET, INTAKE_API_CALLBACK_URL: callback.url, INTAKE_LOG_LEVEL: 'info', INTAKE_OUTBOX_LEASE_MS: '1500' },
      ['--workers', '2'],
    )
    // Both workers listen before the load (readyz answered by one of them).
    const listening = async (n: number) => {
      const deadline = Date.now() + 60_000
      while (Date.now() < deadline && logLines(gateway!.output()).filter((l) => l.msg === 'listening').length < n) await new Promise((r) => setTimeout(r, 100))
      return logLines(gateway!.output()).filter((l) => l.msg === 'listening')
    }
    const started = await listening(2)
    expect(new Set(started.map((l) => l.worker))).toEqual(new Set([1, 2]))

    const first = await sendMany(port, 0, 120)
    expect(first.filter((r) => !isAcknowledged(r)), 'every request answered 2xx').toEqual([])
    const handledBy = new Set(logLines(gateway.output()).filter((l) => l.msg === 'request' && l.path === '/channels/api/messages' && l.status === 201).map((l) => l.worker))
    expect(handledBy, 'both workers took messages').toEqual(new Set([1, 2]))

    // A worker killed outright: the port keeps answering, and the primary starts a third worker.
    const victim = started.find((l) => l.worker === 1)!.pid!
    process.kill(victim, 'SIGKILL')
    const noticed = Date.now() + 30_000
    while (Date.now() < noticed && !gateway.output().includes(`worker 1 (pid ${victim}) exited (SIGKILL)`)) await new Promise((r) => setTimeout(r, 50))
    expect(gateway.output()).toContain(`worker 1 (pid ${victim}) exited (SIGKILL)`)
    const during = await sendMany(port, 120, 160, 4)
    expect(during.filter((r) => !isAcknowledged(r)), 'answered while a worker was down').toEqual([])
    const replaced = await listening(3)
    expect(replaced.map((l) => l.worker)).toContain(3)
    const after = await sendMany(port, 160, 200)
    expect(after.filter((r) => !isAcknowledged(r))).toEqual([])

    // One case per message, each acknowledged once, whichever worker took it.
    expect(await store.countCases({})).toBe(200)
    const deadline = Date.now() + 60_000
    while (Date.now() < deadline && (await store.listOutbox({ status: 'sent', limit: 400 })).length < 200) await new Promise((r) => setTimeout(r, 200))
    expect(await store.listOutbox({ status: 'sent', limit: 400 })).toHaveLength(200)
    expect(new Set(callback.received.map((r) => r.headers['idempotency-key'])).size).toBe(200)

    await gateway.stop()
    expect(gateway.child.exitCode).toBe(0)
    expect(gateway.output()).toContain('SIGTERM: stopping 2 workers')
  }, 180_000)
})
