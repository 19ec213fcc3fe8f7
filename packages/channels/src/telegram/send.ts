/**
 * Replies through sendMessage (https://core.telegram.org/bots/api#sendmessage), as a reply to the
 * citizen's latest message, and the Bot API's errors mapped onto the outbox's send-error taxonomy.
 */
import { sendError, type Logger, type OutboundMessage, type SendResult } from '@intake/core'
import { messageRef, parseAddressId, parseMessageRef, type ChatTarget } from './address.ts'
import type { BotApiClient, BotApiResult } from './bot-api.ts'
import { TgSentMessage } from './schema.ts'

/** sendMessage: "Text of the message to be sent, 1-4096 characters after entities parsing". */
export const MAX_TEXT = 4096

/**
 * Fit a reply into one Telegram message: a longer one is cut at a character boundary and ends with
 * the link to the case's status page, where the whole answer can be read.
 */
export function fitText(text: string, statusUrl: string, max = MAX_TEXT): string {
  // String length counts UTF-16 code units, as Telegram does for entity offsets; never more than its character count.
  if (text.length <= max) return text
  const tail = `… ${statusUrl}`
  let cut = Math.max(0, max - tail.length)
  // Do not split a surrogate pair (an emoji, a rare CJK character) in half.
  const code = text.charCodeAt(cut - 1)
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1
  return text.slice(0, cut).trimEnd() + tail
}

/** What Telegram's 4xx descriptions mean for a reply (the texts are the Bot API's own, e.g. "Forbidden: bot was blocked by the user"). */
const STOPPED = /bot was blocked by the user|user is deactivated|bot was kicked|bot is not a member|chat was deleted/i
const NO_SUCH_CHAT = /chat not found|user not found|PEER_ID_INVALID|chat_id is empty|can't initiate conversation/i

export function classifyBotApiFailure(result: Exclude<BotApiResult, { ok: true }>): SendResult {
  if (result.kind === 'connection') return sendError('connection', `Telegram unreachable: ${result.message}`)
  const { errorCode, description } = result
  const message = `Telegram answered ${errorCode}: ${description || '(no description)'}`
  // Flood control: "Too Many Requests: retry after N" with parameters.retry_after = N seconds.
  if (errorCode === 429) return sendError('throttled', message, result.retryAfter !== undefined ? { retryAfterMs: Math.ceil(result.retryAfter * 1000) } : {})
  if (errorCode >= 500) return sendError('connection', message)
  // 401 Unauthorized: the token was revoked or mistyped; 404 Not Found: the token is not even well-formed.
  if (errorCode === 401 || errorCode === 404) return sendError('config', `${message} (check the bot token)`)
  if (errorCode === 403) {
    if (STOPPED.test(description)) return sendError('stopped', message)
    if (NO_SUCH_CHAT.test(description)) return sendError('invalid_recipient', message)
    // e.g. "not enough rights to send text messages to the chat": a group admin must let the bot speak.
    return sendError('rejected', message)
  }
  if (errorCode === 400 && NO_SUCH_CHAT.test(description)) return sendError('invalid_recipient', message)
  return sendError('rejected', message)
}

/** A private message the citizen cannot receive (never started the bot, blocked it, no such chat): answer in the group instead. */
function unreachablePrivately(result: BotApiResult): boolean {
  return !result.ok && result.kind === 'api' && (result.errorCode === 403 || (result.errorCode === 400 && NO_SUCH_CHAT.test(result.description)))
}

export interface SenderOptions {
  api: BotApiClient
  /** Answer group residents in their private chat with the bot when they have started it. */
  replyPrivately: boolean
}

export function telegramSender({ api, replyPrivately }: SenderOptions) {
  async function sendMessage(target: ChatTarget, text: string, replyTo?: { chat: number; messageId: number }): Promise<BotApiResult> {
    const params: Record<string, unknown> = {
      chat_id: target.chat,
      text,
      // The acknowledgement carries the status link; a preview card of it would only fill the group.
      link_preview_options: { is_disabled: true },
    }
    if (target.thread !== undefined) params.message_thread_id = target.thread
    // allow_sending_without_reply: the citizen may have deleted their message; the answer must still arrive.
    if (replyTo && replyTo.chat === target.chat) {
      params.reply_parameters = { message_id: replyTo.messageId, chat_id: replyTo.chat, allow_sending_without_reply: true }
    }
    return api.call('sendMessage', params)
  }

  function sent(result: BotApiResult, fallbackChat: number | string): SendResult {
    if (!result.ok) return classifyBotApiFailure(result)
    const parsed = TgSentMessage.safeParse(result.result)
    if (!parsed.success) return sendError('unknown', 'Telegram accepted the message but its answer carries no message_id')
    // The same `${chatId}:${message_id}` form as inbound messages: a citizen's reply to it finds this case.
    return { ok: true, providerId: messageRef(parsed.data.chat.id ?? fallbackChat, parsed.data.message_id) }
  }

  return async function sendTelegram(msg: OutboundMessage, log: Logger): Promise<SendResult> {
    const target = parseAddressId(msg.to.id)
    const text = fitText(msg.text, msg.statusUrl)
    const replyTo = parseMessageRef(msg.inReplyTo)

    if (replyPrivately && target.user !== undefined && target.chat !== target.user) {
      const privately = await sendMessage({ chat: target.user }, text, replyTo)
      if (privately.ok || !unreachablePrivately(privately)) return sent(privately, target.user)
      // Bots cannot start a conversation: until the resident has pressed Start, the group is the only way.
      log.info('citizen cannot be reached privately; answering in the group', {
        error: privately.ok ? undefined : privately.kind === 'api' ? `${privately.errorCode} ${privately.description}` : privately.message,
      })
    }

    const result = await sendMessage(target, text, replyTo)
    if (!result.ok && result.kind === 'api' && result.migrateToChatId !== undefined) {
      // "Bad Request: group chat was upgraded to a supergroup chat": the group lives on under a new id.
      // Message ids do not carry over, so the answer goes to the new chat without reply_parameters.
      log.info('telegram group was upgraded to a supergroup; answering in the new chat')
      return sent(await sendMessage({ ...target, chat: result.migrateToChatId }, text), result.migrateToChatId)
    }
    return sent(result, target.chat)
  }
}
