/**
 * Replies out over SMTP (nodemailer, pooled connections) to the agency's relay. Each outbound
 * message gets our own Message-ID, stable across retries, and the citizen's thread headers, so the
 * conversation stays one thread in their mail client and their answer finds its case again.
 */
import { createTransport } from 'nodemailer'
import type { OutboundMessage, SendError, SendResult } from '@intake/core'
import { sendError } from '@intake/core'
import { textToHtml } from './html-text.ts'

export interface SmtpTransportOptions {
  host: string
  /** Default 587 (submission), or 465 when `secure`. */
  port?: number
  /** TLS from the first byte (port 465). Otherwise STARTTLS is used when the relay offers it. */
  secure?: boolean
  /** Refuse to send unless the relay upgrades with STARTTLS. */
  requireTls?: boolean
  auth?: { user: string; pass: string }
  /** Pooled connections to the relay (default 5). */
  maxConnections?: number
  /** Give up on a connection or an answer after this long (default 10 s / 30 s); the outbox retries. */
  connectionTimeoutMs?: number
  socketTimeoutMs?: number
  /** Passed to Node's TLS (e.g. `{ rejectUnauthorized: false }` for a relay with a self-signed certificate). */
  tls?: { rejectUnauthorized?: boolean; servername?: string; ca?: string | Buffer }
}

export interface SenderOptions {
  transport?: SmtpTransportOptions
  /** The channel's default sender address (the first of the agency's addresses). */
  address: string
  /** Display name when the message names no office. */
  name: string
  /** Right-hand side of our Message-IDs. */
  messageIdDomain: string
  /** Envelope sender (bounces go there); default `address`. */
  bounceAddress?: string
  subject?: (msg: OutboundMessage) => string
}

export interface Sender {
  send(msg: OutboundMessage): Promise<SendResult>
  close(): void
}

/** `<intake.{id}@{domain}>`: our message id is stable across retries, so a retry is the same message. */
export function outboundMessageId(msg: Pick<OutboundMessage, 'id'>, domain: string): string {
  return `<intake.${msg.id.replace(/[^A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]/g, '_')}@${domain}>`
}

const SUBJECTS: Record<'zh' | 'en', Record<OutboundMessage['kind'], string>> = {
  zh: { acknowledgement: '您的来信已受理', reply: '关于您来信的答复', notice: '您的来信有新进展', alert: '紧急案件', forward: '案件转办' },
  en: { acknowledgement: 'We received your message', reply: 'Reply to your message', notice: 'Update on your message', alert: 'Urgent case', forward: 'Case forwarded' },
}

/**
 * `Re: <the citizen's subject> [CODE]` when the message carries the subject, else a short subject
 * per kind in the case's language. The tracking code in brackets lets a citizen who starts a new
 * mail but keeps the subject reach the same case.
 */
export function defaultSubject(msg: OutboundMessage): string {
  const code = `[${msg.trackingCode}]`
  const original = msg.subject?.replace(/\s+/g, ' ').trim()
  if (original) {
    const withoutCode = original.split(code).join('').replace(/\s+/g, ' ').trim()
    const base = /^(?:re|回复|答复)\s*[:：]/i.test(withoutCode) ? withoutCode : `Re: ${withoutCode}`
    return `${base} ${code}`
  }
  const lang = msg.language.toLowerCase().startsWith('zh') ? 'zh' : 'en'
  return `${SUBJECTS[lang][msg.kind]} ${code}`
}

const bracketed = (id: string) => (id.startsWith('<') ? id : `<${id}>`)

export function createSender({ transport, address, name, messageIdDomain, bounceAddress = address, subject = defaultSubject }: SenderOptions): Sender {
  let transporter: ReturnType<typeof createPool> | undefined
  const pool = () => (transporter ??= createPool(transport!))

  return {
    async send(msg) {
      if (!transport) return sendError('config', 'no outbound transport is configured for this smtp-email channel')
      const to = msg.to.id.trim()
      // RFC 2606 reserves .invalid: the citizen's mail carried no usable sender address.
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(to) || /\.invalid$/i.test(to)) {
        return sendError('invalid_recipient', `"${to}" is not an email address we can write to`)
      }
      const messageId = outboundMessageId(msg, messageIdDomain)
      const references = [...new Set([...(msg.references ?? []), ...(msg.inReplyTo ? [msg.inReplyTo] : [])].map(bracketed))]
      const from = { name: msg.office?.name ?? name, address: msg.office?.email ?? address }
      // RFC 3834 §5: an automatic message says so, and a well-behaved autoresponder stays silent.
      // A staff reply is written by a person; an alert to an office is generated, not a response.
      const automatic = msg.kind === 'reply' ? undefined : msg.kind === 'alert' ? 'auto-generated' : 'auto-replied'
      try {
        await pool().sendMail({
          messageId,
          from,
          replyTo: from,
          to: msg.to.displayName ? { name: msg.to.displayName, address: to } : to,
          envelope: { from: bounceAddress, to },
          subject: subject(msg),
          text: msg.text,
          html: textToHtml(msg.text),
          ...(msg.inReplyTo ? { inReplyTo: bracketed(msg.inReplyTo) } : {}),
          ...(references.length ? { references } : {}),
          headers: {
            ...(automatic ? { 'Auto-Submitted': automatic } : {}),
            // Exchange / Outlook honour this to suppress out-of-office answers to our acknowledgements.
            ...(automatic ? { 'X-Auto-Response-Suppress': 'All' } : {}),
            'X-Intake-Tracking-Code': msg.trackingCode,
          },
        })
      } catch (err) {
        return { ok: false, error: classifySmtpError(err) }
      }
      return { ok: true, providerId: messageId }
    },
    close() {
      transporter?.close()
      transporter = undefined
    },
  }
}

function createPool(t: SmtpTransportOptions) {
  return createTransport({
    pool: true,
    host: t.host,
    port: t.port ?? (t.secure ? 465 : 587),
    secure: t.secure ?? false,
    requireTLS: t.requireTls ?? false,
    auth: t.auth,
    maxConnections: t.maxConnections ?? 5,
    connectionTimeout: t.connectionTimeoutMs ?? 10_000,
    greetingTimeout: t.connectionTimeoutMs ?? 10_000,
    socketTimeout: t.socketTimeoutMs ?? 30_000,
    tls: t.tls,
    logger: false,
    debug: false,
  })
}

const NETWORK = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EPROXY'])

/**
 * SMTP replies into the send-error taxonomy. RFC 5321 §4.2.1: 4yz is transient (try later),
 * 5yz permanent. RFC 3463 enhanced codes refine 5yz: x.1.x addressing (no such mailbox),
 * x.3.4 / 552 too big, x.7.x policy; 535 (RFC 4954) is our relay credentials.
 */
export function classifySmtpError(err: unknown): SendError {
  const e = (err ?? {}) as { code?: string; responseCode?: number; response?: string; message?: string; command?: string }
  const reply = (e.response ?? e.message ?? 'unknown error').replace(/\s+/g, ' ').slice(0, 300)
  const status = e.responseCode
  const enhanced = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(reply)
  const message = status ? `relay answered ${status}${e.command ? ` to ${e.command}` : ''}: ${reply}` : `${e.code ?? 'error'}: ${reply}`
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH' || status === 535 || status === 534 || status === 530 || status === 538) {
    return { code: 'config', retryable: false, message }
  }
  if (typeof status === 'number' && status >= 400 && status < 500) return { code: 'throttled', retryable: true, message }
  if (typeof status === 'number' && status >= 500) {
    if (status === 552 || status === 523 || enhanced?.[2] === '3') return { code: 'rejected', retryable: false, message }
    if (enhanced?.[2] === '1' || ((status === 550 || status === 551 || status === 553) && enhanced?.[2] !== '7')) {
      return { code: 'invalid_recipient', retryable: false, message }
    }
    return { code: 'rejected', retryable: false, message }
  }
  if (e.code && NETWORK.has(e.code)) return { code: 'connection', retryable: true, message }
  return { code: 'unknown', retryable: true, message }
}
