/**
 * Listeners that must run once (the SMTP listener here; IMAP and Telegram polling go the same way:
 * every adapter's start()) run in one gateway process among those sharing a PostgreSQL database —
 * the holder of a lease (a session advisory lock on a connection of its own). Both processes are
 * configured to listen on the same SMTP port; only the holder does. When the holder is killed
 * outright, the other takes the lease and starts listening, and mail is received again. Skipped,
 * naming what to install, where PostgreSQL is absent.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Store } from '@intake/core'
import { deliverRaw } from '@intake/channels/smtp-email/smtp-client'
import { postgresStore } from '@intake/storage/postgres'
import { createTestDatabase, dropTestDatabases, postgresSuite } from '@intake/storage/postgres/test-database'
import { freePort } from '../bench/support/free-port.ts'
import { startGatewayProcess, type GatewayProcess } from './support/gateway-process.ts'

const HOLDS = 'this process holds the lease and runs its work'

afterAll(async () => {
  await dropTestDatabases()
}, 60_000)

const mail = (n: number) =>
  [`From: 市民 <citizen-${n}@example.net>`, 'To: hotline@intake.example', `Subject: 路灯 ${n}`, `Message-ID: <listeners-${n}@example.net>`, 'Content-Type: text/plain; charset=utf-8', '', `伽师县巴仁镇的路灯坏了（第 ${n} 封）`, ''].join('\r\n')

/** Polls `check` until it is true or 60 s pass; returns its last answer. */
async function eventually(check: () => boolean | Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return check()
}

await postgresSuite(describe, it, 'listeners that must run once, across gateway processes on one PostgreSQL database', () => {
  let url: string
  let store: Store
  const gateways: GatewayProcess[] = []

  beforeEach(async () => {
    url = await createTestDatabase()
    store = postgresStore({ url, poolSize: 2 })
  })

  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.stop()))
    await store.close()
  })

  it('two processes configured with one SMTP port: one listens; killed with SIGKILL, the other takes over and mail is received again', async () => {
    const smtpPort = await freePort()
    const env = { INTAKE_DATABASE_URL: url, INTAKE_MAIL_ADDRESSES: 'hotline@intake.example', INTAKE_SMTP_PORT: String(smtpPort), INTAKE_LOG_LEVEL: 'info' }
    const a = await startGatewayProcess(await freePort(), env)
    gateways.push(a)
    const b = await startGatewayProcess(await freePort(), env)
    gateways.push(b)
    // Both ready; exactly one holds the listeners (a second SMTP server on the port would have failed its start).
    expect(await eventually(() => [a, b].filter((g) => g.output().includes(HOLDS)).length === 1)).toBe(true)
    const holder = a.output().includes(HOLDS) ? a : b
    const other = holder === a ? b : a
    expect(other.output()).not.toContain(HOLDS)
    expect(other.output()).not.toContain('EADDRINUSE')

    expect(await deliverRaw(smtpPort, mail(1))).toMatch(/^250/)
    expect(await eventually(async () => (await store.countCases({})) === 1)).toBe(true)

    await holder.kill()
    expect(await eventually(() => other.output().includes(HOLDS)), `the other process took over:\n${other.output().slice(-2000)}`).toBe(true)
    expect(await deliverRaw(smtpPort, mail(2))).toMatch(/^250/)
    expect(await eventually(async () => (await store.countCases({})) === 2)).toBe(true)
    const cases = (await store.listCases({})).cases
    expect(cases.map((c) => c.channelId)).toEqual(['mail', 'mail'])
  }, 180_000)
})
