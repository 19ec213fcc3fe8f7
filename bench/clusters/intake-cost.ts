/**
 * What duplicate matching adds to a new case at intake, without HTTP or a disk in the way: the demo
 * deployment's pipeline ingests the bench/intake messages (nine places, eight topics: most of them
 * join a cluster) one at a time on an in-memory store, with clusters on and off in turn.
 *
 *   npx tsx bench/clusters/intake-cost.ts [--messages 3000] [--rounds 3]
 */
import { parseArgs } from 'node:util'
import { createIntake, memoryBlobStore, silentLogger, type IntakeConfig } from '@intake/core'
import { apiChannel } from '@intake/channels/api'
import { sqliteStore } from '@intake/storage/sqlite'
import demo from '../../examples/county-hotline/intake.config.ts'
import { messageBody } from '../intake/messages.ts'

const { values } = parseArgs({ options: { messages: { type: 'string', default: '3000' }, rounds: { type: 'string', default: '3' } } })
const N = Number(values.messages)

async function run(enabled: boolean, round: number) {
  const config: IntakeConfig = {
    ...demo,
    store: sqliteStore({ file: ':memory:' }),
    channels: { api: apiChannel({ secret: 'bench-api-secret-0123456789' }) },
    apiKeys: ['bench-api-key-0123456789'],
    blobs: memoryBlobStore(),
    clusters: { enabled },
  }
  const intake = createIntake(config, { env: {}, log: silentLogger })
  await intake.store.migrate()
  await intake.store.saveOffices([])
  const times: number[] = []
  for (let n = 0; n < N; n++) {
    const body = JSON.parse(messageBody(`r${round}-${enabled}`, n)) as { id: string; from: { id: string }; text: string; place?: string }
    const started = performance.now()
    await intake.pipeline.ingest({
      channelId: 'api',
      externalId: body.id,
      from: { channelId: 'api', id: body.from.id },
      text: body.text,
      ...(body.place ? { place: { text: body.place } } : {}),
      receivedAt: Date.now(),
    })
    times.push(performance.now() - started)
  }
  const { cases } = await intake.store.listCases({ limit: 500 })
  const clustered = cases.filter((c) => c.clusterId).length
  await intake.store.close()
  const measured = times.slice(Math.floor(N / 5)).sort((a, b) => a - b)
  const mean = measured.reduce((a, b) => a + b, 0) / measured.length
  return { mean, p99: measured[Math.floor(measured.length * 0.99)]!, clusteredOfLast500: clustered }
}

for (let round = 1; round <= Number(values.rounds); round++) {
  for (const enabled of [false, true]) {
    const r = await run(enabled, round)
    console.log(`round ${round} clusters ${enabled ? 'on ' : 'off'}: ${(r.mean * 1000).toFixed(0)} µs/message mean, p99 ${(r.p99 * 1000).toFixed(0)} µs; ${r.clusteredOfLast500} of the last 500 cases clustered`)
  }
}
