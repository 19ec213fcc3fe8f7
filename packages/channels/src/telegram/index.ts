/**
 * The Telegram channel: citizens write to the office's bot in a private chat, or post in a village or
 * neighbourhood group the bot is a member of. Every resident's appeal is its own case (the address is
 * per sender within a chat, see address.ts), and the answers go back into the group as replies to the
 * resident's message — or privately, when the office prefers and the resident has started the bot.
 *
 * Updates arrive by webhook (production: Telegram POSTs to /channels/:id/webhook, proven by the
 * secret token) or by long polling (development: `mode: 'polling'`, no public URL needed). Replies go
 * out through sendMessage. No SDK: the Bot API is plain HTTPS JSON (https://core.telegram.org/bots/api).
 */
import type { ChannelAdapter, HandledOutcome, InboundOutcome, SendResult } from '@intake/core'
import { botApiClient } from './bot-api.ts'
import { updateParser, type GroupMode } from './parse.ts'
import { startPoller, type Poller } from './poller.ts'
import { MAX_TEXT, telegramSender } from './send.ts'
import { SECRET_TOKEN, SECRET_TOKEN_HEADER, secretTokenMatches } from './webhook.ts'

export { citizenAddressId, parseAddressId, parseMessageRef, messageRef, editRef, displayNameOf, type ChatTarget } from './address.ts'
export { classifyBotApiFailure, fitText, MAX_TEXT } from './send.ts'
export { TelegramFileUnavailableError, type GroupMode } from './parse.ts'
export { setWebhook, deleteWebhook, webhookUrl, secretTokenMatches, SECRET_TOKEN_HEADER, ALLOWED_UPDATES, type SetWebhookOptions, type WebhookAnswer } from './webhook.ts'
export { TgUpdate, TgMessage } from './schema.ts'

export interface TelegramOptions {
  /** The bot token from @BotFather (`123456789:AA…`). A secret: it is in every API URL and never logged. */
  token: string
  /**
   * The secret_token given to setWebhook; Telegram sends it in X-Telegram-Bot-Api-Secret-Token.
   * Required in webhook mode (16–256 characters of A-Z a-z 0-9 _ -). With it, the webhook route is mounted.
   */
  secretToken?: string
  /** `webhook` (default) or `polling`: start() runs getUpdates and stop() ends it. */
  mode?: 'webhook' | 'polling'
  /** The Bot API's address: https://api.telegram.org, a self-hosted Bot API server, or a test stand-in. */
  apiBaseUrl?: string
  /** The bot's username without @, to recognise @mentions; asked of getMe when left out. */
  botUsername?: string
  /** What the bot takes in groups (default `mentions`); private chats are always taken. */
  groupMode?: GroupMode
  /** For `groupMode: 'keywords'`: words or phrases (any language, case-insensitive) that make a group message an appeal. */
  keywords?: string[]
  /**
   * Answer group residents in their private chat with the bot instead of in the group. Bots cannot
   * start conversations, so a resident who never pressed Start (or blocked the bot) is answered in the group.
   */
  replyPrivately?: boolean
  /** getUpdates long-poll timeout in seconds (default 30). */
  pollTimeoutSeconds?: number
  /** First pause after a failed poll or an update that could not be stored (default 1 s, doubling). */
  pollRetryDelayMs?: number
  /** Give up on one API call after this long (default 10 s); the outbox retries sends. */
  timeoutMs?: number
  /** Largest file downloaded (default 20 MB, the Bot API's own limit for bots). */
  maxFileBytes?: number
  /** Largest webhook body (default 512 KiB; an Update is a few KiB). */
  maxBodyBytes?: number
}

const TOKEN = /^(\d{1,20}):[A-Za-z0-9_-]{20,}$/

/**
 * @example
 * channels: {
 *   tg: telegramChannel({ token: env.TELEGRAM_TOKEN, secretToken: env.TELEGRAM_SECRET, botUsername: 'kashgar12345_bot' }),
 * }
 * // once: await setWebhook({ token, secretToken, url: webhookUrl(publicUrl, 'tg') })
 */
export function telegramChannel({
  token,
  secretToken,
  mode = 'webhook',
  apiBaseUrl = 'https://api.telegram.org',
  botUsername,
  groupMode = 'mentions',
  keywords = [],
  replyPrivately = false,
  pollTimeoutSeconds = 30,
  pollRetryDelayMs = 1_000,
  timeoutMs = 10_000,
  maxFileBytes = 20 * 1024 * 1024,
  maxBodyBytes = 512 * 1024,
}: TelegramOptions): ChannelAdapter {
  // Messages name the option, never its value: the token must not reach a log through a config error.
  const botId = typeof token === 'string' ? token.match(TOKEN)?.[1] : undefined
  if (!botId) throw new Error('[telegram channel] token: expected a bot token from @BotFather, like 123456789:AAE…')
  if (mode !== 'webhook' && mode !== 'polling') throw new Error(`[telegram channel] mode: expected "webhook" or "polling", got "${String(mode)}"`)
  if (secretToken !== undefined && (!SECRET_TOKEN.test(secretToken) || secretToken.length < 16)) {
    throw new Error('[telegram channel] secretToken: 16-256 characters of A-Z, a-z, 0-9, _ and - (setWebhook allows only these)')
  }
  if (mode === 'webhook' && secretToken === undefined) {
    throw new Error('[telegram channel] secretToken: required in webhook mode, so forged updates can be told from Telegram\'s')
  }
  if (!/^https?:\/\/[^/]/.test(apiBaseUrl)) throw new Error(`[telegram channel] apiBaseUrl: expected an http(s) URL, got "${apiBaseUrl}"`)
  if (botUsername !== undefined && !/^[A-Za-z][A-Za-z0-9_]{3,31}$/.test(botUsername.replace(/^@/, ''))) {
    throw new Error(`[telegram channel] botUsername: expected a Telegram username like kashgar12345_bot, got "${botUsername}"`)
  }
  if (!['mentions', 'keywords', 'all'].includes(groupMode)) throw new Error(`[telegram channel] groupMode: expected mentions, keywords or all, got "${String(groupMode)}"`)
  if (groupMode === 'keywords' && !keywords.some((k) => k.trim())) throw new Error('[telegram channel] keywords: groupMode "keywords" needs at least one keyword')
  // getUpdates with timeout 0 is short polling, "for testing purposes only": it would spin against the API.
  if (!Number.isInteger(pollTimeoutSeconds) || pollTimeoutSeconds < 1 || pollTimeoutSeconds > 600) {
    throw new Error(`[telegram channel] pollTimeoutSeconds: expected whole seconds from 1 to 600, got ${pollTimeoutSeconds}`)
  }

  const api = botApiClient({ token, baseUrl: apiBaseUrl, timeoutMs })
  let username: Promise<string> | undefined = botUsername ? Promise.resolve(botUsername.replace(/^@/, '')) : undefined
  /** getMe, once; a failure is forgotten so the next update asks again. */
  const learnUsername = (): Promise<string> => {
    username ??= api.call<{ username?: string }>('getMe').then((me) => {
      if (me.ok && me.result.username) return me.result.username
      username = undefined
      const why = me.ok ? 'getMe answered without a username' : me.kind === 'api' ? `getMe: ${me.errorCode} ${me.description}` : `getMe: ${me.message}`
      throw new Error(`[telegram channel] cannot tell @mentions of the bot (${why}); set botUsername`)
    })
    return username
  }
  const parser = updateParser({ api, botId: Number(botId), botUsername: learnUsername, groupMode, keywords, maxFileBytes })
  const sendTelegram = telegramSender({ api, replyPrivately })
  let poller: Poller | undefined

  return {
    kind: 'telegram',
    capabilities: { media: true, groups: true, threading: true, maxText: MAX_TEXT },
    secrets: [token, ...(secretToken ? [secretToken] : [])],
    routes: secretToken
      ? [
          {
            method: 'POST',
            path: '/webhook',
            maxBodyBytes,
            verify(req) {
              if (secretTokenMatches(secretToken, req.headers.get(SECRET_TOKEN_HEADER))) return { ok: true }
              return { ok: false, error: { status: 401, code: 'bad_secret_token', message: 'the X-Telegram-Bot-Api-Secret-Token header does not match' } }
            },
            async parse(req, ctx): Promise<InboundOutcome> {
              let json: unknown
              try {
                json = JSON.parse(req.text())
              } catch {
                return { rejected: { status: 400, code: 'malformed_json', message: 'the body is not valid JSON (Telegram sends one JSON-serialized Update)' } }
              }
              return parser.parse(json, ctx)
            },
            // Telegram reads only the status (any 2xx ends its retries); the body says what we did, for people and tests.
            respond(handled: HandledOutcome) {
              const body =
                handled.kind === 'messages'
                  ? { ok: true, results: handled.results.map((r) => ({ trackingCode: r.trackingCode, caseId: r.caseId, duplicate: r.duplicate, followUp: r.followUp })) }
                  : handled.kind === 'ignored'
                    ? { ok: true, ignored: handled.reason }
                    : { ok: true }
              return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } })
            },
          },
        ]
      : [],

    async start(ctx) {
      if (mode !== 'polling' || poller) return
      poller = startPoller({ api, parser, ctx, timeoutSeconds: pollTimeoutSeconds, retryDelayMs: pollRetryDelayMs })
      ctx.log.info('telegram long polling started', { timeoutSeconds: pollTimeoutSeconds })
    },

    async stop() {
      const running = poller
      poller = undefined
      await running?.stop()
    },

    async send(msg, ctx): Promise<SendResult> {
      return sendTelegram(msg, ctx.log)
    },
  }
}
