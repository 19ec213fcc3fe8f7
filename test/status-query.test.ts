/**
 * Status on any channel, end to end on the county-hotline demo: an SMS citizen (Twilio stand-in),
 * a WeChat follower (passive replies) and Telegram group members (Bot API stand-in) ask the status
 * of a case by code — theirs and someone else's — and what they are sent is checked where the
 * provider receives it. A stranger's code never joins the case, reopens it, or reaches its citizen.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createLookupThrottle, newTrackingCode, type Case, type CaseEvent, type CaseMessage } from '@intake/core'
import { cdata, leafFields, parseXml, wechatChannel, wechatSignature } from '@intake/channels/wechat'
import { startWechatApiServer, type WechatApiServer } from '@intake/channels/wechat/wechat-api-server'
import { telegramChannel } from '@intake/channels/telegram'
import { startBotApiServer, type BotApiServer, type TgChatLike, type TgUserLike } from '@intake/channels/telegram/bot-api-server'
import { BASE, demoGateway, type DemoGateway } from './support/gateway.ts'
import { smsGateway, type SmsGateway } from './support/twilio-gateway.ts'

const CITIZEN = '+8613912345678'
const NEIGHBOUR = '+8613800001111'

/** One character changed: the check character no longer matches. */
const mistype = (code: string) => code.slice(0, 8) + (code[8] === '2' ? '3' : '2')
/** A well-formed code (its check character holds) that no case has. */
const unknownCode = () => newTrackingCode(() => 7)

async function details(gw: DemoGateway, caseId: string) {
  const res = await gw.api(`/cases/${caseId}`)
  expect(res.status).toBe(200)
  return (await res.json()) as { case: Case; messages: CaseMessage[]; events: CaseEvent[] }
}
const allCases = async (gw: DemoGateway) => (await gw.intake.store.listCases({ limit: 100 })).cases

describe('status by SMS', () => {
  let gw: SmsGateway
  afterEach(async () => gw.close())

  /** What the stand-in received for one number since `from`, after delivering everything queued. */
  async function textsTo(to: string, from = 0) {
    await gw.intake.outbox.drain()
    return gw.twilio.messages.slice(from).filter((m) => m.to === to).map((m) => m.body)
  }

  it('answers the citizen and a stranger with the public status, on their own numbers; joins nothing, reopens nothing', async () => {
    gw = await smsGateway()
    await gw.sms(CITIZEN, '伽师县检察院：我们村的公益诉讼线索，河道被非法采砂破坏。')
    const [kase] = await allCases(gw)
    const code = kase!.trackingCode
    await gw.api(`/cases/${kase!.id}/replies`, { method: 'POST', body: { text: '已派员现场核查。', author: 'clerk-1' } })
    await textsTo(CITIZEN)
    const seen = gw.twilio.messages.length

    // The citizen asks: the status, the office, the deadline, the latest reply, the link.
    await gw.sms(CITIZEN, `查询 ${code}`)
    const [own] = await textsTo(CITIZEN, seen)
    expect(own).toContain(`诉求 ${code}：已答复`)
    expect(own).toContain('办理单位：伽师县人民检察院')
    expect(own).toContain('办理时限：')
    expect(own).toContain('最新答复：已派员现场核查。')
    expect(own).toContain(`详情：${BASE}/status/${code}`)

    // A neighbour asks about the same case: the same public status, to the neighbour only.
    const before = gw.twilio.messages.length
    await gw.sms(NEIGHBOUR, `进度 ${code}`)
    const toNeighbour = await textsTo(NEIGHBOUR, before)
    expect(toNeighbour).toHaveLength(1)
    expect(toNeighbour[0]).toContain(`诉求 ${code}：已答复`)
    expect(toNeighbour[0]).toContain('最新答复：已派员现场核查。')
    expect(await textsTo(CITIZEN, before)).toEqual([])

    // Nothing was appended: one case, no follow-up events, the neighbour's words not on it.
    expect(await allCases(gw)).toHaveLength(1)
    const after = await details(gw, kase!.id)
    expect(after.events.filter((e) => e.type === 'follow_up')).toEqual([])
    expect(after.messages.some((m) => m.author === NEIGHBOUR)).toBe(false)
    expect(after.case.status).toBe('replied')
  })

  it('keeps a resolved case resolved when a stranger asks, and opens a related case for a stranger\'s words', async () => {
    gw = await smsGateway()
    await gw.sms(CITIZEN, '疏勒县拖欠工资三个月了')
    const [kase] = await allCases(gw)
    const code = kase!.trackingCode
    expect((await gw.api(`/cases/${kase!.id}/status`, { method: 'POST', body: { status: 'resolved', actor: 'clerk-1' } })).status).toBe(200)
    await textsTo(CITIZEN)
    const seen = gw.twilio.messages.length

    await gw.sms(NEIGHBOUR, code)
    expect((await textsTo(NEIGHBOUR, seen))[0]).toContain(`诉求 ${code}：已办结`)
    expect((await details(gw, kase!.id)).case.status).toBe('resolved')

    // More than a query: the neighbour's own new case, linked to the one cited; the citizen is sent nothing.
    await gw.sms(NEIGHBOUR, `${code} 我们厂也一样，工资拖欠了两个月`)
    const cases = await allCases(gw)
    expect(cases).toHaveLength(2)
    const theirs = cases.find((c) => c.citizen.id === NEIGHBOUR)!
    const related = (await details(gw, theirs.id)).events.find((e) => e.type === 'related')
    expect(related?.data).toEqual({ caseId: kase!.id, trackingCode: code })
    expect((await details(gw, kase!.id)).case.status).toBe('resolved')
    expect(await textsTo(CITIZEN, seen)).toEqual([])
    expect((await textsTo(NEIGHBOUR, seen)).at(-1)).toContain(theirs.trackingCode)
  })

  it('says "please check the code" for a mistyped code, "not found" for an unknown one, and lists the sender\'s open cases without one', async () => {
    gw = await smsGateway()
    await gw.sms(CITIZEN, '莎车县的河里有排污，臭味很大')
    const [kase] = await allCases(gw)
    await textsTo(CITIZEN)
    let seen = gw.twilio.messages.length

    await gw.sms(CITIZEN, `查询 ${mistype(kase!.trackingCode)}`)
    expect(await textsTo(CITIZEN, seen)).toEqual([`编号 ${mistype(kase!.trackingCode)} 好像输错了一个字符，请核对编号后再发送（例如：查询 K7F3-9Q2M）。`])
    seen = gw.twilio.messages.length

    const nobody = unknownCode()
    await gw.sms(NEIGHBOUR, `status ${nobody}`)
    expect(await textsTo(NEIGHBOUR, seen)).toEqual([`No case has the code ${nobody}. Please check the code and try again. Look up: ${BASE}/status`])
    seen = gw.twilio.messages.length

    await gw.sms(CITIZEN, '查询')
    const [list] = await textsTo(CITIZEN, seen)
    expect(list).toContain('您在这里有 1 件正在办理的诉求')
    expect(list).toContain(`${kase!.trackingCode}（已受理）莎车县的河里有排污`)
    seen = gw.twilio.messages.length
    await gw.sms(NEIGHBOUR, '查询')
    expect(await textsTo(NEIGHBOUR, seen)).toEqual(['您在这里没有正在办理的诉求。查询其他诉求，请发送「查询 编号」。'])
    expect(await allCases(gw)).toHaveLength(1)
  })

  it('refuses politely after too many wrong codes, and the status page answers 429 with Retry-After', async () => {
    const lookups = createLookupThrottle({ lookups: { points: 100, durationMs: 60_000 }, misses: { points: 3, durationMs: 3_600_000, blockMs: 3_600_000 } })
    gw = await smsGateway({}, { lookups })
    await gw.sms(CITIZEN, '疏勒县拖欠工资三个月了')
    const [kase] = await allCases(gw)
    await textsTo(CITIZEN)
    const seen = gw.twilio.messages.length
    for (let i = 0; i < 4; i++) await gw.sms(NEIGHBOUR, `查询 ${newTrackingCode(() => i + 10)}`)
    // Blocked now, even for a code that exists.
    await gw.sms(NEIGHBOUR, `查询 ${kase!.trackingCode}`)
    const texts = await textsTo(NEIGHBOUR, seen)
    expect(texts).toHaveLength(5)
    expect(texts.slice(0, 4).every((t) => t.startsWith('没有找到编号为'))).toBe(true)
    expect(texts[4]).toBe('查询次数太多了，请 60 分钟后再试。')
    // Another sender is not held up by the neighbour's guessing.
    await gw.sms(CITIZEN, `查询 ${kase!.trackingCode}`)
    expect((await textsTo(CITIZEN, seen))[0]).toContain(`诉求 ${kase!.trackingCode}：已受理`)

    // The web status page, per client address: wrong codes, then a refusal with Retry-After.
    for (let i = 0; i < 4; i++) {
      const res = await gw.intake.app.request(`${BASE}/status/${newTrackingCode(() => i + 20)}`)
      expect(res.status).toBe(404)
    }
    const refused = await gw.intake.app.request(`${BASE}/status/${kase!.trackingCode}`)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3000)
    expect(await refused.text()).toContain('查询次数太多了')
  })
})

describe('status page throttling from the config', () => {
  it('counts each client address behind a trusted proxy on its own (X-Forwarded-For)', async () => {
    const gw = await demoGateway({ lookups: { misses: { points: 2, durationMs: 3_600_000, blockMs: 3_600_000 }, trustProxy: true } })
    try {
      const get = (ip: string, code: string) => Promise.resolve(gw.intake.app.request(`${BASE}/status/${code}`, { headers: { 'x-forwarded-for': `${ip}, 10.0.0.1` } }))
      for (let i = 0; i < 3; i++) expect((await get('203.0.113.7', newTrackingCode(() => i + 3))).status).toBe(404)
      const refused = await get('203.0.113.7', newTrackingCode(() => 9))
      expect(refused.status).toBe(429)
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/)
      expect((await get('198.51.100.4', newTrackingCode(() => 9))).status).toBe(404)
    } finally {
      await gw.close()
    }
  })
})

describe('status by WeChat', () => {
  const TOKEN = 'countyHotlineWx2026'
  const APP_ID = 'wx2c2769f8efd9abc2'
  const APP_SECRET = 'county-hotline-app-secret-000001'
  const ACCOUNT = 'gh_10f6c3c3ac5a'
  const FOLLOWER = 'oyORnuP8q7ou2gfYjqLzSIWZf0rs'
  const OTHER = 'oyORnuAAAAAAAAAAAAAAAAAAAAAA'
  let api: WechatApiServer
  let gw: DemoGateway
  beforeAll(async () => {
    api = await startWechatApiServer({ appId: APP_ID, appSecret: APP_SECRET })
  })
  afterAll(() => api.close())
  afterEach(async () => gw.close())

  let msgId = 7054768590064713728n
  let second = Math.floor(Date.now() / 1000)
  const header = (from: string, type: string) =>
    `<ToUserName><![CDATA[${ACCOUNT}]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>${++second}</CreateTime><MsgType><![CDATA[${type}]]></MsgType>`
  const text = (from: string, content: string) => `<xml>${header(from, 'text')}<Content>${cdata(content)}</Content><MsgId>${++msgId}</MsgId></xml>`
  const click = (from: string, key: string) => `<xml>${header(from, 'event')}<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[${key}]]></EventKey></xml>`
  async function push(xml: string) {
    const timestamp = String(Math.floor(Date.now() / 1000))
    const nonce = String(Math.floor(Math.random() * 1e9))
    const q = new URLSearchParams({ signature: wechatSignature(TOKEN, timestamp, nonce), timestamp, nonce })
    const res = await gw.intake.app.request(`${BASE}/channels/wechat/messages?${q}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: xml })
    expect(res.status).toBe(200)
    return leafFields(parseXml(await res.text()))
  }

  it('answers a follower\'s and a stranger\'s query in the passive reply, and a status menu click with the open cases', async () => {
    gw = await demoGateway({ channels: { wechat: wechatChannel({ token: TOKEN, appId: APP_ID, appSecret: APP_SECRET, apiBaseUrl: api.url }) } })
    const ack = await push(text(FOLLOWER, '伽师县巴仁镇的路灯坏了一个月了'))
    const code = /编号 ([2-9A-Z]{4}-[2-9A-Z]{4})/.exec(ack.Content!)![1]!

    const own = await push(text(FOLLOWER, `查询 ${code}`))
    expect(own).toMatchObject({ ToUserName: FOLLOWER, MsgType: 'text' })
    expect(own.Content).toContain(`诉求 ${code}：已受理`)
    expect(own.Content).toContain('办理单位：伽师县巴仁镇人民政府')

    const other = await push(text(OTHER, `查询 ${code}`))
    expect(other.ToUserName).toBe(OTHER)
    expect(other.Content).toContain(`诉求 ${code}：已受理`)

    const menu = await push(click(FOLLOWER, 'STATUS'))
    expect(menu.ToUserName).toBe(FOLLOWER)
    expect(menu.Content).toContain(`您在这里有 1 件正在办理的诉求`)
    expect(menu.Content).toContain(code)

    // Nothing went through the customer-service API to the follower: every answer was the passive reply.
    await gw.intake.outbox.drain()
    expect(api.sent).toEqual([])
    const cases = await allCases(gw)
    expect(cases).toHaveLength(1)
    expect((await details(gw, cases[0]!.id)).messages.filter((m) => m.author === OTHER)).toEqual([])

    const typo = await push(text(OTHER, mistype(code)))
    expect(typo.Content).toContain('好像输错了一个字符，请核对编号')
  })
})

describe('status by Telegram, in a village group', () => {
  const TOKEN = '6123456789:AAF-village-group-bot-token_0123456'
  const SECRET = 'village-webhook-secret-0123456789'
  const BOT = 'kashgar12345_bot'
  const VILLAGE: TgChatLike = { id: -1002001234567, type: 'supergroup', title: '巴仁镇阿克喀什村居民群' }
  const MAMUT: TgUserLike = { id: 70001, is_bot: false, first_name: '买买提' }
  const AYGUL: TgUserLike = { id: 70002, is_bot: false, first_name: '阿依古丽' }
  let bot: BotApiServer
  let gw: DemoGateway
  beforeAll(async () => {
    bot = await startBotApiServer({ token: TOKEN, bot: { username: BOT, first_name: '喀什12345' } })
  })
  afterAll(() => bot.close())
  afterEach(async () => gw.close())

  const addressed = (text: string, kind: 'mention' | 'bot_command') => {
    const piece = kind === 'mention' ? `@${BOT}` : `/status@${BOT}`
    return { text, entities: [{ type: kind, offset: text.indexOf(piece), length: piece.length }] }
  }
  async function deliver(update: unknown) {
    const res = await gw.intake.app.request(`${BASE}/channels/tg/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      body: JSON.stringify(update),
    })
    expect(res.status).toBe(200)
  }

  it('answers each member in the group, as a reply to their question, for their own case and a neighbour\'s', async () => {
    gw = await demoGateway({ channels: { tg: telegramChannel({ token: TOKEN, secretToken: SECRET, apiBaseUrl: bot.url, botUsername: BOT }) } })
    await deliver(bot.message({ chat: VILLAGE, from: MAMUT, ...addressed(`@${BOT} 伽师县巴仁镇阿克喀什村的路灯坏了一个月了。`, 'mention') }))
    const [kase] = await allCases(gw)
    const code = kase!.trackingCode
    await gw.intake.outbox.drain()
    const seen = bot.sent.length

    const mine = bot.message({ chat: VILLAGE, from: MAMUT, ...addressed(`@${BOT} 查询 ${code}`, 'mention') })
    await deliver(mine)
    const theirs = bot.message({ chat: VILLAGE, from: AYGUL, ...addressed(`/status@${BOT} ${code}`, 'bot_command') })
    await deliver(theirs)
    const bare = bot.message({ chat: VILLAGE, from: AYGUL, ...addressed(`/status@${BOT}`, 'bot_command') })
    await deliver(bare)
    await gw.intake.outbox.drain()

    const answers = bot.sent.slice(seen)
    expect(answers).toHaveLength(3)
    const to = (m: { message: { message_id: number } }) => answers.find((a) => (a.params.reply_parameters as { message_id: number }).message_id === m.message.message_id)!
    expect(to(mine).chatId).toBe(VILLAGE.id)
    expect(to(mine).text).toContain(`诉求 ${code}：已受理`)
    expect(to(theirs).chatId).toBe(VILLAGE.id)
    expect(to(theirs).text).toContain(`诉求 ${code}：已受理`)
    expect(to(theirs).text).toContain('办理单位：伽师县巴仁镇人民政府')
    // Aygul has no case of her own in the group.
    expect(to(bare).text).toMatch(/no open case|没有正在办理的诉求/)

    expect(await allCases(gw)).toHaveLength(1)
    const { messages } = await details(gw, kase!.id)
    expect(messages.some((m) => m.author === `${VILLAGE.id}:${AYGUL.id}`)).toBe(false)
  })
})
