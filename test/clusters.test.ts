/**
 * Duplicate clusters end to end on the county-hotline demo: three residents report the same dark
 * street — one by SMS (Twilio's REST API stand-in, through the official SDK), one in a Telegram
 * village group (the Bot API stand-in), one by email (real SMTP in, the agency's relay out) — and
 * intake puts their three cases into one cluster. The office answers the cluster once; each
 * resident gets the answer at their own stand-in, with their own tracking code. Staff link a report
 * the matching could not see (English), unlink one, and get clear 4xx for bad links.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Case, CaseEvent } from '@intake/core'
import { smtpEmailChannel } from '@intake/channels/smtp-email'
import { startRelayServer, type RelayServer } from '@intake/channels/smtp-email/relay-server'
import { composeMail, deliverRaw } from '@intake/channels/smtp-email/smtp-client'
import { telegramChannel } from '@intake/channels/telegram'
import { startBotApiServer, type BotApiServer, type TgChatLike, type TgUserLike } from '@intake/channels/telegram/bot-api-server'
import { twilioSms } from '@intake/channels/twilio-sms'
import { incomingMessageRequest, incomingSmsParams, startTwilioApiServer, type TwilioApiServer } from '@intake/channels/twilio-sms/twilio-api-server'
import { BASE, demoGateway, type DemoGateway } from './support/gateway.ts'
import { HOTLINE_NUMBER, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN } from './support/twilio-gateway.ts'

const TOKEN = '6123456789:AAF-village-group-bot-token_0123456'
const SECRET = 'village-webhook-secret-0123456789'
const BOT = 'kashgar12345_bot'
const VILLAGE: TgChatLike = { id: -1002001234567, type: 'supergroup', title: '巴仁镇居民群' }
const MAMUT: TgUserLike = { id: 70001, is_bot: false, first_name: '买买提', language_code: 'zh-hans' }
const HOTLINE_MAIL = '12345@kashgar.gov.example'
const SMS_CITIZEN = '+8613912345678'
const MAIL_CITIZEN = 'guli@example.net'
const ENGLISH_CITIZEN = 'visitor@example.org'
const HOUR = 60 * 60 * 1000

let bot: BotApiServer
let twilio: TwilioApiServer
let relay: RelayServer
let gw: DemoGateway
let smtpPort: number
let clock: number

beforeAll(async () => {
  bot = await startBotApiServer({ token: TOKEN, bot: { username: BOT, first_name: '喀什12345' } })
})
afterAll(() => bot.close())
beforeEach(async () => {
  bot.sent.length = 0
  clock = Date.parse('2026-11-20T10:00:00+08:00')
  relay = await startRelayServer()
  twilio = await startTwilioApiServer({ accountSid: TWILIO_ACCOUNT_SID, authToken: TWILIO_AUTH_TOKEN, fetch: async (req) => gw.intake.app.fetch(req) })
  const mail = smtpEmailChannel({
    addresses: [HOTLINE_MAIL],
    fromName: '喀什地区12345热线',
    listen: { port: 0, closeTimeoutMs: 500 },
    maxBytes: 256 * 1024,
    transport: { host: '127.0.0.1', port: relay.port, connectionTimeoutMs: 2_000 },
  })
  gw = await demoGateway(
    {
      channels: {
        sms: twilioSms({ accountSid: TWILIO_ACCOUNT_SID, authToken: TWILIO_AUTH_TOKEN, from: HOTLINE_NUMBER, apiBaseUrl: twilio.url }),
        tg: telegramChannel({ token: TOKEN, secretToken: SECRET, apiBaseUrl: bot.url, botUsername: BOT }),
        mail,
      },
    },
    { now: () => clock },
  )
  smtpPort = mail.smtpPort!
})
afterEach(async () => {
  await gw.close()
  await twilio.close()
  await relay.close()
})

async function sms(from: string, body: string) {
  const res = await gw.intake.app.fetch(
    incomingMessageRequest(`${BASE}/channels/sms/messages`, incomingSmsParams(TWILIO_ACCOUNT_SID, { From: from, To: HOTLINE_NUMBER, Body: body }), TWILIO_AUTH_TOKEN),
  )
  expect(res.status).toBe(200)
}
async function telegram(from: TgUserLike, text: string) {
  const full = `@${BOT} ${text}`
  const update = bot.message({ chat: VILLAGE, from, text: full, entities: [{ type: 'mention', offset: 0, length: BOT.length + 1 }] })
  const res = await gw.intake.app.request(`${BASE}/channels/tg/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
    body: JSON.stringify(update),
  })
  expect(res.status).toBe(200)
}
async function email(from: string, subject: string, text: string) {
  expect(await deliverRaw(smtpPort, composeMail({ from, to: HOTLINE_MAIL, subject, text }), { from: from.replace(/^.*<|>$/g, ''), to: HOTLINE_MAIL })).toMatch(/^250 /)
}
async function caseOf(channelId: string, citizen: string): Promise<Case> {
  const { cases } = await gw.intake.store.listCases({ channelId, limit: 50 })
  const found = cases.filter((c) => c.citizen.id === citizen)
  expect(found).toHaveLength(1)
  return found[0]!
}
const json = async <T>(res: Response) => (await res.json()) as T
type ClusterBody = { id: string; members: Array<{ id: string; trackingCode: string; channelId: string; status: string }> }
type ErrorBody = { error: { code: string; message: string } }

/** Deliver until every stand-in has what is expected, or the deadline passes. */
async function delivered(expected: { sms: number; tg: number; mail: number }, deadlineMs = 5_000) {
  const deadline = Date.now() + deadlineMs
  const counts = () => ({ sms: twilio.messages.length, tg: bot.sent.length, mail: relay.received.length })
  while (Date.now() < deadline) {
    await gw.intake.outbox.drain()
    const now = counts()
    if (now.sms >= expected.sms && now.tg >= expected.tg && now.mail >= expected.mail) break
    await new Promise((r) => setTimeout(r, 5))
  }
  return counts()
}

describe('duplicate clusters across channels', () => {
  it('three residents on SMS, Telegram and email reporting one fault form a cluster; each receives the office answer and the resolution at their own stand-in', async () => {
    await sms(SMS_CITIZEN, '伽师县巴仁镇幸福路的路灯坏了好几天了，晚上一片漆黑，行人很不安全。')
    clock += HOUR
    await telegram(MAMUT, '巴仁镇幸福路路灯不亮了，已经好几天，晚上漆黑一片，走路很不安全。')
    clock += HOUR
    await email(`古丽 <${MAIL_CITIZEN}>`, '巴仁镇幸福路路灯坏了', '伽师县巴仁镇幸福路上的路灯坏了好几天，晚上漆黑，行人不安全，请尽快修。')
    // Same place, same day, another matter: it stays a case of its own.
    clock += HOUR
    await sms('+8613800000001', '伽师县巴仁镇幸福路有个下水道井盖丢了，车辆经过很危险。')

    const bySms = await caseOf('sms', SMS_CITIZEN)
    const byTg = await caseOf('tg', `${VILLAGE.id}:${MAMUT.id}`)
    const byMail = await caseOf('mail', MAIL_CITIZEN)
    const other = await caseOf('sms', '+8613800000001')
    expect(bySms.clusterId).not.toBeNull()
    expect([byTg.clusterId, byMail.clusterId]).toEqual([bySms.clusterId, bySms.clusterId])
    expect(other.clusterId).toBeNull()
    // Each citizen keeps their own case and tracking code.
    expect(new Set([bySms.trackingCode, byTg.trackingCode, byMail.trackingCode]).size).toBe(3)
    const clusterId = bySms.clusterId!

    // Staff see the cluster, on its own and on each member's case.
    const cluster = await json<ClusterBody>(await gw.api(`/clusters/${clusterId}`))
    expect(cluster.members.map((m) => [m.id, m.channelId])).toEqual([
      [bySms.id, 'sms'],
      [byTg.id, 'tg'],
      [byMail.id, 'mail'],
    ])
    const view = await json<{ cluster: ClusterBody; events: CaseEvent[] }>(await gw.api(`/cases/${byMail.id}`))
    expect(view.cluster.id).toBe(clusterId)
    expect(view.events.filter((e) => e.type === 'clustered').map((e) => e.data)).toEqual([
      { clusterId, withCaseId: expect.any(String), similarity: expect.any(Number), via: 'intake' },
    ])

    // The acknowledgements first (one per citizen and the other case's), then the office answers the cluster once.
    expect(await delivered({ sms: 2, tg: 1, mail: 1 })).toEqual({ sms: 2, tg: 1, mail: 1 })
    const answer = '维修队已更换幸福路的路灯，今晚起恢复照明。'
    const replied = await gw.api(`/clusters/${clusterId}/replies`, { method: 'POST', body: { text: answer, author: 'clerk-bairen-3' } })
    expect(replied.status).toBe(201)
    expect(await delivered({ sms: 3, tg: 2, mail: 2 })).toEqual({ sms: 3, tg: 2, mail: 2 })
    expect(twilio.messages[2]).toMatchObject({ to: SMS_CITIZEN, body: `【伽师县巴仁镇人民政府答复 ${bySms.trackingCode}】${answer}` })
    expect(bot.sent[1]!.chatId).toBe(VILLAGE.id)
    expect(bot.sent[1]!.text).toBe(`【伽师县巴仁镇人民政府答复 ${byTg.trackingCode}】${answer}`)
    const mailed = relay.received[1]!
    expect(mailed.envelope.rcptTo).toEqual([MAIL_CITIZEN])
    expect(mailed.text).toContain(`【伽师县巴仁镇人民政府答复 ${byMail.trackingCode}】${answer}`)
    // The other case at the same place heard nothing.
    expect(twilio.messages.filter((m) => m.to === '+8613800000001')).toHaveLength(1)

    // Resolving the cluster resolves every member and tells each of them.
    const resolved = await gw.api(`/clusters/${clusterId}/resolve`, { method: 'POST', body: { actor: 'clerk-bairen-3' } })
    expect(resolved.status).toBe(200)
    expect(await delivered({ sms: 4, tg: 3, mail: 3 })).toEqual({ sms: 4, tg: 3, mail: 3 })
    expect(twilio.messages[3]!.body).toContain(`您的诉求 ${bySms.trackingCode} 已办结`)
    expect(bot.sent[2]!.text).toContain(`您的诉求 ${byTg.trackingCode} 已办结`)
    expect(relay.received[2]!.text).toContain(`您的诉求 ${byMail.trackingCode} 已办结`)
    for (const c of [bySms, byTg, byMail]) expect((await gw.intake.store.getCase(c.id))?.status).toBe('resolved')
    expect((await gw.intake.store.getCase(other.id))?.status).toBe('received')
    const events = (await json<{ events: CaseEvent[] }>(await gw.api(`/cases/${byTg.id}`))).events.filter((e) => e.type === 'status_changed')
    expect(events.map((e) => e.data)).toEqual([{ from: 'replied', to: 'resolved', transition: 'resolve', clusterId }])

    // Resolving again changes nobody and sends nothing.
    const again = await gw.api(`/clusters/${clusterId}/resolve`, { method: 'POST', body: { actor: 'clerk-bairen-3' } })
    expect(await json<{ cases: Case[]; skipped: Array<{ reason: string }> }>(again)).toMatchObject({ cases: [], skipped: [{ reason: 'already resolved' }, { reason: 'already resolved' }, { reason: 'already resolved' }] })
    expect(await gw.intake.store.listOutbox({ status: 'pending' })).toEqual([])
    await gw.intake.outbox.drain()
    expect({ sms: twilio.messages.length, tg: bot.sent.length, mail: relay.received.length }).toEqual({ sms: 4, tg: 3, mail: 3 })
  })

  it('staff link a report the matching missed (English) and unlink one; bad links get a clear 4xx and change nothing', async () => {
    await sms(SMS_CITIZEN, '伽师县巴仁镇幸福路的路灯坏了好几天了，晚上一片漆黑，行人很不安全。')
    clock += HOUR
    await telegram(MAMUT, '巴仁镇幸福路路灯不亮了，已经好几天，晚上漆黑一片，走路很不安全。')
    clock += HOUR
    await email(`Visitor <${ENGLISH_CITIZEN}>`, 'Street lights out', 'Hello, the street lights on Xingfu Road in Bairen have been dark for days. It is unsafe to walk at night.')
    clock += HOUR
    await sms('+8613800000001', '伽师县巴仁镇幸福路有个下水道井盖丢了，车辆经过很危险。')
    await sms('+8613800000002', '伽师县巴仁镇幸福路有个下水道井盖丢了，车辆经过很危险。请尽快处理')
    const bySms = await caseOf('sms', SMS_CITIZEN)
    const english = await caseOf('mail', ENGLISH_CITIZEN)
    const manhole = await caseOf('sms', '+8613800000001')
    const manhole2 = await caseOf('sms', '+8613800000002')
    const clusterId = bySms.clusterId!
    expect(english.clusterId).toBeNull()
    expect(manhole.clusterId).not.toBeNull()
    expect(manhole2.clusterId).toBe(manhole.clusterId)
    expect(manhole.clusterId).not.toBe(clusterId)

    const link = (id: string, caseId: string) => gw.api(`/clusters/${id}/link`, { method: 'POST', body: { caseId, actor: 'clerk-bairen-3' } })
    const unlink = (id: string, caseId: string) => gw.api(`/clusters/${id}/unlink`, { method: 'POST', body: { caseId, actor: 'clerk-bairen-3' } })

    // Bad input first: each a clear 4xx naming what is wrong.
    const unknownCase = await link(clusterId, 'no-such-case')
    expect(unknownCase.status).toBe(404)
    expect(await json<ErrorBody>(unknownCase)).toEqual({ error: { code: 'case_not_found', message: 'no case "no-such-case"' } })
    const unknownCluster = await link('no-such-cluster', english.id)
    expect(unknownCluster.status).toBe(404)
    expect((await json<ErrorBody>(unknownCluster)).error.code).toBe('cluster_not_found')
    const taken = await link(clusterId, manhole.id)
    expect(taken.status).toBe(409)
    expect(await json<ErrorBody>(taken)).toEqual({
      error: { code: 'already_clustered', message: `case "${manhole.id}" is already in cluster "${manhole.clusterId}"; unlink it there first` },
    })
    const notMember = await unlink(clusterId, english.id)
    expect(notMember.status).toBe(409)
    expect((await json<ErrorBody>(notMember)).error.code).toBe('not_a_member')
    // The actor is the token's identity now (a body needs none); a field the route does not know is still refused.
    const unknownField = await gw.api(`/clusters/${clusterId}/link`, { method: 'POST', body: { caseId: english.id, officeId: 'jiashi' } })
    expect(unknownField.status).toBe(400)
    const pairWithItself = await gw.api('/clusters', { method: 'POST', body: { caseId: english.id, withCaseId: english.id, actor: 'clerk-bairen-3' } })
    expect(pairWithItself.status).toBe(422)
    expect((await gw.intake.store.getCase(manhole.id))?.clusterId).toBe(manhole.clusterId)
    expect((await json<ClusterBody>(await gw.api(`/clusters/${clusterId}`))).members).toHaveLength(2)

    // The English report joins; the answer reaches it in English, the others in Chinese.
    const linked = await link(clusterId, english.id)
    expect(linked.status).toBe(200)
    expect((await json<ClusterBody>(linked)).members.map((m) => m.id)).toContain(english.id)
    expect(await delivered({ sms: 3, tg: 1, mail: 1 })).toEqual({ sms: 3, tg: 1, mail: 1 })
    expect((await gw.api(`/clusters/${clusterId}/replies`, { method: 'POST', body: { text: '路灯已修复 / The lights are fixed.', author: 'clerk-bairen-3' } })).status).toBe(201)
    expect(await delivered({ sms: 4, tg: 2, mail: 2 })).toEqual({ sms: 4, tg: 2, mail: 2 })
    expect(relay.received[1]!.text).toContain(`reply on ${english.trackingCode}] 路灯已修复 / The lights are fixed.`)
    expect(twilio.messages[3]!.body).toBe(`【伽师县巴仁镇人民政府答复 ${bySms.trackingCode}】路灯已修复 / The lights are fixed.`)

    // Unlinked, a case hears no more of the cluster.
    expect((await unlink(manhole.clusterId!, manhole2.id)).status).toBe(200)
    expect((await gw.intake.store.getCase(manhole2.id))?.clusterId).toBeNull()
    expect((await gw.api(`/clusters/${manhole.clusterId}/replies`, { method: 'POST', body: { text: '井盖已补上。', author: 'clerk-bairen-3' } })).status).toBe(201)
    expect(await delivered({ sms: 5, tg: 2, mail: 2 })).toEqual({ sms: 5, tg: 2, mail: 2 })
    expect(twilio.messages.map((m) => m.to).filter((to) => to === '+8613800000002')).toHaveLength(1)
    expect((await gw.api('/clusters/no-such-cluster/replies', { method: 'POST', body: { text: 'x', author: 'clerk-bairen-3' } })).status).toBe(404)
  })
})
