/**
 * Telegram end to end on the county-hotline demo: a village group where residents post and the
 * office's bot is a member. The gateway runs in-process; Telegram is the Bot API stand-in on loopback
 * (its wire format: updates in, sendMessage out). Every resident's appeal is its own case, answers
 * go back into the group as replies to the resident's message, and a reply to the bot's
 * acknowledgement finds its case again.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Case, CaseMessage } from '@intake/core'
import { telegramChannel } from '@intake/channels/telegram'
import { botApiErrors, startBotApiServer, type BotApiServer, type TgChatLike, type TgUserLike } from '@intake/channels/telegram/bot-api-server'
import { BASE, demoGateway, type DemoGateway } from './support/gateway.ts'

const TOKEN = '6123456789:AAF-village-group-bot-token_0123456'
const SECRET = 'village-webhook-secret-0123456789'
const BOT = 'kashgar12345_bot'
const VILLAGE: TgChatLike = { id: -1002001234567, type: 'supergroup', title: '巴仁镇阿克喀什村居民群' }
const MAMUT: TgUserLike = { id: 70001, is_bot: false, first_name: '买买提', last_name: '吐尔逊', language_code: 'zh-hans' }
const AYGUL: TgUserLike = { id: 70002, is_bot: false, first_name: '阿依古丽', username: 'aygul_bairen' }
const ZAHIR: TgUserLike = { id: 70003, is_bot: false, first_name: '扎依尔' }

const mention = (text: string) => ({ text, entities: [{ type: 'mention', offset: text.indexOf(`@${BOT}`), length: BOT.length + 1 }] })

let bot: BotApiServer
let gw: DemoGateway
let clock: number
beforeAll(async () => {
  bot = await startBotApiServer({ token: TOKEN, bot: { username: BOT, first_name: '喀什12345' } })
})
afterAll(() => bot.close())
beforeEach(async () => {
  bot.sent.length = 0
  bot.clearFailures()
  clock = Date.parse('2026-11-20T10:00:00+08:00')
  gw = await demoGateway(
    { channels: { tg: telegramChannel({ token: TOKEN, secretToken: SECRET, apiBaseUrl: bot.url, botUsername: BOT }) } },
    { now: () => clock },
  )
})
afterEach(async () => {
  // The bot token is in every Bot API URL; it must never be in a log line.
  expect(gw.lines.filter((l) => l.includes(TOKEN) || l.includes(SECRET))).toEqual([])
  await gw.close()
})

interface WebhookAnswer {
  ok?: boolean
  ignored?: string
  results?: Array<{ caseId: string; trackingCode: string; followUp: boolean }>
  error?: { code: string }
}
async function deliver(update: unknown, secret = SECRET): Promise<{ status: number; body: WebhookAnswer }> {
  const res = await gw.intake.app.request(`${BASE}/channels/tg/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
    body: JSON.stringify(update),
  })
  return { status: res.status, body: (await res.json()) as WebhookAnswer }
}
async function details(caseId: string) {
  const res = await gw.api(`/cases/${caseId}`)
  expect(res.status).toBe(200)
  const view = (await res.json()) as { case: Case; messages: CaseMessage[] }
  // The API masks the citizen's address; the stored case has it whole.
  return { ...view, case: (await gw.intake.store.getCase(caseId))! }
}
const caseCount = async () => ((await (await gw.api('/cases')).json()) as { cases: Case[] }).cases.length
const repliedTo = (i: number) => (bot.sent[i]!.params.reply_parameters as { message_id: number } | undefined)?.message_id

describe('telegram: a village group', () => {
  it('makes one case per resident, answers each in the group as a reply, and threads the replies', async () => {
    const mamut = bot.message({ chat: VILLAGE, from: MAMUT, ...mention(`@${BOT} 伽师县巴仁镇阿克喀什村的路灯坏了一个月了，晚上很不安全。`) })
    const aygul = bot.message({ chat: VILLAGE, from: AYGUL, ...mention(`@${BOT} 伽师县检察院：村旁的河道被非法采砂破坏，请来看看。`) })
    const first = await deliver(mamut)
    const second = await deliver(aygul)
    expect([first.status, second.status]).toEqual([200, 200])
    const [one, two] = [first.body.results![0]!, second.body.results![0]!]
    expect(one.caseId).not.toBe(two.caseId)

    const lights = await details(one.caseId)
    expect(lights.case.officeId).toBe('jiashi-bairen')
    expect(lights.case.citizen).toEqual({ channelId: 'tg', id: `${VILLAGE.id}:${MAMUT.id}`, displayName: '买买提 吐尔逊' })
    expect(lights.messages[0]!.text).toBe('伽师县巴仁镇阿克喀什村的路灯坏了一个月了，晚上很不安全。')
    const river = await details(two.caseId)
    expect(river.case.officeId).toBe('jiashi-procuratorate')
    expect(river.case.citizen.id).toBe(`${VILLAGE.id}:${AYGUL.id}`)

    // The acknowledgements reach Telegram as replies in the group, each to its resident's message.
    await gw.intake.outbox.drain()
    expect(bot.sent.map((s) => s.chatId)).toEqual([VILLAGE.id, VILLAGE.id])
    const ackFor = (messageId: number) => bot.sent.find((s) => (s.params.reply_parameters as { message_id: number }).message_id === messageId)!
    const ackMamut = ackFor(mamut.message.message_id)
    expect(ackMamut.params.reply_parameters).toEqual({ message_id: mamut.message.message_id, chat_id: VILLAGE.id, allow_sending_without_reply: true })
    expect(ackMamut.text).toContain(one.trackingCode)
    expect(ackMamut.text).toContain('伽师县巴仁镇人民政府')
    expect(ackFor(aygul.message.message_id).text).toContain(two.trackingCode)

    // Staff answer through the API: the reply goes to the same group, again as a reply to the resident.
    const reply = await gw.api(`/cases/${one.caseId}/replies`, { method: 'POST', body: { text: '维修队明天上午到村里修路灯。', author: 'clerk-bairen-3' } })
    expect(reply.status).toBe(201)
    await gw.intake.outbox.drain()
    expect(bot.sent).toHaveLength(3)
    expect(bot.sent[2]!.chatId).toBe(VILLAGE.id)
    expect(bot.sent[2]!.text).toContain('维修队明天上午到村里修路灯。')
    expect(repliedTo(2)).toBe(mamut.message.message_id)

    // Three days later (past the same-sender window), Mamut answers the bot's acknowledgement:
    // only the reply reference can tie it to the case, and it does.
    clock += 3 * 86_400_000
    const later = await deliver(bot.message({ chat: VILLAGE, from: MAMUT, text: '路灯还是没有修好。', reply_to_message: ackMamut.message }))
    expect(later.body.results![0]).toMatchObject({ caseId: one.caseId, followUp: true })
    const after = await details(one.caseId)
    expect(after.messages.filter((m) => m.direction === 'in').map((m) => m.text)).toEqual(['伽师县巴仁镇阿克喀什村的路灯坏了一个月了，晚上很不安全。', '路灯还是没有修好。'])
    expect(await caseCount()).toBe(2)
  })

  it('ignores an update type that is not a citizen message, naming it, and stores nothing', async () => {
    const join = bot.update({ chat_join_request: { chat: VILLAGE, from: ZAHIR, user_chat_id: ZAHIR.id, date: 1_780_000_000 } })
    const answer = await deliver(join)
    expect(answer).toEqual({ status: 200, body: { ok: true, ignored: 'update type chat_join_request is not a citizen message' } })
    const chatter = await deliver(bot.message({ chat: VILLAGE, from: ZAHIR, text: '今天巴扎几点开门？' }))
    expect(chatter.body.ignored).toMatch(/not addressed to the bot/)
    expect(await caseCount()).toBe(0)
  })

  it('refuses an update with a forged secret token with 401 and stores nothing', async () => {
    const forged = await deliver(bot.message({ chat: VILLAGE, from: ZAHIR, ...mention(`@${BOT} 伽师县巴仁镇的水管漏水`) }), 'not-the-secret-000000000000')
    expect(forged.status).toBe(401)
    expect(forged.body.error?.code).toBe('bad_secret_token')
    expect(await caseCount()).toBe(0)
    expect((await gw.api('/outbox')).status).toBe(200)
    expect(((await (await gw.api('/outbox')).json()) as { items: unknown[] }).items).toHaveLength(0)
  })

  it('waits out Telegram\'s flood control (429 retry_after) and then delivers the acknowledgement once', async () => {
    const zahir = bot.message({ chat: VILLAGE, from: ZAHIR, ...mention(`@${BOT} 伽师县巴仁镇阿克喀什村的水管漏水三天了。`) })
    const { body } = await deliver(zahir)
    const caseId = body.results![0]!.caseId
    bot.failNext('sendMessage', botApiErrors.tooManyRequests(30))
    await gw.intake.outbox.drain()
    expect(bot.sent).toHaveLength(0)
    const [waiting] = await gw.intake.store.listOutbox({ caseId })
    expect(waiting).toMatchObject({ status: 'pending', attempts: 1 })
    expect(waiting!.lastError).toMatch(/^throttled: Telegram answered 429: Too Many Requests: retry after 30/)
    expect(waiting!.nextAttemptAt).toBe(clock + 30_000)

    // Not before Telegram said.
    clock += 29_000
    await gw.intake.outbox.drain()
    expect(bot.sent).toHaveLength(0)
    clock += 1_000
    await gw.intake.outbox.drain()
    await gw.intake.outbox.drain()
    expect(bot.sent).toHaveLength(1)
    expect(repliedTo(0)).toBe(zahir.message.message_id)
    expect(bot.sent[0]!.text).toContain(body.results![0]!.trackingCode)
    expect((await gw.intake.store.listOutbox({ caseId }))[0]).toMatchObject({ status: 'sent', attempts: 2 })
  })
})
