/**
 * Email end to end on the county-hotline demo: a citizen's mail arrives over real SMTP at the
 * built-in listener, the case is routed to the office the mail names, the acknowledgement and a
 * staff reply reach the agency's relay (a second SMTP server) threaded into the citizen's
 * conversation, and the citizen's answers — by In-Reply-To, or by the tracking code alone — land
 * on the same case. Plus the bad input an MX sees.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Case, CaseMessage } from '@intake/core'
import { smtpEmailChannel, type SmtpEmailAdapter } from '@intake/channels/smtp-email'
import { startRelayServer, type RelayServer } from '@intake/channels/smtp-email/relay-server'
import { composeMail, deliverRaw } from '@intake/channels/smtp-email/smtp-client'
import { demoGateway, type DemoGateway } from './support/gateway.ts'

const HOTLINE = '12345@kashgar.gov.example'
const CITIZEN = 'maimaiti@example.net'
const DAY = 24 * 60 * 60 * 1000
const FIXTURES = join(import.meta.dirname, '..', 'packages', 'channels', 'src', 'smtp-email', 'fixtures')

let gw: DemoGateway
let relay: RelayServer
let mail: SmtpEmailAdapter
let clock: number
beforeEach(async () => {
  clock = Date.parse('2026-11-20T10:00:00+08:00')
  relay = await startRelayServer()
  mail = smtpEmailChannel({
    addresses: [HOTLINE],
    fromName: '喀什地区12345热线',
    listen: { port: 0, closeTimeoutMs: 500 },
    maxBytes: 256 * 1024,
    transport: { host: '127.0.0.1', port: relay.port, connectionTimeoutMs: 2_000 },
  })
  gw = await demoGateway({ channels: { mail } }, { now: () => clock })
})
afterEach(async () => {
  await gw.close()
  await relay.close()
})

const send = (raw: string | Buffer, to = HOTLINE) => deliverRaw(mail.smtpPort!, raw, { from: CITIZEN, to })
const allCases = async () => (await gw.intake.store.listCases({ limit: 50 })).cases
async function details(caseId: string) {
  const res = await gw.api(`/cases/${caseId}`)
  expect(res.status).toBe(200)
  return (await res.json()) as { case: Case; messages: CaseMessage[] }
}
/** Deliver what the outbox has queued, then read what the relay got. */
async function relayed(count: number) {
  await gw.intake.outbox.drain()
  return relay.waitFor(count)
}

describe('a case by email', () => {
  it('mail in → routed → threaded acknowledgement → staff reply → the citizen answers by In-Reply-To, then by tracking code', async () => {
    const first = composeMail({
      from: `买买提 <${CITIZEN}>`,
      to: HOTLINE,
      messageId: 'c1.20261120@example.net',
      subject: '伽师县检察院：河道非法采砂',
      text: '伽师县检察院：我们村的公益诉讼线索，河道被非法采砂破坏。',
    })
    expect(await send(first)).toMatch(/^250 /)
    const [kase] = await allCases()
    expect(kase).toMatchObject({ channelId: 'mail', officeId: 'jiashi-procuratorate', citizen: { id: CITIZEN, displayName: '买买提' } })
    const code = kase!.trackingCode

    // The acknowledgement: answers the citizen's mail, from the office, with the tracking code.
    const [ack] = await relayed(1)
    expect(ack!.envelope.rcptTo).toEqual([CITIZEN])
    expect(ack!.inReplyTo).toBe('<c1.20261120@example.net>')
    expect(ack!.references).toEqual(['<c1.20261120@example.net>'])
    // The answer keeps the citizen's subject, so it threads in any mail client.
    expect(ack!.subject).toBe(`Re: 伽师县检察院：河道非法采砂 [${code}]`)
    expect(ack!.from).toBe(`"伽师县人民检察院" <${HOTLINE}>`)
    expect(ack!.replyTo).toBe(`"伽师县人民检察院" <${HOTLINE}>`)
    expect(ack!.header('auto-submitted')).toBe('auto-replied')
    expect(ack!.text).toContain(code)
    expect(ack!.messageId).toMatch(/^<intake\.[^@]+@kashgar\.gov\.example>$/)

    // Staff answer through the API; the reply threads after the citizen's mail and our acknowledgement.
    const res = await gw.api(`/cases/${kase!.id}/replies`, { method: 'POST', body: { text: '已受理，检察官将于三日内与您联系。', author: 'clerk-7' } })
    expect(res.status).toBe(201)
    const [, reply] = await relayed(2)
    expect(reply!.text).toContain('已受理，检察官将于三日内与您联系。')
    expect(reply!.inReplyTo).toBe('<c1.20261120@example.net>')
    expect(reply!.references).toEqual(['<c1.20261120@example.net>', ack!.messageId])
    expect(reply!.subject).toBe(`Re: 伽师县检察院：河道非法采砂 [${code}]`)
    expect(reply!.header('auto-submitted')).toBeUndefined()
    expect(reply!.messageId).not.toBe(ack!.messageId)

    // Three days later (past the same-sender window) the citizen answers that mail. Their client
    // changed the subject and quoted our reply: only In-Reply-To ties it to the case.
    clock += 3 * DAY
    const answer = composeMail({
      from: `买买提 <${CITIZEN}>`,
      messageId: 'c2.20261123@example.net',
      subject: 'Re: 补充材料',
      inReplyTo: reply!.messageId,
      references: [...reply!.references, reply!.messageId],
      text: `采砂的车晚上十点以后来。\n\n在 2026年11月20日，10:00，伽师县人民检察院 <${HOTLINE}> 写道：\n> 已受理，检察官将于三日内与您联系。编号 ${code}\n`,
    })
    expect(await send(answer)).toMatch(/^250 /)
    expect(await allCases()).toHaveLength(1)

    // Three more days: a fresh mail whose subject carries nothing but the tracking code.
    clock += 3 * DAY
    expect(await send(composeMail({ from: `买买提 <${CITIZEN}>`, messageId: 'c3.20261126@example.net', subject: `[${code}]`, text: '附上采砂现场的照片说明：河道东侧。' }))).toMatch(/^250 /)
    expect(await allCases()).toHaveLength(1)

    const { messages } = await details(kase!.id)
    expect(messages.filter((m) => m.direction === 'in').map((m) => m.text)).toEqual([
      '伽师县检察院：我们村的公益诉讼线索，河道被非法采砂破坏。',
      '采砂的车晚上十点以后来。',
      '附上采砂现场的照片说明：河道东侧。',
    ])
    // Our mails are on the record with the Message-ID the relay saw.
    expect(messages.filter((m) => m.direction === 'out').map((m) => m.externalId)).toEqual(expect.arrayContaining([ack!.messageId, reply!.messageId]))
  })
})

describe('bad input at the MX', () => {
  it('refuses an oversized mail with 552 at DATA, storing nothing', async () => {
    await expect(send(composeMail({ text: '大'.repeat(200 * 1024) }))).rejects.toThrow(/\b552\b/)
    expect(await allCases()).toHaveLength(0)
  })

  it('refuses a mail to an unknown recipient with 550 at RCPT', async () => {
    await expect(send(composeMail({ to: 'mayor@kashgar.gov.example' }), 'mayor@kashgar.gov.example')).rejects.toThrow(/\b550\b/)
    expect(await allCases()).toHaveLength(0)
  })

  it('stores a malformed MIME mail for a person (intake desk), without crashing the listener', async () => {
    expect(await send(readFileSync(join(FIXTURES, 'enmime/mime-bad-content-transfer-encoding.raw')))).toMatch(/^250 /)
    expect(await send(readFileSync(join(FIXTURES, 'enmime/erroneous.raw')))).toMatch(/^250 /)
    const cases = await allCases()
    expect(cases).toHaveLength(2)
    expect(cases.every((c) => c.officeId === 'kashgar-hotline')).toBe(true)
    for (const c of cases) {
      const { messages } = await details(c.id)
      expect(messages[0]!.attachments.map((a) => a.filename)).toContain('original.eml')
    }
    // And the next citizen still gets through.
    const next = composeMail({ from: 'Ayse <ayse@example.org>', messageId: 'after-malformed@example.org', text: '伽师县巴仁镇的路灯坏了。' })
    expect(await deliverRaw(mail.smtpPort!, next, { from: 'ayse@example.org', to: HOTLINE })).toMatch(/^250 /)
    expect(await allCases()).toHaveLength(3)
  })

  it('records an auto-reply without a case and without answering it', async () => {
    const vacation = composeMail({ subject: '自动回复: 您的来信已受理', headers: { 'Auto-Submitted': 'auto-replied', 'X-Autoreply': 'yes' }, text: '我正在休假，11月30日回来。' })
    expect(await send(vacation)).toMatch(/^250 /)
    expect(await allCases()).toHaveLength(0)
    await gw.intake.outbox.drain()
    expect(relay.received).toHaveLength(0)
    expect(gw.lines.some((l) => l.includes('inbound mail ignored') && l.includes('auto_submitted:auto-replied'))).toBe(true)
  })
})
