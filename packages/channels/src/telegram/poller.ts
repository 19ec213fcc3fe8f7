/**
 * Long-polling mode for development and for offices without a public URL
 * (https://core.telegram.org/bots/api#getupdates). Telegram keeps an update until a getUpdates call
 * carries an offset above its update_id ("confirmed"), so the offset moves past an update only after
 * the pipeline has stored it: a crash in between makes Telegram hand it over again, and the stable
 * externalId turns that second delivery into a duplicate, not a second case.
 */
import { InboundValidationError, type ChannelContext } from '@intake/core'
import type { BotApiClient } from './bot-api.ts'
import type { UpdateParser } from './parse.ts'
import { ALLOWED_UPDATES } from './webhook.ts'

export interface PollerOptions {
  api: BotApiClient
  parser: UpdateParser
  ctx: ChannelContext
  /** getUpdates' long-poll timeout, in seconds. */
  timeoutSeconds: number
  /** First pause after a failure; doubles up to a minute. */
  retryDelayMs: number
}

export interface Poller {
  /** Abort the long poll in flight, let the update being stored finish, confirm what was stored. */
  stop(): Promise<void>
}

const MAX_RETRY_DELAY_MS = 60_000

export function startPoller({ api, parser, ctx, timeoutSeconds, retryDelayMs }: PollerOptions): Poller {
  const controller = new AbortController()
  const { signal } = controller
  const log = ctx.log.child({ component: 'telegram-poller' })
  /** The next update we want; everything below it is stored. */
  let offset: number | undefined
  /** The offset Telegram last heard from us. */
  let told: number | undefined
  let delay = retryDelayMs

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      signal.addEventListener('abort', done, { once: true })
    })
  const backOff = async () => {
    await pause(delay)
    delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS)
  }

  async function take(update: unknown, updateId: number): Promise<void> {
    const outcome = await parser.parse(update, ctx)
    if ('rejected' in outcome) {
      // Nothing will make it parse next time either: skip it rather than stall every later update.
      log.warn('telegram update skipped', { updateId, code: outcome.rejected.code, reason: outcome.rejected.message })
    } else if ('ignored' in outcome) {
      log.debug('telegram update ignored', { updateId, reason: outcome.ignored })
    } else if ('messages' in outcome) {
      for (const message of outcome.messages) await ctx.ingest(message)
    }
  }

  async function run(): Promise<void> {
    while (!signal.aborted) {
      const asked = offset
      const answer = await api.call<unknown>(
        'getUpdates',
        { ...(asked !== undefined ? { offset: asked } : {}), timeout: timeoutSeconds, allowed_updates: ALLOWED_UPDATES },
        { signal, timeoutMs: timeoutSeconds * 1000 + 10_000 },
      )
      // Only an answer proves Telegram read the offset (and so forgot what lies below it).
      if (answer.ok) told = asked
      if (signal.aborted) break
      if (!answer.ok) {
        if (answer.kind === 'api' && answer.errorCode === 409) {
          // "Conflict: can't use getUpdates method while webhook is active" or another poller with this token.
          log.error('telegram getUpdates refused: delete the webhook (deleteWebhook) or stop the other poller', { error: answer.description })
        } else {
          log.warn('telegram getUpdates failed', { error: answer.kind === 'api' ? `${answer.errorCode} ${answer.description}` : answer.message })
        }
        await backOff()
        continue
      }
      delay = retryDelayMs
      for (const update of Array.isArray(answer.result) ? answer.result : []) {
        // Stopping mid-batch: the rest stay unconfirmed and come again on the next start.
        if (signal.aborted) break
        const updateId = (update as { update_id?: unknown } | null)?.update_id
        if (typeof updateId !== 'number' || !Number.isInteger(updateId)) {
          log.warn('telegram getUpdates returned an update without update_id; skipped')
          continue
        }
        if (offset !== undefined && updateId < offset) continue
        try {
          await take(update, updateId)
          offset = updateId + 1
        } catch (err) {
          if (err instanceof InboundValidationError) {
            log.warn('telegram update refused by the pipeline; skipped', { updateId, error: err.message })
            offset = updateId + 1
            continue
          }
          // Not stored (a file Telegram could not serve, the store busy): read it again after a pause.
          log.warn('telegram update not stored; it will be read again', { updateId, error: api.scrub((err as Error).message ?? String(err)) })
          await backOff()
          break
        }
      }
    }
  }

  const loop = run().catch((err) => log.error('telegram poller stopped by an error', { error: api.scrub((err as Error).message ?? String(err)) }))

  return {
    async stop() {
      controller.abort()
      await loop
      if (offset !== undefined && offset !== told) {
        // Confirm what was stored since the last poll, so a restart does not read it again (harmless, but noisy).
        const confirmed = await api.call('getUpdates', { offset, limit: 1, timeout: 0, allowed_updates: ALLOWED_UPDATES }, { timeoutMs: 2_000 })
        if (!confirmed.ok) log.info('telegram offset not confirmed at stop; those updates come again, as duplicates', { offset })
      }
    },
  }
}
