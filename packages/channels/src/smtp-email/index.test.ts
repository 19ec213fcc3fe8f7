import { readFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createMetrics, memoryBlobStore, memoryLogger, type ChannelContext, type InboundMessageInput, type IntakeResult, type OutboundMessage } from '@intake/core'
import { kitGateway, pngImage, testChannel, type KitGateway } from '../kit/index.ts'
import { classifySmtpError, smtpEmailChannel, type SmtpEmailAdapter, type SmtpEmailOptions } from './index.ts'
import { startRelayServer, type RelayServer } from './relay-server.ts'
import { composeMail, deliverRaw, smtpSession } from './smtp-client.ts'

const ADDRESS = 'hotline@intake.example'
const LISTENER_USER = 'agency-mx'
const LISTENER_PASS = 'listener-secret-0123'
const RELAY_USER = 'intake'
const RELAY_PASS = 'relay-secret-456789'
const MAX_BYTES = 64 * 1024
const fixture = (path: string) => readFileSync(join(import.meta.dirname, 'fixtures', path))
const TLS = { key: fixture('tls/key.pem'), cert: fixture('tls/cert.pem') }

let relay: RelayServer
beforeAll(async () => {
  relay = await startRelayServer({ auth: { user: RELAY_USER, pass: RELAY_PASS } })
})
afterAll(() => relay.close())

let current: SmtpEmailAdapter
const makeAdapter = (over: Partial<SmtpEmailOptions> = {}) =>
  (current = smtpEmailChannel({
    addresses: [ADDRESS, 'jiashi@intake.example'],
    fromName: '喀什地区12345热线',
    listen: { port: 0, auth: { users: { [LISTENER_USER]: LISTENER_PASS } }, closeTimeoutMs: 500 },
    maxBytes: MAX_BYTES,
    transport: { host: '127.0.0.1', port: relay.port, auth: { user: RELAY_USER, pass: RELAY_PASS }, connectionTimeoutMs: 2_000 },
    ...over,
  }))

/** The agency's MX handing a mail to the listener, logged in. */
const deliver = (raw: string | Buffer, opts: Parameters<typeof deliverRaw>[2] = {}) =>
  deliverRaw(current.smtpPort!, raw, { auth: { user: LISTENER_USER, pass: LISTENER_PASS }, ...opts }).then(() => {})

testChannel({
  name: 'smtp-email',
  adapter: ({ sendTimeoutMs }) => makeAdapter({ transport: { host: '127.0.0.1', port: relay.port, auth: { user: RELAY_USER, pass: RELAY_PASS }, connectionTimeoutMs: sendTimeoutMs } }),
  fixtures: {
    valid: [
      { name: 'a plain-text mail in Chinese', messages: 1, text: '路灯坏了一个月了', deliver: () => deliver(composeMail({ messageId: 'kit-0001@example.net' })) },
      {
        name: 'HTML and text alternatives with a photo attached',
        messages: 1,
        text: 'Water has been leaking',
        deliver: () =>
          deliver(
            composeMail({
              messageId: 'kit-0002@example.net',
              subject: 'Leak on Station Road',
              text: 'Water has been leaking onto Station Road since Monday.',
              html: '<p>Water has been <b>leaking</b> onto Station Road since Monday.</p>',
              attachments: [{ filename: 'leak.png', contentType: 'image/png', content: Buffer.from(pngImage(8, 8, [200, 30, 30])) }],
            }),
          ),
      },
      { name: 'a GB18030 mail with a four-byte character', messages: 1, text: '𠮷野家门口积水', deliver: () => deliver(fixture('generated/gb18030-8bit.eml')) },
    ],
    forged: {
      name: 'AUTH with a wrong password (535)',
      refusal: /\b535\b/,
      deliver: () => deliverRaw(current.smtpPort!, composeMail(), { auth: { user: LISTENER_USER, pass: 'not-the-password' } }).then(() => {}),
    },
    malformed: [
      { name: 'a recipient that is not the agency (550 at RCPT)', refusal: /\b550\b/, deliver: () => deliver(composeMail({ to: 'someone@elsewhere.example' }), { to: 'someone@elsewhere.example' }) },
      { name: 'a client that does not log in (530)', refusal: /\b530\b/, deliver: () => deliverRaw(current.smtpPort!, composeMail()).then(() => {}) },
    ],
    oversized: { name: 'a mail over maxBytes (552 at DATA)', refusal: /\b552\b/, deliver: () => deliver(composeMail({ text: '大'.repeat(MAX_BYTES) })) },
    sendErrors: [
      { name: 'relay answers 451 at RCPT', arrange: () => relay.failNext({ stage: 'rcpt', code: 451, message: 'Greylisted, try again later' }), expect: { code: 'throttled', retryable: true } },
      { name: 'relay answers 421 at MAIL', arrange: () => relay.failNext({ stage: 'mail', code: 421, message: 'Too many messages, slow down' }), expect: { code: 'throttled', retryable: true } },
      { name: 'relay answers 550 5.1.1 at RCPT', arrange: () => relay.failNext({ stage: 'rcpt', code: 550, message: 'No such user here' }), expect: { code: 'invalid_recipient', retryable: false } },
      { name: 'relay answers 553 at RCPT', arrange: () => relay.failNext({ stage: 'rcpt', code: 553, message: 'Mailbox name not allowed' }), expect: { code: 'invalid_recipient', retryable: false } },
      { name: 'relay refuses our login (535)', arrange: () => relay.failNext({ stage: 'auth', code: 535, message: 'Authentication credentials invalid' }), expect: { code: 'config', retryable: false } },
      { name: 'relay answers 552 at DATA (too big)', arrange: () => relay.failNext({ stage: 'data', code: 552, message: 'Message size exceeds fixed limit' }), expect: { code: 'rejected', retryable: false } },
      { name: 'relay answers 554 5.7.1 at DATA (policy)', arrange: () => relay.failNext({ stage: 'data', code: 554, message: '5.7.1 Message rejected as spam' }), expect: { code: 'rejected', retryable: false } },
    ],
    sendOk: {
      arrange: () => relay.reset(),
      verify: (sent, providerId) => {
        const mail = relay.received.at(-1)!
        expect(providerId).toBe('<intake.msg-kit-1@intake.example>')
        expect(mail.messageId).toBe(providerId)
        expect(mail.envelope.rcptTo).toEqual(['citizen@example.net'])
        expect(mail.subject).toBe('Reply to your message [K7F3-9Q28]')
        expect(mail.text.trim()).toBe(sent.text)
        expect(mail.html).toContain('您好，路灯周一维修。')
      },
    },
    recipient: { id: 'citizen@example.net', displayName: 'Kit Citizen' },
    provider: () => relay,
    secrets: [LISTENER_PASS, RELAY_PASS],
  },
})

/** A gateway around a fresh adapter (in-memory SQLite, the kit's offices), channel id `mail`. */
let gw: KitGateway
const open = async (over: Partial<SmtpEmailOptions> = {}) => {
  gw = await kitGateway(makeAdapter(over), 'mail')
  return gw
}
afterEach(async () => {
  await gw?.close()
  gw = undefined as unknown as KitGateway
  relay.reset()
})

const cases = async () => (await gw.intake.store.listCases({ limit: 500 })).cases
const inbound = async (caseId: string) => (await gw.intake.store.listMessages(caseId)).filter((m) => m.direction === 'in')

/** A channel context around `ingest` alone, for listener tests that need no gateway. */
const listenerContext = (ingest: ChannelContext['ingest']): ChannelContext & { log: ReturnType<typeof memoryLogger>; metrics: ReturnType<typeof createMetrics> } => ({
  channelId: 'mail',
  metrics: createMetrics(),
  publicUrl: 'http://intake.test',
  basePath: '/channels/mail',
  blobs: memoryBlobStore(),
  log: memoryLogger(),
  now: Date.now,
  setOptOut: async () => {},
  ingest,
})
const storedAs = (m: InboundMessageInput): IntakeResult => ({ caseId: 'c1', trackingCode: 'K7F3-9Q28', messageId: m.externalId, duplicate: false, followUp: false, officeId: 'desk' })

describe('smtp-email listener', () => {
  it('stores a mail before answering 250, and answers 451 when storing fails so the sender retries', async () => {
    const adapter = makeAdapter()
    const calls: InboundMessageInput[] = []
    let release!: (r: IntakeResult) => void
    let failNext = true
    const ctx = listenerContext((msg) => {
      calls.push(msg)
      if (failNext) {
        failNext = false
        return Promise.reject(new Error('database is locked'))
      }
      return new Promise<IntakeResult>((resolve) => (release = resolve))
    })
    const log = ctx.log
    await adapter.start!(ctx)
    try {
      const raw = composeMail({ messageId: 'retry-0001@example.net' })
      await expect(deliver(raw)).rejects.toThrow(/\b451\b/)
      expect(log.lines.some((l) => l.includes('answered 451'))).toBe(true)

      // The sending MTA retries; this time storing succeeds, but only when we say so.
      let answered = false
      const second = deliver(raw).then(() => (answered = true))
      await expect.poll(() => calls.length).toBe(2)
      expect(answered, 'no 250 before the message is stored').toBe(false)
      release({ caseId: 'c1', trackingCode: 'K7F3-9Q28', messageId: 'm1', duplicate: false, followUp: false, officeId: 'desk' })
      await second
      expect(answered).toBe(true)
      expect(calls[1]).toMatchObject({ externalId: '<retry-0001@example.net>', channelId: 'mail' })
    } finally {
      await adapter.stop!()
    }
  })

  it('advertises SIZE, refuses an oversized mail with 552 at DATA (or at MAIL FROM when declared) and stays usable', async () => {
    await open()
    const s = await smtpSession(current.smtpPort!)
    try {
      expect(s.greeting).toMatch(/^220 /)
      const ehlo = await s.command('EHLO mx.example.net')
      expect(ehlo).toMatch(new RegExp(`250[- ]SIZE ${MAX_BYTES}\\b`))
      expect(ehlo).not.toMatch(/STARTTLS/) // no certificate configured
      expect(await s.command(`AUTH PLAIN ${Buffer.from(`\0${LISTENER_USER}\0${LISTENER_PASS}`).toString('base64')}`)).toMatch(/^235 /)
      expect(await s.command(`MAIL FROM:<citizen@example.net> SIZE=${MAX_BYTES + 1}`)).toMatch(/^552 /)
      expect(await s.command('MAIL FROM:<citizen@example.net>')).toMatch(/^250 /)
      expect(await s.command(`RCPT TO:<${ADDRESS}>`)).toMatch(/^250 /)
      expect(await s.command('DATA')).toMatch(/^354 /)
      expect(await s.data(composeMail({ text: 'x'.repeat(MAX_BYTES + 10) }))).toMatch(/^552 /)
      // The same connection then delivers a mail of fair size.
      expect(await s.command('MAIL FROM:<citizen@example.net>')).toMatch(/^250 /)
      expect(await s.command(`RCPT TO:<${ADDRESS}>`)).toMatch(/^250 /)
      expect(await s.command('DATA')).toMatch(/^354 /)
      expect(await s.data(composeMail({ messageId: 'after-552@example.net' }))).toMatch(/^250 /)
      expect(await s.command('QUIT')).toMatch(/^221 /)
    } finally {
      s.close()
    }
    expect(await cases()).toHaveLength(1)
  })

  it('greets the client past maxClients with 421 and closes it; the others keep their sessions', async () => {
    await makeAdapter({ listen: { port: 0, closeTimeoutMs: 500, maxClients: 3 } }).start!(listenerContext(async (m) => storedAs(m)))
    const sessions = await Promise.all([1, 2, 3].map(() => smtpSession(current.smtpPort!)))
    try {
      for (const s of sessions) expect(s.greeting).toMatch(/^220 /)
      const fourth = await smtpSession(current.smtpPort!)
      fourth.close()
      expect(fourth.greeting).toMatch(/^421 .*Too many connected clients/)
      // The three in session still deliver.
      expect(await sessions[0]!.command('EHLO mx.example.net')).toMatch(/^250/)
    } finally {
      for (const s of sessions) s.close()
      await current.stop!()
    }
  })

  it('refuses with 452 (try later) a mail that would take the listener past its memory budget, and takes it once the others are stored', async () => {
    // Two mails of ~40 KiB at once with a 64 KiB budget: the second must wait for the first to be stored.
    let release!: () => void
    const stored = new Promise<void>((r) => (release = r))
    const got: string[] = []
    await makeAdapter({ listen: { port: 0, closeTimeoutMs: 500, maxBufferedBytes: 64 * 1024 } }).start!(
      listenerContext(async (m) => {
        got.push(m.externalId)
        if (got.length === 1) await stored
        return storedAs(m)
      }),
    )
    try {
      const big = (id: string) => composeMail({ messageId: id, text: '路灯坏了。'.repeat(2_700) })
      const first = deliverRaw(current.smtpPort!, big('budget-1@example.net'))
      await expect.poll(() => got.length).toBe(1)
      await expect(deliverRaw(current.smtpPort!, big('budget-2@example.net'))).rejects.toThrow(/452/)
      release()
      await first
      await deliverRaw(current.smtpPort!, big('budget-2@example.net'))
      expect(got).toEqual(['<budget-1@example.net>', '<budget-2@example.net>'])
    } finally {
      await current.stop!()
    }
  })

  it('refuses recipients outside the allow-list at RCPT with 550, and takes the agency addresses (any case)', async () => {
    await open()
    const s = await smtpSession(current.smtpPort!)
    try {
      await s.command('EHLO mx.example.net')
      await s.command(`AUTH PLAIN ${Buffer.from(`\0${LISTENER_USER}\0${LISTENER_PASS}`).toString('base64')}`)
      await s.command('MAIL FROM:<citizen@example.net>')
      expect(await s.command('RCPT TO:<mayor@elsewhere.example>')).toMatch(/^550 5\.1\.1 /)
      expect(await s.command('RCPT TO:<Jiashi@Intake.Example>')).toMatch(/^250 /)
      expect(await s.command('DATA')).toMatch(/^354 /)
      expect(await s.data(composeMail({ to: 'jiashi@intake.example' }))).toMatch(/^250 /)
    } finally {
      s.close()
    }
    const [kase] = await cases()
    const [msg] = await inbound(kase!.id)
    expect(msg!.text).toContain('路灯坏了')
  })

  it('offers STARTTLS with the configured certificate and refuses AUTH before it', async () => {
    await open({ listen: { port: 0, auth: { users: { [LISTENER_USER]: LISTENER_PASS } }, tls: TLS, closeTimeoutMs: 500 } })
    const s = await smtpSession(current.smtpPort!)
    try {
      expect(await s.command('EHLO mx.example.net')).toMatch(/250-STARTTLS/)
      expect(await s.command(`AUTH PLAIN ${Buffer.from(`\0${LISTENER_USER}\0${LISTENER_PASS}`).toString('base64')}`)).toMatch(/^538 /)
    } finally {
      s.close()
    }
    await deliver(composeMail({ messageId: 'tls-0001@example.net' }), { ca: TLS.cert })
    expect(await cases()).toHaveLength(1)
  })

  it('keeps listening after a client drops the connection in the middle of DATA', async () => {
    await open()
    const s = await smtpSession(current.smtpPort!)
    await s.command('EHLO mx.example.net')
    await s.command(`AUTH PLAIN ${Buffer.from(`\0${LISTENER_USER}\0${LISTENER_PASS}`).toString('base64')}`)
    await s.command('MAIL FROM:<citizen@example.net>')
    await s.command(`RCPT TO:<${ADDRESS}>`)
    await s.command('DATA')
    s.write('Subject: half\r\n\r\nonly half of a')
    s.close()
    await deliver(composeMail({ messageId: 'after-drop@example.net' }))
    expect(await cases()).toHaveLength(1)
  })

  it('parses sender, office address, subject, text and attachments into the case', async () => {
    await open()
    const photo = Buffer.from(pngImage(16, 16, [30, 200, 30]))
    await deliver(
      composeMail({
        from: '买买提·艾力 <MaiMaiTi@Example.net>',
        to: 'jiashi@intake.example',
        subject: '伽师县巴仁镇路灯',
        text: '路灯坏了，照片见附件。',
        attachments: [{ filename: '路灯.png', contentType: 'image/png', content: photo }],
      }),
      { to: 'jiashi@intake.example' },
    )
    const [kase] = await cases()
    expect(kase!.citizen).toEqual({ channelId: 'mail', id: 'maimaiti@example.net', displayName: '买买提·艾力' })
    const [msg] = await inbound(kase!.id)
    expect(msg!.subject).toBe('伽师县巴仁镇路灯')
    expect(msg!.text).toBe('路灯坏了，照片见附件。')
    expect(msg!.attachments).toHaveLength(1)
    expect(msg!.attachments[0]).toMatchObject({ filename: '路灯.png', contentType: 'image/png', size: photo.length })
    expect(Buffer.from((await gw.intake.blobs.get(msg!.attachments[0]!.blobKey!))!)).toEqual(photo)
  })

  it('puts a reply on the case it answers (In-Reply-To / References), with its quoted history and signature cut', async () => {
    await open()
    await deliver(composeMail({ messageId: 'first-0001@example.net' }))
    // Another address of the same family answers: only the thread headers can tie it to the case.
    await deliver(
      composeMail({
        from: 'Ayse <ayse@example.org>',
        messageId: 'reply-0001@example.org',
        subject: 'Re: 巴仁镇的路灯坏了',
        inReplyTo: '<first-0001@example.net>',
        references: ['<first-0001@example.net>'],
        text: '今晚还是不亮。\n\n-- \n艾谢\n手机 138 0000 0000\n\nOn Fri, 20 Nov 2026 at 10:00, 买买提 <maimaiti@example.net> wrote:\n> 伽师县巴仁镇的路灯坏了一个月了，晚上很黑。\n',
      }),
    )
    const all = await cases()
    expect(all).toHaveLength(1)
    expect((await inbound(all[0]!.id)).map((m) => m.text)).toEqual(['伽师县巴仁镇的路灯坏了一个月了，晚上很黑。', '今晚还是不亮。'])
  })

  it('cuts the QQ Mail "原始邮件" block from a GBK reply', async () => {
    await open()
    await deliver(fixture('generated/gbk-qq-reply.eml'), { from: 'maimaiti@qq.example' })
    const [kase] = await cases()
    expect(kase!.citizen.displayName).toBe('买买提·朱镕喆')
    const [msg] = await inbound(kase!.id)
    expect(msg!.subject).toBe('回复：您的来信已受理 [K7F3-9Q28]')
    expect(msg!.text).toBe('好的，谢谢。补充一下：朱镕喆家门口的路灯也坏了。')
  })

  it('makes one case from a mail without Message-ID delivered twice (the hash of the mail is its id)', async () => {
    await open()
    const raw = composeMail({ messageId: null, text: '没有 Message-ID 的邮件' })
    await deliver(raw)
    await deliver(raw)
    expect(await cases()).toHaveLength(1)
  })

  it('stores a mail it cannot decode with a flag, a note and the original attached', async () => {
    await open()
    const raw = fixture('enmime/mime-bad-content-transfer-encoding.raw')
    await deliver(raw)
    const [kase] = await cases()
    const [msg] = await inbound(kase!.id)
    expect(msg!.text).toMatch(/\[Intake: part of this mail could not be decoded/)
    const original = msg!.attachments.find((a) => a.filename === 'original.eml')!
    expect(original.contentType).toBe('message/rfc822')
    expect(Buffer.from((await gw.intake.blobs.get(original.blobKey!))!).toString('latin1')).toContain('Subject: alert')
    expect(gw.lines.some((l) => l.includes('inbound mail stored with flags') && l.includes('undecodable_text'))).toBe(true)
  })
})

describe('smtp-email loop protection: auto-replies and bounces open no case and get no reply', () => {
  const kinds: Array<{ name: string; reason: string; raw: () => string | Buffer; from?: string }> = [
    { name: 'Auto-Submitted: auto-replied (vacation notice)', reason: 'auto_submitted:auto-replied', raw: () => composeMail({ subject: '自动回复: 巴仁镇的路灯', headers: { 'Auto-Submitted': 'auto-replied' } }) },
    { name: 'Auto-Submitted: auto-generated', reason: 'auto_submitted:auto-generated', raw: () => composeMail({ headers: { 'Auto-Submitted': 'auto-generated' } }) },
    { name: 'Precedence: bulk', reason: 'precedence:bulk', raw: () => composeMail({ headers: { Precedence: 'bulk' } }) },
    { name: 'Precedence: junk', reason: 'precedence:junk', raw: () => composeMail({ headers: { Precedence: 'junk' } }) },
    { name: 'Precedence: list', reason: 'precedence:list', raw: () => composeMail({ headers: { Precedence: 'list' } }) },
    { name: 'Precedence: auto_reply', reason: 'precedence:auto_reply', raw: () => composeMail({ headers: { Precedence: 'auto_reply' } }) },
    { name: 'X-Autoreply (QQ Mail, 163)', reason: 'x_autoreply', raw: () => composeMail({ headers: { 'X-Autoreply': 'yes' } }) },
    { name: 'X-Autorespond', reason: 'x_autorespond', raw: () => composeMail({ headers: { 'X-Autorespond': 'Out of office' } }) },
    { name: 'a mailer-daemon sender', reason: 'mailer_daemon_sender', raw: () => composeMail({ from: 'Mail Delivery System <MAILER-DAEMON@mx.example.net>', subject: 'Undelivered Mail' }) },
    { name: 'a postmaster sender', reason: 'postmaster_sender', raw: () => composeMail({ from: 'postmaster@example.net', subject: 'Delivery delayed' }) },
    { name: 'a DSN (multipart/report; report-type=delivery-status)', reason: 'report:delivery-status', raw: () => fixture('mailparser/delivery-status.eml'), from: 'bounces@amazonses.example' },
    { name: 'an abuse report (multipart/report; report-type=feedback-report)', reason: 'report:feedback-report', raw: () => fixture('postal-mime/arf.eml') },
    { name: 'our own address (a loop through a forwarder)', reason: 'own_address', raw: () => composeMail({ from: `Intake <${ADDRESS}>`, subject: 'Re: 您的来信已受理' }) },
  ]

  for (const kind of kinds) {
    it(`${kind.name} → 250, recorded, ignored (${kind.reason})`, async () => {
      await open()
      const raw = kind.raw()
      await expect(deliverRaw(current.smtpPort!, raw, { from: kind.from, auth: { user: LISTENER_USER, pass: LISTENER_PASS } })).resolves.toMatch(/^250 .*recorded/)
      expect(await cases()).toHaveLength(0)
      expect(await gw.intake.store.listOutbox({})).toHaveLength(0)
      const line = gw.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'inbound mail ignored')
      expect(line).toMatchObject({ reason: kind.reason, channelId: 'mail' })
      // The raw mail is kept for audit.
      const kept = await gw.intake.blobs.get(line!.blobKey as string)
      expect(kept && kept.byteLength).toBeGreaterThan(100)
    })
  }

  it('a bounce with the null reverse-path (MAIL FROM:<>) → 250, ignored (null_sender)', async () => {
    await open()
    const s = await smtpSession(current.smtpPort!)
    try {
      await s.command('EHLO mx.example.net')
      await s.command(`AUTH PLAIN ${Buffer.from(`\0${LISTENER_USER}\0${LISTENER_PASS}`).toString('base64')}`)
      expect(await s.command('MAIL FROM:<>')).toMatch(/^250 /)
      expect(await s.command(`RCPT TO:<${ADDRESS}>`)).toMatch(/^250 /)
      await s.command('DATA')
      expect(await s.data(composeMail({ from: 'someone@example.net', subject: 'Returned mail' }))).toMatch(/^250 /)
    } finally {
      s.close()
    }
    expect(await cases()).toHaveLength(0)
    expect(gw.lines.some((l) => l.includes('inbound mail ignored') && l.includes('"reason":"null_sender"'))).toBe(true)
  })

  it('counts ignored and refused mail on the gateway counters when the context carries them', async () => {
    const adapter = makeAdapter()
    const ctx = listenerContext(async (m) => storedAs(m))
    const metrics = ctx.metrics
    await adapter.start!(ctx)
    try {
      await deliver(composeMail({ headers: { 'Auto-Submitted': 'auto-replied' } }))
      await expect(deliver(composeMail(), { to: 'nobody@elsewhere.example' })).rejects.toThrow(/\b550\b/)
      await expect(deliverRaw(adapter.smtpPort!, composeMail(), { auth: { user: LISTENER_USER, pass: 'wrong-password' } })).rejects.toThrow(/\b535\b/)
    } finally {
      await adapter.stop!()
    }
    expect(metrics.get('inbound_ignored', { channelId: 'mail', reason: 'auto_submitted' })).toBe(1)
    expect(metrics.get('inbound_rejected', { channelId: 'mail', code: 'unknown_recipient' })).toBe(1)
    expect(metrics.get('inbound_rejected', { channelId: 'mail', code: 'auth_failed' })).toBe(1)
  })

  it('Auto-Submitted: no is a person writing: a case is opened', async () => {
    await open()
    await deliver(composeMail({ headers: { 'Auto-Submitted': 'no' } }))
    expect(await cases()).toHaveLength(1)
  })
})

const outbound = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  id: 'msg-0001',
  caseId: 'case-0001',
  channelId: 'mail',
  to: { channelId: 'mail', id: 'maimaiti@example.net', displayName: '买买提' },
  kind: 'acknowledgement',
  text: '您好，您的诉求已收到，编号 K7F3-9Q28。查询进度：http://intake.test/status/K7F3-9Q28 <请勿回复此行>',
  trackingCode: 'K7F3-9Q28',
  statusUrl: 'http://intake.test/status/K7F3-9Q28',
  language: 'zh-CN',
  ...over,
})

describe('smtp-email send', () => {
  const sendCtx = () => ({ channelId: 'mail', idempotencyKey: 'intake-out-1', attempt: 1, log: memoryLogger(), publicUrl: 'http://intake.test', blobs: memoryBlobStore() })
  let adapter: SmtpEmailAdapter
  beforeEach(() => {
    // Not started: sending needs no listener.
    adapter = makeAdapter()
  })
  afterEach(() => adapter.stop!())

  it('threads the mail into the conversation: own Message-ID, In-Reply-To, References, tracking code, office as sender', async () => {
    const result = await adapter.send(
      outbound({
        subject: '巴仁镇的路灯坏了',
        inReplyTo: '<second-0002@example.net>',
        references: ['<first-0001@example.net>', '<intake.ack-0000@intake.example>', '<second-0002@example.net>'],
        office: { id: 'jiashi', name: '伽师县人民政府', email: 'jiashi@intake.example' },
      }),
      sendCtx(),
    )
    expect(result).toEqual({ ok: true, providerId: '<intake.msg-0001@intake.example>' })
    const [mail] = await relay.waitFor(1)
    expect(mail!.messageId).toBe('<intake.msg-0001@intake.example>')
    expect(mail!.inReplyTo).toBe('<second-0002@example.net>')
    expect(mail!.references).toEqual(['<first-0001@example.net>', '<intake.ack-0000@intake.example>', '<second-0002@example.net>'])
    expect(mail!.subject).toBe('Re: 巴仁镇的路灯坏了 [K7F3-9Q28]')
    expect(mail!.from).toBe('"伽师县人民政府" <jiashi@intake.example>')
    expect(mail!.replyTo).toBe('"伽师县人民政府" <jiashi@intake.example>')
    expect(mail!.to).toBe('"买买提" <maimaiti@example.net>')
    expect(mail!.envelope).toEqual({ mailFrom: ADDRESS, rcptTo: ['maimaiti@example.net'] })
    // An acknowledgement is automatic: autoresponders must not answer it (RFC 3834).
    expect(mail!.header('auto-submitted')).toBe('auto-replied')
    expect(mail!.text.trim()).toBe(outbound().text)
    expect(mail!.html).toContain('&lt;请勿回复此行&gt;')
    expect(mail!.html).toContain('<a href="http://intake.test/status/K7F3-9Q28">')
  })

  it('uses the channel address and a subject per kind when the message names no office or subject; a staff reply is not marked automatic', async () => {
    await adapter.send(outbound({ kind: 'reply', id: 'msg-0002', text: '路灯已修复。' }), sendCtx())
    const [mail] = await relay.waitFor(1)
    expect(mail!.subject).toBe('关于您来信的答复 [K7F3-9Q28]')
    expect(mail!.from).toBe(`"喀什地区12345热线" <${ADDRESS}>`)
    expect(mail!.header('auto-submitted')).toBeUndefined()
    expect(mail!.inReplyTo).toBeUndefined()
  })

  it('gives a retried delivery the same Message-ID, so it is the same message', async () => {
    const first = await adapter.send(outbound(), sendCtx())
    const second = await adapter.send(outbound(), { ...sendCtx(), attempt: 2 })
    expect(first).toEqual(second)
    const mails = await relay.waitFor(2)
    expect(mails.map((m) => m.messageId)).toEqual(['<intake.msg-0001@intake.example>', '<intake.msg-0001@intake.example>'])
  })

  it('sends over a pool of at most 5 connections', async () => {
    const results = await Promise.all(Array.from({ length: 15 }, (_, i) => adapter.send(outbound({ id: `msg-pool-${i}` }), sendCtx())))
    expect(results.every((r) => r.ok)).toBe(true)
    expect(relay.received).toHaveLength(15)
    expect(relay.connections).toBeGreaterThanOrEqual(1)
    expect(relay.connections).toBeLessThanOrEqual(5)
  })

  it('refuses an address it cannot write to, and has a config error without a transport', async () => {
    expect(await adapter.send(outbound({ to: { channelId: 'mail', id: 'unknown-sender@sender.invalid' } }), sendCtx())).toMatchObject({ ok: false, error: { code: 'invalid_recipient', retryable: false } })
    const bare = smtpEmailChannel({ addresses: [ADDRESS], listen: { port: 0 } })
    expect(await bare.send(outbound(), sendCtx())).toMatchObject({ ok: false, error: { code: 'config', retryable: false } })
  })

  it('classifies a refused connection and a relay that never greets as retryable connection errors', async () => {
    const closed = createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const closedPort = (closed.address() as { port: number }).port
    await new Promise<void>((r) => closed.close(() => r()))
    const refused = smtpEmailChannel({ addresses: [ADDRESS], transport: { host: '127.0.0.1', port: closedPort } })
    expect(await refused.send(outbound(), sendCtx())).toMatchObject({ ok: false, error: { code: 'connection', retryable: true } })
    await refused.stop!()

    const sockets = new Set<Socket>()
    const silent: Server = createServer((socket) => sockets.add(socket)) // accepts, never greets
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    const silentPort = (silent.address() as { port: number }).port
    const mute = smtpEmailChannel({ addresses: [ADDRESS], transport: { host: '127.0.0.1', port: silentPort, connectionTimeoutMs: 300 } })
    const result = await mute.send(outbound(), sendCtx())
    expect(result).toMatchObject({ ok: false, error: { code: 'connection', retryable: true } })
    await mute.stop!()
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((r) => silent.close(() => r()))
  })
})

describe('smtp-email pieces', () => {
  it('classifies SMTP replies into the send-error taxonomy', () => {
    const cases: Array<[Record<string, unknown>, string, boolean]> = [
      [{ code: 'EENVELOPE', responseCode: 450, response: '450 4.2.1 Mailbox busy' }, 'throttled', true],
      [{ code: 'EENVELOPE', responseCode: 452, response: '452 4.5.3 Too many recipients' }, 'throttled', true],
      [{ code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 User unknown' }, 'invalid_recipient', false],
      [{ code: 'EENVELOPE', responseCode: 551, response: '551 User not local' }, 'invalid_recipient', false],
      [{ code: 'EENVELOPE', responseCode: 550, response: '550 5.7.1 Relaying denied' }, 'rejected', false],
      [{ code: 'EMESSAGE', responseCode: 552, response: '552 5.3.4 Message too big' }, 'rejected', false],
      [{ code: 'EMESSAGE', responseCode: 554, response: '554 5.6.0 Bad content' }, 'rejected', false],
      [{ code: 'EAUTH', responseCode: 535, response: '535 5.7.8 Authentication failed' }, 'config', false],
      [{ code: 'EAUTH', response: 'Missing credentials for "PLAIN"' }, 'config', false],
      [{ code: 'ECONNECTION', message: 'connect ECONNREFUSED 127.0.0.1:25' }, 'connection', true],
      [{ code: 'ETIMEDOUT', message: 'Greeting never received' }, 'connection', true],
      [{ code: 'ESOCKET', message: 'read ECONNRESET' }, 'connection', true],
      [{ message: 'something odd' }, 'unknown', true],
    ]
    for (const [err, code, retryable] of cases) expect(classifySmtpError(err), JSON.stringify(err)).toMatchObject({ code, retryable })
  })

  it('refuses misconfiguration when the channel is created', () => {
    expect(() => smtpEmailChannel({ addresses: [] })).toThrow(/\[smtp-email channel\] addresses: give at least one address/)
    expect(() => smtpEmailChannel({ addresses: ['not-an-address'] })).toThrow(/addresses\.0: expected an email address/)
    expect(() => smtpEmailChannel({ addresses: [ADDRESS], listen: { port: 70000 } })).toThrow(/listen\.port/)
    expect(() => smtpEmailChannel({ addresses: [ADDRESS], listen: { auth: { users: { mx: 'short' } } } })).toThrow(/8\+ characters/)
    expect(() => smtpEmailChannel({ addresses: [ADDRESS], listen: false })).toThrow(/give an imap mailbox/)
    expect(() => smtpEmailChannel({ addresses: [ADDRESS], transport: { host: '' } })).toThrow(/transport\.host/)
  })
})
