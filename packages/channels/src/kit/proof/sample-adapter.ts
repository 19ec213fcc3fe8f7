/**
 * A small JSON channel for proving the kit itself: sound by default, or with one deliberate flaw the
 * kit must catch. Not a real provider; its wire format is the least that exercises every kit case.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { classifyHttpStatus, httpPost, sendError, type ChannelAdapter, type SendResult } from '@intake/core'

export type SampleFlaw =
  /** `send` lets a network error escape as a throw. */
  | 'throws'
  /** The token reaches a log line, late (after the case's assertions), in one send-error case only. */
  | 'leaks'
  /** `send` says "sent" without ever calling the provider. */
  | 'never-sends'

export interface SampleChannelOptions {
  token: string
  apiBaseUrl: string
  timeoutMs?: number
  flaw?: SampleFlaw
}

export const sign = (token: string, body: string) => createHmac('sha256', token).update(body).digest('hex')

export function sampleChannel({ token, apiBaseUrl, timeoutMs = 10_000, flaw }: SampleChannelOptions): ChannelAdapter {
  return {
    kind: 'sample',
    capabilities: { maxText: 2000 },
    secrets: [token],
    routes: [
      {
        method: 'POST',
        path: '/in',
        verify(req) {
          const given = Buffer.from(req.headers.get('x-sample-signature') ?? '')
          const expected = Buffer.from(sign(token, req.text()))
          const ok = given.length === expected.length && timingSafeEqual(given, expected)
          return ok ? { ok: true } : { ok: false, error: { status: 401, code: 'bad_signature', message: 'x-sample-signature does not match' } }
        },
        async parse(req, ctx) {
          let body: { id?: unknown; from?: unknown; text?: unknown }
          try {
            body = JSON.parse(req.text()) as typeof body
          } catch {
            return { rejected: { status: 400, code: 'malformed_json', message: 'the body is not JSON' } }
          }
          if (typeof body.id !== 'string' || typeof body.from !== 'string' || typeof body.text !== 'string') {
            return { rejected: { status: 400, code: 'missing_field', message: 'id, from and text are required' } }
          }
          return {
            messages: [{ channelId: ctx.channelId, externalId: body.id, from: { channelId: ctx.channelId, id: body.from }, text: body.text, receivedAt: ctx.now(), raw: body }],
          }
        },
      },
    ],
    async send(msg, ctx): Promise<SendResult> {
      if (flaw === 'never-sends') return { ok: true, providerId: `sample-${msg.id}` }
      let answer
      try {
        answer = await httpPost(`${apiBaseUrl}/send`, JSON.stringify({ to: msg.to.id, text: msg.text }), {
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          timeoutMs,
        })
      } catch (err) {
        if (flaw === 'throws') throw err
        return sendError('connection', `provider unreachable: ${(err as Error).message}`)
      }
      if (answer.status >= 200 && answer.status < 300) return { ok: true, providerId: (JSON.parse(answer.text) as { id: string }).id }
      if (flaw === 'leaks' && answer.status === 429) setTimeout(() => ctx.log.warn('throttled', { authorization: `Bearer ${token}` }), 0)
      return { ok: false, error: classifyHttpStatus(answer.status, answer.text) }
    },
  }
}
