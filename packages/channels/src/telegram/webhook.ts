/**
 * Webhook mode (https://core.telegram.org/bots/api#setwebhook): Telegram POSTs each Update as JSON to
 * our URL and, when setWebhook was given a secret_token, sends it back in X-Telegram-Bot-Api-Secret-Token.
 * That header is the only proof a request comes from Telegram, so it is checked before anything else.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { botApiClient } from './bot-api.ts'

export const SECRET_TOKEN_HEADER = 'x-telegram-bot-api-secret-token'

/** setWebhook's secret_token: "1-256 characters. Only characters A-Z, a-z, 0-9, _ and - are allowed." */
export const SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/

/** The update kinds the adapter acts on; asking only for these spares Telegram sending the rest. */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'my_chat_member'] as const

/** Constant time whatever the presented value's length: both sides are hashed to 32 bytes first. */
export function secretTokenMatches(expected: string, presented: string | null): boolean {
  if (presented === null) return false
  const a = createHash('sha256').update(expected).digest()
  const b = createHash('sha256').update(presented).digest()
  return timingSafeEqual(a, b)
}

/** Where Intake receives a telegram channel's updates: `${publicUrl}/channels/${channelId}/webhook`. */
export function webhookUrl(publicUrl: string, channelId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/channels/${channelId}/webhook`
}

export interface SetWebhookOptions {
  token: string
  /** The public HTTPS URL of the channel's webhook route (see `webhookUrl`). */
  url: string
  /** The same value as the channel's `secretToken` option. */
  secretToken: string
  apiBaseUrl?: string
  /** Forget updates that queued up while no webhook was set. */
  dropPendingUpdates?: boolean
  timeoutMs?: number
}

export type WebhookAnswer = { ok: true; description: string } | { ok: false; message: string }

/**
 * Register the webhook with Telegram (once per deployment, or from a setup script):
 *
 * @example
 * const answer = await setWebhook({ token, secretToken, url: webhookUrl('https://intake.example.gov', 'tg') })
 * console.log(answer.ok ? answer.description : answer.message)
 */
export async function setWebhook({ token, url, secretToken, apiBaseUrl = 'https://api.telegram.org', dropPendingUpdates = false, timeoutMs = 10_000 }: SetWebhookOptions): Promise<WebhookAnswer> {
  if (!/^https?:\/\//.test(url)) return { ok: false, message: `[telegram channel] url: expected an http(s) URL, got "${url}"` }
  if (!SECRET_TOKEN.test(secretToken)) return { ok: false, message: '[telegram channel] secretToken: 1-256 characters of A-Z, a-z, 0-9, _ and -' }
  const api = botApiClient({ token, baseUrl: apiBaseUrl, timeoutMs })
  const result = await api.call<boolean>('setWebhook', {
    url,
    secret_token: secretToken,
    allowed_updates: ALLOWED_UPDATES,
    drop_pending_updates: dropPendingUpdates,
  })
  if (result.ok) return { ok: true, description: `webhook set to ${url}` }
  return { ok: false, message: result.kind === 'api' ? `Telegram answered ${result.errorCode}: ${result.description}` : result.message }
}

/** Remove the webhook (needed before long polling: getUpdates answers 409 while one is set). */
export async function deleteWebhook({ token, apiBaseUrl = 'https://api.telegram.org', timeoutMs = 10_000 }: { token: string; apiBaseUrl?: string; timeoutMs?: number }): Promise<WebhookAnswer> {
  const api = botApiClient({ token, baseUrl: apiBaseUrl, timeoutMs })
  const result = await api.call<boolean>('deleteWebhook', {})
  if (result.ok) return { ok: true, description: 'webhook deleted' }
  return { ok: false, message: result.kind === 'api' ? `Telegram answered ${result.errorCode}: ${result.description}` : result.message }
}
