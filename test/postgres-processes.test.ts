/**
 * Several gateway processes on one PostgreSQL database (the demo with INTAKE_DATABASE_URL): a
 * provider's retry may reach another process than the first attempt, even at the same moment, and
 * a process may die mid-load. Whatever happens, every acknowledged message is stored, no message
 * makes two cases, and every case gets exactly one acknowledgement (its outbox row, delivered under
 * one Idempotency-Key). Skipped, naming what to install, where PostgreSQL is absent.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Case, Store } from '@intake/core'
import { startCallbackServer, type CallbackServer } from '@intake/channels/api/callback-server'
import { postgresStore } from '@intake/storage/postgres'
import { createTestDatabase, dropTestDatabases, postgresSuite } from '@intake/storage/postgres/test-database'
import { freePort } from '../bench/support/free-port.ts'
import { isAcknowledged, sendApiMessage, startGatewayProcess, type GatewayProcess, type SendOutcome } from './support/gateway-process.ts'

const SECRET = 'pg-processes-secret-0000'

afterAll(async () => {
  await dropTestDatabases()
}, 60_000)

/** Every case in the store, page by page. */
async function allCases(store: Store): Promise<Case[]> {
  const all: Case[] = []
  let cursor: string | undefined
  do {
    const page = await store.listCases({ limit: 500, ...(cursor ? { cursor } : {}) })
    all.push(...page.cases)
    cursor = page.nextCursor
  } while (cursor)
  return all
}

/** Runs `jobs` with `workers` of them in flight at a time. */
async function runJobs(jobs: Array<() => Promise<void>>, workers: number): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < jobs.length) await jobs[next++]!()
    }),
  )
}

await postgresSuite(describe, it, 'gateway processes sharing one PostgreSQL database', () => {
  let callback: CallbackServer
  let url: string
  let store: Store
  const gateways: GatewayProcess[] = []

  const start = async () => {
    const gateway = await startGatewayProcess(await freePort(), {
      INTAKE_DATABASE_URL: url,
      INTAKE_API_SECRET: SECRET,
      INTAKE_API_CALLBACK_URL: callback.url,
      // A delivery leased by a killed process is taken over once its lease runs out.
      INTAKE_OUTBOX_LEASE_MS: '1500',
    })
    gateways.push(gateway)
    return gateway
  }

  /** Polls until every outbox row is sent (or the deadline passes); the number sent. */
  const waitForDeliveries = async (expected: number) => {
    const deadline = Date.now() + 60_000
    let sent = 0
    while (Date.now() < deadline) {
      sent = (await store.listOutbox({ status: 'sent', limit: 2 * expected })).length
      if (sent >= expected) break
      await new Promise((r) => setTimeout(r, 200))
    }
    return sent
  }

  beforeEach(async () => {
    callback = await startCallbackServer()
    url = await createTestDatabase()
    store = postgresStore({ url, poolSize: 2 })
  })

  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.stop()))
    await store.close()
    await callback.close()
  })

  it('2,000 messages, a third of them retries reaching the other process (half at the same moment): one case and one acknowledgement each', async () => {
    // Started together: both migrate, one of them under the other's advisory lock.
    const [a, b] = await Promise.all([start(), start()])
    const UNIQUE = 1334
    const RETRIES = 666
    const message = (k: number) => ({ id: `pg-${k}`, from: { id: `citizen-${k}` }, text: `第 ${k} 条：伽师县巴仁镇的水渠堵了，请派人来看看` })
    const outcomes = new Map<number, SendOutcome[]>()
    const send = async (k: number, gateway: GatewayProcess) => {
      const outcome = await sendApiMessage(gateway.port, SECRET, message(k))
      outcomes.set(k, [...(outcomes.get(k) ?? []), outcome])
    }
    const first = (k: number) => (k % 2 === 0 ? a : b)
    const other = (k: number) => (k % 2 === 0 ? b : a)

    const jobs: Array<() => Promise<void>> = []
    const later: Array<() => Promise<void>> = []
    for (let k = 0; k < UNIQUE; k++) {
      const retried = k % 2 === 0 && k / 2 < RETRIES
      if (retried && k % 4 === 0) {
        // The provider's retry races its first attempt, on the other process.
        jobs.push(async () => {
          await Promise.all([send(k, first(k)), send(k, other(k))])
        })
      } else {
        jobs.push(() => send(k, first(k)))
        if (retried) later.push(() => send(k, other(k)))
      }
    }
    // The later retries are spread through the rest of the stream.
    const stream = jobs.flatMap((job, i) => (i % 2 === 1 && later.length > 0 ? [job, later.shift()!] : [job]))
    stream.push(...later)
    await runJobs(stream, 12)

    const answers = [...outcomes.values()].flat()
    expect(answers).toHaveLength(2000)
    expect(answers.filter((r) => !isAcknowledged(r)), 'every request answered 2xx').toEqual([])
    // Both attempts of a message name the same case; exactly one of them created it.
    for (const [k, list] of outcomes) {
      const caseIds = new Set(list.map((r) => (r as { caseId: string }).caseId))
      expect(caseIds.size, `message ${k}: ${JSON.stringify(list)}`).toBe(1)
      expect(list.filter((r) => (r as { duplicate: boolean }).duplicate === false), `message ${k}`).toHaveLength(1)
    }

    const cases = await allCases(store)
    expect(cases).toHaveLength(UNIQUE)
    const acknowledgedCaseIds = new Set([...outcomes.values()].map((list) => (list[0] as { caseId: string }).caseId))
    expect(new Set(cases.map((c) => c.id))).toEqual(acknowledgedCaseIds)

    // One acknowledgement row per case, each delivered once under its own Idempotency-Key.
    const outbox = await store.listOutbox({ limit: 2 * UNIQUE })
    expect(outbox).toHaveLength(UNIQUE)
    expect(new Set(outbox.map((o) => o.caseId)).size).toBe(UNIQUE)
    expect(await waitForDeliveries(UNIQUE)).toBe(UNIQUE)
    const deliveredCases = new Set(callback.received.map((r) => (JSON.parse(r.body) as { caseId: string }).caseId))
    expect(deliveredCases).toEqual(acknowledgedCaseIds)
    expect(callback.keys).toEqual(new Set(outbox.map((o) => o.idempotencyKey)))
  }, 240_000)

  it('one of two processes killed with SIGKILL mid-load: every acknowledged message stored, one acknowledgement per case, a delivery in flight resent only under its key', async () => {
    const TOTAL = 400
    const [a, b] = await Promise.all([start(), start()])
    const acked = new Map<number, string>()
    const unanswered: number[] = []
    let next = 0
    let killed = false
    const message = (i: number) => ({ id: `crash-${i}`, from: { id: `citizen-${i}` }, text: `第 ${i} 条：伽师县巴仁镇的水渠堵了` })
    // 8 senders over both processes; process A is killed once a third of the stream is acknowledged,
    // and its senders carry on with B (a load balancer taking A out).
    const worker = async (w: number) => {
      while (next < TOTAL) {
        const i = next++
        const target = w % 2 === 0 && !killed ? a : b
        const r = await sendApiMessage(target.port, SECRET, message(i))
        if (isAcknowledged(r)) acked.set(i, r.caseId)
        else unanswered.push(i)
        if (!killed && acked.size >= TOTAL / 3) {
          killed = true
          await a.kill()
        }
      }
    }
    await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)))
    expect(killed).toBe(true)

    // Providers retry what got no 2xx — and sometimes what did.
    for (const i of [...unanswered, ...[...acked.keys()].slice(0, 20)]) {
      const r = await sendApiMessage(b.port, SECRET, message(i))
      expect(isAcknowledged(r), JSON.stringify(r)).toBe(true)
      if (acked.has(i)) expect((r as { caseId: string }).caseId).toBe(acked.get(i))
      acked.set(i, (r as { caseId: string }).caseId)
    }

    // The survivor delivers every acknowledgement, the ones the killed process had leased included.
    expect(await waitForDeliveries(TOTAL), b.output()).toBe(TOTAL)
    const cases = await allCases(store)
    expect(acked.size).toBe(TOTAL)
    expect(cases).toHaveLength(TOTAL)
    expect(new Set(cases.map((c) => c.id))).toEqual(new Set(acked.values()))
    const outbox = await store.listOutbox({ limit: 2 * TOTAL })
    expect(outbox).toHaveLength(TOTAL)
    expect(new Set(outbox.map((o) => o.caseId)).size).toBe(TOTAL)
    // A delivery may reach the receiver twice (the kill fell between its send and its record), but
    // only ever under the row's own key: the receiver's dedup sees one acknowledgement per case.
    expect(callback.keys).toEqual(new Set(outbox.map((o) => o.idempotencyKey)))
    const keyOfCase = new Map(outbox.map((o) => [o.caseId, o.idempotencyKey]))
    for (const r of callback.received) {
      const { caseId } = JSON.parse(r.body) as { caseId: string }
      expect(r.headers['idempotency-key']).toBe(keyOfCase.get(caseId))
    }
  }, 240_000)
})
