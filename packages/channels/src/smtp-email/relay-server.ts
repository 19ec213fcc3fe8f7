/**
 * The agency's outbound relay, played by a real SMTP server (smtp-server) on loopback: it takes
 * what the adapter sends, keeps each mail (envelope, raw bytes, parsed headers) for the test to
 * read, and can be told to answer the next commands the way a real relay refuses (421, 451, 535,
 * 550, 552...). Used by the channel's tests, the email end-to-end test and the benchmark.
 */
import type { AddressInfo } from 'node:net'
import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import type { ConnectionFault, ProviderControl } from '../kit/provider-stand-in.ts'

export interface RelayMail {
  envelope: { mailFrom: string; rcptTo: string[] }
  raw: Buffer
  /** Lowercase header name → the raw header value(s) as sent. */
  header(name: string): string | undefined
  subject: string
  from: string
  replyTo: string
  to: string
  text: string
  html: string
  messageId: string
  inReplyTo?: string
  references: string[]
}

export type RelayStage = 'auth' | 'mail' | 'rcpt' | 'data'

export interface RelayFailure {
  stage: RelayStage
  code: number
  message?: string
}

/** Also the kit's `fixtures.provider`: it refuses, resets or stalls (no greeting) the next connection. */
export interface RelayServer extends ProviderControl {
  readonly port: number
  readonly received: RelayMail[]
  /** SMTP connections opened to the relay so far. */
  readonly connections: number
  /** Answer the next command of each stage with these codes (in order). */
  failNext(...failures: RelayFailure[]): void
  /** Forget what was received, any failure still queued and any connection fault; listen again. */
  reset(): Promise<void>
  breakNext(fault: ConnectionFault): Promise<void>
  deliveries(): string[]
  /** Wait until at least `count` mails arrived (polls with a deadline). */
  waitFor(count: number, timeoutMs?: number): Promise<RelayMail[]>
  close(): Promise<void>
}

export interface RelayServerOptions {
  /** Require AUTH with these credentials (PLAIN/LOGIN on the loopback link). */
  auth?: { user: string; pass: string }
}

export async function startRelayServer({ auth }: RelayServerOptions = {}): Promise<RelayServer> {
  const received: RelayMail[] = []
  const failures: RelayFailure[] = []
  const waiters = new Set<() => void>()
  let connections = 0
  let fault: ConnectionFault | undefined
  const held: Array<() => void> = []
  const takeFailure = (stage: RelayStage) => {
    const i = failures.findIndex((f) => f.stage === stage)
    if (i < 0) return undefined
    const [f] = failures.splice(i, 1)
    return Object.assign(new Error(f!.message ?? `Refused by the test relay (${f!.code})`), { responseCode: f!.code })
  }

  const server = new SMTPServer({
    name: 'relay.test',
    logger: false,
    disabledCommands: auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !auth,
    allowInsecureAuth: true,
    hideENHANCEDSTATUSCODES: false,
    disableReverseLookup: true,
    closeTimeout: 200,
    onConnect(_session, callback) {
      connections++
      // A stalled relay accepts the connection and never greets: the client's greeting timeout must fire.
      if (fault === 'stalled') {
        fault = undefined
        held.push(() => callback(Object.assign(new Error('stand-in released a stalled connection'), { responseCode: 421 })))
        return
      }
      callback()
    },
    onAuth(credentials, _session, callback) {
      const refused = takeFailure('auth')
      if (refused) return callback(refused)
      if (credentials.username !== auth?.user || credentials.password !== auth?.pass) {
        return callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }))
      }
      callback(null, { user: credentials.username })
    },
    onMailFrom(_address, _session, callback) {
      callback(takeFailure('mail'))
    },
    onRcptTo(_address, _session, callback) {
      callback(takeFailure('rcpt'))
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', async () => {
        const refused = takeFailure('data')
        if (refused) return callback(refused)
        const raw = Buffer.concat(chunks)
        let mail: Awaited<ReturnType<typeof simpleParser>>
        try {
          mail = await simpleParser(raw)
        } catch (err) {
          return callback(Object.assign(new Error(`The test relay could not parse the mail: ${(err as Error).message}`), { responseCode: 554 }))
        }
        const lines = new Map<string, string>()
        for (const h of mail.headerLines) lines.set(h.key, h.line.slice(h.line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim())
        const refs = mail.references === undefined ? [] : Array.isArray(mail.references) ? mail.references : mail.references.split(/\s+/)
        received.push({
          envelope: { mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', rcptTo: session.envelope.rcptTo.map((r) => r.address) },
          raw,
          header: (name) => lines.get(name.toLowerCase()),
          subject: mail.subject ?? '',
          from: mail.from?.text ?? '',
          replyTo: mail.replyTo?.text ?? '',
          to: Array.isArray(mail.to) ? mail.to.map((t) => t.text).join(', ') : (mail.to?.text ?? ''),
          text: mail.text ?? '',
          html: typeof mail.html === 'string' ? mail.html : '',
          messageId: mail.messageId ?? '',
          inReplyTo: mail.inReplyTo,
          references: refs,
        })
        for (const wake of waiters) wake()
        callback(null, `OK: queued as relay-${received.length}`)
      })
    },
  })
  server.on('error', () => {})
  // A reset relay drops the TCP connection before smtp-server sees it.
  server.server.prependListener('connection', (socket: import('node:net').Socket) => {
    if (fault !== 'reset') return
    fault = undefined
    socket.resetAndDestroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.server.address() as AddressInfo).port
  const listening = () => server.server.listening

  return {
    port,
    received,
    get connections() {
      return connections
    },
    async reset() {
      received.length = 0
      failures.length = 0
      connections = 0
      fault = undefined
      for (const release of held.splice(0)) release()
      if (!listening()) await new Promise<void>((resolve) => server.server.listen(port, '127.0.0.1', () => resolve()))
    },
    async breakNext(next) {
      if (next !== 'refused') return void (fault = next)
      // The listening socket closes at once (new connections are refused); open ones end on their own.
      server.server.close()
    },
    deliveries: () => received.map((m) => `${m.subject}\n${m.text}`),
    failNext: (...f) => void failures.push(...f),
    waitFor(count, timeoutMs = 10_000) {
      if (received.length >= count) return Promise.resolve(received)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`the relay received ${received.length} mails, expected ${count} within ${timeoutMs} ms`))
        }, timeoutMs)
        const check = () => {
          if (received.length < count) return
          clearTimeout(timer)
          waiters.delete(check)
          resolve(received)
        }
        waiters.add(check)
      })
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
