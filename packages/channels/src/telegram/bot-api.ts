/**
 * A small client for the Telegram Bot API (https://core.telegram.org/bots/api#making-requests):
 * `POST <base>/bot<token>/<method>` with a JSON body, answered `{ ok: true, result }` or
 * `{ ok: false, error_code, description, parameters? }`. No SDK: the protocol is plain HTTPS JSON.
 *
 * The token is part of every URL, so nothing here ever puts a URL into an error message, and every
 * message that might echo one (a connection error) is scrubbed of the token before it leaves.
 */
import { httpGet, httpPost, HttpClientError } from '@intake/core'
import { TgResponse } from './schema.ts'

export type BotApiResult<T = unknown> =
  | { ok: true; result: T }
  /** Telegram answered with an error envelope (or an HTTP error without one). */
  | { ok: false; kind: 'api'; errorCode: number; description: string; retryAfter?: number; migrateToChatId?: number }
  /** No answer: refused, reset, timed out, aborted, or not the Bot API's envelope. */
  | { ok: false; kind: 'connection'; message: string }

export interface BotApiClientOptions {
  token: string
  /** Default https://api.telegram.org; a local Bot API server or a test stand-in elsewhere. */
  baseUrl: string
  /** Give up on a method call after this long (long polls add their own timeout on top). */
  timeoutMs: number
}

export interface BotApiClient {
  /** Call a method with JSON parameters; never throws for an HTTP or API error. */
  call<T = unknown>(method: string, params?: Record<string, unknown>, opts?: { signal?: AbortSignal; timeoutMs?: number; maxAnswerBytes?: number }): Promise<BotApiResult<T>>
  /** Download `/file/bot<token>/<file_path>` (https://core.telegram.org/bots/api#getfile), at most `maxBytes`. */
  download(filePath: string, maxBytes: number): Promise<{ ok: true; bytes: Uint8Array } | { ok: false; message: string; permanent: boolean }>
  /** Remove the token from a text that may contain a URL. */
  scrub(text: string): string
}

export function botApiClient({ token, baseUrl, timeoutMs }: BotApiClientOptions): BotApiClient {
  const base = baseUrl.replace(/\/+$/, '')
  const scrub = (text: string) => text.split(token).join('<token>')

  /** Turn the HTTP answer into a result: Telegram sends its envelope with 200 and with every error status. */
  function interpret<T>(status: number, text: string): BotApiResult<T> {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      // A proxy or load balancer in front of the API answered (502 HTML page...): no envelope.
      return status >= 200 && status < 300
        ? { ok: false, kind: 'connection', message: `the Bot API answered ${status} without JSON` }
        : { ok: false, kind: 'api', errorCode: status, description: `HTTP ${status} without a Bot API answer` }
    }
    const parsed = TgResponse.safeParse(json)
    if (!parsed.success) return { ok: false, kind: 'connection', message: `the Bot API answered ${status} with an unexpected body` }
    const answer = parsed.data
    if (answer.ok) return { ok: true, result: answer.result as T }
    return {
      ok: false,
      kind: 'api',
      errorCode: answer.error_code,
      description: scrub(answer.description),
      ...(answer.parameters?.retry_after !== undefined ? { retryAfter: answer.parameters.retry_after } : {}),
      ...(answer.parameters?.migrate_to_chat_id !== undefined ? { migrateToChatId: answer.parameters.migrate_to_chat_id } : {}),
    }
  }

  const failure = (err: unknown): BotApiResult<never> => {
    const e = err as Error & { code?: string; cause?: { code?: string; message?: string } }
    const code = e.code ?? e.cause?.code ?? e.name
    return { ok: false, kind: 'connection', message: scrub(`${code}: ${e.cause?.message ?? e.message}`) }
  }

  return {
    scrub,
    async call<T>(method: string, params: Record<string, unknown> = {}, opts: { signal?: AbortSignal; timeoutMs?: number; maxAnswerBytes?: number } = {}) {
      const url = `${base}/bot${token}/${method}`
      const body = JSON.stringify(params)
      const limit = opts.timeoutMs ?? timeoutMs
      if (!opts.signal) {
        // The shared keep-alive client: sends reuse warm connections to the API.
        try {
          const res = await httpPost(url, body, { headers: { 'content-type': 'application/json' }, timeoutMs: limit, maxAnswerBytes: opts.maxAnswerBytes })
          return interpret<T>(res.status, res.text)
        } catch (err) {
          if (err instanceof HttpClientError) return { ok: false, kind: 'connection', message: scrub(`${err.code}: ${err.message}`) }
          return failure(err)
        }
      }
      // A call that must stop when asked (a long poll during shutdown) goes through fetch, which takes a signal.
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.any([opts.signal, AbortSignal.timeout(limit)]),
        })
        return interpret<T>(res.status, await res.text())
      } catch (err) {
        return failure(err)
      }
    },

    async download(filePath, maxBytes) {
      // file_path comes from getFile; each segment is encoded so it cannot climb out of /file/bot<token>/.
      const path = filePath.split('/').filter((s) => s && s !== '.' && s !== '..').map(encodeURIComponent).join('/')
      try {
        const res = await httpGet(`${base}/file/bot${token}/${path}`, { maxBytes, timeoutMs })
        if (res.status < 200 || res.status >= 300) {
          return { ok: false, message: `file download answered ${res.status}`, permanent: res.status >= 400 && res.status < 500 && res.status !== 429 }
        }
        return { ok: true, bytes: new Uint8Array(res.body) }
      } catch (err) {
        if (err instanceof HttpClientError && err.code === 'too_large') return { ok: false, message: `the file is more than ${maxBytes} bytes`, permanent: true }
        if (err instanceof HttpClientError) return { ok: false, message: scrub(`${err.code}: ${err.message}`), permanent: false }
        return { ok: false, message: 'download failed', permanent: false }
      }
    },
  }
}
