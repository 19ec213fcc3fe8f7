/**
 * A stand-in for the Telegram Bot API on loopback, for tests and local development: Telegram's cloud
 * cannot be reached from here, so this speaks its wire format (https://core.telegram.org/bots/api):
 *
 * - `POST|GET /bot<token>/<method>` with parameters in the query string, a JSON body or a
 *   form-urlencoded body (object parameters JSON-encoded, as Telegram accepts them); method names
 *   are case-insensitive, as in the real API;
 * - answers `{ ok: true, result }` with HTTP 200, or `{ ok: false, error_code, description, parameters? }`
 *   with the HTTP status equal to error_code; an unknown token gets 401 "Unauthorized", an unknown method 404 "Not Found";
 * - getMe, getUpdates (long poll with timeout; an offset confirms every update below it; 409 while a
 *   webhook is set or when a newer getUpdates takes over), setWebhook / deleteWebhook / getWebhookInfo,
 *   sendMessage (checks the chat, the text and reply_parameters the way Telegram does; records what it
 *   received; returns a Message with a fresh message_id), getFile, and `GET /file/bot<token>/<file_path>`;
 * - failures scripted per method (`failNext`) with Telegram's own error texts (`botApiErrors`).
 *
 * Chats, users and messages become known the way they do on Telegram: a private chat exists once the
 * user has written to the bot (`message`, `start`), a group once the bot has seen a message there.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { startProviderStandIn, type ProviderControl } from '../kit/provider-stand-in.ts'

export interface BotApiServerOptions {
  token?: string
  /** The bot's own user (getMe). */
  bot?: { id?: number; first_name?: string; username?: string }
  port?: number
}

export interface BotApiFailure {
  error_code: number
  description: string
  parameters?: { retry_after?: number; migrate_to_chat_id?: number }
}

/** Telegram's error answers, with the descriptions the real API sends. */
export const botApiErrors = {
  tooManyRequests: (retryAfter: number): BotApiFailure => ({ error_code: 429, description: `Too Many Requests: retry after ${retryAfter}`, parameters: { retry_after: retryAfter } }),
  blocked: (): BotApiFailure => ({ error_code: 403, description: 'Forbidden: bot was blocked by the user' }),
  deactivated: (): BotApiFailure => ({ error_code: 403, description: 'Forbidden: user is deactivated' }),
  cantInitiate: (): BotApiFailure => ({ error_code: 403, description: "Forbidden: bot can't initiate conversation with a user" }),
  kicked: (): BotApiFailure => ({ error_code: 403, description: 'Forbidden: bot was kicked from the supergroup chat' }),
  chatNotFound: (): BotApiFailure => ({ error_code: 400, description: 'Bad Request: chat not found' }),
  upgraded: (newChatId: number): BotApiFailure => ({ error_code: 400, description: 'Bad Request: group chat was upgraded to a supergroup chat', parameters: { migrate_to_chat_id: newChatId } }),
  unauthorized: (): BotApiFailure => ({ error_code: 401, description: 'Unauthorized' }),
  internal: (): BotApiFailure => ({ error_code: 500, description: 'Internal Server Error' }),
  badGateway: (): BotApiFailure => ({ error_code: 502, description: 'Bad Gateway' }),
}

/** A scripted answer: a Bot API error, or `'reset'` to drop the connection without answering. */
export type ScriptedAnswer = BotApiFailure | 'reset'

type Json = Record<string, unknown>
export interface TgChatLike extends Json {
  id: number
  type: 'private' | 'group' | 'supergroup' | 'channel'
}
export interface TgUserLike extends Json {
  id: number
  first_name: string
}

export interface TgMessageLike extends Json {
  message_id: number
  date: number
  chat: TgChatLike
}
export interface TgUpdateLike extends Json {
  update_id: number
}

export interface BotApiCall {
  method: string
  params: Json
  at: number
}

export interface SentMessage {
  chatId: number
  text: string
  /** The parameters exactly as decoded from the request. */
  params: Json
  /** The Message returned to the caller. */
  message: Json
}

/** Also the kit's `fixtures.provider`: it can refuse, reset or stall connections (built on startProviderStandIn). */
export interface BotApiServer extends ProviderControl {
  /** Base URL to give the adapter as `apiBaseUrl`. */
  url: string
  token: string
  bot: { id: number; is_bot: true; first_name: string; username: string }
  /** Every method call made with the right token, in order. */
  calls: BotApiCall[]
  /** What sendMessage accepted. */
  sent: SentMessage[]
  /** The highest offset a getUpdates call has confirmed (every update below it is gone). */
  readonly confirmedOffset: number
  /** The current webhook, as setWebhook left it. */
  readonly webhook: { url: string; secret_token?: string; allowed_updates?: string[] } | undefined
  /**
   * Someone posts a message: it gets the chat's next message_id and a date, the chat and the sender
   * become known, and the Update (with a fresh update_id) is returned, to queue or to POST to a webhook.
   */
  message(fields: Json & { chat: TgChatLike; from: TgUserLike }): TgUpdateLike & { message: TgMessageLike }
  /** The sender edits a message they posted earlier. */
  edit(message: Json, fields: Json): TgUpdateLike & { edited_message: TgMessageLike }
  /** Any other update (poll, chat_join_request, my_chat_member...): gets an update_id. */
  update(fields: Json): TgUpdateLike
  /** Make updates available to getUpdates (waking a waiting long poll). */
  queue(...updates: Json[]): void
  /** Updates queued and not yet confirmed. */
  pending(): Json[]
  /** A user presses Start in a private chat with the bot: the bot may now write to them. */
  start(user: TgUserLike): void
  /** A user blocks the bot: sends to their private chat answer 403. */
  block(userId: number): void
  /** Serve these bytes through getFile and /file/bot<token>/<file_path>. */
  addFile(bytes: Uint8Array, opts?: { fileId?: string; path?: string }): { file_id: string; file_unique_id: string; file_size: number; file_path: string }
  /** Answer the next calls of `method` with these, in order, before behaving normally again. */
  failNext(method: string, ...answers: ScriptedAnswer[]): void
  /** Forget every scripted answer not used yet. */
  clearFailures(): void
  /** How many long polls are waiting right now. */
  readonly waiting: number
  close(): Promise<void>
}

interface Waiter {
  res: ServerResponse
  timer: NodeJS.Timeout
  offset: number
  limit: number
}

export async function startBotApiServer({ token = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw', bot: botFields = {}, port = 0 }: BotApiServerOptions = {}): Promise<BotApiServer> {
  const bot = {
    id: botFields.id ?? Number(token.split(':')[0]),
    is_bot: true as const,
    first_name: botFields.first_name ?? 'Intake Office Bot',
    username: botFields.username ?? 'intake_office_bot',
  }
  const calls: BotApiCall[] = []
  const sent: SentMessage[] = []
  const chats = new Map<number, TgChatLike>()
  const started = new Set<number>()
  const blocked = new Set<number>()
  const users = new Set<number>()
  const messages = new Map<number, Map<number, Json>>()
  const files = new Map<string, { bytes: Uint8Array; path: string; unique: string }>()
  const scripted = new Map<string, ScriptedAnswer[]>()
  let queue: Json[] = []
  let nextUpdateId = 100_000
  let confirmedOffset = 0
  let allowedUpdates: string[] | undefined
  let webhook: BotApiServer['webhook']
  let waiter: Waiter | undefined
  let clock = 1_780_000_000

  const now = () => Math.max(clock, Math.floor(Date.now() / 1000))
  const chatMessages = (chatId: number) => {
    let m = messages.get(chatId)
    if (!m) messages.set(chatId, (m = new Map()))
    return m
  }
  const nextMessageId = (chatId: number) => Math.max(0, ...chatMessages(chatId).keys()) + 1
  const kindOf = (u: Json) => Object.keys(u).find((k) => k !== 'update_id') ?? 'empty'

  function learn(chat: TgChatLike, from?: TgUserLike) {
    chats.set(chat.id, { ...chats.get(chat.id), ...chat })
    if (from) users.add(from.id)
    // A private chat exists once the user wrote to the bot.
    if (chat.type === 'private') started.add(chat.id)
  }

  const ok = (res: ServerResponse, result: unknown, description?: string) => send(res, 200, { ok: true, result, ...(description ? { description } : {}) })
  const fail = (res: ServerResponse, f: BotApiFailure) => send(res, f.error_code, { ok: false, error_code: f.error_code, description: f.description, ...(f.parameters ? { parameters: f.parameters } : {}) })
  function send(res: ServerResponse, status: number, body: unknown) {
    if (res.writableEnded || res.destroyed) return
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }

  function available(offset: number, limit: number): Json[] {
    if (allowedUpdates?.length) queue = queue.filter((u) => allowedUpdates!.includes(kindOf(u)))
    return queue.filter((u) => (u.update_id as number) >= offset).slice(0, limit)
  }

  function wake() {
    if (!waiter) return
    const found = available(waiter.offset, waiter.limit)
    if (found.length === 0) return
    const w = waiter
    waiter = undefined
    clearTimeout(w.timer)
    ok(w.res, found)
  }

  function getUpdates(res: ServerResponse, p: Json) {
    if (webhook) return fail(res, { error_code: 409, description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first" })
    if (waiter) {
      // Telegram ends the older long poll when a newer one arrives.
      const old = waiter
      waiter = undefined
      clearTimeout(old.timer)
      fail(old.res, { error_code: 409, description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running' })
    }
    const limit = Math.min(100, Math.max(1, int(p.limit) ?? 100))
    const timeout = Math.max(0, int(p.timeout) ?? 0)
    const offset = int(p.offset)
    if (Array.isArray(p.allowed_updates)) allowedUpdates = p.allowed_updates.map(String)
    if (offset !== undefined && offset > 0) {
      // "An update is considered confirmed as soon as getUpdates is called with an offset higher than its update_id."
      queue = queue.filter((u) => (u.update_id as number) >= offset)
      confirmedOffset = Math.max(confirmedOffset, offset)
    } else if (offset !== undefined && offset < 0) {
      queue = queue.slice(offset)
    }
    const from = offset !== undefined && offset > 0 ? offset : 0
    const found = available(from, limit)
    if (found.length > 0 || timeout === 0) return ok(res, found)
    const w: Waiter = {
      res,
      offset: from,
      limit,
      timer: setTimeout(() => {
        if (waiter === w) waiter = undefined
        ok(res, [])
      }, timeout * 1000),
    }
    waiter = w
    // The client gave up (aborted its request): nothing to answer.
    res.on('close', () => {
      if (waiter === w && !res.writableEnded) {
        clearTimeout(w.timer)
        waiter = undefined
      }
    })
  }

  function sendMessage(res: ServerResponse, p: Json) {
    const rawChat = p.chat_id
    if (rawChat === undefined || rawChat === '') return fail(res, { error_code: 400, description: 'Bad Request: chat_id is empty' })
    const text = typeof p.text === 'string' ? p.text : p.text === undefined ? '' : String(p.text)
    if (!text.trim()) return fail(res, { error_code: 400, description: 'Bad Request: message text is empty' })
    if (text.length > 4096) return fail(res, { error_code: 400, description: 'Bad Request: message is too long' })
    const chatId = typeof rawChat === 'number' ? rawChat : /^-?\d+$/.test(String(rawChat)) ? Number(rawChat) : undefined
    const chat =
      chatId !== undefined
        ? chats.get(chatId)
        : [...chats.values()].find((c) => typeof rawChat === 'string' && rawChat.startsWith('@') && c.username === rawChat.slice(1))
    if (!chat) {
      if (chatId !== undefined && chatId > 0 && users.has(chatId)) return fail(res, botApiErrors.cantInitiate())
      return fail(res, botApiErrors.chatNotFound())
    }
    if (chat.type === 'private' && blocked.has(chat.id)) return fail(res, botApiErrors.blocked())
    if (chat.type === 'private' && !started.has(chat.id)) return fail(res, botApiErrors.cantInitiate())
    let replyTo: Json | undefined
    const rp = p.reply_parameters as Json | undefined
    if (rp && typeof rp === 'object') {
      const replyChat = rp.chat_id !== undefined ? Number(rp.chat_id) : chat.id
      replyTo = chatMessages(replyChat).get(Number(rp.message_id))
      if (!replyTo && rp.allow_sending_without_reply !== true) return fail(res, { error_code: 400, description: 'Bad Request: message to be replied not found' })
    }
    const message: Json = {
      message_id: nextMessageId(chat.id),
      from: bot,
      chat,
      date: now(),
      text,
      ...(p.message_thread_id !== undefined ? { message_thread_id: int(p.message_thread_id), is_topic_message: true } : {}),
      ...(replyTo ? { reply_to_message: withoutReply(replyTo) } : {}),
    }
    chatMessages(chat.id).set(message.message_id as number, message)
    sent.push({ chatId: chat.id, text, params: p, message })
    ok(res, message)
  }

  function handle(method: string, p: Json, res: ServerResponse) {
    switch (method) {
      case 'getme':
        return ok(res, { ...bot, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false })
      case 'getupdates':
        return getUpdates(res, p)
      case 'setwebhook': {
        if (typeof p.url !== 'string') return fail(res, { error_code: 400, description: 'Bad Request: bad webhook: URL must be specified' })
        if (p.url === '') {
          webhook = undefined
          return ok(res, true, 'Webhook was deleted')
        }
        if (p.secret_token !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(String(p.secret_token))) {
          return fail(res, { error_code: 400, description: 'Bad Request: secret token contains unallowed characters' })
        }
        webhook = {
          url: p.url,
          ...(p.secret_token !== undefined ? { secret_token: String(p.secret_token) } : {}),
          ...(Array.isArray(p.allowed_updates) ? { allowed_updates: p.allowed_updates.map(String) } : {}),
        }
        if (Array.isArray(p.allowed_updates)) allowedUpdates = p.allowed_updates.map(String)
        if (p.drop_pending_updates === true || p.drop_pending_updates === 'true') queue = []
        return ok(res, true, 'Webhook was set')
      }
      case 'deletewebhook': {
        const had = webhook !== undefined
        webhook = undefined
        if (p.drop_pending_updates === true || p.drop_pending_updates === 'true') queue = []
        return ok(res, true, had ? 'Webhook was deleted' : 'Webhook is already deleted')
      }
      case 'getwebhookinfo':
        return ok(res, { url: webhook?.url ?? '', has_custom_certificate: false, pending_update_count: queue.length, ...(webhook?.allowed_updates ? { allowed_updates: webhook.allowed_updates } : {}) })
      case 'sendmessage':
        return sendMessage(res, p)
      case 'getfile': {
        const file = typeof p.file_id === 'string' ? files.get(p.file_id) : undefined
        if (!file) return fail(res, { error_code: 400, description: 'Bad Request: invalid file_id' })
        return ok(res, { file_id: p.file_id, file_unique_id: file.unique, file_size: file.bytes.byteLength, file_path: file.path })
      }
      default:
        return fail(res, { error_code: 404, description: 'Not Found' })
    }
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stand-in')
      const download = url.pathname.match(/^\/file\/bot([^/]+)\/(.+)$/)
      if (download) {
        if (download[1] !== token) return fail(res, botApiErrors.unauthorized())
        const path = decodeURIComponent(download[2]!)
        const file = [...files.values()].find((f) => f.path === path)
        if (!file || req.method !== 'GET') return fail(res, { error_code: 404, description: 'Not Found' })
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(file.bytes.byteLength) })
        return res.end(file.bytes)
      }
      const call = url.pathname.match(/^\/bot([^/]*)\/([A-Za-z]+)$/)
      if (!call) return fail(res, { error_code: 404, description: 'Not Found' })
      if (call[1] !== token) return fail(res, botApiErrors.unauthorized())
      const method = call[2]!.toLowerCase()
      let params: Json
      try {
        params = decodeParams(url, req.headers['content-type'] ?? '', Buffer.concat(chunks).toString('utf8'))
      } catch (err) {
        return fail(res, { error_code: 400, description: `Bad Request: ${(err as Error).message}` })
      }
      calls.push({ method: call[2]!, params, at: Date.now() })
      const script = scripted.get(method)
      const next = script?.shift()
      if (next === 'reset') return req.socket.destroy()
      if (next) return fail(res, next)
      handle(method, params, res)
    })
  }
  const standIn = await startProviderStandIn({ port, listener })

  const self: BotApiServer = {
    url: standIn.url,
    token,
    bot,
    calls,
    sent,
    get confirmedOffset() {
      return confirmedOffset
    },
    get webhook() {
      return webhook
    },
    get waiting() {
      return waiter ? 1 : 0
    },
    message(fields) {
      learn(fields.chat, fields.from)
      const message: TgMessageLike = { message_id: nextMessageId(fields.chat.id), date: ++clock, ...fields }
      chatMessages(fields.chat.id).set(message.message_id, message)
      return { update_id: nextUpdateId++, message }
    },
    edit(message, fields) {
      const edited = { ...message, ...fields, edit_date: ++clock } as unknown as TgMessageLike
      const chat = message.chat as TgChatLike
      chatMessages(chat.id).set(message.message_id as number, edited)
      return { update_id: nextUpdateId++, edited_message: edited }
    },
    update(fields) {
      return { update_id: nextUpdateId++, ...fields }
    },
    queue(...updates) {
      queue.push(...updates)
      wake()
    },
    pending: () => [...queue],
    start(user) {
      learn({ id: user.id, type: 'private', first_name: user.first_name }, user)
      blocked.delete(user.id)
    },
    block(userId) {
      blocked.add(userId)
    },
    addFile(bytes, { fileId, path } = {}) {
      const n = files.size + 1
      const id = fileId ?? `AgACAgIAAxkBAAI${String(n).padStart(6, '0')}stand-in`
      const entry = { bytes, path: path ?? `photos/file_${n}.jpg`, unique: `AQAD${String(n).padStart(6, '0')}` }
      files.set(id, entry)
      return { file_id: id, file_unique_id: entry.unique, file_size: bytes.byteLength, file_path: entry.path }
    },
    failNext(method, ...answers) {
      const key = method.toLowerCase()
      scripted.set(key, [...(scripted.get(key) ?? []), ...answers])
    },
    clearFailures: () => scripted.clear(),
    breakNext: standIn.breakNext,
    deliveries: standIn.deliveries,
    reset() {
      scripted.clear()
      return standIn.reset()
    },
    close() {
      if (waiter) clearTimeout(waiter.timer)
      waiter = undefined
      return standIn.close()
    },
  }
  return self
}

/** Parameters the way the Bot API takes them: query string, then a JSON or form-urlencoded body. */
function decodeParams(url: URL, contentType: string, body: string): Json {
  const params: Json = {}
  const formValue = (v: string) => {
    // Object and array parameters (reply_parameters, allowed_updates) arrive JSON-encoded in forms.
    if (/^[[{]/.test(v.trim())) {
      try {
        return JSON.parse(v) as unknown
      } catch {
        return v
      }
    }
    return v
  }
  for (const [k, v] of url.searchParams) params[k] = formValue(v)
  if (!body) return params
  if (/^application\/json\b/i.test(contentType)) {
    const json = JSON.parse(body) as unknown
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error('the JSON body must be an object')
    return { ...params, ...(json as Json) }
  }
  if (/^application\/x-www-form-urlencoded\b/i.test(contentType)) {
    for (const [k, v] of new URLSearchParams(body)) params[k] = formValue(v)
    return params
  }
  throw new Error(`unsupported content type "${contentType}" (this stand-in reads JSON and form-urlencoded bodies)`)
}

function int(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : undefined
  return n !== undefined && Number.isInteger(n) ? n : undefined
}

/** Telegram never nests a reply_to_message inside a reply_to_message. */
function withoutReply(message: Json): Json {
  const { reply_to_message: _dropped, ...rest } = message
  return rest
}
