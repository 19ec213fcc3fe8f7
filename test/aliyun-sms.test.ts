/**
 * SMS through Alibaba Cloud end to end on the county-hotline demo: a citizen's SMS reaches the
 * gateway through the platform's HTTP push (SmsUp), the case is routed, the acknowledgement goes out
 * through SendSms — signed, with the approved signature and template — to a loopback stand-in that
 * speaks the platform's wire format, a staff answer goes out the same way, and the stand-in's
 * delivery receipt (SmsReport) marks it delivered on the case.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Case, CaseMessage, OutboxItem } from '@intake/core'
import { aliyunSms } from '@intake/channels/aliyun-sms'
import { startAliyunSmsServer, type AliyunSmsServer } from '@intake/channels/aliyun-sms/aliyun-api-server'
import { API_KEY, BASE, demoGateway, type DemoGateway } from './support/gateway.ts'

const KEY_ID = 'LTAI5tCountyHotline0001'
const KEY_SECRET = 'countyHotlineAccessKeySecret001'
const PUSH_TOKEN = 'county-hotline-push-token-2026'
const SIGN = '伽师县人民检察院'
const CITIZEN = '13912345678'

let gw: DemoGateway
let api: AliyunSmsServer
beforeEach(async () => {
  api = await startAliyunSmsServer({
    accessKeyId: KEY_ID,
    accessKeySecret: KEY_SECRET,
    signNames: [SIGN],
    templates: {
      SMS_465890012: '您的诉求已受理，编号${code}，由${office}办理。',
      SMS_465890013: '您的诉求${code}有新的答复：${text}',
      SMS_465890014: '您的诉求${code}已办结，请回复1-5为答复打分。',
    },
    push: { up: `${BASE}/channels/sms/up?token=${PUSH_TOKEN}`, report: `${BASE}/channels/sms/report?token=${PUSH_TOKEN}` },
    fetch: async (req) => gw.intake.app.fetch(req),
  })
  const sms = aliyunSms({
    accessKeyId: KEY_ID,
    accessKeySecret: KEY_SECRET,
    signName: SIGN,
    pushToken: PUSH_TOKEN,
    endpoint: api.url,
    templates: {
      acknowledgement: { code: 'SMS_465890012', params: { code: 'trackingCode', office: 'officeName' } },
      status: { code: 'SMS_465890013', params: { code: 'trackingCode', text: 'text' } },
      survey: { code: 'SMS_465890014', params: { code: 'trackingCode' } },
    },
  })
  gw = await demoGateway({ channels: { sms } })
})
afterEach(async () => {
  const leaks = [KEY_SECRET, PUSH_TOKEN, API_KEY].filter((s) => gw.lines.some((l) => l.includes(s)))
  await gw.close()
  await api.close()
  expect(leaks).toEqual([])
})

async function details(caseId: string) {
  const res = await gw.api(`/cases/${caseId}`)
  expect(res.status).toBe(200)
  return (await res.json()) as { case: Case; messages: CaseMessage[]; outbox: OutboxItem[] }
}
const allCases = async () => (await gw.intake.store.listCases({ limit: 50 })).cases

describe('an Alibaba Cloud SMS case through its life', () => {
  it('routes, acknowledges with the approved template, delivers a staff answer, and records the receipt', async () => {
    const res = await api.up(CITIZEN, '伽师县检察院：我们村的公益诉讼线索，河道被非法采砂破坏。')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ code: 0, msg: '接收成功' })
    const [kase] = await allCases()
    expect(kase).toMatchObject({ officeId: 'jiashi-procuratorate', channelId: 'sms', citizen: { id: CITIZEN } })

    await gw.intake.outbox.drain()
    expect(api.sent.map((s) => s.text)).toEqual([`【${SIGN}】您的诉求已受理，编号${kase!.trackingCode}，由伽师县人民检察院办理。`])
    expect(api.sent[0]).toMatchObject({ phone: CITIZEN, templateCode: 'SMS_465890012' })

    const staff = await gw.api(`/cases/${kase!.id}/replies`, { method: 'POST', body: { text: '已派员核查，采砂船已扣押。', author: 'prosecutor-3' } })
    expect(staff.status).toBe(201)
    await gw.intake.outbox.drain()
    expect(api.sent).toHaveLength(2)
    const answer = api.sent[1]!
    expect(answer.templateCode).toBe('SMS_465890013')
    expect(answer.text.startsWith(`【${SIGN}】您的诉求${kase!.trackingCode}有新的答复：`)).toBe(true)
    expect(answer.text).toContain('已派员核查')

    expect((await api.report(answer.bizId)).status).toBe(200)
    const { messages } = await details(kase!.id)
    expect(messages.find((m) => m.externalId === answer.bizId)?.deliveryStatus).toBe('delivered')

    // The citizen answers by SMS: the same case.
    expect((await api.up(CITIZEN, '补充：采砂船晚上十点以后来。')).status).toBe(200)
    expect(await allCases()).toHaveLength(1)
  })

  it('sends the survey template for the follow-up survey (回访) after a case is resolved', async () => {
    await api.up(CITIZEN, '疏勒县的路灯坏了')
    const [kase] = await allCases()
    for (const status of ['resolved']) {
      const res = await gw.api(`/cases/${kase!.id}/status`, { method: 'POST', body: { status, actor: 'clerk-1' } })
      expect(res.status, await res.clone().text()).toBeLessThan(300)
    }
    await gw.intake.outbox.drain()
    // The resolution notice is a status message; the survey follows once its timer is due (an hour later by default).
    expect(api.sent.at(-1)).toMatchObject({ templateCode: 'SMS_465890013' })
    const timers = await gw.intake.store.listTimers(kase!.id)
    await gw.intake.store.planTimers(kase!.id, { timers: timers.filter((t) => t.kind === 'survey').map((t) => ({ ...t, dueAt: Date.now() - 1 })) })
    await gw.intake.timers.drain()
    await gw.intake.outbox.drain()
    expect(api.sent.at(-1)).toMatchObject({ templateCode: 'SMS_465890014', text: `【${SIGN}】您的诉求${kase!.trackingCode}已办结，请回复1-5为答复打分。` })
  })

  it('sends nothing after 退订, and a blacklisted number is dead-lettered as stopped', async () => {
    await api.up(CITIZEN, '疏勒县的路灯坏了')
    await gw.intake.outbox.drain()
    const [kase] = await allCases()
    await api.up(CITIZEN, '退订')
    await gw.api(`/cases/${kase!.id}/replies`, { method: 'POST', body: { text: '路灯本周修复。', author: 'clerk-1' } })
    await gw.intake.outbox.drain()
    expect(api.sent).toHaveLength(1)

    api.blacklist.add('13800000002')
    await api.up('13800000002', '莎车县的河里有排污')
    await gw.intake.outbox.drain()
    const other = (await allCases()).find((c) => c.citizen.id === '13800000002')!
    const dead = (await details(other.id)).outbox[0]!
    expect(dead.status).toBe('dead')
    expect(dead.lastError).toMatch(/^stopped.*isv\.BLACK_KEY_CONTROL_LIMIT/)
  })
})
