/**
 * The built-in SMTP listener (smtp-server): the agency's MX, or a relay behind it, hands citizen
 * mail to Intake here. The SMTP answers carry the persistence promise: 250 only once the message
 * is stored, 451 (try again later) when storing failed so the sending MTA keeps the mail queued
 * and retries (RFC 5321 §4.2.5: a 4yz reply means "the same command may succeed later").
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server'
import type { Logger } from '@intake/core'
import type { MailEnvelope } from './parse.ts'

export interface SmtpListenOptions {
  /** Interface to bind (default 127.0.0.1: put the agency's MX or a relay in front). */
  host?: string
  /** Port to bind (default 2525); 0 picks a free one, readable from the adapter's `smtpPort`. */
  port?: number
  /** Name in the greeting and EHLO answer (default: the host name of the machine). */
  hostname?: string
  /** SMTP AUTH (PLAIN, LOGIN): when users are given, a client must log in before MAIL FROM. */
  auth?: { users: Record<string, string> }
  /** STARTTLS with this key and certificate (PEM). Without it STARTTLS is not offered. */
  tls?: { key: string | Buffer; cert: string | Buffer }
  /**
   * Accept AUTH on a connection that has not done STARTTLS (default: only when no `tls` is
   * configured, e.g. on a loopback link from a relay on the same machine).
   */
  allowInsecureAuth?: boolean
  /** Disconnect an idle client after this long (default 60 s). */
  socketTimeoutMs?: number
  /** On stop, how long a transaction in progress may take to finish (default 5 s). */
  closeTimeoutMs?: number
  /** Clients connected at once; the next one is greeted with 421 and disconnected (default 25). */
  maxClients?: number
  /**
   * Bytes of mail held in memory across all sessions at once (default: four maximum-size mails).
   * A mail that would go over is refused with 452 (insufficient storage: the sender retries later).
   */
  maxBufferedBytes?: number
}

/** What the adapter did with one mail: stored (a case or a follow-up), or recorded and ignored. */
export type MailVerdict = 'stored' | 'ignored'

export interface SmtpListener {
  readonly port: number
  close(): Promise<void>
}

export interface StartListenerOptions extends SmtpListenOptions {
  /** Largest mail accepted, advertised as SIZE (RFC 1870); more is refused with 552 at DATA. */
  maxBytes: number
  /** Lowercase recipient addresses accepted; RCPT TO anything else gets 550. */
  recipients: ReadonlySet<string>
  log: Logger
  /** Count a refusal for the gateway's metrics (`inbound_rejected` with a code). */
  count?(name: 'inbound_rejected', labels: Record<string, string>): void
  /** Persist (or ignore) one mail. Resolves only once it is stored; a rejection answers 451. */
  receive(raw: Buffer, envelope: MailEnvelope): Promise<MailVerdict>
}

const smtpError = (responseCode: number, message: string) => Object.assign(new Error(message), { responseCode })
const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest()

export async function startListener(options: StartListenerOptions): Promise<SmtpListener> {
  const { host = '127.0.0.1', port = 2525, maxBytes, recipients, log, receive, auth, tls, count = () => {} } = options
  const maxBufferedBytes = options.maxBufferedBytes ?? 4 * maxBytes
  /** Bytes every session in DATA holds right now; a mail is refused rather than grow it past the budget. */
  let buffered = 0
  const users = new Map(Object.entries(auth?.users ?? {}).map(([u, p]) => [u, digest(p)]))
  const disabled = [...(users.size ? [] : ['AUTH']), ...(tls ? [] : ['STARTTLS'])]

  const server = new SMTPServer({
    name: options.hostname,
    banner: 'Intake',
    size: maxBytes,
    // smtp-server then answers 552 (5.3.4) after DATA whatever onData says; onData drops the bytes.
    rejectOversized: true,
    hideENHANCEDSTATUSCODES: false,
    disabledCommands: disabled,
    authOptional: users.size === 0,
    allowInsecureAuth: options.allowInsecureAuth ?? !tls,
    authMethods: ['PLAIN', 'LOGIN'],
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    disableReverseLookup: true,
    socketTimeout: options.socketTimeoutMs ?? 60_000,
    // smtp-server greets the client past this count with 421 (RFC 5321 §3.8: service not available) and closes.
    maxClients: options.maxClients ?? 25,
    closeTimeout: options.closeTimeoutMs ?? 5_000,
    logger: false,

    onAuth(credentials, session, callback) {
      const expected = credentials.username !== undefined ? users.get(credentials.username) : undefined
      // Compare digests, so the time taken says nothing about the password's length or content.
      const presented = digest(credentials.password ?? '')
      const ok = expected !== undefined && timingSafeEqual(expected, presented)
      if (!ok) {
        count('inbound_rejected', { code: 'auth_failed' })
        log.warn('smtp auth refused', { method: credentials.method, remote: session.remoteAddress })
        return callback(smtpError(535, 'Authentication credentials invalid'))
      }
      callback(null, { user: credentials.username })
    },

    onRcptTo(address, _session, callback) {
      const rcpt = address.address.toLowerCase()
      if (!recipients.has(rcpt)) {
        // RFC 5321 §3.6.2 / RFC 3463 5.1.1: not a mailbox here. A relay would have to bounce, so refuse now.
        count('inbound_rejected', { code: 'unknown_recipient' })
        return callback(smtpError(550, `Mailbox ${rcpt} does not accept mail here`))
      }
      callback()
    },

    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = []
      let bytes = 0
      let held = 0
      let overBudget = false
      const release = () => {
        buffered -= held
        held = 0
        chunks.length = 0
      }
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length
        if (bytes > maxBytes || overBudget) return
        if (buffered + chunk.length > maxBufferedBytes) {
          // Drop what this mail holds at once: the others in flight keep the memory they need.
          overBudget = true
          release()
          return
        }
        chunks.push(chunk)
        held += chunk.length
        buffered += chunk.length
      })
      stream.on('error', release)
      stream.on('end', () => {
        if (stream.sizeExceeded || bytes > maxBytes) {
          release()
          count('inbound_rejected', { code: 'too_large' })
          log.info('inbound mail refused: too large', { bytes, maxBytes })
          return callback(smtpError(552, `Message exceeds fixed maximum message size ${maxBytes}`))
        }
        if (overBudget) {
          count('inbound_rejected', { code: 'busy' })
          log.warn('inbound mail refused for now: too much mail in memory at once', { bytes, maxBufferedBytes })
          // RFC 5321 §4.2.3: 452 insufficient system storage — a transient refusal, the sender retries.
          return callback(smtpError(452, 'Too much mail in progress; try again later'))
        }
        const envelope: MailEnvelope = {
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
        }
        // The mail counts against the budget until it is stored and its bytes can go.
        receive(Buffer.concat(chunks, held), envelope).then(
          (verdict) => {
            release()
            callback(null, verdict === 'stored' ? 'OK: message stored' : 'OK: message recorded')
          },
          (err: unknown) => {
            release()
            log.error('inbound mail not stored; answered 451 so the sender retries', { error: err })
            callback(smtpError(451, 'Could not store the message; try again later'))
          },
        )
      })
    },
  })
  // An 'error' event without a listener would throw and take the gateway down (a client that resets mid-TLS).
  server.on('error', (err) => log.warn('smtp listener error', { error: err }))

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err)
    server.server.once('error', onError)
    server.listen(port, host, () => {
      server.server.off('error', onError)
      resolve()
    })
  })
  const bound = (server.server.address() as AddressInfo).port
  log.info('smtp listener started', { host, port: bound, maxBytes, auth: users.size > 0, starttls: !!tls })
  return {
    port: bound,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
