/**
 * How a Telegram citizen and a Telegram message are named inside Intake.
 *
 * Citizen address (Address.id), one per person *within a chat*, so that in a village group every
 * resident's appeal is their own case and a reply goes back to where they wrote:
 *   private chat          `${chatId}`                      e.g. `1111111`
 *   group / supergroup    `${chatId}:${userId}`            e.g. `-1001234567890:501`
 *   forum topic           `${chatId}:${userId}:${threadId}` e.g. `-1001234567890:501:17`
 * (A user's private chat id equals their user id, which is what `replyPrivately` relies on.)
 *
 * Message reference (InboundMessage.externalId, the providerId `send` returns, threadRefs):
 *   `${chatId}:${messageId}`, and for an edit `${chatId}:${messageId}:edit:${editDate}`.
 * message_id is unique only within a chat, so the chat id is part of the reference; `send` turns
 * OutboundMessage.inReplyTo back into reply_parameters with `parseMessageRef`.
 */

export interface ChatTarget {
  /** A chat id, or what Telegram accepts instead (`@channelusername`): passed on as given. */
  chat: number | string
  /** In a group: the resident the case belongs to (also their private chat id). */
  user?: number
  /** In a forum supergroup: the topic (message_thread_id). */
  thread?: number
}

const INTEGER = /^-?\d{1,20}$/

export function citizenAddressId(chatId: number, chatType: string, userId: number, topic?: number): string {
  if (chatType === 'private') return String(chatId)
  return topic !== undefined ? `${chatId}:${userId}:${topic}` : `${chatId}:${userId}`
}

/** The inverse of `citizenAddressId`. An id in another shape is handed to Telegram as a chat id, which is the authority on what it can reach. */
export function parseAddressId(id: string): ChatTarget {
  const [chat = '', user, thread, ...rest] = id.split(':')
  if (!INTEGER.test(chat) || rest.length > 0) return { chat: id }
  const target: ChatTarget = { chat: Number(chat) }
  if (user !== undefined && INTEGER.test(user)) target.user = Number(user)
  if (thread !== undefined && INTEGER.test(thread)) target.thread = Number(thread)
  return target
}

export const messageRef = (chatId: number, messageId: number) => `${chatId}:${messageId}`
export const editRef = (chatId: number, messageId: number, editDate: number) => `${chatId}:${messageId}:edit:${editDate}`

/** `${chatId}:${messageId}` (or an edit of it) → the numbers, or undefined for anything else. */
export function parseMessageRef(ref: string | undefined): { chat: number; messageId: number } | undefined {
  const m = ref?.match(/^(-?\d{1,20}):(\d{1,12})(?::edit:\d+)?$/)
  return m ? { chat: Number(m[1]), messageId: Number(m[2]) } : undefined
}

/** "First Last", else "@username", else nothing: what staff see as the citizen's name. */
export function displayNameOf(user: { first_name?: string; last_name?: string; username?: string }): string | undefined {
  const name = [user.first_name, user.last_name].filter((s) => s && s.trim()).join(' ').trim()
  if (name) return name.slice(0, 200)
  return user.username ? `@${user.username}` : undefined
}
