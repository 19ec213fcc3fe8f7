/**
 * IMAP polling (imapflow), for an agency whose mail stays on its own server: every `pollMs` the
 * poller opens the mailbox, takes the unseen messages one by one, hands each to the same intake
 * as the SMTP listener, and marks it (\Seen, or moved to a folder) only after it was stored. A
 * message whose storing failed stays unseen and is taken again on the next poll — nothing lost.
 */
import { ImapFlow } from 'imapflow'
import type { Logger } from '@intake/core'
import type { MailVerdict } from './listener.ts'

export interface ImapPollOptions {
  host: string
  /** Default 993 with `secure`, else 143. */
  port?: number
  /** TLS from the first byte (IMAPS, port 993; default true). Without it STARTTLS is used when offered. */
  secure?: boolean
  auth: { user: string; pass: string }
  /** Mailbox to read (default INBOX). */
  mailbox?: string
  /** Move taken messages here instead of flagging them \Seen (the folder must exist). */
  moveTo?: string
  /** Time between polls (default 60 s). */
  pollMs?: number
  /** Give up on a connection or an answer after this long (default 30 s); the next poll tries again. */
  timeoutMs?: number
  tls?: { rejectUnauthorized?: boolean; servername?: string; ca?: string | Buffer }
}

export interface ImapPoller {
  stop(): Promise<void>
}

export interface StartPollerOptions extends ImapPollOptions {
  maxBytes: number
  log: Logger
  receive(raw: Buffer): Promise<MailVerdict>
}

export function startImapPoller(options: StartPollerOptions): ImapPoller {
  const { mailbox = 'INBOX', pollMs = 60_000, log, receive, maxBytes } = options
  let timer: NodeJS.Timeout | undefined
  let current: Promise<void> | undefined
  let stopping = false
  let client: ImapFlow | undefined

  async function pollOnce(): Promise<void> {
    client = new ImapFlow({
      host: options.host,
      port: options.port ?? (options.secure === false ? 143 : 993),
      secure: options.secure ?? true,
      auth: options.auth,
      tls: options.tls,
      logger: false,
      disableAutoIdle: true,
      connectionTimeout: options.timeoutMs ?? 30_000,
      greetingTimeout: options.timeoutMs ?? 30_000,
      socketTimeout: options.timeoutMs ?? 30_000,
      clientInfo: { name: 'Intake' },
    })
    // imapflow emits 'error' on socket trouble; without a listener it would crash the gateway.
    client.on('error', (err: Error) => log.warn('imap connection error', { error: err.message }))
    const c = client
    await c.connect()
    try {
      const lock = await c.getMailboxLock(mailbox)
      try {
        const unseen = (await c.search({ seen: false }, { uid: true })) || []
        let stored = 0
        for (const uid of unseen) {
          if (stopping) break
          if (await takeOne(c, uid)) stored++
        }
        if (unseen.length) log.info('imap poll', { mailbox, unseen: unseen.length, taken: stored })
      } finally {
        lock.release()
      }
    } finally {
      await c.logout().catch(() => c.close())
      client = undefined
    }
  }

  /** One message: fetch (BODY.PEEK, so fetching sets no flag), store, then mark. */
  async function takeOne(c: ImapFlow, uid: number): Promise<boolean> {
    const range = String(uid)
    const head = await c.fetchOne(range, { size: true }, { uid: true })
    if (!head) return false
    if ((head.size ?? 0) > maxBytes) {
      // Too large for a case: leave it where it is for a person, flagged so it is not fetched again.
      log.warn('imap message too large; flagged and left in the mailbox', { uid, bytes: head.size, maxBytes })
      await c.messageFlagsAdd(range, ['\\Seen', '\\Flagged'], { uid: true })
      return false
    }
    const msg = await c.fetchOne(range, { source: true }, { uid: true })
    if (!msg || !msg.source) return false
    try {
      await receive(msg.source)
    } catch (err) {
      log.error('imap message not stored; left unseen for the next poll', { uid, error: err })
      return false
    }
    if (options.moveTo) await c.messageMove(range, options.moveTo, { uid: true })
    else await c.messageFlagsAdd(range, ['\\Seen'], { uid: true })
    return true
  }

  function schedule(delay: number) {
    if (stopping) return
    timer = setTimeout(() => {
      current = pollOnce()
        .catch((err: unknown) => log.warn('imap poll failed; retrying at the next poll', describeImapError(err)))
        .finally(() => {
          current = undefined
          schedule(pollMs)
        })
    }, delay)
  }
  schedule(0)
  log.info('imap poller started', { host: options.host, mailbox, pollMs })

  return {
    async stop() {
      stopping = true
      clearTimeout(timer)
      await current
      client?.close()
    },
  }
}

/** imapflow's errors say "Command failed"; the server's own words and the kind of failure say more. */
function describeImapError(err: unknown): Record<string, unknown> {
  const e = (err ?? {}) as { message?: string; code?: string; authenticationFailed?: boolean; responseText?: string; serverResponseCode?: string }
  const code = e.authenticationFailed ? 'imap_auth_failed' : e.code ? `imap_${e.code.toLowerCase()}` : 'imap_error'
  return { code, error: e.message, ...(e.responseText ? { server: e.responseText } : {}) }
}
