/**
 * An open-loop load at an even pace: `rate` requests per second, one every 1/rate seconds over up
 * to `connections` keep-alive connections, each request's latency counted from the moment it was
 * due (so a server that falls behind is charged for the wait: no coordinated omission).
 * autocannon's overallRate cannot do this: it sends each connection's quota for a second as fast as
 * it can at the start of the second and then waits, so its "paced" load arrives in bursts.
 * Every request due in the measured window is measured, however late its answer comes.
 */
import { Agent, request } from 'node:http'
import { coresBusy, round, sampleCpu } from './harness.ts'
import { latencyFigures, perSecondFigures, type HttpLoadOptions, type HttpLoadResult, type WarmupFigures } from './http-load.ts'

const BACKLOG_MS = 100
const MAX_WARMUP_MS = 60_000

export async function pacedLoad(options: HttpLoadOptions & { rate: number }): Promise<HttpLoadResult> {
  const { port, path, connections, warmupSeconds, seconds, nextRequest, processes, rate } = options
  const agent = new Agent({ keepAlive: true, maxSockets: connections })
  const warm: WarmupFigures = { requests: 0, created: 0, non2xx: 0, errors: 0, rampSeconds: NaN, seconds: warmupSeconds }
  const latencies: number[] = []
  const bySecond: number[][] = []
  const statusCodes: Record<string, number> = {}
  let connectionErrors = 0
  let firstErrorBody: string | undefined
  const t0 = performance.now()
  // The window opens after the warm-up once the backlog of the cold start (new connections, code not
  // yet optimised) is gone: the latest answer came less than BACKLOG_MS after it was due.
  let windowStart = Infinity
  let windowEnd = Infinity
  let lastLagMs = Infinity
  let cpuBefore: Record<string, number | undefined> = {}
  let benchBefore = process.cpuUsage()

  const fire = (dueAt: number) =>
    new Promise<void>((resolve) => {
      const { headers, body } = nextRequest()
      const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const now = performance.now()
          lastLagMs = now - dueAt
          const status = res.statusCode ?? 0
          const ok = status >= 200 && status < 300
          if (dueAt < windowStart) {
            warm.requests++
            if (status === 201) warm.created++
            if (!ok) warm.non2xx++
          } else {
            const ms = now - dueAt
            latencies.push(ms)
            statusCodes[status] = (statusCodes[status] ?? 0) + 1
            ;(bySecond[Math.floor((dueAt - windowStart) / 1000)] ??= []).push(ms)
            if (!ok && firstErrorBody === undefined) firstErrorBody = `${status} ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`
          }
          resolve()
        })
      })
      req.on('error', () => {
        if (dueAt < windowStart) warm.errors++
        else connectionErrors++
        resolve()
      })
      req.end(body)
    })

  const inFlight = new Set<Promise<void>>()
  const interval = 1000 / rate
  let sent = 0
  let windowOpened = false
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now()
      const warmedUp = now - t0 >= warmupSeconds * 1000 && (lastLagMs < BACKLOG_MS || now - t0 >= MAX_WARMUP_MS)
      if (!windowOpened && warmedUp) {
        windowOpened = true
        windowStart = now
        windowEnd = now + seconds * 1000
        warm.seconds = round((now - t0) / 1000, 2)
        cpuBefore = sampleCpu(processes)
        benchBefore = process.cpuUsage()
      }
      // Every request due by now goes out, each stamped with the time it was due.
      for (let due = t0 + sent * interval; due <= now && due < windowEnd; due = t0 + sent * interval) {
        sent++
        const p = fire(due)
        inFlight.add(p)
        void p.then(() => inFlight.delete(p))
      }
      if (now >= windowEnd) resolve()
      else setTimeout(tick, 1)
    }
    tick()
  })
  const cpuAfter = sampleCpu(processes)
  const benchCpu = process.cpuUsage(benchBefore)
  await Promise.all(inFlight)
  agent.destroy()

  latencies.sort((a, b) => a - b)
  const non2xx = Object.entries(statusCodes).reduce((n, [code, count]) => (code.startsWith('2') ? n : n + count), 0)
  return {
    warmup: warm,
    // Every request due in the window is measured, however late its answer.
    createdAfterWindow: 0,
    measured: {
      requests: latencies.length,
      seconds,
      requestsPerSecond: round(latencies.length / seconds, 0),
      latencyMs: latencyFigures(latencies),
      perSecond: perSecondFigures(bySecond, seconds),
      // Requests are not tied to connections here; the agent spreads them over up to `connections`.
      answersPerConnection: { min: NaN, median: NaN, max: NaN },
      statusCodes,
      non2xx,
      connectionErrors,
      timeouts: 0,
      ...(firstErrorBody ? { firstErrorBody } : {}),
    },
    cpu: coresBusy(cpuBefore, cpuAfter, seconds),
    loadGeneratorCpu: round((benchCpu.user + benchCpu.system) / 1e6 / seconds, 2),
  }
}
