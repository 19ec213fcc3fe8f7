/**
 * SMS end to end on the county-hotline demo: a citizen texts the hotline number, Twilio (the
 * official SDK's signature, posted in-process) hands the message to the gateway, the case is routed,
 * and everything Intake says back goes through the official twilio SDK to a local stand-in that
 * speaks Twilio's REST API — which in turn posts signed status callbacks, as Twilio does.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Case, CaseMessage, OutboxItem } from '@intake/core'
import { imageFacts, pngImage } from '@intake/channels/kit'
import { countSegments } from '@intake/channels/twilio-sms'
import { incomingMessageRequest, incomingSmsParams } from '@intake/channels/twilio-sms/twilio-api-server'
import { API_KEY, BASE } from './support/gateway.ts'
import { HOTLINE_NUMBER, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, smsGateway, type SmsGateway } from './support/twilio-gateway.ts'

const CITIZEN = '+8613912345678'
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

let gw: SmsGateway
beforeEach(async () => {
  gw = await smsGateway({ maxSegments: 3 })
})
afterEach(async () => {
  // Neither the auth token nor the staff API key may reach a log line.
  expect(gw.lines.filter((l) => l.includes(TWILIO_AUTH_TOKEN) || l.includes(API_KEY))).toEqual([])
  await gw.close()
})

const allCases = async () => (await gw.intake.store.listCases({ limit: 50 })).cases
async function details(caseId: string) {
  const res = await gw.api(`/cases/${caseId}`)
  expect(res.status).toBe(200)
  return (await res.json()) as { case: Case; messages: CaseMessage[]; outbox: OutboxItem[] }
}
async function onlyCase() {
  const cases = await allCases()
  expect(cases).toHaveLength(1)
  return cases[0]!
}
/** Deliver until the stand-in has `count` messages, or the deadline passes (the outbox backs off 1–5 ms here). */
async function deliveredCount(count: number, deadlineMs = 5_000) {
  const deadline = Date.now() + deadlineMs
  while (gw.twilio.messages.length < count && Date.now() < deadline) {
    await gw.intake.outbox.drain()
    await new Promise((r) => setImmediate(r))
  }
  return gw.twilio.messages.length
}
async function reply(caseId: string, text: string) {
  const res = await gw.api(`/cases/${caseId}/replies`, { method: 'POST', body: { text, author: 'clerk-1' } })
  expect(res.status).toBe(201)
}

describe('an SMS case through its life', () => {
  it('routes, acknowledges, delivers a staff reply, records its delivery, and joins the follow-up', async () => {
    const res = await gw.sms(CITIZEN, '伽师县检察院：我们村的公益诉讼线索，河道被非法采砂破坏。')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/xml/)
    expect(await res.text()).toBe(EMPTY_TWIML)

    const kase = await onlyCase()
    expect(kase).toMatchObject({ officeId: 'jiashi-procuratorate', channelId: 'sms', citizen: { id: CITIZEN } })

    // The acknowledgement reaches Twilio through the SDK, from the hotline number, with the tracking code.
    await gw.intake.outbox.drain()
    expect(gw.twilio.messages).toHaveLength(1)
    const ack = gw.twilio.messages[0]!
    expect(ack).toMatchObject({ to: CITIZEN, from: HOTLINE_NUMBER, statusCallback: `${BASE}/channels/sms/status` })
    expect(ack.body).toBe(
      `您好，您的诉求已收到，编号 ${kase.trackingCode}，已转交伽师县人民检察院办理，我们会在这里告诉您进展。查询进度：${BASE}/status/${kase.trackingCode}`,
    )

    // A staff reply goes out the same way…
    await reply(kase.id, '已派员现场核查，采砂船已被扣押。')
    await gw.intake.outbox.drain()
    expect(gw.twilio.messages).toHaveLength(2)
    const sent = gw.twilio.messages[1]!
    expect(sent.body).toBe(`【伽师县人民检察院答复 ${kase.trackingCode}】已派员现场核查，采砂船已被扣押。`)

    // …and Twilio's signed status callback marks it delivered on the case.
    const callback = await gw.twilio.sendStatus(sent.sid, 'delivered')
    expect(callback.status).toBe(200)
    const { messages } = await details(kase.id)
    const out = messages.filter((m) => m.direction === 'out')
    expect(out.find((m) => m.externalId === sent.sid)?.deliveryStatus).toBe('delivered')
    expect(out.find((m) => m.externalId === ack.sid)?.deliveryStatus).toBe('sent')

    // The citizen answers by SMS: the same case, and a follow-up acknowledgement.
    expect((await gw.sms(CITIZEN, '谢谢，采砂船昨晚又出现了。')).status).toBe(200)
    expect((await onlyCase()).id).toBe(kase.id)
    const after = await details(kase.id)
    expect(after.messages.filter((m) => m.direction === 'in').map((m) => m.text)).toEqual(['伽师县检察院：我们村的公益诉讼线索，河道被非法采砂破坏。', '谢谢，采砂船昨晚又出现了。'])
    await gw.intake.outbox.drain()
    expect(gw.twilio.messages).toHaveLength(3)
    expect(gw.twilio.messages[2]!.body).toContain(kase.trackingCode)
  })

  it('records a failed delivery with Twilio\'s error code from the status callback', async () => {
    await gw.sms(CITIZEN, '疏勒县拖欠工资三个月了')
    await gw.intake.outbox.drain()
    const ack = gw.twilio.messages[0]!
    expect((await gw.twilio.sendStatus(ack.sid, 'undelivered', { errorCode: 30003 })).status).toBe(200)
    const kase = await onlyCase()
    const { messages } = await details(kase.id)
    expect(messages.find((m) => m.externalId === ack.sid)?.deliveryStatus).toBe('failed')
    expect(gw.lines.some((l) => l.includes('delivery failed at the provider') && l.includes('30003 (unreachable destination handset)'))).toBe(true)
  })

  it('shortens a long reply to the configured three segments, ending with the status page link', async () => {
    await gw.sms(CITIZEN, '莎车县的河里有排污，臭味很大')
    const kase = await onlyCase()
    await reply(kase.id, '经环境监测站取样检测，'.repeat(40))
    await gw.intake.outbox.drain()
    const body = gw.twilio.messages.at(-1)!.body
    expect(countSegments(body)).toMatchObject({ encoding: 'UCS-2', segments: 3 })
    expect(body.endsWith(`… ${BASE}/status/${kase.trackingCode}`)).toBe(true)
  })

  it('keeps an MMS photo as an attachment of the case', async () => {
    const photo = pngImage(16, 9, [90, 140, 60])
    await gw.sms(CITIZEN, '喀什市东湖街道 路面塌陷', { NumMedia: '1', MediaUrl0: gw.twilio.addMedia(photo, 'image/png'), MediaContentType0: 'image/png' })
    const kase = await onlyCase()
    const [message] = (await details(kase.id)).messages
    expect(message!.attachments).toMatchObject([{ contentType: 'image/png', filename: 'media-1.png' }])
    // Stored as the same picture, decoded and encoded again (no metadata survives).
    const stored = (await gw.intake.blobs.get(message!.attachments[0]!.blobKey!))!
    expect(message!.attachments[0]!.size).toBe(stored.byteLength)
    expect(await imageFacts(stored)).toEqual({ format: 'png', width: 16, height: 9, exif: false })
  })
})

describe('STOP and START', () => {
  it('sends nothing to a number that texted STOP, until it texts START', async () => {
    await gw.sms(CITIZEN, '疏勒县的路灯坏了')
    await gw.intake.outbox.drain()
    expect(gw.twilio.messages).toHaveLength(1)
    const kase = await onlyCase()

    const stop = await gw.sms(CITIZEN, 'STOP')
    expect(await stop.text()).toBe(EMPTY_TWIML)
    await reply(kase.id, '路灯本周修复。')
    await gw.intake.outbox.drain()
    expect(gw.twilio.messages).toHaveLength(1) // nothing reached Twilio
    const dead = (await details(kase.id)).outbox.find((o) => o.payload.kind === 'reply')!
    expect(dead).toMatchObject({ status: 'dead' })
    expect(dead.lastError).toMatch(/^stopped/)

    await gw.sms(CITIZEN, 'start')
    await reply(kase.id, '路灯已于今日修复。')
    await gw.intake.outbox.drain()
    expect(gw.twilio.messages).toHaveLength(2)
    expect(gw.twilio.messages[1]!.body).toContain('路灯已于今日修复。')
    expect(await allCases()).toHaveLength(1) // STOP and START opened no case
  })

  it('stops sending when Twilio refuses with 21610 (the citizen opted out at Twilio)', async () => {
    gw.twilio.failNext({ code: 21610 })
    await gw.sms(CITIZEN, '疏勒县的路灯坏了')
    await gw.intake.outbox.drain()
    const kase = await onlyCase()
    await reply(kase.id, '路灯本周修复。')
    await gw.intake.outbox.drain()
    expect(gw.twilio.requests).toBe(1) // the reply was not even attempted
    expect(gw.twilio.messages).toHaveLength(0)
  })

  it('answers HELP in the webhook response and opens no case', async () => {
    const res = await gw.sms(CITIZEN, 'HELP')
    expect(await res.text()).toMatch(/<Response><Message>.+<\/Message><\/Response>$/)
    expect(await allCases()).toHaveLength(0)
  })
})

describe('bad input and a misbehaving provider', () => {
  it('a forged signature → 403, nothing stored, counted', async () => {
    const params = incomingSmsParams(TWILIO_ACCOUNT_SID, { From: CITIZEN, To: HOTLINE_NUMBER, Body: '伽师县 路灯坏了' })
    const forged = incomingMessageRequest(`${BASE}/channels/sms/messages`, params, 'ffffffffffffffffffffffffffffffff')
    const res = await gw.intake.app.fetch(forged)
    expect(res.status).toBe(403)
    expect(await allCases()).toHaveLength(0)
    expect(gw.intake.metrics.get('inbound_rejected', { channelId: 'sms', code: 'bad_signature' })).toBe(1)
    await gw.intake.outbox.drain()
    expect(gw.twilio.requests).toBe(0)
  })

  it('a Twilio retry of the same MessageSid → one case, one acknowledgement', async () => {
    const params = { MessageSid: 'SM' + 'e'.repeat(32) }
    expect((await gw.sms(CITIZEN, '莎车县 水管爆了', params)).status).toBe(200)
    expect((await gw.sms(CITIZEN, '莎车县 水管爆了', params)).status).toBe(200)
    await gw.intake.outbox.drain()
    expect(await allCases()).toHaveLength(1)
    expect(gw.twilio.messages).toHaveLength(1)
  })

  it('a media URL that answers 404 → the case is created, with a note staff can see', async () => {
    const res = await gw.sms(CITIZEN, '伽师县巴仁镇 垃圾堆积', { NumMedia: '1', MediaUrl0: gw.twilio.missingMediaUrl(), MediaContentType0: 'image/jpeg' })
    expect(res.status).toBe(200)
    const kase = await onlyCase()
    const [message] = (await details(kase.id)).messages
    expect(message!.text).toBe('伽师县巴仁镇 垃圾堆积\n\n[1 attachment could not be downloaded: HTTP 404]')
    expect(message!.attachments).toEqual([])
    await gw.intake.outbox.drain()
    expect(gw.twilio.messages).toHaveLength(1)
  })

  it('Twilio answering 500 three times, then 201 → exactly one SMS delivered', async () => {
    gw.twilio.failNext({ status: 500 }, { status: 500 }, { status: 500 })
    await gw.sms(CITIZEN, '疏勒县 路灯坏了')
    expect(await deliveredCount(1)).toBe(1)
    expect(gw.twilio.requests).toBe(4)
    const [item] = await gw.intake.store.listOutbox({})
    expect(item).toMatchObject({ status: 'sent', attempts: 4, providerId: gw.twilio.messages[0]!.sid })
    await gw.intake.outbox.drain()
    expect(gw.twilio.messages).toHaveLength(1)
  })

  it('a status callback with a forged signature → 403, the delivery status unchanged', async () => {
    await gw.sms(CITIZEN, '疏勒县 路灯坏了')
    await gw.intake.outbox.drain()
    const ack = gw.twilio.messages[0]!
    const body = new URLSearchParams({ MessageSid: ack.sid, MessageStatus: 'failed', ErrorCode: '30007' }).toString()
    const res = await gw.intake.app.fetch(
      new Request(`${BASE}/channels/sms/status`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'bm90IGEgc2lnbmF0dXJl' }, body }),
    )
    expect(res.status).toBe(403)
    const kase = await onlyCase()
    expect((await details(kase.id)).messages.find((m) => m.externalId === ack.sid)?.deliveryStatus).toBe('sent')
  })
})
