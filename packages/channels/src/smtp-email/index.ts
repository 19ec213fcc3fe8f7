/**
 * Email as a channel: citizens write to the agency's address; mail reaches Intake through the
 * built-in SMTP listener (the agency's MX or a relay hands it over) and/or by polling an IMAP
 * mailbox; acknowledgements and replies go out through the agency's SMTP relay, threaded into the
 * citizen's conversation.
 *
 * @example
 * smtpEmailChannel({
 *   addresses: ['hotline@jiashi.gov.example'],
 *   listen: { host: '0.0.0.0', port: 25, tls: { key, cert } },
 *   transport: { host: 'relay.jiashi.gov.example', port: 587, auth: { user, pass } },
 * })
 */
import { z } from 'zod'
import type { ChannelAdapter, ChannelContext, OutboundMessage } from '@intake/core'
import { startImapPoller, type ImapPoller, type ImapPollOptions } from './imap.ts'
import { startListener, type MailVerdict, type SmtpListener, type SmtpListenOptions } from './listener.ts'
import { parseMail, type MailEnvelope } from './parse.ts'
import { createSender, type Sender, type SmtpTransportOptions } from './send.ts'

export { automatedReason, parseMail, type MailEnvelope, type MailFlag, type MailRaw, type ParsedMail } from './parse.ts'
export { classifySmtpError, defaultSubject, outboundMessageId, type SmtpTransportOptions } from './send.ts'
export { stripQuoted } from './quotes.ts'
export type { ImapPollOptions } from './imap.ts'
export type { SmtpListenOptions, MailVerdict } from './listener.ts'

export interface SmtpEmailOptions {
  /** The agency's addresses: mail to any other recipient is refused; the first is the default sender. */
  addresses: string[]
  /** Sender display name when a message names no office (default "Intake"). */
  fromName?: string
  /** Domain of our Message-IDs (default: the first address's domain). */
  messageIdDomain?: string
  /** Envelope sender of outbound mail, where bounces go (default: the first address). */
  bounceAddress?: string
  /** The SMTP listener; `false` for none (IMAP only). Default: 127.0.0.1:2525. */
  listen?: SmtpListenOptions | false
  /** Poll this IMAP mailbox for unseen mail. */
  imap?: ImapPollOptions
  /** The agency's relay for acknowledgements and replies. Without it, replies dead-letter with a config error. */
  transport?: SmtpTransportOptions
  /** Largest mail taken in, in bytes (default 25 MiB). */
  maxBytes?: number
  /** Subject of outbound mail (default: `Re: <subject> [CODE]`, or a short subject per kind). */
  subject?: (msg: OutboundMessage) => string
}

/** The adapter, plus where the listener is bound (port 0 picks a free one). */
export interface SmtpEmailAdapter extends ChannelAdapter {
  /** The listener's bound port once started, else undefined. */
  readonly smtpPort: number | undefined
}

const email = z.string().regex(/^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/, 'expected an email address like hotline@agency.example')
const pem = z.union([z.string().min(1), z.instanceof(Buffer)])
const Options = z.object({
  addresses: z.array(email).min(1, 'give at least one address the agency receives mail at'),
  fromName: z.string().min(1).max(200).optional(),
  messageIdDomain: z.string().regex(/^[A-Za-z0-9.-]+$/, 'expected a domain name').optional(),
  bounceAddress: email.optional(),
  listen: z
    .union([
      z.literal(false),
      z.object({
        host: z.string().min(1).optional(),
        port: z.number().int().min(0).max(65535).optional(),
        hostname: z.string().min(1).optional(),
        auth: z.object({ users: z.record(z.string().min(1), z.string().min(8, 'passwords need 8+ characters')).refine((u) => Object.keys(u).length > 0, 'give at least one user') }).optional(),
        tls: z.object({ key: pem, cert: pem }).optional(),
        allowInsecureAuth: z.boolean().optional(),
        socketTimeoutMs: z.number().int().positive().optional(),
        closeTimeoutMs: z.number().int().positive().optional(),
        maxClients: z.number().int().min(1).max(10_000).optional(),
        maxBufferedBytes: z.number().int().min(1024).optional(),
      }),
    ])
    .optional(),
  imap: z
    .object({
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).optional(),
      secure: z.boolean().optional(),
      auth: z.object({ user: z.string().min(1), pass: z.string().min(1) }),
      mailbox: z.string().min(1).optional(),
      moveTo: z.string().min(1).optional(),
      pollMs: z.number().int().min(50).optional(),
      timeoutMs: z.number().int().positive().optional(),
      tls: z.object({ rejectUnauthorized: z.boolean().optional(), servername: z.string().optional(), ca: pem.optional() }).optional(),
    })
    .optional(),
  transport: z
    .object({
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).optional(),
      secure: z.boolean().optional(),
      requireTls: z.boolean().optional(),
      auth: z.object({ user: z.string().min(1), pass: z.string().min(1) }).optional(),
      maxConnections: z.number().int().min(1).max(100).optional(),
      connectionTimeoutMs: z.number().int().positive().optional(),
      socketTimeoutMs: z.number().int().positive().optional(),
      tls: z.object({ rejectUnauthorized: z.boolean().optional(), servername: z.string().optional(), ca: pem.optional() }).optional(),
    })
    .optional(),
  maxBytes: z.number().int().min(1024).max(1024 * 1024 * 1024).optional(),
  subject: z.custom<(msg: OutboundMessage) => string>((v) => typeof v === 'function', 'expected a function').optional(),
})

/** The gateway's counters, for what the listener refuses or ignores outside the HTTP path. */
const counter = (ctx: ChannelContext) => (name: string, labels: Record<string, string>) => ctx.metrics.count(name, { channelId: ctx.channelId, ...labels })

export function smtpEmailChannel(options: SmtpEmailOptions): SmtpEmailAdapter {
  const parsed = Options.safeParse(options)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new Error(`[smtp-email channel] ${issue.path.join('.') || '(options)'}: ${issue.message}`)
  }
  const { addresses, fromName = 'Intake', maxBytes = 25 * 1024 * 1024, imap, transport, subject, bounceAddress } = options
  const listen = options.listen === undefined ? {} : options.listen
  if (listen === false && !imap) throw new Error('[smtp-email channel] listen: with the listener off, give an imap mailbox to read, or no mail comes in')
  const own = new Set(addresses.map((a) => a.toLowerCase()))
  const defaultAddress = addresses[0]!.toLowerCase()
  const messageIdDomain = options.messageIdDomain ?? defaultAddress.split('@')[1]!
  const secrets = [
    ...Object.values(listen ? (listen.auth?.users ?? {}) : {}),
    ...(imap ? [imap.auth.pass] : []),
    ...(transport?.auth ? [transport.auth.pass] : []),
  ]

  let listener: SmtpListener | undefined
  let poller: ImapPoller | undefined
  let sender: Sender | undefined
  const outbound = () => (sender ??= createSender({ transport, address: defaultAddress, name: fromName, messageIdDomain, bounceAddress, subject }))

  /** Parse, then store (or record as ignored). Resolves only once stored; throws to make the sender retry. */
  async function receive(ctx: ChannelContext, raw: Buffer, source: 'smtp' | 'imap', envelope?: MailEnvelope): Promise<MailVerdict> {
    const mail = await parseMail(raw, { channelId: ctx.channelId, addresses: own, blobs: ctx.blobs, now: ctx.now, source, envelope })
    if (mail.kind === 'ignored') {
      // Auto-replies and bounces are recorded, never answered: answering them is how mail loops start.
      counter(ctx)('inbound_ignored', { reason: mail.reason.split(':')[0]! })
      ctx.log.info('inbound mail ignored', { reason: mail.reason, source, messageId: mail.messageId, from: mail.from, blobKey: mail.blobKey })
      return 'ignored'
    }
    const result = await ctx.ingest(mail.message)
    if (mail.flags.length) ctx.log.info('inbound mail stored with flags', { flags: mail.flags, caseId: result.caseId, externalId: mail.message.externalId })
    return 'stored'
  }

  return {
    kind: 'smtp-email',
    capabilities: { media: true, threading: true, maxText: 20_000 },
    secrets,
    get smtpPort() {
      return listener?.port
    },

    async start(ctx) {
      const log = ctx.log.child({ component: 'smtp-email' })
      if (listen) {
        listener = await startListener({
          ...listen,
          maxBytes,
          recipients: own,
          log,
          count: counter(ctx),
          receive: (raw, envelope) => receive(ctx, raw, 'smtp', envelope),
        })
      }
      if (imap) poller = startImapPoller({ ...imap, maxBytes, log, receive: (raw) => receive(ctx, raw, 'imap') })
    },

    async stop() {
      await poller?.stop()
      poller = undefined
      await listener?.close()
      listener = undefined
      sender?.close()
      sender = undefined
    },

    send: (msg) => outbound().send(msg),
  }
}
