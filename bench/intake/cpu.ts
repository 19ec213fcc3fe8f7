/**
 * bench/intake cpu: CPU time per message of the intake path, in one process — the demo gateway
 * (its routing chain, offices, api channel and SQLite store with the writer thread, as deployed)
 * driven through `app.request` with 50 messages in flight, the outbox stopped. CPU is the process's
 * (every thread: the gateway's and the writer's), measured with process.cpuUsage over the run after
 * a warm-up. On a shared machine this is steadier than requests per second, which swing with what
 * else runs: use it to compare two versions of the code; the throughput verdict stays with run.ts.
 *
 *   npx tsx bench/intake/cpu.ts [--messages 6000] [--rounds 3]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createIntake, memoryBlobStore, silentLogger, type IntakeConfig } from '@intake/core'
import { apiChannel } from '@intake/channels/api'
import { sqliteStore } from '@intake/storage/sqlite'
import demo from '../../examples/county-hotline/intake.config.ts'
import { messageBody, signedHeaders } from './messages.ts'

const { values } = parseArgs({ options: { messages: { type: 'string', default: '6000' }, rounds: { type: 'string', default: '3' } } })
const N = Number(values.messages)
const WARMUP = 1500
const IN_FLIGHT = 50
const SECRET = 'bench-api-secret-0123456789'
const BASE = 'http://intake.bench'

async function round(r: number) {
  const dir = mkdtempSync(join(tmpdir(), 'intake-cpu-'))
  const intake = createIntake(
    {
      ...demo,
      store: sqliteStore({ file: join(dir, 'intake.db'), writer: 'thread' }),
      channels: { api: apiChannel({ secret: SECRET }) },
      apiKeys: ['bench-api-key-0123456789'],
      dataDir: dir,
      blobs: memoryBlobStore(),
      server: { publicUrl: BASE },
      outbox: { pollMs: 3_600_000 },
    } as IntakeConfig,
    { env: {}, log: silentLogger },
  )
  await intake.start()
  await intake.outbox.stop()
  const bodies = Array.from({ length: N + WARMUP }, (_, i) => messageBody(`cpu-${r}`, i))
  let next = 0
  let failed = 0
  const drive = async (until: number) => {
    const worker = async () => {
      for (let i = next++; i < until; i = next++) {
        const body = bodies[i]!
        const res = await intake.app.request(`${BASE}/channels/api/messages`, { method: 'POST', body, headers: signedHeaders(SECRET, body) })
        if (res.status !== 201) failed++
        await res.arrayBuffer()
      }
    }
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  }
  await drive(WARMUP)
  const cpu = process.cpuUsage()
  const started = performance.now()
  await drive(WARMUP + N)
  const used = process.cpuUsage(cpu)
  const seconds = (performance.now() - started) / 1000
  await intake.stop()
  rmSync(dir, { recursive: true, force: true })
  const us = (used.user + used.system) / N
  console.log(`round ${r}: ${Math.round(us)} µs CPU per message (user ${Math.round(used.user / N)}, system ${Math.round(used.system / N)}), ${Math.round(N / seconds)} messages/s, ${failed} not 201`)
  return us
}

const figures: number[] = []
for (let r = 1; r <= Number(values.rounds); r++) figures.push(await round(r))
figures.sort((a, b) => a - b)
console.log(`median ${Math.round(figures[Math.floor(figures.length / 2)]!)} µs CPU per message over ${N} messages (load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')})`)

process.exit(0)
