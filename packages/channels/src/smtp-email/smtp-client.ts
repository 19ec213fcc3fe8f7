/**
 * The sending side of a citizen's mail, for tests and the benchmark: nodemailer handing raw bytes
 * to the listener exactly as they are (`envelope` + `raw`), and a bare line-by-line SMTP session
 * for what nodemailer will not do (a null reverse-path, reading the EHLO answer, dropping the
 * connection mid-DATA).
 */
import { connect, type Socket } from 'node:net'
import { createTransport } from 'nodemailer'

export interface DeliverOptions {
  from?: string
  to?: string | string[]
  auth?: { user: string; pass: string }
  /** Upgrade with STARTTLS and trust this certificate (PEM). */
  ca?: string | Buffer
  /** Do not attempt STARTTLS even when offered. */
  ignoreTls?: boolean
}

/** Send raw RFC 5322 bytes to the listener; resolves with the final SMTP answer, rejects with the refusal. */
export async function deliverRaw(port: number, raw: string | Buffer, { from = 'citizen@example.net', to = 'hotline@intake.example', auth, ca, ignoreTls }: DeliverOptions = {}): Promise<string> {
  const transport = createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    auth,
    ignoreTLS: ignoreTls ?? !ca,
    requireTLS: !!ca,
    tls: ca ? { ca, servername: 'localhost' } : undefined,
    logger: false,
  })
  try {
    const info = await transport.sendMail({ envelope: { from, to: Array.isArray(to) ? to : [to] }, raw })
    return info.response
  } finally {
    transport.close()
  }
}

/** Many mails over a pool of SMTP connections (nodemailer's pool), as a busy MTA would send them. */
export interface MailPool {
  send(raw: string | Buffer, envelope: { from: string; to: string[] }): Promise<string>
  close(): void
}

export function mailPool(port: number, connections: number, host = '127.0.0.1'): MailPool {
  const pool = createTransport({ pool: true, maxConnections: connections, maxMessages: Infinity, host, port, secure: false, ignoreTLS: true, logger: false })
  return {
    send: async (raw, envelope) => (await pool.sendMail({ envelope, raw })).response,
    close: () => pool.close(),
  }
}

/** A plain SMTP conversation, one command at a time. */
export interface SmtpSession {
  readonly greeting: string
  /** Send one command line; resolves with the whole (possibly multi-line) reply. */
  command(line: string): Promise<string>
  /** After a 354: send the message (dot-stuffed here) and the terminating dot; resolves with the reply. */
  data(raw: string | Buffer): Promise<string>
  /** Write bytes without waiting for a reply (e.g. half a message before dropping the connection). */
  write(bytes: string | Buffer): void
  close(): void
  readonly socket: Socket
}

export function smtpSession(port: number, host = '127.0.0.1'): Promise<SmtpSession> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host)
    let buffer = ''
    let pending: { resolve: (reply: string) => void; reject: (err: Error) => void } | undefined
    const replies: string[] = []
    const deliver = () => {
      // A reply is complete at a line "NNN text" (a hyphen after the code means more lines follow).
      const m = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(buffer)
      if (!m) return
      const end = m.index + m[0].length
      const reply = buffer.slice(0, end).trimEnd()
      buffer = buffer.slice(end)
      if (pending) {
        const p = pending
        pending = undefined
        p.resolve(reply)
      } else replies.push(reply)
      deliver()
    }
    const next = () =>
      new Promise<string>((res, rej) => {
        const queued = replies.shift()
        if (queued !== undefined) return res(queued)
        pending = { resolve: res, reject: rej }
      })
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      buffer += chunk
      deliver()
    })
    socket.on('error', (err) => (pending ? pending.reject(err) : reject(err)))
    socket.on('close', () => pending?.reject(new Error('connection closed')))
    next().then((greeting) => {
      resolve({
        greeting,
        socket,
        command(line) {
          socket.write(`${line}\r\n`)
          return next()
        },
        data(raw) {
          const text = Buffer.isBuffer(raw) ? raw.toString('latin1') : Buffer.from(raw, 'utf8').toString('latin1')
          const body = text.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..')
          socket.write(Buffer.from(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`, 'latin1'))
          return next()
        },
        write: (bytes) => void socket.write(bytes),
        close: () => socket.destroy(),
      })
    }, reject)
  })
}

export interface ComposeOptions {
  from?: string
  to?: string
  subject?: string
  /** Without brackets it is wrapped; `null` leaves the header out. */
  messageId?: string | null
  inReplyTo?: string
  references?: string[]
  headers?: Record<string, string>
  /** The text/plain body (UTF-8). */
  text?: string
  /** An HTML body instead of / besides the text. */
  html?: string
  attachments?: Array<{ filename: string; contentType: string; content: Buffer }>
}

const word = (s: string) => (/^[\x20-\x7e]*$/.test(s) ? s : `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`)
const b64lines = (b: Buffer) => b.toString('base64').replace(/.{76}/g, '$&\r\n')

/** A mail as a citizen's client would write it: UTF-8, base64 parts, RFC 2047 encoded headers. */
export function composeMail({
  from = '买买提 <maimaiti@example.net>',
  to = 'hotline@intake.example',
  subject = '巴仁镇的路灯坏了',
  messageId = `${Math.random().toString(36).slice(2)}.${Date.now()}@example.net`,
  inReplyTo,
  references,
  headers = {},
  text = '伽师县巴仁镇的路灯坏了一个月了，晚上很黑。',
  html,
  attachments = [],
}: ComposeOptions = {}): string {
  const named = /^(.*?)\s*<([^>]+)>$/.exec(from)
  const fromHeader = named ? `${word(named[1]!.replace(/^"|"$/g, ''))} <${named[2]}>` : from
  const lines = [`From: ${fromHeader}`, `To: ${to}`, `Subject: ${word(subject)}`, `Date: ${new Date(Date.UTC(2026, 10, 20, 2)).toUTCString()}`]
  if (messageId !== null) lines.push(`Message-ID: ${messageId.startsWith('<') ? messageId : `<${messageId}>`}`)
  if (inReplyTo) lines.push(`In-Reply-To: ${inReplyTo}`)
  if (references?.length) lines.push(`References: ${references.join(' ')}`)
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`)
  lines.push('MIME-Version: 1.0')
  const textPart = ['Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: base64', '', b64lines(Buffer.from(text, 'utf8'))]
  const htmlPart = html ? ['Content-Type: text/html; charset=UTF-8', 'Content-Transfer-Encoding: base64', '', b64lines(Buffer.from(html, 'utf8'))] : []
  let body: string[]
  if (!attachments.length && !html) body = textPart
  else if (!attachments.length && html && !text) body = htmlPart
  else {
    const boundary = `=_intake_${Math.random().toString(36).slice(2)}`
    const parts = [...(text ? [textPart] : []), ...(html ? [htmlPart] : [])]
    for (const a of attachments) {
      parts.push([`Content-Type: ${a.contentType}; name="${a.filename}"`, `Content-Disposition: attachment; filename="${a.filename}"`, 'Content-Transfer-Encoding: base64', '', b64lines(a.content)])
    }
    body = [`Content-Type: multipart/mixed; boundary="${boundary}"`, '', ...parts.flatMap((p) => [`--${boundary}`, ...p]), `--${boundary}--`]
  }
  return [...lines, ...body, ''].join('\r\n')
}
