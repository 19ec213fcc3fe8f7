/**
 * One Telegram Update → one inbound outcome: a citizen message, or `ignored` with the reason.
 * Shared by the webhook route and the long-poll loop, so both modes take exactly the same messages.
 */
import { storeAttachment, type Attachment, type BlobStore, type InboundMessageInput, type InboundOutcome, type Logger, type PlaceHint } from '@intake/core'
import { citizenAddressId, displayNameOf, editRef, messageRef } from './address.ts'
import type { BotApiClient } from './bot-api.ts'
import { TgFileInfo, TgUpdate, updateKind, type TgEntity, type TgFile, type TgMessage } from './schema.ts'

/**
 * What the bot takes from a group or supergroup (private chats: everything):
 * - `mentions`: messages that @mention the bot (or a command addressed to it, /cmd@bot) and replies to the bot's messages;
 * - `keywords`: those, plus messages containing one of the configured keywords;
 * - `all`: every message a resident posts (the bot must have privacy mode off to see them).
 */
export type GroupMode = 'mentions' | 'keywords' | 'all'

export interface UpdateParser {
  /** The update as Telegram sent it (already JSON-decoded). */
  parse(json: unknown, ctx: ParseContext): Promise<InboundOutcome>
}

export interface ParseContext {
  channelId: string
  blobs: BlobStore
  log: Logger
  now: () => number
  setOptOut(citizenId: string, optedOut: boolean): Promise<void>
}

export interface UpdateParserOptions {
  api: BotApiClient
  /** The bot's user id: the number before the colon in its token. */
  botId: number
  /** The bot's @username (without @); asked of getMe when not configured and first needed. */
  botUsername: () => Promise<string>
  groupMode: GroupMode
  keywords: readonly string[]
  /** Bots may download files of up to 20 MB (https://core.telegram.org/bots/api#getfile). */
  maxFileBytes: number
}

/**
 * A file Telegram could not hand over just now (5xx, flood control, connection): the update is not
 * taken, so Telegram redelivers it (webhook) or the poller reads it again (long polling).
 */
export class TelegramFileUnavailableError extends Error {
  readonly code = 'file_unavailable'
}

/** Bot commands that open or manage the conversation rather than report anything. */
const COMMANDS: Record<string, string> = {
  start: 'the citizen opened the chat with /start; nothing to file until they write their request',
  help: 'the citizen asked for /help; nothing to file',
}

export function updateParser({ api, botId, botUsername, groupMode, keywords, maxFileBytes }: UpdateParserOptions): UpdateParser {
  const words = keywords.map((k) => k.trim().toLowerCase()).filter(Boolean)

  async function mentionsBot(text: string, entities: readonly TgEntity[]): Promise<TgEntity[]> {
    const found: TgEntity[] = []
    for (const e of entities) {
      if (e.type === 'text_mention' && e.user?.id === botId) found.push(e)
      if (e.type !== 'mention' && e.type !== 'bot_command') continue
      const piece = text.slice(e.offset, e.offset + e.length)
      const at = piece.lastIndexOf('@')
      // A plain /command in a group goes to every bot there; only /command@ourbot is addressed to us.
      if (at < 0) continue
      if (piece.slice(at + 1).toLowerCase() === (await botUsername()).toLowerCase()) found.push(e)
    }
    return found
  }

  /** getFile, then GET /file/bot<token>/<file_path>, then into the blob store. */
  async function fetchAttachment(file: TgFile, contentType: string, filename: string, ctx: ParseContext): Promise<Attachment> {
    const metadata: Attachment = { filename, contentType, size: file.file_size ?? 0 }
    if (file.file_size !== undefined && file.file_size > maxFileBytes) {
      ctx.log.warn('telegram file too large to download; recorded without its bytes', { size: file.file_size, limit: maxFileBytes })
      return metadata
    }
    const info = await api.call('getFile', { file_id: file.file_id })
    if (!info.ok) {
      const transient = info.kind === 'connection' || info.errorCode === 429 || info.errorCode >= 500
      const detail = info.kind === 'connection' ? info.message : `${info.errorCode} ${info.description}`
      if (transient) throw new TelegramFileUnavailableError(`[telegram channel] getFile failed: ${detail}`)
      // A 400 (invalid file_id, file is too big) will not change on a retry: keep the message, note the file.
      ctx.log.warn('telegram getFile refused; attachment recorded without its bytes', { error: detail })
      return metadata
    }
    const parsed = TgFileInfo.safeParse(info.result)
    if (!parsed.success || !parsed.data.file_path) {
      ctx.log.warn('telegram getFile answered without a file_path; attachment recorded without its bytes')
      return metadata
    }
    const got = await api.download(parsed.data.file_path, maxFileBytes)
    if (!got.ok) {
      if (!got.permanent) throw new TelegramFileUnavailableError(`[telegram channel] file download failed: ${got.message}`)
      ctx.log.warn('telegram file download refused; attachment recorded without its bytes', { error: got.message })
      return metadata
    }
    return storeAttachment(ctx.blobs, { bytes: got.bytes, contentType, filename })
  }

  async function attachmentsOf(m: TgMessage, ctx: ParseContext): Promise<Attachment[]> {
    const out: Attachment[] = []
    if (m.photo?.length) {
      // PhotoSize[] lists the sizes Telegram made of one photo; staff want the largest.
      const largest = m.photo.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a))
      // Telegram re-encodes every photo (as opposed to a file sent as a document) as JPEG.
      out.push(await fetchAttachment(largest, 'image/jpeg', `photo-${m.message_id}.jpg`, ctx))
    }
    // Voice notes are OGG/Opus (https://core.telegram.org/bots/api#voice); core transcribes audio attachments.
    if (m.voice) out.push(await fetchAttachment(m.voice, m.voice.mime_type ?? 'audio/ogg', `voice-${m.message_id}.ogg`, ctx))
    if (m.audio) out.push(await fetchAttachment(m.audio, m.audio.mime_type ?? 'audio/mpeg', m.audio.file_name ?? `audio-${m.message_id}.mp3`, ctx))
    if (m.video) out.push(await fetchAttachment(m.video, m.video.mime_type ?? 'video/mp4', m.video.file_name ?? `video-${m.message_id}.mp4`, ctx))
    if (m.document) {
      out.push(await fetchAttachment(m.document, m.document.mime_type ?? 'application/octet-stream', m.document.file_name ?? `document-${m.message_id}`, ctx))
    }
    return out
  }

  async function parseMessage(m: TgMessage, edited: boolean, raw: unknown, ctx: ParseContext): Promise<InboundOutcome> {
    const kind = edited ? 'edited_message' : 'message'
    if (!m.from) return { ignored: `${kind} without a sender (a channel post or an anonymous admin)` }
    if (m.from.is_bot) return { ignored: `${kind} from a bot` }
    // Posted on behalf of a chat: an anonymous group admin, or a linked channel's post forwarded into its discussion group.
    if (m.sender_chat) return { ignored: `${kind} posted on behalf of a chat (${m.sender_chat.type}), not by a resident` }
    const chatType = m.chat.type
    if (chatType !== 'private' && chatType !== 'group' && chatType !== 'supergroup') return { ignored: `${kind} in a ${chatType} chat` }
    const inGroup = chatType !== 'private'

    let text = m.text ?? m.caption ?? ''
    const entities = m.text !== undefined ? (m.entities ?? []) : (m.caption_entities ?? [])
    const toBot = await mentionsBot(text, entities)
    const repliesToBot = m.reply_to_message?.from?.id === botId

    const command = text.match(/^\/([a-z0-9_]+)(?:@([a-z0-9_]+))?(?:\s|$)/i)
    const commandName = command?.[1]?.toLowerCase()
    const commandForUs = command && (!command[2] || toBot.length > 0)

    if (inGroup) {
      const addressed = toBot.length > 0 || repliesToBot
      const lower = text.toLowerCase()
      const taken = groupMode === 'all' || addressed || (groupMode === 'keywords' && words.some((w) => lower.includes(w)))
      if (!taken) {
        return {
          ignored:
            groupMode === 'keywords'
              ? `group ${kind} neither addressed to the bot nor containing a keyword (groupMode keywords)`
              : `group ${kind} not addressed to the bot: no @mention and not a reply to the bot (groupMode mentions)`,
        }
      }
    }

    const address = citizenAddressId(m.chat.id, chatType, m.from.id, m.is_topic_message ? m.message_thread_id : undefined)
    if (commandForUs && commandName === 'stop' && !inGroup) {
      // Telegram's own STOP is blocking the bot (my_chat_member below); /stop says the same in words.
      await ctx.setOptOut(address, true)
      return { ignored: 'the citizen sent /stop: no more messages on this chat until they /start again' }
    }
    if (commandForUs && commandName && COMMANDS[commandName]) {
      if (commandName === 'start' && !inGroup) await ctx.setOptOut(address, false)
      return { ignored: COMMANDS[commandName]! }
    }

    // "@intake_bot the street light is out" is filed as "the street light is out".
    for (const e of [...toBot].sort((a, b) => b.offset - a.offset)) text = text.slice(0, e.offset) + text.slice(e.offset + e.length)
    text = text.replace(/[ \t]{2,}/g, ' ').trim()
    // /status (or /status@ourbot, already cut out above) asks for a case's status: core answers it.
    const intent = commandForUs && commandName === 'status' ? ('status' as const) : undefined
    if (intent) text = text.replace(/^\/status(?:@[a-z0-9_]+)?/i, '').trim()

    const attachments = await attachmentsOf(m, ctx)
    const point = m.venue?.location ?? m.location
    const place: PlaceHint | undefined = point
      ? { lat: point.latitude, lon: point.longitude, ...(m.venue ? { text: `${m.venue.title}, ${m.venue.address}`.slice(0, 500) } : {}) }
      : undefined
    if (!text && attachments.length === 0 && !intent) {
      if (!place) {
        const what = Object.keys(m).find((k) => !['message_id', 'from', 'chat', 'date', 'edit_date', 'message_thread_id', 'is_topic_message', 'reply_to_message', 'entities', 'text', 'sender_chat'].includes(k))
        return { ignored: `${kind} carries nothing to file${what ? ` (${what})` : ''}` }
      }
      // A shared location alone is still a report ("here"); the pipeline needs some text to show.
      text = place.text ?? `📍 ${point!.latitude}, ${point!.longitude}`
    }

    const threadRefs: string[] = []
    const replied = m.reply_to_message
    // In a group, a reply to the bot (its acknowledgement) or to one's own message continues that case;
    // a reply to a neighbour's message is the replier's own appeal, not an addition to the neighbour's case.
    if (replied && (!inGroup || replied.from?.id === botId || replied.from?.id === m.from.id)) {
      threadRefs.push(messageRef(replied.chat.id, replied.message_id))
    }
    if (edited) threadRefs.push(messageRef(m.chat.id, m.message_id))

    const message: InboundMessageInput = {
      channelId: ctx.channelId,
      externalId: edited ? editRef(m.chat.id, m.message_id, m.edit_date ?? m.date) : messageRef(m.chat.id, m.message_id),
      from: { channelId: ctx.channelId, id: address, displayName: displayNameOf(m.from) },
      text,
      attachments,
      place,
      // The app's language says less than the words written; it decides only when there are none.
      language: !m.text && !m.caption && m.from.language_code ? m.from.language_code.slice(0, 20) : undefined,
      threadRefs,
      ...(intent ? { intent } : {}),
      receivedAt: ctx.now(),
      raw,
    }
    return { messages: [message] }
  }

  return {
    async parse(json, ctx) {
      const parsed = TgUpdate.safeParse(json)
      if (!parsed.success) {
        const message = parsed.error.issues
          .slice(0, 5)
          .map((i) => `${i.path.join('.') || '(update)'}: ${i.message}`)
          .join('; ')
        return { rejected: { status: 400, code: 'invalid_update', message: `not a Telegram Update: ${message}` } }
      }
      const update = parsed.data
      if (update.message) return parseMessage(update.message, false, json, ctx)
      // An edit is recorded as a follow-up on the case of the message it changes (its threadRef), never a new case by itself.
      if (update.edited_message) return parseMessage(update.edited_message, true, json, ctx)
      const kind = updateKind(update)
      if (update.my_chat_member && update.my_chat_member.chat.type === 'private') {
        // Blocking the bot arrives as my_chat_member with status "kicked"; restarting it as "member".
        const status = update.my_chat_member.new_chat_member.status
        const address = String(update.my_chat_member.chat.id)
        if (status === 'kicked') {
          await ctx.setOptOut(address, true)
          return { ignored: 'my_chat_member: the citizen blocked the bot; no more messages to this chat' }
        }
        if (status === 'member') {
          await ctx.setOptOut(address, false)
          return { ignored: 'my_chat_member: the citizen (re)started the bot' }
        }
      }
      return { ignored: `update type ${kind} is not a citizen message` }
    },
  }
}
