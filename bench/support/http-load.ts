/**
 * The HTTP load of bench/intake and bench/sms: one autocannon session per server, a warm-up, then a
 * measured window on the same, warm connections, with every answer's exact latency.
 */
import autocannon, { type AutocannonRequest } from 'autocannon'
import { coresBusy, percentile, round, sampleCpu } from './harness.ts'

/** Upper bound on the wait, after the warm-up, for every connection's first answer. */
const MAX_RAMP_SECONDS = 120

/** The command-line options of an HTTP load run, for node:util's parseArgs (spread into its `options`). */
export const HTTP_LOAD_ARGS = {
  seconds: { type: 'string', default: '10' },
  connections: { type: 'string', default: '50' },
  warmup: { type: 'string', default: '2' },
  out: { type: 'string' },
} as const

/** --seconds, --connections and --warmup as numbers; throws `[component] …` unless they are positive (warm-up ≥ 0). */
export function readHttpLoadArgs(args: { seconds: string; connections: string; warmup: string }, component: string): { seconds: number; connections: number; warmupSeconds: number } {
  const [seconds, connections, warmupSeconds] = [Number(args.seconds), Number(args.connections), Number(args.warmup)]
  if (!(seconds > 0) || !(connections > 0) || !(warmupSeconds >= 0)) throw new Error(`[${component}] --seconds, --connections, --warmup must be positive numbers`)
  return { seconds, connections, warmupSeconds }
}

export interface HttpLoadOptions {
  port: number
  /** The path every request is POSTed to. */
  path: string
  connections: number
  /** The least warm-up; it lasts until every connection has had an answer. */
  warmupSeconds: number
  /** The measured window. */
  seconds: number
  /** The next request's headers and body, built as autocannon sends it (every request distinct). */
  nextRequest: () => { headers: Record<string, string>; body: string }
  /** Processes whose CPU time is sampled over the measured window, by label (e.g. server). */
  processes: Record<string, number | undefined>
  /** Keep the first non-2xx answer's status and body (makes autocannon hand every body over). */
  keepFirstErrorBody?: boolean
}

export interface WarmupFigures {
  requests: number
  /** 201 answers. */
  created: number
  non2xx: number
  errors: number
  /** Until every connection had its first answer. */
  rampSeconds: number
  /** The whole warm-up (when the measured window started). */
  seconds: number
}

export interface LoadFigures {
  /** Answers received in the measured window. */
  requests: number
  seconds: number
  /** Answers per second over the measured window. */
  requestsPerSecond: number
  latencyMs: { mean: number; p50: number; p90: number; p99: number; p999: number; max: number }
  /** How evenly the server served the connections (a connection with 0 answers waited the whole run). */
  answersPerConnection: { min: number; median: number; max: number }
  /** Answers that came in during each second of the run, with their latency percentiles. */
  perSecond: Array<{ requests: number; p50: number; p99: number; max: number }>
  statusCodes: Record<string, number>
  non2xx: number
  connectionErrors: number
  timeouts: number
  firstErrorBody?: string
}

export interface HttpLoadResult {
  warmup: WarmupFigures
  /** 201 answers that came in after the measured window closed, before autocannon stopped. */
  createdAfterWindow: number
  measured: LoadFigures
  /** CPU seconds per wall second of each sampled process during the window (1.0 = one core busy). */
  cpu: Record<string, number>
  /** The same for this process, the load generator. */
  loadGeneratorCpu: number
}

/**
 * Warms a server up and measures it. One autocannon session, so the measured window runs on warm
 * connections: Node 20's libuv accepts one connection per event-loop turn (libuv/libuv#3696), so a
 * saturated server takes a while to accept 50 new ones, and a fresh autocannon instance for the
 * measurement would time that ramp instead of the steady state. The warm-up lasts `warmupSeconds`
 * and, beyond that, until every connection has had an answer (`rampSeconds`); then `seconds` are measured.
 */
export async function warmUpAndMeasure(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const { port, path, connections, warmupSeconds, seconds, nextRequest, processes } = options
  const latencies: number[] = []
  const bySecond: number[][] = []
  const byConnection = new Map<unknown, number>()
  const statusCodes: Record<string, number> = {}
  const warm: WarmupFigures = { requests: 0, created: 0, non2xx: 0, errors: 0, rampSeconds: NaN, seconds: NaN }
  let connectionErrors = 0
  let timeouts = 0
  let createdAfterWindow = 0
  let firstErrorBody: string | undefined
  const answered = new Set<unknown>()
  let phase: 'warm-up' | 'measured' | 'done' = 'warm-up'
  let windowStart = 0
  let windowEnd = 0
  let cpuBefore: Record<string, number | undefined> = {}
  let cpuAfter: Record<string, number | undefined> = {}
  let benchCpuBefore = process.cpuUsage()
  let benchCpu = process.cpuUsage(benchCpuBefore)
  const t0 = performance.now()

  const instance = autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    // An upper bound: the session is stopped when the measured window closes.
    duration: warmupSeconds + MAX_RAMP_SECONDS + seconds + 10,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path,
        setupRequest(req: AutocannonRequest): AutocannonRequest {
          return { ...req, ...nextRequest() }
        },
        ...(options.keepFirstErrorBody
          ? {
              onResponse(status: number, body: string) {
                if ((status < 200 || status > 299) && firstErrorBody === undefined) firstErrorBody = `${status} ${body.slice(0, 300)}`
              },
            }
          : {}),
      },
    ],
  })

  const startWindow = () => {
    phase = 'measured'
    windowStart = performance.now()
    warm.seconds = round((windowStart - t0) / 1000, 2)
    cpuBefore = sampleCpu(processes)
    benchCpuBefore = process.cpuUsage()
    setTimeout(() => {
      phase = 'done'
      windowEnd = performance.now()
      cpuAfter = sampleCpu(processes)
      benchCpu = process.cpuUsage(benchCpuBefore)
      instance.stop()
    }, seconds * 1000)
  }
  const rampDone = () => answered.size === connections
  setTimeout(() => {
    if (phase === 'warm-up' && rampDone()) startWindow()
  }, warmupSeconds * 1000)
  setTimeout(() => {
    if (phase === 'warm-up') startWindow() // measure anyway; answersPerConnection shows who starved
  }, (warmupSeconds + MAX_RAMP_SECONDS) * 1000)

  instance.on('response', (client: unknown, status: number, _bytes: number, ms: number) => {
    const now = performance.now()
    if (phase === 'warm-up') {
      warm.requests++
      if (status === 201) warm.created++
      if (status < 200 || status > 299) warm.non2xx++
      if (!answered.has(client)) {
        answered.add(client)
        if (rampDone()) {
          warm.rampSeconds = round((now - t0) / 1000, 2)
          if (now - t0 >= warmupSeconds * 1000) startWindow()
        }
      }
      return
    }
    if (phase === 'done') {
      if (status === 201) createdAfterWindow++
      return
    }
    latencies.push(ms)
    statusCodes[status] = (statusCodes[status] ?? 0) + 1
    ;(bySecond[Math.floor((now - windowStart) / 1000)] ??= []).push(ms)
    byConnection.set(client, (byConnection.get(client) ?? 0) + 1)
  })
  instance.on('reqError', (err: Error) => {
    if (phase === 'warm-up') warm.errors++
    else if (phase === 'measured') {
      if (/timed out/.test(err.message)) timeouts++
      else connectionErrors++
    }
  })
  await instance
  const wall = (windowEnd - windowStart) / 1000

  latencies.sort((a, b) => a - b)
  const perSecond = perSecondFigures(bySecond, seconds)
  const counts = [...byConnection.values(), ...Array<number>(Math.max(0, connections - byConnection.size)).fill(0)].sort((a, b) => a - b)
  const non2xx = Object.entries(statusCodes).reduce((n, [code, count]) => (code.startsWith('2') ? n : n + count), 0)
  return {
    warmup: warm,
    createdAfterWindow,
    measured: {
      requests: latencies.length,
      seconds: round(wall, 2),
      requestsPerSecond: round(latencies.length / wall, 0),
      latencyMs: latencyFigures(latencies),
      answersPerConnection: { min: counts[0] ?? 0, median: counts[counts.length >> 1] ?? 0, max: counts[counts.length - 1] ?? 0 },
      perSecond,
      statusCodes,
      non2xx,
      connectionErrors,
      timeouts,
      ...(firstErrorBody ? { firstErrorBody } : {}),
    },
    cpu: coresBusy(cpuBefore, cpuAfter, wall),
    loadGeneratorCpu: round((benchCpu.user + benchCpu.system) / 1e6 / wall, 2),
  }
}

/** Mean, percentiles and max of latencies sorted in ascending order. */
export function latencyFigures(sorted: number[]): LoadFigures['latencyMs'] {
  const at = (q: number) => round(percentile(sorted, q) ?? NaN, 2)
  return {
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length, 2),
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: round(sorted[sorted.length - 1] ?? NaN, 1),
  }
}

/** Each second's answers and latency percentiles, for the first `seconds` seconds. */
export function perSecondFigures(bySecond: number[][], seconds: number): LoadFigures['perSecond'] {
  return bySecond.slice(0, seconds).map((second = []) => {
    const sorted = second.sort((a, b) => a - b)
    const { p50, p99, max } = latencyFigures(sorted)
    return { requests: sorted.length, p50, p99, max }
  })
}
