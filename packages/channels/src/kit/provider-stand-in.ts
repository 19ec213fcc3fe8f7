/**
 * A provider's API on loopback, for an adapter's tests: the cloud cannot be reached from a test, so a
 * stand-in plays it. This helper owns what every stand-in needs — an HTTP server, a record of each
 * request, scripted answers, the connection faults the kit's "provider unreachable" cases arrange
 * (refused, reset, stalled past the adapter's timeout), and callbacks to the gateway signed the
 * provider's way — so a stand-in only writes what is protocol-specific: its `handle`.
 *
 * @example
 * import { createHmac } from 'node:crypto'
 * import { startProviderStandIn } from '@intake/channels/kit'
 *
 * const CHANNEL_SECRET = '8c570fa6dd201bb328f1c1eac23a96d8'
 * const provider = await startProviderStandIn({
 *   // LINE answers a push with 200 and `{ sentMessages: [...] }` (developers.line.biz/en/reference/messaging-api/)
 *   handle: (req) => (req.url.pathname === '/v2/bot/message/push' ? { status: 200, body: { sentMessages: [{ id: '1' }] } } : { status: 404, body: { message: 'Not found' } }),
 *   sign: ({ body }) => ({ 'x-line-signature': createHmac('sha256', CHANNEL_SECRET).update(body).digest('base64') }),
 * })
 * provider.answerNext(429) // the next request gets a bare 429, then `handle` again
 * provider.answerNext({ drop: true }) // the one after is reset without an answer
 * // A webhook, signed the provider's way (give `fetch: (req) => gateway.fetch(req)` to stay in-process).
 * await provider.callback('http://127.0.0.1:3000/channels/line/webhook', JSON.stringify({ destination: 'U0', events: [] }))
 * await provider.close()
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/** One request as the stand-in received it. */
export interface StandInRequest {
  readonly method: string
  /** Path and query as sent (`/v2/bot/message/push?x=1`), parsed against the stand-in's URL. */
  readonly url: URL
  readonly headers: IncomingHttpHeaders
  /** Empty until the body has arrived. */
  readonly body: Buffer
  /** The body decoded as UTF-8. */
  readonly text: string
  /** The status the stand-in answered with; undefined while stalled or when dropped. */
  status?: number
}

/** What the stand-in answers: a status, headers, and a body (an object is sent as JSON). */
export interface StandInAnswer {
  status: number
  headers?: Record<string, string>
  body?: string | Uint8Array | object
}

/**
 * A scripted answer: a bare status, a full answer, `{ drop: true }` (reset the connection without
 * answering, as a crashed proxy does) or `{ stall: true }` (accept and never answer, so the adapter's
 * own timeout must fire; the connection is released by `reset` or `close`).
 */
export type ScriptedAnswer = number | StandInAnswer | { drop: true } | { stall: true }

/** How the kit's "provider unreachable" cases break the next send. */
export type ConnectionFault = 'refused' | 'reset' | 'stalled'

/**
 * What the channel kit needs from a provider stand-in (`fixtures.provider`). `startProviderStandIn`
 * gives all of it; a stand-in for another protocol (an SMTP relay) implements it itself.
 */
export interface ProviderControl {
  /**
   * Make the next send fail at the connection: `refused` (nothing listens), `reset` (the connection
   * is dropped before an answer), `stalled` (accepted, never answered: the adapter's timeout fires).
   */
  breakNext(fault: ConnectionFault): void | Promise<void>
  /** Undo what was arranged (listen again, release stalled connections, forget scripted answers and records). */
  reset(): void | Promise<void>
  /** What the provider accepted for delivery so far, as text the kit can search for a tracking code. */
  deliveries(): string[] | Promise<string[]>
}

export interface ProviderStandInOptions {
  /** The provider's protocol: answer one request (default: 200 with `{}`). Runs after the body is read. */
  handle?: (req: StandInRequest) => StandInAnswer | ScriptedAnswer | Promise<StandInAnswer | ScriptedAnswer>
  /**
   * For a stand-in that already has a Node request listener: it answers instead of `handle`, with
   * the stand-in recording, scripting and breaking connections around it.
   */
  listener?: (req: IncomingMessage, res: ServerResponse) => void
  /** Which requests scripted answers apply to, by method, URL and headers (default: every request). */
  scripts?: (req: Pick<StandInRequest, 'method' | 'url' | 'headers'>) => boolean
  /** Headers that sign a callback the way the provider does (called with the exact bytes sent). */
  sign?: (callback: { url: string; body: string; method: string }) => Record<string, string>
  /** How callbacks reach the gateway (default: global fetch); an in-process test passes `(req) => gw.fetch(req)`. */
  fetch?: (req: Request) => Promise<Response>
  /** Forget the stand-in's own records too (what it accepted, keys it saw) when the kit resets it. */
  onReset?: () => void
  port?: number
}

export interface ProviderStandIn extends ProviderControl {
  /** Base URL (`http://127.0.0.1:PORT`) to give the adapter as its API base. */
  readonly url: string
  /** Every request received, oldest first, scripted and refused ones included. */
  readonly requests: StandInRequest[]
  /** Answer the next requests (those `scripts` selects) like this, in order; then `handle` again. */
  answerNext(...answers: ScriptedAnswer[]): void
  /** Stop listening: connections are refused until `acceptConnections` (or `reset`). */
  refuseConnections(): Promise<void>
  acceptConnections(): Promise<void>
  breakNext(fault: ConnectionFault): Promise<void>
  reset(): Promise<void>
  deliveries(): string[]
  /** Call the gateway as the provider does (a webhook, a status report), signed with `sign`. */
  callback(url: string, body: string, init?: { method?: string; headers?: Record<string, string> }): Promise<Response>
  close(): Promise<void>
}

function write(res: ServerResponse, answer: StandInAnswer): void {
  const { status, headers = {}, body } = answer
  if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers })
    res.end(body ?? '')
    return
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
  res.end(JSON.stringify(body))
}

/** The body as a test would search it: form-encoded values decoded, everything else as sent. */
function searchable(req: StandInRequest): string {
  if (/application\/x-www-form-urlencoded/i.test(String(req.headers['content-type'] ?? ''))) {
    return [...new URLSearchParams(req.text).values()].join('\n')
  }
  return req.text
}

export async function startProviderStandIn({ handle, listener, scripts = () => true, sign, fetch: post = fetch, onReset, port = 0 }: ProviderStandInOptions = {}): Promise<ProviderStandIn> {
  const requests: StandInRequest[] = []
  const queue: ScriptedAnswer[] = []
  const stalled = new Set<Socket>()
  let listening = false

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    const record: StandInRequest = {
      method: req.method ?? 'GET',
      url: new URL(req.url ?? '/', 'http://127.0.0.1'),
      headers: req.headers,
      body: Buffer.alloc(0),
      text: '',
    }
    requests.push(record)
    res.on('finish', () => void (record.status = res.statusCode))
    // Scripts are chosen on the request line and headers, so a listener-backed stand-in can be scripted too.
    const scripted = queue.length > 0 && scripts(record) ? queue.shift() : undefined
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      const body = Buffer.concat(chunks)
      Object.assign(record, { body, text: body.toString('utf8') })
      if (scripted !== undefined) return answerWith(scripted, req, res)
      if (listener) return
      let answer: ScriptedAnswer
      try {
        answer = handle ? await handle(record) : { status: 200, body: {} }
      } catch (err) {
        // A bug in a stand-in's handler is the test's to see, not a crashed test process.
        answer = { status: 500, body: { error: `[provider stand-in] handle threw: ${(err as Error).message}` } }
      }
      answerWith(answer, req, res)
    })
    // The stand-in's own listener reads the body too; both see every chunk.
    if (listener && scripted === undefined) listener(req, res)
  })
  function answerWith(answer: ScriptedAnswer, req: IncomingMessage, res: ServerResponse) {
    if (typeof answer === 'number') return write(res, { status: answer, body: `scripted ${answer}` })
    if ('drop' in answer) return void req.socket.resetAndDestroy()
    if ('stall' in answer) return void stalled.add(req.socket)
    write(res, answer)
  }

  const listen = (p: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(p, '127.0.0.1', () => {
        server.off('error', reject)
        listening = true
        resolve()
      })
    })
  await listen(port)
  const bound = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${bound}`

  const release = () => {
    for (const s of stalled) s.destroy()
    stalled.clear()
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!listening) return resolve()
      listening = false
      release()
      // Warm keep-alive connections would still reach us: a refused provider refuses them all.
      server.closeAllConnections()
      server.close(() => resolve())
    })

  const control: ProviderStandIn = {
    url,
    requests,
    answerNext: (...answers) => void queue.push(...answers),
    refuseConnections: stop,
    acceptConnections: () => (listening ? Promise.resolve() : listen(bound)),
    async breakNext(fault) {
      if (fault === 'refused') return stop()
      // Ahead of anything else scripted: the very next request meets the fault.
      queue.unshift(fault === 'reset' ? { drop: true } : { stall: true })
    },
    async reset() {
      queue.length = 0
      requests.length = 0
      onReset?.()
      release()
      await control.acceptConnections()
    },
    deliveries: () => requests.filter((r) => r.status !== undefined && r.status >= 200 && r.status < 300).map(searchable),
    callback(target, body, { method = 'POST', headers = {} } = {}) {
      const signed = sign ? sign({ url: target, body, method }) : {}
      return post(new Request(target, { method, headers: { ...headers, ...signed }, body }))
    },
    close: stop,
  }
  return control
}
