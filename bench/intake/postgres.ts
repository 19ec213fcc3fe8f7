/**
 * bench/intake --store postgres: the demo gateway on PostgreSQL with one and with two processes on
 * one database, against a bare Hono + zod + one PostgreSQL INSERT per request
 * (baseline-postgres-server.ts), all in the same run. Reached through run.ts:
 *
 *   npx tsx bench/intake/run.ts --store postgres [--seconds 10] [--connections 50] [--warmup 2] [--rounds 1]
 *
 * Every variant gets a fresh database on INTAKE_TEST_DATABASE_URL's server (default the local
 * `test` database's server). With two processes the load generator splits its connections between
 * their ports (a load balancer's part): throughput is the sum, latency the worse of the two.
 * Each gateway process has its own pool of 10 connections and its delivery thread another.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createTestDatabase, dropTestDatabases } from '@intake/storage/postgres/test-database'
import {
  askChild,
  type ChildServer,
  describeMachine,
  firstMessageFrom,
  formatTable,
  freePort,
  loadAverage,
  REPO_ROOT,
  resultFilePath,
  resultStamp,
  round,
  startChild,
  startGateway,
  stopChild,
  waitForHttpOk,
  writeResultFile,
} from '../support/harness.ts'
import { HTTP_LOAD_ARGS, readHttpLoadArgs, warmUpAndMeasure, type HttpLoadResult } from '../support/http-load.ts'
import { importFromWorkspace } from '../support/workspace-deps.ts'
import type { CallbackCount } from './callback-child.ts'
import { messageBody, signedHeaders } from './messages.ts'

type Pg = typeof import('../../packages/storage/node_modules/@types/pg/index.d.ts')
const pg = (await importFromWorkspace<{ default: Pg }>('storage', 'pg')).default

const HERE = import.meta.dirname
const SECRET = 'bench-api-secret-0123456789'
const PATH = '/channels/api/messages'

const { values: args } = parseArgs({
  options: { ...HTTP_LOAD_ARGS, store: { type: 'string' }, rounds: { type: 'string', default: '1' }, variants: { type: 'string', default: 'baseline,gateway-1,gateway-2' } },
  strict: true,
})
const { seconds, connections, warmupSeconds } = readHttpLoadArgs(args, 'bench')
const rounds = Number(args.rounds)
const variants = args.variants.split(',')
for (const v of variants) if (!['baseline', 'gateway-1', 'gateway-2'].includes(v)) throw new Error(`[bench] unknown variant '${v}' (baseline, gateway-1, gateway-2)`)
const workDir = mkdtempSync(join(tmpdir(), 'intake-bench-pg-'))
const stamp = resultStamp()

interface Result {
  name: string
  round: number
  requestsPerSecond: number
  p50: number
  p99: number
  errors: number
  cpu: Record<string, number>
  work: Record<string, unknown>
}

let sequence = 0
async function load(ports: number[], name: string, processes: Record<string, number | undefined>) {
  const run = `${name}-${stamp}-${sequence}`
  // Each port gets its share of the connections, all measured over the same window.
  const shares = ports.map((_, i) => Math.floor(connections / ports.length) + (i < connections % ports.length ? 1 : 0))
  const loads: HttpLoadResult[] = await Promise.all(
    ports.map((port, i) =>
      warmUpAndMeasure({
        port,
        path: PATH,
        connections: shares[i]!,
        warmupSeconds,
        seconds,
        processes: i === 0 ? processes : {},
        keepFirstErrorBody: true,
        nextRequest() {
          const body = messageBody(run, sequence++)
          return { body, headers: signedHeaders(SECRET, body) }
        },
      }),
    ),
  )
  const sum = (f: (l: HttpLoadResult) => number) => loads.reduce((n, l) => n + f(l), 0)
  return {
    requestsPerSecond: round(sum((l) => l.measured.requestsPerSecond), 1),
    p50: Math.max(...loads.map((l) => l.measured.latencyMs.p50)),
    p99: Math.max(...loads.map((l) => l.measured.latencyMs.p99)),
    errors: sum((l) => l.measured.non2xx + l.measured.connectionErrors + l.measured.timeouts),
    cpu: { 'load generator': round(sum((l) => l.loadGeneratorCpu), 2), ...loads[0]!.cpu },
    firstErrorBody: loads.map((l) => l.measured.firstErrorBody).find(Boolean),
  }
}

async function count(url: string, sql: string): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(sql)).rows
  } finally {
    await client.end()
  }
}

async function runBaseline(r: number): Promise<Result> {
  const url = await createTestDatabase()
  const port = await freePort()
  const child = startChild({ name: `baseline-${r}`, script: join(HERE, 'baseline-postgres-server.ts'), env: { BENCH_PORT: String(port), BENCH_DATABASE_URL: url }, logDir: workDir })
  try {
    await waitForHttpOk(`http://127.0.0.1:${port}/healthz`, child, 'bench')
    const figures = await load([port], 'baseline', { server: child.proc.pid })
    const [row] = await count(url, 'select count(*)::int as n from messages')
    return { name: 'baseline', round: r, ...figures, work: { rowsInserted: row!.n } }
  } finally {
    await stopChild(child)
  }
}

async function runGateways(processCount: number, r: number): Promise<Result> {
  const name = `gateway-${processCount}`
  const url = await createTestDatabase()
  const callback = startChild({ name: `callback-${name}-${r}`, script: join(HERE, 'callback-child.ts'), logDir: workDir, ipc: true })
  const callbackUrl = (await firstMessageFrom<{ url: string }>(callback, '[bench] callback server')).url
  const gateways: Array<{ child: ChildServer; port: number }> = []
  try {
    for (let i = 0; i < processCount; i++) {
      const port = await freePort()
      const child = startGateway({
        name: `${name}-${r}-${i}`,
        config: join(REPO_ROOT, 'examples/county-hotline/intake.config.ts'),
        env: { INTAKE_PORT: String(port), INTAKE_HOST: '127.0.0.1', INTAKE_DATA_DIR: join(workDir, `${name}-${r}-${i}`), INTAKE_DATABASE_URL: url, INTAKE_API_SECRET: SECRET, INTAKE_API_CALLBACK_URL: callbackUrl },
        logDir: workDir,
      })
      gateways.push({ child, port })
    }
    // Generous: two processes migrating and loading the gazetteer at once on a busy machine.
    for (const g of gateways) await waitForHttpOk(`http://127.0.0.1:${g.port}/readyz`, g.child, 'bench', 120_000)
    const processes = Object.fromEntries(gateways.map((g, i) => [`gateway ${i + 1}`, g.child.proc.pid]))
    const figures = await load(
      gateways.map((g) => g.port),
      name,
      processes,
    )
    // Let the outbox drain, then count what the store and the callback hold.
    const started = Date.now()
    let outbox: Record<string, number> = {}
    while (Date.now() - started < 120_000) {
      outbox = Object.fromEntries((await count(url, 'select status, count(*)::int as n from outbox group by status')).map((x) => [x.status, x.n]))
      if (!outbox.pending && !outbox.sending) break
      await new Promise((res) => setTimeout(res, 250))
    }
    const [cases] = await count(url, 'select count(*)::int as n from cases')
    const received = (await askChild<{ count: CallbackCount }>(callback, 'count')).count
    return { name, round: r, ...figures, work: { cases: cases!.n, outbox, drainSeconds: round((Date.now() - started) / 1000, 1), callbacksReceived: received.received, distinctIdempotencyKeys: received.distinctKeys } }
  } finally {
    for (const g of gateways) await stopChild(g.child)
    await stopChild(callback)
  }
}

const machine = describeMachine()
console.log(`bench/intake --store postgres: ${seconds}s at ${connections} connections (warm-up ${warmupSeconds}s), variants ${variants.join(', ')}, rounds ${rounds}`)
console.log(`machine: ${machine.nproc} cores (${machine.cpu}), node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}`)
const [version] = await count(process.env.INTAKE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', 'select version() as v')
console.log(`server: ${String(version!.v).split(' on ')[0]}\n`)

const results: Result[] = []
try {
  for (let r = 1; r <= rounds; r++) {
    for (const v of variants) {
      process.stdout.write(`round ${r}: ${v} ... `)
      const result = v === 'baseline' ? await runBaseline(r) : await runGateways(Number(v.split('-')[1]), r)
      results.push(result)
      console.log(`${result.requestsPerSecond} req/s, p99 ${result.p99} ms, errors ${result.errors}, cpu ${JSON.stringify(result.cpu)}`)
    }
  }
} finally {
  await dropTestDatabases()
  rmSync(workDir, { recursive: true, force: true })
}

const ratio = (name: string, of: string, r: number) => {
  const a = results.find((x) => x.name === name && x.round === r)
  const b = results.find((x) => x.name === of && x.round === r)
  return a && b ? round(a.requestsPerSecond / b.requestsPerSecond, 3) : undefined
}
console.log(
  '\n' +
    formatTable(
      ['', 'round', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'vs baseline', 'vs 1 process'],
      results.map((x) => [x.name, String(x.round), String(x.requestsPerSecond), String(x.p50), String(x.p99), String(x.errors), String(ratio(x.name, 'baseline', x.round) ?? ''), String(x.name === 'gateway-2' ? ratio('gateway-2', 'gateway-1', x.round) ?? '' : '')]),
    ),
)
for (const x of results) if (x.name !== 'baseline') console.log(`round ${x.round}, ${x.name}: ${JSON.stringify(x.work)}`)
console.log(`at the end: load average ${loadAverage().join(' ')}`)
const outFile = args.out ?? resultFilePath('intake-postgres', stamp)
writeResultFile(outFile, {
  benchmark: 'bench/intake --store postgres',
  command: `npx tsx bench/intake/run.ts --store postgres --seconds ${seconds} --connections ${connections} --warmup ${warmupSeconds} --rounds ${rounds} --variants ${variants.join(',')}`,
  at: new Date().toISOString(),
  machine: { ...machine, loadAverageAtEnd: loadAverage() },
  results,
})
console.log(`results: ${outFile}`)
