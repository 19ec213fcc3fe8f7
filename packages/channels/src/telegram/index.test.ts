import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { memoryBlobStore, memoryLogger, type InboundMessageInput, type OutboundMessage, type SendResult } from '@intake/core'
import { imageFacts, jpegPhoto, kitGateway, testChannel, type KitGateway } from '../kit/index.ts'
import { botApiClient } from './bot-api.ts'
import { botApiErrors, startBotApiServer, type BotApiServer, type TgChatLike, type TgUserLike } from './bot-api-server.ts'
import {
  citizenAddressId,
  deleteWebhook,
  displayNameOf,
  fitText,
  parseAddressId,
  parseMessageRef,
  setWebhook,
  telegramChannel,
  webhookUrl,
  type TelegramOptions,
} from './index.ts'
import { updateParser, type GroupMode, type ParseContext } from './parse.ts'

const TOKEN = '7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw'
const SECRET = 'tg-webhook-secret_0123456789'
const BOT_ID = 7012345678
const BOT = 'intake_office_bot'

const GROUP: TgChatLike = { id: -1001234567890, type: 'supergroup', title: '阿克喀什村居民群' }
const SMALL_GROUP: TgChatLike = { id: -4009876543, type: 'group', title: 'Bahar neighbourhood' }
const A: TgUserLike = { id: 501, is_bot: false, first_name: '买买提', last_name: '艾力', language_code: 'zh-hans' }
const B: TgUserLike = { id: 502, is_bot: false, first_name: 'Aygul', username: 'aygul_k', language_code: 'en' }

const fixture = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8')) as Record<string, unknown>
/** Text that @mentions the bot, with the entity Telegram attaches (offsets in UTF-16 code units). */
const mention = (text: string, username = BOT) => ({ text, entities: [{ type: 'mention', offset: text.indexOf(`@${username}`), length: username.length + 1 }] })
/** A webhook delivery as Telegram makes it; `secret: null` leaves the header out. */
const hook = (channelUrl: string, update: unknown, secret: string | null = SECRET, body = JSON.stringify(update)) =>
  new Request(`${channelUrl}/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret !== null ? { 'x-telegram-bot-api-secret-token': secret } : {}) },
    body,
  })
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

// Telegram photos are JPEG; this one carries the EXIF a phone writes (GPS, make), which must not be stored.
const PHOTO_BYTES = await jpegPhoto({ width: 64, height: 35, gps: true })
const VOICE_BYTES = new Uint8Array([...Buffer.from('OggS'), 0, 2, ...Buffer.from('OpusHead voice note')])
const LARGEST_PHOTO = 'AgADAgADfqgxG9-2uwz8igbgc0-Z414OSw0ABMrogAGojlX_wRsBAAEC' // captured-photo-private-2016.json, 1280×697
const VOICE_FILE = 'AwADBAADbXXXXXXXXXXXGBdhD2l6_XX' // the official samples' voice/audio/document file_id

let bot: BotApiServer
beforeAll(async () => {
  bot = await startBotApiServer({ token: TOKEN, bot: { username: BOT } })
  bot.addFile(PHOTO_BYTES, { fileId: LARGEST_PHOTO, path: 'photos/file_0.jpg' })
  bot.addFile(VOICE_BYTES, { fileId: VOICE_FILE, path: 'voice/file_1.oga' })
})
afterAll(() => bot.close())

const adapterFor = (over: Partial<TelegramOptions> = {}) =>
  telegramChannel({ token: TOKEN, secretToken: SECRET, apiBaseUrl: bot.url, botUsername: BOT, timeoutMs: 2_000, ...over })

const photoSizes = (fileId: string) => [
  { file_id: `${fileId}-small`, file_unique_id: 'u-s', width: 90, height: 49, file_size: 1552 },
  { file_id: fileId, file_unique_id: 'u-l', width: 1280, height: 697, file_size: PHOTO_BYTES.byteLength },
  { file_id: `${fileId}-medium`, file_unique_id: 'u-m', width: 800, height: 436, file_size: 85716 },
]

let mentionUpdate: unknown
testChannel({
  name: 'telegram',
  adapter: ({ sendTimeoutMs }) => adapterFor({ timeoutMs: sendTimeoutMs }),
  fixtures: {
    valid: [
      // First: the kit's end-to-end case replies to it, and the stand-in knows this chat (Telegram knows every chat that wrote to the bot).
      {
        name: 'supergroup: a resident @mentions the bot',
        messages: 1,
        text: '巴仁镇的路灯坏了一个月了',
        // One update, made once: the kit posts it twice and expects one case.
        request: (u) => hook(u, (mentionUpdate ??= bot.message({ chat: GROUP, from: A, ...mention(`@${BOT} 巴仁镇的路灯坏了一个月了`) }))),
      },
      { name: 'official sample: private text with entities', messages: 1, text: 'Bold and italics', request: (u) => hook(u, fixture('official-entities.json')) },
      { name: 'captured: a private photo (largest PhotoSize downloaded)', messages: 1, request: (u) => hook(u, fixture('captured-photo-private-2016.json')) },
      { name: 'official sample: a voice note (no text)', messages: 1, request: (u) => hook(u, fixture('official-voice.json')) },
      { name: 'official sample: an audio file', messages: 1, request: (u) => hook(u, fixture('official-audio.json')) },
      { name: 'official sample: a document', messages: 1, request: (u) => hook(u, fixture('official-document.json')) },
      { name: 'official sample: an edit of a message not on record', messages: 1, text: 'Edited text', request: (u) => hook(u, fixture('official-edited-message.json')) },
      {
        name: 'group: a photo whose caption mentions the bot',
        messages: 1,
        text: '垃圾堆在路边',
        request: (u) => {
          const { text, entities } = mention(`垃圾堆在路边 @${BOT}`)
          return hook(u, bot.message({ chat: SMALL_GROUP, from: B, photo: photoSizes(LARGEST_PHOTO), caption: text, caption_entities: entities }))
        },
      },
      {
        name: 'supergroup: a voice note replying to the bot',
        messages: 1,
        request: (u) => {
          const fromBot = bot.message({ chat: GROUP, from: { ...bot.bot }, text: 'Please describe the problem.' }).message
          return hook(u, bot.message({ chat: GROUP, from: A, voice: { file_id: VOICE_FILE, file_unique_id: 'v', duration: 4, mime_type: 'audio/ogg', file_size: VOICE_BYTES.byteLength }, reply_to_message: fromBot }))
        },
      },
      {
        name: 'supergroup: a location replying to the bot',
        messages: 1,
        request: (u) => {
          const fromBot = bot.message({ chat: GROUP, from: { ...bot.bot }, text: 'Where exactly?' }).message
          return hook(u, bot.message({ chat: GROUP, from: B, location: { latitude: 39.4924, longitude: 76.7398 }, reply_to_message: fromBot }))
        },
      },
    ],
    forged: { name: 'a wrong X-Telegram-Bot-Api-Secret-Token', request: (u) => hook(u, fixture('official-entities.json'), 'forged-secret-000000000000') },
    malformed: [
      { name: 'no secret token header at all', status: 401, request: (u) => hook(u, fixture('official-entities.json'), null) },
      { name: 'not JSON', status: 400, request: (u) => hook(u, null, SECRET, '{"update_id": 1, "message": ') },
      { name: 'an empty body', status: 400, request: (u) => hook(u, null, SECRET, '') },
      { name: 'captured update that lost its update_id', status: 400, request: (u) => hook(u, fixture('captured-location-private-2016-partial.json')) },
      { name: 'a message without its chat', status: 400, request: (u) => hook(u, { update_id: 7, message: { message_id: 1, date: 1441645532, text: 'hello' } }) },
      { name: 'a JSON array instead of an Update', status: 400, request: (u) => hook(u, [1, 2, 3]) },
    ],
    sendErrors: [
      { name: '429 Too Many Requests with retry_after', arrange: () => bot.failNext('sendMessage', botApiErrors.tooManyRequests(7)), expect: { code: 'throttled', retryable: true } },
      { name: '403 bot was blocked by the user', arrange: () => bot.failNext('sendMessage', botApiErrors.blocked()), expect: { code: 'stopped', retryable: false } },
      { name: '403 user is deactivated', arrange: () => bot.failNext('sendMessage', botApiErrors.deactivated()), expect: { code: 'stopped', retryable: false } },
      { name: '400 chat not found', arrange: () => bot.failNext('sendMessage', botApiErrors.chatNotFound()), expect: { code: 'invalid_recipient', retryable: false } },
      { name: '401 Unauthorized (token revoked)', arrange: () => bot.failNext('sendMessage', botApiErrors.unauthorized()), expect: { code: 'config', retryable: false } },
      { name: '500 Internal Server Error', arrange: () => bot.failNext('sendMessage', botApiErrors.internal()), expect: { code: 'connection', retryable: true } },
      { name: 'connection reset without an answer', arrange: () => bot.failNext('sendMessage', 'reset'), expect: { code: 'connection', retryable: true } },
    ],
    // A resident of the village supergroup: the sample reply goes into that group.
    recipient: { id: `${GROUP.id}:${A.id}`, displayName: '买买提 艾力' },
    sendOk: {
      arrange: () => {
        bot.clearFailures()
        bot.message({ chat: GROUP, from: A, text: 'the bot has seen this group' })
      },
      verify: (sent, providerId) => {
        const last = bot.sent.at(-1)!
        expect(last.params).toMatchObject({ chat_id: GROUP.id, text: sent.text })
        expect(providerId).toBe(`${GROUP.id}:${(last.message as { message_id: number }).message_id}`)
      },
    },
    provider: () => bot,
    secrets: [TOKEN, SECRET],
  },
})

describe('telegram addresses', () => {
  it('names a private citizen by chat id, a group resident by chat and user, a forum resident by chat, user and topic', () => {
    expect(citizenAddressId(1111111, 'private', 1111111)).toBe('1111111')
    expect(citizenAddressId(GROUP.id, 'supergroup', 501)).toBe('-1001234567890:501')
    expect(citizenAddressId(GROUP.id, 'supergroup', 501, 17)).toBe('-1001234567890:501:17')
    expect(parseAddressId('1111111')).toEqual({ chat: 1111111 })
    expect(parseAddressId('-1001234567890:501')).toEqual({ chat: -1001234567890, user: 501 })
    expect(parseAddressId('-1001234567890:501:17')).toEqual({ chat: -1001234567890, user: 501, thread: 17 })
    expect(parseAddressId('@village_channel')).toEqual({ chat: '@village_channel' })
  })

  it('turns message references (and edits of them) back into chat and message id', () => {
    expect(parseMessageRef('-1001234567890:42')).toEqual({ chat: -1001234567890, messageId: 42 })
    expect(parseMessageRef('-1001234567890:42:edit:1441646600')).toEqual({ chat: -1001234567890, messageId: 42 })
    expect(parseMessageRef('<abc@mail>')).toBeUndefined()
    expect(parseMessageRef(undefined)).toBeUndefined()
  })

  it('shows staff the first and last name, else the @username', () => {
    expect(displayNameOf(A)).toBe('买买提 艾力')
    expect(displayNameOf({ username: 'aygul_k' })).toBe('@aygul_k')
    expect(displayNameOf({})).toBeUndefined()
  })
})

describe('telegram updates → messages', () => {
  const optOuts: Array<[string, boolean]> = []
  const log = memoryLogger()
  const ctx: ParseContext = { channelId: 'tg', blobs: memoryBlobStore(), log, now: () => 1_780_000_000_000, setOptOut: async (id, v) => void optOuts.push([id, v]) }
  const parserFor = (groupMode: GroupMode = 'mentions', keywords: string[] = []) =>
    updateParser({ api: botApiClient({ token: TOKEN, baseUrl: bot.url, timeoutMs: 2_000 }), botId: BOT_ID, botUsername: async () => BOT, groupMode, keywords, maxFileBytes: 20 * 1024 * 1024 })
  const only = async (outcome: Promise<import('@intake/core').InboundOutcome>): Promise<InboundMessageInput> => {
    const o = await outcome
    if (!('messages' in o)) throw new Error(`expected a message, got ${JSON.stringify(o)}`)
    expect(o.messages).toHaveLength(1)
    return o.messages[0]!
  }
  const ignored = async (outcome: Promise<import('@intake/core').InboundOutcome>): Promise<string> => {
    const o = await outcome
    if (!('ignored' in o)) throw new Error(`expected ignored, got ${JSON.stringify(o)}`)
    return o.ignored
  }
  beforeEach(() => {
    optOuts.length = 0
  })

  describe('group modes', () => {
    it('mentions: takes an @mention of the bot and files the text without it', async () => {
      const m = await only(parserFor().parse(bot.message({ chat: GROUP, from: A, ...mention(`@${BOT} 巴仁镇 路灯坏了`) }), ctx))
      expect(m.text).toBe('巴仁镇 路灯坏了')
      expect(m.from).toEqual({ channelId: 'tg', id: `${GROUP.id}:${A.id}`, displayName: '买买提 艾力' })
    })

    it('mentions: takes a reply to one of the bot\'s messages, and /command@bot', async () => {
      const fromBot = bot.message({ chat: GROUP, from: { ...bot.bot }, text: '您好，您的诉求已收到' }).message
      await only(parserFor().parse(bot.message({ chat: GROUP, from: A, text: '谢谢，还有一件事', reply_to_message: fromBot }), ctx))
      const command = `/report@${BOT} 水管漏水`
      await only(parserFor().parse(bot.message({ chat: GROUP, from: A, text: command, entities: [{ type: 'bot_command', offset: 0, length: `/report@${BOT}`.length }] }), ctx))
    })

    it('mentions: ignores ordinary chatter, a mention of someone else and a command for another bot, saying why', async () => {
      const reason = await ignored(parserFor().parse(bot.message({ chat: GROUP, from: A, text: '大家晚上好' }), ctx))
      expect(reason).toMatch(/not addressed to the bot.*groupMode mentions/)
      await ignored(parserFor().parse(bot.message({ chat: GROUP, from: A, ...mention('@aygul_k 路灯坏了', 'aygul_k') }), ctx))
      const other = '/report@weather_bot'
      await ignored(parserFor().parse(bot.message({ chat: GROUP, from: A, text: other, entities: [{ type: 'bot_command', offset: 0, length: other.length }] }), ctx))
    })

    it('keywords: takes a message containing a configured keyword (any case), and still takes mentions', async () => {
      const parser = parserFor('keywords', ['路灯', 'Pothole'])
      await only(parser.parse(bot.message({ chat: GROUP, from: B, text: 'There is a POTHOLE on the main road' }), ctx))
      await only(parser.parse(bot.message({ chat: GROUP, from: A, text: '村口的路灯又坏了' }), ctx))
      await only(parser.parse(bot.message({ chat: GROUP, from: A, ...mention(`@${BOT} 水管漏水`) }), ctx))
      expect(await ignored(parser.parse(bot.message({ chat: GROUP, from: B, text: 'see you at the market' }), ctx))).toMatch(/keyword/)
    })

    it('all: takes every resident message, but never a bot\'s or a service message', async () => {
      const parser = parserFor('all')
      await only(parser.parse(bot.message({ chat: GROUP, from: B, text: 'see you at the market' }), ctx))
      expect(await ignored(parser.parse(bot.message({ chat: GROUP, from: { id: 99, is_bot: true, first_name: 'Weather' }, text: 'Sunny' }), ctx))).toMatch(/from a bot/)
      expect(await ignored(parser.parse(bot.message({ chat: GROUP, from: A, new_chat_members: [B] }), ctx))).toMatch(/nothing to file \(new_chat_members\)/)
      // A linked channel's post, forwarded into its discussion group by Telegram (user 777000).
      const channelPost = bot.message({ chat: GROUP, from: { id: 777000, is_bot: false, first_name: 'Telegram' }, sender_chat: { id: -100777, type: 'channel', title: 'Village news' }, is_automatic_forward: true, text: 'Market on Friday' })
      expect(await ignored(parser.parse(channelPost, ctx))).toMatch(/on behalf of a chat \(channel\)/)
    })

    it('private chats are always taken, whatever the group mode', async () => {
      const m = await only(parserFor('keywords', ['路灯']).parse(fixture('official-entities.json'), ctx))
      expect(m).toMatchObject({ externalId: '1111111:1365', from: { id: '1111111', displayName: 'Test Firstname Test Lastname' }, text: 'Bold and italics' })
    })
  })

  it('makes one citizen per resident in a group: two residents, two addresses', async () => {
    const parser = parserFor()
    const a = await only(parser.parse(bot.message({ chat: GROUP, from: A, ...mention(`@${BOT} 路灯坏了`) }), ctx))
    const b = await only(parser.parse(bot.message({ chat: GROUP, from: B, ...mention(`@${BOT} the water pipe leaks`) }), ctx))
    expect(a.from.id).not.toBe(b.from.id)
    expect([a.from.id, b.from.id]).toEqual([`${GROUP.id}:${A.id}`, `${GROUP.id}:${B.id}`])
  })

  it('threads a reply to the bot and a reply to oneself, but not a reply to a neighbour', async () => {
    const parser = parserFor('all')
    const fromBot = bot.message({ chat: GROUP, from: { ...bot.bot }, text: 'ack' }).message
    const ownEarlier = bot.message({ chat: GROUP, from: A, text: 'first' }).message
    const neighbours = bot.message({ chat: GROUP, from: B, text: 'my problem' }).message
    expect((await only(parser.parse(bot.message({ chat: GROUP, from: A, text: 'more', reply_to_message: fromBot }), ctx))).threadRefs).toEqual([`${GROUP.id}:${fromBot.message_id}`])
    expect((await only(parser.parse(bot.message({ chat: GROUP, from: A, text: 'more', reply_to_message: ownEarlier }), ctx))).threadRefs).toEqual([`${GROUP.id}:${ownEarlier.message_id}`])
    expect((await only(parser.parse(bot.message({ chat: GROUP, from: A, text: 'me too', reply_to_message: neighbours }), ctx))).threadRefs).toEqual([])
  })

  it('records an edit as its own message that refers to the original', async () => {
    const original = bot.message({ chat: GROUP, from: A, ...mention(`@${BOT} 路灯坏了`) })
    const edit = bot.edit(original.message as Record<string, unknown>, mention(`@${BOT} 路灯坏了两个月了`))
    const m = await only(parserFor().parse(edit, ctx))
    const msg = original.message as { message_id: number }
    const editDate = edit.edited_message.edit_date as number
    expect(m.externalId).toBe(`${GROUP.id}:${msg.message_id}:edit:${editDate}`)
    expect(m.threadRefs).toEqual([`${GROUP.id}:${msg.message_id}`])
    expect(m.text).toBe('路灯坏了两个月了')
  })

  it('downloads the largest photo through getFile and /file/bot<token>/, into the blob store', async () => {
    const before = bot.calls.length
    const m = await only(parserFor().parse(fixture('captured-photo-private-2016.json'), ctx))
    expect(bot.calls.slice(before).filter((c) => c.method === 'getFile').map((c) => c.params.file_id)).toEqual([LARGEST_PHOTO])
    expect(m.text).toBe('')
    const [photo] = m.attachments!
    expect(photo).toMatchObject({ contentType: 'image/jpeg', filename: 'photo-633.jpg' })
    const stored = (await ctx.blobs.get(photo!.blobKey!))!
    expect(photo!.size).toBe(stored.byteLength)
    // The same picture, decoded and encoded again without the camera's EXIF (its GPS position).
    expect(await imageFacts(stored)).toEqual({ format: 'jpeg', width: 64, height: 35, exif: false })
    expect((await imageFacts(PHOTO_BYTES)).exif).toBe(true)
  })

  it('stores a voice note as an audio/ogg attachment, with the app language for the acknowledgement', async () => {
    const m = await only(parserFor().parse(bot.message({ chat: { id: 888, type: 'private', first_name: 'Ali' }, from: { id: 888, first_name: 'Ali', language_code: 'ug' }, voice: { file_id: VOICE_FILE, duration: 3, file_size: VOICE_BYTES.byteLength } }), ctx))
    expect(m.attachments).toEqual([expect.objectContaining({ contentType: 'audio/ogg', size: VOICE_BYTES.byteLength })])
    expect(await ctx.blobs.get(m.attachments![0]!.blobKey!)).toEqual(VOICE_BYTES)
    expect(m.language).toBe('ug')
  })

  it('turns a location into a place and a venue into a place with its name', async () => {
    const loc = await only(parserFor().parse({ update_id: 9, ...fixture('captured-location-private-2016-partial.json') }, ctx))
    expect(loc.place).toEqual({ lat: 56.869359, lon: 60.545133 })
    expect(loc.text).toContain('56.869359')
    const venue = await only(
      parserFor('all').parse(bot.message({ chat: GROUP, from: A, location: { latitude: 39.49, longitude: 76.74 }, venue: { location: { latitude: 39.49, longitude: 76.74 }, title: '巴仁镇卫生院', address: '伽师县巴仁镇' } }), ctx),
    )
    expect(venue.place).toEqual({ lat: 39.49, lon: 76.74, text: '巴仁镇卫生院, 伽师县巴仁镇' })
  })

  it('keeps the message when Telegram refuses a file for good, and refuses the update when the file is only unavailable for now', async () => {
    const gone = bot.message({ chat: GROUP, from: A, ...mention(`@${BOT} 看照片`), photo: photoSizes('no-such-file') })
    const kept = await only(parserFor().parse(gone, ctx))
    expect(kept.attachments).toEqual([{ filename: expect.stringMatching(/^photo-/), contentType: 'image/jpeg', size: PHOTO_BYTES.byteLength }])
    bot.failNext('getFile', botApiErrors.internal())
    await expect(parserFor().parse(bot.message({ chat: GROUP, from: A, ...mention(`@${BOT} 看照片`), photo: photoSizes(LARGEST_PHOTO) }), ctx)).rejects.toMatchObject({ code: 'file_unavailable' })
  })

  it('ignores update types that are not citizen messages, naming the type', async () => {
    expect(await ignored(parserFor().parse(fixture('official-callback-query.json'), ctx))).toBe('update type callback_query is not a citizen message')
    expect(await ignored(parserFor().parse(bot.update({ poll: { id: 'p1', question: '?', options: [] } }), ctx))).toMatch(/update type poll/)
    expect(await ignored(parserFor().parse(bot.update({ chat_join_request: { chat: GROUP, from: A, date: 1 } }), ctx))).toMatch(/update type chat_join_request/)
    expect(await ignored(parserFor().parse(bot.update({ channel_post: { message_id: 1, date: 1, chat: { id: -100777, type: 'channel' }, text: 'news' } }), ctx))).toMatch(/channel_post/)
    expect(await ignored(parserFor().parse(bot.update({ my_chat_member: { chat: GROUP, from: A, date: 1, old_chat_member: { status: 'left', user: bot.bot }, new_chat_member: { status: 'member', user: bot.bot } } }), ctx))).toMatch(/my_chat_member/)
  })

  it('answers /start with a reason instead of a case, and /stop or blocking the bot with an opt-out', async () => {
    expect(await ignored(parserFor().parse(fixture('official-text.json'), ctx))).toMatch(/\/start/)
    expect(await ignored(parserFor().parse(bot.message({ chat: { id: 777, type: 'private', first_name: 'Ali' }, from: { id: 777, first_name: 'Ali' }, text: '/stop' }), ctx))).toMatch(/\/stop/)
    const blocked = { chat: { id: 777, type: 'private', first_name: 'Ali' }, from: { id: 777, first_name: 'Ali' }, date: 1, old_chat_member: { status: 'member', user: bot.bot }, new_chat_member: { status: 'kicked', user: bot.bot } }
    expect(await ignored(parserFor().parse(bot.update({ my_chat_member: blocked }), ctx))).toMatch(/my_chat_member: the citizen blocked the bot/)
    expect(optOuts).toEqual([
      ['1111111', false],
      ['777', true],
      ['777', true],
    ])
  })
})

describe('telegram channel through the gateway', () => {
  let gw: KitGateway
  beforeEach(async () => {
    bot.sent.length = 0
    gw = await kitGateway(adapterFor(), 'tg')
  })
  afterEach(async () => {
    expect(gw.lines.filter((l) => l.includes(TOKEN) || l.includes(SECRET)), 'secrets in log lines').toEqual([])
    await gw.close()
  })
  const post = async (update: unknown, secret: string | null = SECRET) => {
    const res = await gw.fetch(hook(gw.channelUrl, update, secret))
    return { status: res.status, body: (await res.json()) as { ok?: boolean; ignored?: string; results?: Array<{ caseId: string; trackingCode: string; followUp: boolean }> } }
  }

  it('makes two cases for two residents of one group, and acknowledges each as a reply to their message', async () => {
    const a = bot.message({ chat: GROUP, from: A, ...mention(`@${BOT} 巴仁镇的路灯坏了一个月了`) })
    const b = bot.message({ chat: GROUP, from: B, ...mention(`@${BOT} the water pipe by the school leaks`) })
    const first = await post(a)
    const second = await post(b)
    expect([first.status, second.status]).toEqual([200, 200])
    expect(first.body.results![0]!.caseId).not.toBe(second.body.results![0]!.caseId)
    await gw.intake.outbox.drain()
    expect(bot.sent).toHaveLength(2)
    for (const [update, res] of [[a, first], [b, second]] as const) {
      const mid = (update.message as { message_id: number }).message_id
      const ack = bot.sent.find((s) => (s.params.reply_parameters as { message_id?: number } | undefined)?.message_id === mid)!
      expect(ack.chatId).toBe(GROUP.id)
      expect(ack.params.reply_parameters).toEqual({ message_id: mid, chat_id: GROUP.id, allow_sending_without_reply: true })
      expect(ack.text).toContain(res.body.results![0]!.trackingCode)
      // The sent message's id is recorded in the same chat:message form as inbound ones.
      const [item] = await gw.intake.store.listOutbox({ caseId: res.body.results![0]!.caseId })
      expect(item!.providerId).toBe(`${GROUP.id}:${(ack.message as { message_id: number }).message_id}`)
    }
  })

  it('puts the edit of an appeal on the same case, as a follow-up', async () => {
    const original = bot.message({ chat: GROUP, from: A, ...mention(`@${BOT} 路灯坏了`) })
    const first = await post(original)
    const edited = await post(bot.edit(original.message as Record<string, unknown>, mention(`@${BOT} 路灯坏了，在村口`)))
    expect(edited.body.results![0]).toMatchObject({ caseId: first.body.results![0]!.caseId, followUp: true })
    const messages = await gw.intake.store.listMessages(first.body.results![0]!.caseId)
    expect(messages.filter((m) => m.direction === 'in').map((m) => m.text)).toEqual(['路灯坏了', '路灯坏了，在村口'])
  })

  it('answers group chatter and unknown update types 200 with the reason, and stores nothing', async () => {
    const chatter = await post(bot.message({ chat: GROUP, from: B, text: 'good morning everyone' }))
    expect(chatter).toEqual({ status: 200, body: { ok: true, ignored: expect.stringMatching(/not addressed to the bot/) } })
    const poll = await post(bot.update({ poll: { id: '5', question: 'Market day?', options: [], total_voter_count: 0, is_closed: false, is_anonymous: true, type: 'regular', allows_multiple_answers: false } }))
    expect(poll.body.ignored).toBe('update type poll is not a citizen message')
    expect((await gw.intake.store.listCases({})).cases).toHaveLength(0)
  })

  it('records a citizen who blocks the bot as opted out', async () => {
    const update = bot.update({ my_chat_member: { chat: { id: 4242, type: 'private', first_name: 'Li' }, from: { id: 4242, first_name: 'Li' }, date: 1, old_chat_member: { status: 'member', user: bot.bot }, new_chat_member: { status: 'kicked', user: bot.bot, until_date: 0 } } })
    expect((await post(update)).status).toBe(200)
    expect(await gw.intake.store.isOptedOut('tg', '4242')).toBe(true)
  })

  it('answers 5xx when a photo cannot be fetched just now, so Telegram delivers it again, and takes the redelivery', async () => {
    const update = bot.message({ chat: GROUP, from: A, ...mention(`@${BOT} 看这张照片`), photo: photoSizes(LARGEST_PHOTO) })
    bot.failNext('getFile', botApiErrors.badGateway())
    const res = await gw.fetch(hook(gw.channelUrl, update))
    expect(res.status).toBeGreaterThanOrEqual(500)
    expect((await gw.intake.store.listCases({})).cases).toHaveLength(0)
    const again = await post(update)
    expect(again.status).toBe(200)
    const messages = await gw.intake.store.listMessages(again.body.results![0]!.caseId)
    expect(messages[0]!.attachments).toEqual([expect.objectContaining({ contentType: 'image/jpeg', filename: expect.stringMatching(/^photo-\d+\.jpg$/) })])
  })
})

describe('telegram replies', () => {
  const sendCtx = { channelId: 'tg', idempotencyKey: 'k-1', attempt: 1, log: memoryLogger(), publicUrl: 'http://intake.test', blobs: memoryBlobStore() }
  const outbound = (over: Partial<OutboundMessage>): OutboundMessage => ({
    id: 'm-1',
    caseId: 'c-1',
    channelId: 'tg',
    to: { channelId: 'tg', id: `${GROUP.id}:${A.id}` },
    kind: 'reply',
    text: '路灯已于今日修复。',
    trackingCode: 'K7F3-9Q28',
    statusUrl: 'http://intake.test/status/K7F3-9Q28',
    language: 'zh-CN',
    ...over,
  })
  const lastSent = () => bot.sent.at(-1)!
  const idOf = (r: SendResult) => (r.ok ? r.providerId : `failed: ${r.error.code} ${r.error.message}`)
  beforeEach(() => {
    bot.sent.length = 0
    bot.clearFailures()
  })

  it('replies in the group to the citizen\'s message and returns chat:message_id', async () => {
    const citizen = bot.message({ chat: GROUP, from: A, ...mention(`@${BOT} 路灯坏了`) }).message as { message_id: number }
    const result = await adapterFor().send(outbound({ inReplyTo: `${GROUP.id}:${citizen.message_id}` }), sendCtx)
    const sent = lastSent()
    expect(idOf(result)).toBe(`${GROUP.id}:${(sent.message as { message_id: number }).message_id}`)
    expect(sent.params).toMatchObject({ chat_id: GROUP.id, text: '路灯已于今日修复。', reply_parameters: { message_id: citizen.message_id, chat_id: GROUP.id, allow_sending_without_reply: true }, link_preview_options: { is_disabled: true } })
    expect((sent.message.reply_to_message as { message_id: number }).message_id).toBe(citizen.message_id)
  })

  it('answers inside the resident\'s forum topic', async () => {
    bot.message({ chat: { ...GROUP, is_forum: true }, from: A, text: 'x' })
    await adapterFor().send(outbound({ to: { channelId: 'tg', id: `${GROUP.id}:${A.id}:17` } }), sendCtx)
    expect(lastSent().params).toMatchObject({ chat_id: GROUP.id, message_thread_id: 17 })
  })

  it('shortens a reply longer than 4096 characters, ending with the status link', async () => {
    bot.start({ id: 9001, first_name: 'Long' })
    const long = '情况说明。'.repeat(1200)
    const result = await adapterFor().send(outbound({ to: { channelId: 'tg', id: '9001' }, text: long }), sendCtx)
    expect(result.ok).toBe(true)
    expect(lastSent().text.length).toBeLessThanOrEqual(4096)
    expect(lastSent().text.endsWith('… http://intake.test/status/K7F3-9Q28')).toBe(true)
    expect(fitText('short', 'http://x')).toBe('short')
    expect(fitText('😀'.repeat(10), 'u', 8)).toBe('😀😀… u')
  })

  it('replyPrivately: answers a resident who started the bot in private, and one who did not in the group', async () => {
    const adapter = adapterFor({ replyPrivately: true })
    bot.start(A)
    const started = await adapter.send(outbound({}), sendCtx)
    expect(lastSent().chatId).toBe(A.id)
    expect(idOf(started)).toBe(`${A.id}:${(lastSent().message as { message_id: number }).message_id}`)

    const b = bot.message({ chat: GROUP, from: B, ...mention(`@${BOT} leak`) }).message as { message_id: number }
    const fallback = await adapter.send(outbound({ to: { channelId: 'tg', id: `${GROUP.id}:${B.id}` }, inReplyTo: `${GROUP.id}:${b.message_id}` }), sendCtx)
    expect(fallback.ok).toBe(true)
    expect(bot.sent.map((s) => s.chatId)).toEqual([A.id, GROUP.id])
    expect(lastSent().params.reply_parameters).toMatchObject({ message_id: b.message_id })
    expect(sendCtx.log.lines.some((l) => l.includes('answering in the group') && l.includes("can't initiate conversation"))).toBe(true)
  })

  it('follows a group that was upgraded to a supergroup', async () => {
    const upgraded: TgChatLike = { id: -1009999999999, type: 'supergroup', title: 'Bahar neighbourhood' }
    bot.message({ chat: upgraded, from: B, text: 'hello' })
    bot.failNext('sendMessage', botApiErrors.upgraded(upgraded.id))
    const result = await adapterFor().send(outbound({ to: { channelId: 'tg', id: `${SMALL_GROUP.id}:${B.id}` }, inReplyTo: `${SMALL_GROUP.id}:3` }), sendCtx)
    expect(idOf(result)).toMatch(new RegExp(`^${upgraded.id}:\\d+$`))
    expect(lastSent().params.reply_parameters).toBeUndefined()
  })

  it('classifies a private chat the bot may not start and a refused connection', async () => {
    bot.message({ chat: GROUP, from: { id: 6060, first_name: 'Quiet' }, text: 'hi' })
    const cannot = await adapterFor().send(outbound({ to: { channelId: 'tg', id: '6060' } }), sendCtx)
    expect(cannot).toMatchObject({ ok: false, error: { code: 'invalid_recipient', retryable: false } })
    const refused = await adapterFor({ apiBaseUrl: 'http://127.0.0.1:1' }).send(outbound({}), sendCtx)
    expect(refused).toMatchObject({ ok: false, error: { code: 'connection', retryable: true } })
    expect(refused.ok === false && refused.error.message).not.toContain(TOKEN)
  })

  it('passes retry_after on as retryAfterMs', async () => {
    bot.failNext('sendMessage', botApiErrors.tooManyRequests(35))
    expect(await adapterFor().send(outbound({}), sendCtx)).toMatchObject({ ok: false, error: { code: 'throttled', retryAfterMs: 35_000 } })
  })
})

describe('telegram long polling', () => {
  let poll: BotApiServer
  let gw: KitGateway | undefined
  beforeEach(async () => {
    poll = await startBotApiServer({ token: TOKEN, bot: { username: BOT } })
  })
  afterEach(async () => {
    if (gw) expect(gw.lines.filter((l) => l.includes(TOKEN)), 'token in log lines').toEqual([])
    await gw?.close()
    gw = undefined
    await poll.close()
  })
  const polling = () => telegramChannel({ token: TOKEN, mode: 'polling', apiBaseUrl: poll.url, botUsername: BOT, pollTimeoutSeconds: 20, pollRetryDelayMs: 20, timeoutMs: 2_000 })
  const cases = async () => (await gw!.intake.store.listCases({})).cases

  it('turns queued updates into cases, confirms them, and stops at once though a 20 s poll is waiting', async () => {
    gw = await kitGateway(polling(), 'tg')
    const a = poll.message({ chat: GROUP, from: A, ...mention(`@${BOT} 路灯坏了`) })
    const b = poll.message({ chat: GROUP, from: B, ...mention(`@${BOT} the pipe leaks`) })
    const chatter = poll.message({ chat: GROUP, from: B, text: 'good night' })
    poll.queue(a, b, chatter)
    await until(async () => (await cases()).length === 2, 'two cases')
    // The next long poll carries offset = last update_id + 1: Telegram forgets all three.
    await until(() => poll.confirmedOffset === (chatter.update_id as number) + 1, 'offset confirmed')
    expect(poll.pending()).toEqual([])
    const getUpdates = poll.calls.filter((c) => c.method === 'getUpdates')
    expect(getUpdates[0]!.params).toMatchObject({ timeout: 20, allowed_updates: ['message', 'edited_message', 'my_chat_member'] })
    expect(getUpdates[0]!.params.offset).toBeUndefined()

    await until(() => poll.waiting === 1, 'a long poll waiting')
    const started = Date.now()
    await gw.close()
    gw = undefined
    // stop() aborts the waiting poll instead of sitting out its 20 s timeout.
    expect(Date.now() - started).toBeLessThan(5_000)
    await until(() => poll.waiting === 0, 'the stand-in saw the poll go away')
  })

  it('reads an update again when it could not be stored, so nothing is lost', async () => {
    poll.addFile(PHOTO_BYTES, { fileId: LARGEST_PHOTO })
    gw = await kitGateway(polling(), 'tg')
    await until(() => poll.waiting === 1, 'a long poll waiting')
    poll.failNext('getFile', botApiErrors.internal())
    poll.queue(poll.message({ chat: GROUP, from: A, ...mention(`@${BOT} 看照片`), photo: photoSizes(LARGEST_PHOTO) }))
    await until(async () => (await cases()).length === 1, 'the case, on the second reading')
    expect(poll.calls.filter((c) => c.method === 'getFile')).toHaveLength(2)
    const [kase] = await cases()
    expect((await gw.intake.store.listMessages(kase!.id))[0]!.attachments).toHaveLength(1)
  })

  it('makes no second case when an update stored but not confirmed comes again after a restart', async () => {
    gw = await kitGateway(polling(), 'tg')
    await until(() => poll.waiting === 1, 'a long poll waiting')
    // Every later getUpdates (the confirming one, the one at stop) fails: a crash between storing and confirming.
    poll.failNext('getUpdates', ...Array.from({ length: 200 }, () => 'reset' as const))
    const update = poll.message({ chat: GROUP, from: A, ...mention(`@${BOT} 路灯坏了`) })
    poll.queue(update)
    await until(async () => (await cases()).length === 1, 'the case')
    await gw.intake.stop()
    expect(poll.pending().map((u) => u.update_id)).toEqual([update.update_id])

    poll.clearFailures()
    await gw.intake.start()
    await until(() => poll.confirmedOffset === (update.update_id as number) + 1, 'confirmed after the restart')
    expect(await cases()).toHaveLength(1)
    expect(await gw.intake.store.listOutbox({})).toHaveLength(1)
  })

  it('says why getUpdates is refused while a webhook is set, and recovers once it is deleted', async () => {
    expect(await setWebhook({ token: TOKEN, apiBaseUrl: poll.url, url: 'https://intake.example.gov/channels/tg/webhook', secretToken: SECRET })).toEqual({ ok: true, description: 'webhook set to https://intake.example.gov/channels/tg/webhook' })
    gw = await kitGateway(polling(), 'tg')
    await until(() => gw!.lines.some((l) => l.includes('delete the webhook')), 'the 409 explained')
    expect(await deleteWebhook({ token: TOKEN, apiBaseUrl: poll.url })).toEqual({ ok: true, description: 'webhook deleted' })
    poll.queue(poll.message({ chat: { id: 1234, type: 'private', first_name: 'Li' }, from: { id: 1234, first_name: 'Li' }, text: '我家门口的路灯坏了' }))
    await until(async () => (await cases()).length === 1, 'the case after the webhook is gone')
  })
})

describe('telegram setup', () => {
  it('registers the webhook URL with its secret token and the update types the channel reads', async () => {
    const url = webhookUrl('https://intake.example.gov/', 'tg')
    expect(url).toBe('https://intake.example.gov/channels/tg/webhook')
    expect(await setWebhook({ token: TOKEN, apiBaseUrl: bot.url, url, secretToken: SECRET })).toMatchObject({ ok: true })
    expect(bot.webhook).toEqual({ url, secret_token: SECRET, allowed_updates: ['message', 'edited_message', 'my_chat_member'] })
    expect(await setWebhook({ token: '1:wrong-token-000000000000', apiBaseUrl: bot.url, url, secretToken: SECRET })).toEqual({ ok: false, message: 'Telegram answered 401: Unauthorized' })
    expect(await setWebhook({ token: TOKEN, apiBaseUrl: bot.url, url, secretToken: 'has spaces' })).toMatchObject({ ok: false, message: expect.stringMatching(/secretToken/) })
    await deleteWebhook({ token: TOKEN, apiBaseUrl: bot.url })
    expect(bot.webhook).toBeUndefined()
  })

  it('refuses misconfiguration when the channel is created, without repeating the token', () => {
    const attempt = (over: Partial<TelegramOptions>) => () => telegramChannel({ token: TOKEN, secretToken: SECRET, ...over })
    expect(attempt({ token: 'not-a-token' })).toThrow(/\[telegram channel\] token:/)
    expect(attempt({ secretToken: undefined })).toThrow(/secretToken: required in webhook mode/)
    expect(attempt({ secretToken: 'short' })).toThrow(/secretToken/)
    expect(attempt({ groupMode: 'keywords' })).toThrow(/keywords/)
    expect(attempt({ apiBaseUrl: 'ftp://x' })).toThrow(/apiBaseUrl/)
    expect(attempt({ botUsername: 'no spaces please' })).toThrow(/botUsername/)
    expect(() => telegramChannel({ token: TOKEN, mode: 'polling' })).not.toThrow()
    const almost = `${TOKEN}!`
    expect(attempt({ token: almost })).toThrow(/token/)
    expect(attempt({ token: almost })).not.toThrow(TOKEN)
  })

  it('asks getMe for the username when none is configured', async () => {
    const before = bot.calls.filter((c) => c.method === 'getMe').length
    const gw = await kitGateway(telegramChannel({ token: TOKEN, secretToken: SECRET, apiBaseUrl: bot.url }), 'tg')
    const res = await gw.fetch(hook(gw.channelUrl, bot.message({ chat: GROUP, from: A, ...mention(`@${BOT} 路灯坏了`) })))
    expect(res.status).toBe(200)
    await gw.fetch(hook(gw.channelUrl, bot.message({ chat: GROUP, from: B, ...mention(`@${BOT} leak`) })))
    expect(bot.calls.filter((c) => c.method === 'getMe').length - before).toBe(1)
    expect((await gw.intake.store.listCases({})).cases).toHaveLength(2)
    await gw.close()
  })
})

describe('the Bot API stand-in', () => {
  const call = (path: string, init?: RequestInit) => fetch(`${bot.url}${path}`, init).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }))

  it('answers the way the Bot API does: 401 for a wrong token, 404 for an unknown method, case-insensitive method names', async () => {
    expect(await call('/bot1:not-the-token/getMe')).toEqual({ status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } })
    expect(await call(`/bot${TOKEN}/noSuchMethod`, { method: 'POST' })).toEqual({ status: 404, body: { ok: false, error_code: 404, description: 'Not Found' } })
    expect(await call(`/bot${TOKEN}/GETME`)).toMatchObject({ status: 200, body: { ok: true, result: { id: BOT_ID, is_bot: true, username: BOT } } })
  })

  it('takes parameters from a form body (objects JSON-encoded) and from the query string', async () => {
    const citizen = bot.message({ chat: GROUP, from: A, text: 'x' }).message
    const form = new URLSearchParams({ chat_id: String(GROUP.id), text: 'form-encoded reply', reply_parameters: JSON.stringify({ message_id: citizen.message_id }) })
    const sent = await call(`/bot${TOKEN}/sendMessage`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form })
    expect(sent).toMatchObject({ status: 200, body: { ok: true, result: { chat: { id: GROUP.id }, text: 'form-encoded reply', reply_to_message: { message_id: citizen.message_id } } } })
    const queried = await call(`/bot${TOKEN}/sendMessage?chat_id=${GROUP.id}&text=${encodeURIComponent('via the query')}`)
    expect(queried.body).toMatchObject({ ok: true, result: { text: 'via the query' } })
    const missing = await call(`/bot${TOKEN}/sendMessage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ chat_id: GROUP.id, text: 'x', reply_parameters: { message_id: 999_999 } }) })
    expect(missing).toEqual({ status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: message to be replied not found' } })
  })

  it('serves a file only under the right token', async () => {
    const file = bot.addFile(new Uint8Array([1, 2, 3]), { path: 'documents/file_9.pdf' })
    const ok = await fetch(`${bot.url}/file/bot${TOKEN}/${file.file_path}`)
    expect(new Uint8Array(await ok.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]))
    expect((await fetch(`${bot.url}/file/bot1:wrong/${file.file_path}`)).status).toBe(401)
  })
})
