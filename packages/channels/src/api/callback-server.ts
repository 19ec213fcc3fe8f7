import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedCallback {
  headers: IncomingHttpHeaders
  body: string
}

/**
 * An integrator's callback endpoint on loopback, for tests and benchmarks: records what it receives,
 * answers with the status it is told to (a queue of statuses, then 200), and dedupes by
 * Idempotency-Key the way a careful receiver does.
 */
export interface CallbackServer {
  url: string
  received: ReceivedCallback[]
  /** Distinct Idempotency-Keys seen: what the integrator actually acted on. */
  keys: Set<string>
  /** Answer the next requests with these statuses (and optional headers), in order. */
  failNext(...answers: Array<number | { status: number; headers?: Record<string, string> }>): void
  close(): Promise<void>
}

export async function startCallbackServer(port = 0): Promise<CallbackServer> {
  const received: ReceivedCallback[] = []
  const keys = new Set<string>()
  const queue: Array<{ status: number; headers?: Record<string, string> }> = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const answer = queue.shift()
      if (answer) {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers })
        res.end(JSON.stringify({ error: `arranged ${answer.status}` }))
        return
      }
      received.push({ headers: req.headers, body })
      const key = req.headers['idempotency-key']
      if (typeof key === 'string') keys.add(key)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ id: `cb-${received.length}` }))
    })
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const { port: bound } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${bound}/intake-callback`,
    received,
    keys,
    failNext: (...answers) => queue.push(...answers.map((a) => (typeof a === 'number' ? { status: a } : a))),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
