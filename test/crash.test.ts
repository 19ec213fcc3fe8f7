/**
 * Kill the gateway with SIGKILL in the middle of a stream of messages, start it again, and prove:
 * every message that got a 2xx is stored; no message made two cases; every case got exactly one
 * acknowledgement delivered (the receiver dedupes on Idempotency-Key, as the api channel documents).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signRequest } from '@intake/channels/api'
import { startCallbackServer, type CallbackServer } from '@intake/channels/api/callback-server'
import { sqliteStore } from '@intake/storage/sqlite'
import { freePort } from '../bench/support/free-port.ts'
import { DEMO_DIR } from './support/gateway.ts'

const ROOT = join(import.meta.dirname, '..')
const SECRET = 'crash-test-secret-000000'
const API_KEY = 'crash-test-api-key-00000'
const TOTAL = 400

describe('a gateway killed mid-stream loses nothing and duplicates nothing', () => {
  let dataDir: string
  let callback: CallbackServer
  let port: number
  let child: ChildProcess | undefined
  let output = ''

  const start = async () => {
    child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'packages/core/src/cli/main.ts'), 'start', '--config', join(DEMO_DIR, 'intake.config.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        INTAKE_DATA_DIR: dataDir,
        INTAKE_PORT: String(port),
        INTAKE_API_SECRET: SECRET,
        INTAKE_API_KEY: API_KEY,
        INTAKE_API_CALLBACK_URL: callback.url,
        INTAKE_LOG_LEVEL: 'warn',
        INTAKE_BANNER: '0',
        // A delivery leased by the killed process is retried once its lease runs out.
        INTAKE_OUTBOX_LEASE_MS: '1500',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout!.on('data', (d) => (output += d))
    child.stderr!.on('data', (d) => (output += d))
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`)
        if (res.ok) return
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`gateway did not become ready:\n${output}`)
  }

  const send = async (i: number): Promise<{ status: number; caseId?: string } | { error: string }> => {
    const body = JSON.stringify({ id: `crash-${i}`, from: { id: `citizen-${i}` }, text: `第 ${i} 条：伽师县巴仁镇的水渠堵了` })
    try {
      const res = await fetch(`http://127.0.0.1:${port}/channels/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signRequest(SECRET, body) },
        body,
      })
      const json = (await res.json()) as { results?: Array<{ caseId: string }> }
      return { status: res.status, caseId: json.results?.[0]?.caseId }
    } catch (err) {
      return { error: (err as Error).message }
    }
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'intake-crash-'))
    callback = await startCallbackServer()
    port = await freePort()
  })
  afterAll(async () => {
    child?.kill('SIGKILL')
    await callback.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('survives SIGKILL during a steady stream', async () => {
    await start()
    const acked = new Map<number, string>()
    const unanswered: number[] = []
    let next = 0
    let killed = false
    // 8 concurrent senders; the gateway is killed once a third of the stream has been acknowledged.
    const worker = async () => {
      while (next < TOTAL) {
        const i = next++
        const r = await send(i)
        if ('status' in r && r.status >= 200 && r.status < 300) acked.set(i, r.caseId!)
        else unanswered.push(i)
        if (!killed && acked.size >= TOTAL / 3) {
          killed = true
          child!.kill('SIGKILL')
          await new Promise((r) => child!.once('exit', r))
          await start()
        }
      }
    }
    await Promise.all(Array.from({ length: 8 }, worker))
    expect(killed).toBe(true)

    // Providers retry what got no 2xx — and sometimes what did.
    for (const i of [...unanswered, ...[...acked.keys()].slice(0, 20)]) {
      const r = await send(i)
      expect('status' in r && r.status < 300, JSON.stringify(r)).toBe(true)
      if ('caseId' in r && r.caseId) {
        if (acked.has(i)) expect(r.caseId).toBe(acked.get(i))
        acked.set(i, r.caseId)
      }
    }

    // Wait until the outbox has delivered every acknowledgement, including those leased by the killed process.
    const store = sqliteStore({ file: join(dataDir, 'intake.db') })
    const deadline = Date.now() + 30_000
    let sent = 0
    while (Date.now() < deadline) {
      sent = (await store.listOutbox({ status: 'sent', limit: 2 * TOTAL })).length
      if (sent >= TOTAL) break
      await new Promise((r) => setTimeout(r, 100))
    }
    child!.kill('SIGTERM')
    await new Promise((r) => child!.once('exit', r))

    const { cases } = await store.listCases({ limit: 500 })
    // Every message that was answered 2xx is there, each in its own case, and there is nothing else.
    expect(acked.size).toBe(TOTAL)
    expect(cases).toHaveLength(TOTAL)
    const ids = new Set(cases.map((c) => c.id))
    for (const caseId of acked.values()) expect(ids.has(caseId)).toBe(true)
    // Exactly one acknowledgement per case, delivered.
    const outbox = await store.listOutbox({ limit: 2 * TOTAL })
    expect(outbox).toHaveLength(TOTAL)
    expect(outbox.filter((o) => o.status === 'sent')).toHaveLength(TOTAL)
    const ackCases = callback.received.map((r) => (JSON.parse(r.body) as { caseId: string }).caseId)
    expect(new Set(ackCases).size).toBe(TOTAL)
    expect(callback.keys.size).toBe(TOTAL)
    await store.close()
  }, 120_000)
})
