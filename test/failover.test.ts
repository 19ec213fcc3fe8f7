/**
 * Provider failover on the county hotline's SMS channel: Twilio first, Alibaba Cloud SMS second,
 * each reached through its real client (the official twilio SDK; SendSms signed with signature v1.0)
 * at a loopback stand-in speaking its wire format. Twilio fails with 500s, then stalls past the
 * adapter's timeout: the acknowledgements go out through Alibaba Cloud, each exactly once, its
 * breaker opens and Twilio is no longer tried; after the cool-down one probe goes to Twilio and
 * traffic returns to it. Delivery reports from both providers land on the same deliveries, and the
 * breakers show in /metrics and on the console's dead-letter page. Thresholds are small and
 * configured; nothing here measures time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { addUser, failover, type CaseMessage, type ChannelProviderHealth, type OutboxItem } from '@intake/core'
import { staffConsole } from '@intake/console'
import { aliyunSms } from '@intake/channels/aliyun-sms'
import { startAliyunSmsServer, type AliyunSmsServer } from '@intake/channels/aliyun-sms/aliyun-api-server'
import { twilioSms } from '@intake/channels/twilio-sms'
import { incomingMessageRequest, incomingSmsParams, startTwilioApiServer, type TwilioApiServer } from '@intake/channels/twilio-sms/twilio-api-server'
import { API_KEY, BASE, demoGateway, type DemoGateway } from './support/gateway.ts'
import { STAFF_PASSWORD, signIn } from './support/console.ts'
import { HOTLINE_NUMBER, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN } from './support/twilio-gateway.ts'

const KEY_ID = 'LTAI5tCountyHotline0001'
const KEY_SECRET = 'countyHotlineAccessKeySecret001'
const PUSH_TOKEN = 'county-hotline-push-token-2026'
const SIGN = '伽师县人民检察院'
/** The breaker opens once more than half of at least 5 sends failed, and waits a minute before its probe. */
const BREAKER = { minimumSends: 5, failurePercent: 50, coolDownMs: 60_000 }

let gw: DemoGateway
let twilio: TwilioApiServer
let aliyun: AliyunSmsServer
beforeEach(async () => {
  // The breakers read the time (Date.now) for their cool-down; the test moves it on instead of waiting.
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true })
  const inProcess = async (req: Request) => gw.intake.app.fetch(req)
  twilio = await startTwilioApiServer({ accountSid: TWILIO_ACCOUNT_SID, authToken: TWILIO_AUTH_TOKEN, fetch: inProcess })
  aliyun = await startAliyunSmsServer({
    accessKeyId: KEY_ID,
    accessKeySecret: KEY_SECRET,
    signNames: [SIGN],
    templates: { SMS_465890012: '您的诉求已受理，编号${code}。', SMS_465890013: '您的诉求${code}有新的答复：${text}', SMS_465890014: '您的诉求${code}已办结。' },
    push: { up: `${BASE}/channels/sms/up?token=${PUSH_TOKEN}`, report: `${BASE}/channels/sms/report?token=${PUSH_TOKEN}` },
    fetch: inProcess,
  })
  const sms = failover(
    [
      // A stalled Twilio answer is given up after 3 s (roomy: a healthy answer on a loaded CI machine must not time out): a retryable connection error, counted by the breaker.
      twilioSms({ accountSid: TWILIO_ACCOUNT_SID, authToken: TWILIO_AUTH_TOKEN, from: HOTLINE_NUMBER, apiBaseUrl: twilio.url, timeoutMs: 3_000 }),
      aliyunSms({
        accessKeyId: KEY_ID,
        accessKeySecret: KEY_SECRET,
        signName: SIGN,
        pushToken: PUSH_TOKEN,
        endpoint: aliyun.url,
        templates: {
          acknowledgement: { code: 'SMS_465890012', params: { code: 'trackingCode' } },
          status: { code: 'SMS_465890013', params: { code: 'trackingCode', text: 'text' } },
          survey: { code: 'SMS_465890014', params: { code: 'trackingCode' } },
        },
      }),
    ],
    { breaker: BREAKER },
  )
  gw = await demoGateway({ channels: { sms }, console: staffConsole() })
})
afterEach(async () => {
  const leaks = [TWILIO_AUTH_TOKEN, KEY_SECRET, PUSH_TOKEN, API_KEY].filter((s) => gw.lines.some((l) => l.includes(s)))
  await gw.close()
  await twilio.close()
  await aliyun.close()
  vi.useRealTimers()
  expect(leaks).toEqual([])
})

let citizens = 0
/** A new citizen texts the hotline through Twilio's webhook; their case's acknowledgement is then delivered. */
async function newCaseAcknowledged(): Promise<{ trackingCode: string; caseId: string }> {
  const from = `+86139${String(10_000_000 + ++citizens)}`
  const res = await gw.intake.app.fetch(
    incomingMessageRequest(`${BASE}/channels/sms/messages`, incomingSmsParams(TWILIO_ACCOUNT_SID, { From: from, To: HOTLINE_NUMBER, Body: '疏勒县的路灯坏了，晚上很黑。' }), TWILIO_AUTH_TOKEN),
  )
  expect(res.status).toBe(200)
  const kase = (await gw.intake.store.listCases({ limit: 100 })).cases.find((c) => c.citizen.id === from)!
  await gw.intake.outbox.drain()
  return { trackingCode: kase.trackingCode, caseId: kase.id }
}

/** How many times each tracking code reached a handset, whichever provider carried it. */
function handsetCounts(codes: string[]) {
  const texts = [...twilio.messages.map((m) => m.body), ...aliyun.sent.map((s) => s.text)]
  return codes.map((code) => texts.filter((t) => t.includes(code)).length)
}

async function metrics(): Promise<string> {
  const res = await gw.intake.app.request(`${BASE}/metrics`, { headers: { 'x-api-key': API_KEY } })
  expect(res.status).toBe(200)
  return res.text()
}

const health = (): ChannelProviderHealth['providers'] => gw.intake.config.channels.sms!.providerHealth!()
const stateOf = (provider: string) => health().find((p) => p.provider === provider)!.state

async function outboxOf(caseId: string): Promise<OutboxItem> {
  const [item] = await gw.intake.store.listOutbox({ caseId })
  return item!
}


describe('SMS through Twilio, then Alibaba Cloud when Twilio fails', () => {
  it('delivers through the second provider while Twilio answers 500 and then times out, never twice, and returns to Twilio after a probe', async () => {
    const first = await newCaseAcknowledged()
    expect(twilio.messages).toHaveLength(1)
    expect((await outboxOf(first.caseId)).providerId).toBe(`twilio-sms:${twilio.messages[0]!.sid}`)

    // Twilio fails: two 500s from its API, then two requests that are never answered.
    twilio.failNext({ status: 500, message: 'Internal Server Error' }, { status: 500, message: 'Internal Server Error' })
    const during = [await newCaseAcknowledged(), await newCaseAcknowledged()]
    await twilio.breakNext('stalled')
    during.push(await newCaseAcknowledged())
    await twilio.breakNext('stalled')
    during.push(await newCaseAcknowledged())

    // Each went out through Alibaba Cloud in its first attempt, once; Twilio sent none of them.
    expect(aliyun.sent).toHaveLength(4)
    expect(handsetCounts(during.map((c) => c.trackingCode))).toEqual([1, 1, 1, 1])
    expect(twilio.messages).toHaveLength(1)
    for (const [i, c] of during.entries()) {
      const item = await outboxOf(c.caseId)
      expect(item).toMatchObject({ status: 'sent', attempts: 1, providerId: `aliyun-sms:${aliyun.sent[i]!.bizId}` })
      // The same message: Alibaba Cloud's OutId is our outbound message id.
      expect(aliyun.sent[i]!.outId).toBe(item.messageId)
    }

    // Four failures of five sends: Twilio's breaker is open, and the next case does not try Twilio at all.
    expect(stateOf('twilio-sms')).toBe('open')
    const twilioCalls = twilio.requests
    const whileOpen = await newCaseAcknowledged()
    expect(twilio.requests).toBe(twilioCalls)
    expect(handsetCounts([whileOpen.trackingCode])).toEqual([1])
    expect(aliyun.sent).toHaveLength(5)

    const text = await metrics()
    expect(text).toContain('intake_provider_breaker_state{channelId="sms",provider="twilio-sms",state="open"} 1')
    expect(text).toContain('intake_provider_breaker_state{channelId="sms",provider="aliyun-sms",state="closed"} 1')
    expect(text).toContain('intake_provider_sends_total{channelId="sms",outcome="failed",provider="twilio-sms"} 4')
    expect(text).toContain('intake_provider_sends_total{channelId="sms",outcome="skipped",provider="twilio-sms"} 1')
    expect(text).toContain('intake_provider_sends_total{channelId="sms",outcome="sent",provider="aliyun-sms"} 5')
    expect(text).toContain('intake_provider_breaker_opened_total{channelId="sms",provider="twilio-sms"} 1')

    // Twilio recovers. After the cool-down one send probes it; it goes through and traffic returns.
    vi.setSystemTime(Date.now() + BREAKER.coolDownMs)
    expect(stateOf('twilio-sms')).toBe('half-open')
    const after = [await newCaseAcknowledged(), await newCaseAcknowledged()]
    expect(stateOf('twilio-sms')).toBe('closed')
    expect(twilio.messages.map((m) => m.body).filter((b) => after.some((c) => b.includes(c.trackingCode)))).toHaveLength(2)
    expect(aliyun.sent).toHaveLength(5)
    expect(handsetCounts([first, ...during, whileOpen, ...after].map((c) => c.trackingCode))).toEqual([1, 1, 1, 1, 1, 1, 1, 1])
    expect(await metrics()).toContain('intake_provider_breaker_state{channelId="sms",provider="twilio-sms",state="closed"} 1')
  })

  it("records each provider's delivery reports on the delivery it sent", async () => {
    const byTwilio = await newCaseAcknowledged()
    twilio.failNext({ status: 503, message: 'Service Unavailable' })
    const byAliyun = await newCaseAcknowledged()
    expect(twilio.messages).toHaveLength(1)
    expect(aliyun.sent).toHaveLength(1)

    expect((await twilio.sendStatus(twilio.messages[0]!.sid, 'delivered')).status).toBe(200)
    const report = await aliyun.report(aliyun.sent[0]!.bizId, { success: false, errCode: 'MOBILE_NOT_ON_SERVICE', errMsg: '停机' })
    expect(report.status).toBe(200)
    expect(await report.json()).toEqual({ code: 0, msg: '接收成功' })

    const delivery = async (caseId: string) => {
      const res = await gw.api(`/cases/${caseId}`)
      const { messages, outbox } = (await res.json()) as { messages: CaseMessage[]; outbox: OutboxItem[] }
      const sent = messages.find((m) => m.id === outbox[0]!.messageId)!
      return { status: sent.deliveryStatus, providerId: outbox[0]!.providerId }
    }
    expect(await delivery(byTwilio.caseId)).toEqual({ status: 'delivered', providerId: `twilio-sms:${twilio.messages[0]!.sid}` })
    expect(await delivery(byAliyun.caseId)).toEqual({ status: 'failed', providerId: `aliyun-sms:${aliyun.sent[0]!.bizId}` })
  })

  it("shows each provider's breaker on the console's dead-letter page", async () => {
    twilio.failNext({ status: 500 })
    await newCaseAcknowledged()
    await addUser(gw.intake.store, gw.intake.offices, { login: 'kashgar.lead', name: '王建华', officeId: 'kashgar', role: 'lead', password: STAFF_PASSWORD }, 'test', 1)
    const lead = await signIn(gw.intake.app, 'kashgar.lead')
    const page = await (await lead.get('/console/dead-letters?lang=en')).text()
    const row = (provider: string) => new RegExp(`<tr data-provider="sms/${provider}">(.*?)</tr>`).exec(page)?.[1]?.match(/<td>([^<]*)<\/td>/g)?.map((td) => td.slice(4, -5))
    expect(row('twilio-sms')).toEqual(['sms', 'twilio-sms', 'closed (in use)', '0', '1', '0', '0'])
    expect(row('aliyun-sms')).toEqual(['sms', 'aliyun-sms', 'closed (in use)', '1', '0', '0', '0'])
  })
})
