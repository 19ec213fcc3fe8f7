/**
 * The parts of the Telegram Bot API's objects this adapter reads (https://core.telegram.org/bots/api#available-types).
 * Loose objects: Telegram adds fields in every Bot API release, and an update carrying a field we do
 * not know must still parse; what we read is typed, the rest is kept in the raw payload.
 */
import { z } from 'zod'

/** https://core.telegram.org/bots/api#user */
export const TgUser = z.looseObject({
  id: z.number().int(),
  is_bot: z.boolean().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  username: z.string().optional(),
  language_code: z.string().optional(),
})
export type TgUser = z.infer<typeof TgUser>

/** https://core.telegram.org/bots/api#chat — ids of groups and supergroups are negative. */
export const TgChat = z.looseObject({
  id: z.number().int(),
  type: z.string(),
  title: z.string().optional(),
  username: z.string().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  is_forum: z.boolean().optional(),
})
export type TgChat = z.infer<typeof TgChat>

/** https://core.telegram.org/bots/api#messageentity — offsets and lengths count UTF-16 code units. */
export const TgEntity = z.looseObject({
  type: z.string(),
  offset: z.number().int().nonnegative(),
  length: z.number().int().nonnegative(),
  user: TgUser.optional(),
})
export type TgEntity = z.infer<typeof TgEntity>

/** https://core.telegram.org/bots/api#photosize */
export const TgPhotoSize = z.looseObject({
  file_id: z.string().min(1),
  file_unique_id: z.string().optional(),
  width: z.number().int(),
  height: z.number().int(),
  file_size: z.number().int().optional(),
})

/** Voice, Audio, Document, Video: the file fields they share. */
export const TgFile = z.looseObject({
  file_id: z.string().min(1),
  file_unique_id: z.string().optional(),
  file_name: z.string().optional(),
  mime_type: z.string().optional(),
  file_size: z.number().int().optional(),
  duration: z.number().optional(),
})
export type TgFile = z.infer<typeof TgFile>

/** https://core.telegram.org/bots/api#location */
export const TgLocation = z.looseObject({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
})

const messageFields = {
  message_id: z.number().int(),
  /** Forum supergroups: the topic the message belongs to. */
  message_thread_id: z.number().int().optional(),
  is_topic_message: z.boolean().optional(),
  from: TgUser.optional(),
  sender_chat: TgChat.optional(),
  date: z.number().int(),
  edit_date: z.number().int().optional(),
  chat: TgChat,
  text: z.string().optional(),
  entities: z.array(TgEntity).optional(),
  caption: z.string().optional(),
  caption_entities: z.array(TgEntity).optional(),
  photo: z.array(TgPhotoSize).optional(),
  voice: TgFile.optional(),
  audio: TgFile.optional(),
  document: TgFile.optional(),
  video: TgFile.optional(),
  location: TgLocation.optional(),
  venue: z.looseObject({ location: TgLocation, title: z.string(), address: z.string() }).optional(),
}

/**
 * https://core.telegram.org/bots/api#message. A reply_to_message is itself a Message, but Telegram
 * never nests a further reply_to_message inside it ("will not contain further reply_to_message fields").
 */
export const TgRepliedMessage = z.looseObject(messageFields)
export const TgMessage = z.looseObject({ ...messageFields, reply_to_message: TgRepliedMessage.optional() })
export type TgMessage = z.infer<typeof TgMessage>

/** https://core.telegram.org/bots/api#chatmemberupdated — how we learn a citizen blocked or restarted the bot. */
export const TgChatMemberUpdated = z.looseObject({
  chat: TgChat,
  from: TgUser,
  date: z.number().int(),
  new_chat_member: z.looseObject({ status: z.string(), user: TgUser }),
})

/**
 * https://core.telegram.org/bots/api#update: an update_id and at most one of the optional fields.
 * Only the kinds we act on are typed; any other kind (poll, chat_join_request, a kind added next year)
 * passes through and is named in the ignore reason.
 */
export const TgUpdate = z.looseObject({
  update_id: z.number().int().nonnegative(),
  message: TgMessage.optional(),
  edited_message: TgMessage.optional(),
  my_chat_member: TgChatMemberUpdated.optional(),
})
export type TgUpdate = z.infer<typeof TgUpdate>

/** https://core.telegram.org/bots/api#making-requests — every answer of the Bot API has this envelope. */
export const TgResponse = z.union([
  z.looseObject({ ok: z.literal(true), result: z.unknown() }),
  z.looseObject({
    ok: z.literal(false),
    error_code: z.number().int(),
    description: z.string().default(''),
    /** https://core.telegram.org/bots/api#responseparameters */
    parameters: z.looseObject({ retry_after: z.number().optional(), migrate_to_chat_id: z.number().int().optional() }).optional(),
  }),
])
export type TgResponse = z.infer<typeof TgResponse>

/** https://core.telegram.org/bots/api#file */
export const TgFileInfo = z.looseObject({
  file_id: z.string(),
  file_size: z.number().int().optional(),
  file_path: z.string().optional(),
})

/** What sendMessage returns, as far as we read it. */
export const TgSentMessage = z.looseObject({ message_id: z.number().int(), chat: z.looseObject({ id: z.number().int() }) })

/** The update's kind: "At most one of the optional parameters can be present in any given update", besides update_id. */
export function updateKind(update: Record<string, unknown>): string {
  return Object.keys(update).find((k) => k !== 'update_id' && update[k] !== undefined && update[k] !== null) ?? 'empty'
}
