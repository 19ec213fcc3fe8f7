/**
 * IMAP polling against a real IMAP server: Dovecot (Debian package dovecot-imapd, which pulls in
 * dovecot-core), started here as a child process with a throw-away config — loopback port, a
 * passwd-file user, maildir in a temp folder, no TLS. Mail is delivered into the mailbox with
 * APPEND (what an MTA's local delivery amounts to), then the adapter's poller must find it.
 *
 * Without /usr/sbin/dovecot these tests are skipped, saying so; with INTAKE_REQUIRE_DOVECOT=1
 * (CI) its absence fails instead.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { ImapFlow } from 'imapflow'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createMetrics, memoryBlobStore, memoryLogger, type ChannelContext, type IntakeResult } from '@intake/core'
import { kitGateway, type KitGateway } from '../kit/index.ts'
import { smtpEmailChannel, type SmtpEmailAdapter } from './index.ts'
import { composeMail } from './smtp-client.ts'

const DOVECOT = '/usr/sbin/dovecot'
const present = existsSync(DOVECOT)
const required = process.env.INTAKE_REQUIRE_DOVECOT === '1'
const USER = 'hotline'
const PASS = 'imap-secret-0123456'

interface Dovecot {
  port: number
  dir: string
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise<void>((r) => server.close(() => r()))
  return port
}

/** Until the port greets with "* OK" (Dovecot forks its login and auth processes first). */
async function greeted(port: number, deadline: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.setEncoding('utf8')
      socket.once('data', (d: string) => {
        socket.destroy()
        resolve(d.startsWith('* OK'))
      })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`Dovecot did not answer on port ${port}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function startDovecot(): Promise<Dovecot> {
  const dir = mkdtempSync(join(tmpdir(), 'intake-dovecot-'))
  const home = join(dir, 'home')
  for (const d of ['run', 'state', 'home']) mkdirSync(join(dir, d))
  const me = userInfo()
  // Dovecot refuses mail access as uid 0; as root, the mail user is nobody and owns the maildirs.
  const root = me.uid === 0
  const [uid, gid] = root ? [65534, 65534] : [me.uid, me.gid]
  if (root) {
    // mkdtemp makes the folder 0700; the mail user must reach its home inside.
    chmodSync(dir, 0o755)
    chownSync(home, uid, gid)
  }
  const port = await freePort()
  writeFileSync(join(dir, 'passwd'), `${USER}:{PLAIN}${PASS}::::::\n`)
  writeFileSync(
    join(dir, 'dovecot.conf'),
    [
      'protocols = imap',
      'listen = 127.0.0.1',
      `base_dir = ${dir}/run`,
      `state_dir = ${dir}/state`,
      `log_path = ${dir}/dovecot.log`,
      'ssl = no',
      'disable_plaintext_auth = no',
      'auth_mechanisms = plain login',
      // A refused login answers at once (the default waits 2 s to slow down password guessing).
      'auth_failure_delay = 0',
      'mail_location = maildir:~/Maildir',
      // Not root: every Dovecot process runs as this user, without the chroots only root may make.
      ...(root
        ? []
        : [
            `default_internal_user = ${me.username}`,
            `default_internal_group = ${execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim()}`,
            `default_login_user = ${me.username}`,
            `first_valid_uid = ${uid}`,
            'service anvil {\n  chroot =\n}',
          ]),
      `passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u ${dir}/passwd\n}`,
      `userdb {\n  driver = static\n  args = uid=${uid} gid=${gid} home=${home}/%u\n}`,
      `service imap-login {\n${root ? '' : '  chroot =\n'}  inet_listener imap {\n    address = 127.0.0.1\n    port = ${port}\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}`,
      '',
    ].join('\n'),
  )
  const child: ChildProcess = spawn(DOVECOT, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: 'ignore' })
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  await greeted(port, Date.now() + 10_000)
  return {
    port,
    dir,
    async stop() {
      child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

if (!present && required) {
  describe('smtp-email IMAP polling (Dovecot)', () => {
    it('needs Dovecot', () => {
      throw new Error(`INTAKE_REQUIRE_DOVECOT=1 but ${DOVECOT} is absent: apt-get install -y dovecot-imapd`)
    })
  })
}

describe.skipIf(!present)(`smtp-email IMAP polling (Dovecot)${present ? '' : ` — skipped: ${DOVECOT} is absent (apt-get install -y dovecot-imapd; INTAKE_REQUIRE_DOVECOT=1 makes this fail)`}`, () => {
  let dovecot: Dovecot
  let mta: ImapFlow
  beforeAll(async () => {
    dovecot = await startDovecot()
  })
  afterAll(async () => {
    await dovecot?.stop()
  })

  /** The mailbox owner's own client: delivers with APPEND, reads flags, creates folders. */
  const mailbox = async () => {
    const client = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, auth: { user: USER, pass: PASS }, logger: false })
    client.on('error', () => {})
    await client.connect()
    return client
  }
  const flagsOf = async (uid: number, folder = 'INBOX') => {
    const lock = await mta.getMailboxLock(folder)
    try {
      const msg = await mta.fetchOne(String(uid), { flags: true }, { uid: true })
      return msg ? [...(msg.flags ?? [])] : undefined
    } finally {
      lock.release()
    }
  }
  /** On a fresh connection: STATUS of the mailbox a session has selected may answer from that session's stale view. */
  const count = async (folder: string) => {
    const client = await mailbox()
    try {
      const status = await client.status(folder, { messages: true })
      return status ? status.messages : undefined
    } finally {
      await client.logout()
    }
  }
  const appendMail = async (raw: string) => {
    const res = await mta.append('INBOX', raw)
    if (!res || res.uid === undefined) throw new Error('APPEND gave no UID (UIDPLUS)')
    return res.uid
  }

  let gw: KitGateway | undefined
  let adapter: SmtpEmailAdapter
  const imapOptions = (over: Record<string, unknown> = {}) => ({ host: '127.0.0.1', port: dovecot.port, secure: false, auth: { user: USER, pass: PASS }, pollMs: 100, ...over })

  beforeAll(async () => {
    mta = await mailbox()
  })
  afterAll(async () => {
    await mta?.logout()
  })
  afterEach(async () => {
    await gw?.close()
    gw = undefined
    // An empty INBOX for the next test.
    const lock = await mta.getMailboxLock('INBOX')
    try {
      const all = (await mta.search({ all: true }, { uid: true })) || []
      if (all.length) await mta.messageDelete(all.join(','), { uid: true })
    } finally {
      lock.release()
    }
  })

  it('takes unseen mail, opens a case, and flags the message \\Seen once it is stored', async () => {
    const uid = await appendMail(composeMail({ messageId: 'imap-0001@example.net', subject: '伽师县巴仁镇路灯', text: '巴仁镇的路灯坏了，IMAP 送达。' }))
    expect(await flagsOf(uid)).not.toContain('\\Seen')
    adapter = smtpEmailChannel({ addresses: ['hotline@intake.example'], listen: false, imap: imapOptions() })
    gw = await kitGateway(adapter, 'mail')
    const store = gw.intake.store
    await expect.poll(async () => (await store.listCases({ limit: 10 })).cases.length, { timeout: 10_000 }).toBe(1)
    const [kase] = (await store.listCases({ limit: 10 })).cases
    expect(kase!.citizen.id).toBe('maimaiti@example.net')
    const [msg] = (await store.listMessages(kase!.id)).filter((m) => m.direction === 'in')
    expect(msg).toMatchObject({ externalId: '<imap-0001@example.net>', subject: '伽师县巴仁镇路灯', text: '巴仁镇的路灯坏了，IMAP 送达。' })
    await expect.poll(() => flagsOf(uid), { timeout: 10_000 }).toContain('\\Seen')
    // Later polls see nothing unseen: still one case.
    expect((await store.listCases({ limit: 10 })).cases).toHaveLength(1)
    expect(gw.lines.filter((l) => l.includes(PASS))).toEqual([])
  })

  it('leaves a message unseen while storing fails, and takes it on the next poll', async () => {
    const uid = await appendMail(composeMail({ messageId: 'imap-0002@example.net' }))
    const attempts: Array<{ settle: (ok: boolean) => void }> = []
    const ctx: ChannelContext = {
      channelId: 'mail',
      metrics: createMetrics(),
      publicUrl: 'http://intake.test',
      basePath: '/channels/mail',
      blobs: memoryBlobStore(),
      log: memoryLogger(),
      now: Date.now,
      setOptOut: async () => {},
      ingest: () =>
        new Promise<IntakeResult>((resolve, reject) => {
          attempts.push({ settle: (ok) => (ok ? resolve({ caseId: 'c', trackingCode: 'K7F3-9Q28', messageId: 'm', duplicate: false, followUp: false, officeId: 'desk' }) : reject(new Error('database is locked'))) })
        }),
    }
    adapter = smtpEmailChannel({ addresses: ['hotline@intake.example'], listen: false, imap: imapOptions() })
    await adapter.start!(ctx)
    try {
      await expect.poll(() => attempts.length, { timeout: 10_000 }).toBe(1)
      expect(await flagsOf(uid)).not.toContain('\\Seen')
      attempts[0]!.settle(false)
      await expect.poll(() => attempts.length, { timeout: 10_000 }).toBe(2)
      expect(await flagsOf(uid), 'the failed attempt left it unseen').not.toContain('\\Seen')
      attempts[1]!.settle(true)
      await expect.poll(() => flagsOf(uid), { timeout: 10_000 }).toContain('\\Seen')
    } finally {
      await adapter.stop!()
    }
  })

  it('moves what it took to a folder when moveTo is set', async () => {
    await mta.mailboxCreate('Intake-Taken').catch(() => {})
    await appendMail(composeMail({ messageId: 'imap-0003@example.net' }))
    adapter = smtpEmailChannel({ addresses: ['hotline@intake.example'], listen: false, imap: imapOptions({ moveTo: 'Intake-Taken' }) })
    gw = await kitGateway(adapter, 'mail')
    await expect.poll(async () => (await gw!.intake.store.listCases({ limit: 10 })).cases.length, { timeout: 10_000 }).toBe(1)
    await expect.poll(() => count('INBOX'), { timeout: 10_000 }).toBe(0)
    expect(await count('Intake-Taken')).toBe(1)
  })

  it('records an auto-reply and a bounce (Return-Path: <>) without a case, and marks them seen', async () => {
    const auto = await appendMail(composeMail({ messageId: 'imap-auto@example.net', headers: { 'Auto-Submitted': 'auto-replied' } }))
    const bounce = await appendMail(`Return-Path: <>\r\n${composeMail({ messageId: 'imap-bounce@example.net', from: 'someone@example.net', subject: 'Undelivered' })}`)
    adapter = smtpEmailChannel({ addresses: ['hotline@intake.example'], listen: false, imap: imapOptions() })
    gw = await kitGateway(adapter, 'mail')
    await expect.poll(() => flagsOf(bounce), { timeout: 10_000 }).toContain('\\Seen')
    await expect.poll(() => flagsOf(auto), { timeout: 10_000 }).toContain('\\Seen')
    expect((await gw.intake.store.listCases({ limit: 10 })).cases).toHaveLength(0)
    const reasons = gw.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'inbound mail ignored').map((l) => l.reason)
    expect(reasons.sort()).toEqual(['auto_submitted:auto-replied', 'null_sender'])
  })

  it('keeps polling after a refused login, logging without the password', async () => {
    adapter = smtpEmailChannel({ addresses: ['hotline@intake.example'], listen: false, imap: imapOptions({ auth: { user: USER, pass: 'wrong-password-000' } }) })
    gw = await kitGateway(adapter, 'mail')
    await expect.poll(() => gw!.lines.filter((l) => l.includes('imap poll failed')).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2)
    expect(gw.lines.find((l) => l.includes('imap poll failed'))).toContain('"code":"imap_auth_failed"')
    expect(gw.lines.filter((l) => l.includes('wrong-password-000'))).toEqual([])
  })
})
