/**
 * The channel conformance kit: every adapter — ours or a third party's — runs these cases through a
 * real gateway (Hono app, SQLite store, pipeline, outbox). An adapter's own test is mostly one call
 * to `testChannel` plus its fixtures.
 *
 * Besides the author's fixtures, every adapter gets: a forged signature stores nothing, malformed
 * input gets a 4xx, a retried delivery makes one case, an oversized body gets 413, an unreachable
 * provider (refused, reset, stalled) is a retryable `connection` error and never a throw, the
 * acknowledgement leaves through `send` and reaches the provider's stand-in, and — checked last, over
 * every line every case logged — no secret reaches a log.
 *
 * The adapter is built inside each case, after the fixture's `arrange` ran, with the kit's short
 * `sendTimeoutMs` (the stalled-provider case waits for it).
 *
 * @example
 * // The api channel's kit test, cut down (a third party's: examples/custom-plugin/src/index.test.ts).
 * import { apiChannel, signRequest } from '@intake/channels/api'
 * import { startCallbackServer } from '@intake/channels/api/callback-server'
 * import { testChannel } from '@intake/channels/kit'
 *
 * const SECRET = 'api-secret-for-tests-0001'
 * const callback = await startCallbackServer() // the integrator's endpoint: the provider here
 * const signed = (channelUrl: string, body: string, secret = SECRET) =>
 *   new Request(`${channelUrl}/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...signRequest(secret, body) }, body })
 * const message = JSON.stringify({ id: 'kiosk-1', from: { id: 'resident-42' }, text: 'The street light is out' })
 *
 * testChannel({
 *   name: 'api',
 *   adapter: ({ sendTimeoutMs }) => apiChannel({ secret: SECRET, callbackUrl: callback.url, timeoutMs: sendTimeoutMs }),
 *   fixtures: {
 *     valid: [{ name: 'a message', messages: 1, text: 'street light', request: (url) => signed(url, message) }],
 *     forged: { name: 'signed with another secret', request: (url) => signed(url, message, 'not-the-secret-0000000') },
 *     malformed: [{ name: 'not JSON', status: 400, request: (url) => signed(url, '{') }],
 *     sendErrors: [{ name: 'callback answers 429', arrange: () => callback.failNext(429), expect: { code: 'throttled', retryable: true } }],
 *     provider: callback,
 *     secrets: [SECRET],
 *   },
 * })
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  createIntake,
  createLogger,
  memoryBlobStore,
  type ChannelAdapter,
  type Intake,
  type OfficeInput,
  type OutboundMessage,
  type SendErrorCode,
} from '@intake/core'
import { sqliteStore } from '@intake/storage/sqlite'
import type { ProviderControl } from './provider-stand-in.ts'

export { imageFacts, jpegPhoto, pngImage } from './images.ts'
export {
  startProviderStandIn,
  type ConnectionFault,
  type ProviderControl,
  type ProviderStandIn,
  type ProviderStandInOptions,
  type ScriptedAnswer,
  type StandInAnswer,
  type StandInRequest,
} from './provider-stand-in.ts'

export interface ChannelRequestFixture {
  name: string
  /** Build the request (absolute URL on http://intake.test, path under /channels/:channelId). */
  request: (channelUrl: string) => Request | Promise<Request>
}

/**
 * For adapters that take messages in without an HTTP route (an SMTP listener, a poller): hand one
 * over the way the provider would, through what the adapter's `start` opened. Resolves once the
 * provider was told the message is taken (an SMTP 250); rejects with the provider's refusal.
 */
export interface DeliveryFixture {
  name: string
  deliver: (gw: KitGateway, adapter: ChannelAdapter) => Promise<void>
}

export interface ValidRequestFixture extends ChannelRequestFixture {
  /** How many citizen messages the request carries (usually 1). */
  messages: number
  /** Text the first case must contain, as the citizen wrote it. */
  text?: string
}

export interface ValidDeliveryFixture extends DeliveryFixture {
  messages: number
  text?: string
}

export type ValidFixture = ValidRequestFixture | ValidDeliveryFixture

export interface MalformedRequestFixture extends ChannelRequestFixture {
  /** The expected 4xx (default: any 400–415). */
  status?: number
}

/** A delivery the adapter must refuse, storing nothing (an SMTP 550 at RCPT, a 535 at AUTH, a 552 at DATA). */
export interface RefusedDeliveryFixture extends DeliveryFixture {
  /** What the refusal says, e.g. /\b550\b/ for an SMTP recipient refused. */
  refusal: RegExp
}

export type MalformedFixture = MalformedRequestFixture | RefusedDeliveryFixture

export interface SendErrorFixture {
  name: string
  /** Make the provider misbehave for the next send (answer 429, refuse the connection...). */
  arrange: () => void | Promise<void>
  expect: { code: SendErrorCode; retryable: boolean }
}

export interface ChannelFixtures {
  valid: ValidFixture[]
  /** A valid-looking request with a forged signature (or, without HTTP routes, a delivery with wrong credentials). */
  forged?: ChannelRequestFixture | RefusedDeliveryFixture
  malformed: MalformedFixture[]
  sendErrors: SendErrorFixture[]
  /** Check what the provider received for a successful send (reset anything arranged before). */
  sendOk?: { arrange?: () => void | Promise<void>; verify: (sent: OutboundMessage, providerId: string) => void | Promise<void> }
  /**
   * The provider's stand-in (`startProviderStandIn`, or anything that implements `ProviderControl`):
   * the kit breaks its connections for the "unreachable" cases and reads what it accepted for the
   * end-to-end case. Reset after every case. A function when the stand-in starts in `beforeAll`.
   */
  provider?: ProviderControl | (() => ProviderControl)
  /** Every secret the adapter holds; none may appear in any log line. */
  secrets: string[]
  /** Without HTTP routes: a message over the adapter's size limit, refused before anything is stored. */
  oversized?: RefusedDeliveryFixture
  /** Who the sample outbound message goes to, for providers with address rules (an email address, an E.164 number). */
  recipient?: { id: string; displayName?: string }
  /** Cases the adapter cannot take, each with the written reason. */
  skip?: { signature?: string; send?: string; oversized?: string; provider?: string }
}

/** What the kit hands the adapter factory. */
export interface KitAdapterOptions {
  /** Give the adapter this as its provider timeout: the stalled-provider case waits for it. */
  sendTimeoutMs: number
}

export const KIT_SEND_TIMEOUT_MS = 500

export interface TestChannelOptions {
  name: string
  /** A fresh adapter for each case, built after the case's `arrange` ran. */
  adapter: (kit: KitAdapterOptions) => ChannelAdapter
  fixtures: ChannelFixtures
  channelId?: string
}

export const KIT_OFFICES: OfficeInput[] = [
  { id: 'city', name: 'City Hall', names: { en: 'City Hall' } },
  { id: 'desk', name: 'Intake Desk', names: { en: 'Intake Desk' }, parentId: 'city', intakeDesk: true },
]
export const KIT_API_KEY = 'kit-api-key-0123456789'
export const KIT_BASE = 'http://intake.test'

export interface KitGateway {
  intake: Intake
  lines: string[]
  channelUrl: string
  /** Send a request through the app as a provider would. */
  fetch(req: Request): Promise<Response>
  close(): Promise<void>
}

/** A whole gateway in-process around one adapter: in-memory SQLite, the kit's offices, a capturing logger. */
export async function kitGateway(adapter: ChannelAdapter, channelId = 'test'): Promise<KitGateway> {
  const lines: string[] = []
  // The kit's logger does not redact: a secret that reaches a log line is the adapter's fault and must fail the test.
  const log = createLogger({ level: 'debug', sink: (l) => lines.push(l) })
  const intake = createIntake(
    {
      store: sqliteStore({ file: ':memory:' }),
      offices: KIT_OFFICES,
      channels: { [channelId]: adapter },
      routing: [],
      apiKeys: [KIT_API_KEY],
      blobs: memoryBlobStore(),
      server: { publicUrl: KIT_BASE },
      outbox: { baseDelayMs: 1, maxDelayMs: 5, pollMs: 60_000 },
    },
    { log, env: {} },
  )
  await intake.start()
  return {
    intake,
    lines,
    channelUrl: `${KIT_BASE}${adapter.mountPath ?? `/channels/${channelId}`}`,
    fetch: (req) => Promise.resolve(intake.app.fetch(req)),
    async close() {
      await intake.stop()
      await intake.store.close()
    },
  }
}

const sampleOutbound = (channelId: string, recipient: ChannelFixtures['recipient'] = { id: 'citizen-kit', displayName: 'Kit Citizen' }): OutboundMessage => ({
  id: 'msg-kit-1',
  caseId: 'case-kit-1',
  channelId,
  to: { channelId, ...recipient },
  kind: 'reply',
  text: 'Your street light will be repaired on Monday. 您好，路灯周一维修。',
  trackingCode: 'K7F3-9Q28',
  statusUrl: `${KIT_BASE}/status/K7F3-9Q28`,
  language: 'en',
})

export function testChannel({ name, adapter: makeAdapter, fixtures, channelId = 'test' }: TestChannelOptions): void {
  if (!fixtures.forged && !fixtures.skip?.signature) {
    throw new Error(`[channel kit] ${name}: give a forged-signature fixture, or skip.signature with the reason there is none`)
  }
  if (!fixtures.provider && !fixtures.skip?.provider) {
    throw new Error(`[channel kit] ${name}: give the provider's stand-in (fixtures.provider, see startProviderStandIn), or skip.provider with the reason there is none`)
  }
  if (fixtures.valid.length === 0) throw new Error(`[channel kit] ${name}: give at least one valid request fixture`)
  describe(`channel conformance: ${name}`, () => {
    let gw: KitGateway
    let adapter: ChannelAdapter
    let open: KitGateway | undefined
    /** Every gateway's log lines by case: read once all cases ran, so a line logged late still counts. */
    const logged: Array<{ test: string; lines: string[] }> = []
    let running = ''
    const providerOf = () => (typeof fixtures.provider === 'function' ? fixtures.provider() : fixtures.provider)

    beforeEach((ctx) => {
      running = ctx.task.name
    })
    afterEach(async () => {
      const closing = open
      open = undefined
      await closing?.close()
      await providerOf()?.reset()
    })

    /**
     * One kit case: the author's arrangement first, then a fresh adapter and gateway, so what the
     * arrangement changed (a provider that refuses connections) is what the adapter meets.
     */
    const kitCase = (title: string, body: () => Promise<void>, { arrange, timeout }: { arrange?: () => unknown; timeout?: number } = {}) =>
      it(
        title,
        async () => {
          await arrange?.()
          adapter = makeAdapter({ sendTimeoutMs: KIT_SEND_TIMEOUT_MS })
          gw = open = await kitGateway(adapter, channelId)
          logged.push({ test: running, lines: gw.lines })
          await body()
        },
        timeout,
      )

    const caseCount = async () => (await gw.intake.store.listCases({ limit: 500 })).cases.length

    kitCase('declares a kind and capabilities', async () => {
      expect(adapter.kind).toMatch(/^[a-z0-9-]+$/)
      expect(adapter.capabilities).toBeTypeOf('object')
    })

    /** Hand a valid fixture over (request or delivery), check the provider was told it is taken, and return the answer's text. */
    const take = async (fx: ValidFixture): Promise<string> => {
      if ('deliver' in fx) {
        await fx.deliver(gw, adapter)
        return ''
      }
      const res = await gw.fetch(await fx.request(gw.channelUrl))
      const text = await res.text()
      expect(res.status, text).toBeGreaterThanOrEqual(200)
      expect(res.status).toBeLessThan(300)
      return text
    }

    for (const fx of fixtures.valid) {
      kitCase(`turns a valid request into a case and an acknowledgement: ${fx.name}`, async () => {
        await take(fx)
        const { cases } = await gw.intake.store.listCases({ limit: 500 })
        expect(cases.length).toBe(fx.messages)
        for (const kase of cases) {
          expect(kase.channelId).toBe(channelId)
          const outbox = await gw.intake.store.listOutbox({ caseId: kase.id })
          expect(outbox.map((o) => o.payload.kind)).toEqual(['acknowledgement'])
          expect(outbox[0]!.payload.text).toContain(kase.trackingCode)
        }
        if (fx.text) {
          const messages = await gw.intake.store.listMessages(cases[cases.length - 1]!.id)
          expect(messages.find((m) => m.direction === 'in')?.text).toContain(fx.text)
        }
      })
    }

    kitCase('makes one case when the provider delivers the same message twice', async () => {
      const fx = fixtures.valid[0]!
      await take(fx)
      await take(fx)
      expect(await caseCount()).toBe(fx.messages)
      expect((await gw.intake.store.listOutbox({})).length).toBe(fx.messages)
    })

    if (fixtures.forged && 'deliver' in fixtures.forged) {
      const forged = fixtures.forged
      kitCase(`refuses a delivery with forged credentials and stores nothing: ${forged.name}`, async () => {
        await expect(forged.deliver(gw, adapter)).rejects.toThrow(forged.refusal)
        expect(await caseCount()).toBe(0)
      })
    } else if (fixtures.forged) {
      const forged = fixtures.forged
      kitCase('rejects a forged signature with 401/403 and stores nothing', async () => {
        const res = await gw.fetch(await forged.request(gw.channelUrl))
        expect([401, 403]).toContain(res.status)
        expect(await caseCount()).toBe(0)
        expect(gw.intake.metrics.render()).toMatch(new RegExp(`intake_inbound_rejected_total\\{[^}]*channelId="${channelId}"`))
      })
    } else {
      it.skip(`rejects a forged signature — skipped: ${fixtures.skip!.signature}`, () => {})
    }

    for (const fx of fixtures.malformed) {
      if ('deliver' in fx) {
        kitCase(`refuses a bad delivery with the provider's error and stores nothing: ${fx.name}`, async () => {
          await expect(fx.deliver(gw, adapter)).rejects.toThrow(fx.refusal)
          expect(await caseCount()).toBe(0)
        })
        continue
      }
      kitCase(`answers a malformed request with a clear 4xx, never a 500: ${fx.name}`, async () => {
        const res = await gw.fetch(await fx.request(gw.channelUrl))
        if (fx.status) expect(res.status).toBe(fx.status)
        else {
          expect(res.status).toBeGreaterThanOrEqual(400)
          expect(res.status).toBeLessThanOrEqual(415)
        }
        expect((await res.text()).length, 'the answer carries a reason').toBeGreaterThan(0)
        expect(await caseCount()).toBe(0)
      })
    }

    if (fixtures.oversized) {
      const oversized = fixtures.oversized
      kitCase(`refuses a message over the size limit and stores nothing: ${oversized.name}`, async () => {
        await expect(oversized.deliver(gw, adapter)).rejects.toThrow(oversized.refusal)
        expect(await caseCount()).toBe(0)
      })
    } else if (fixtures.skip?.oversized) {
      it.skip(`refuses a body over the route limit — skipped: ${fixtures.skip.oversized}`, () => {})
    } else {
      kitCase('refuses a body over the route limit with 413 before reading on', async () => {
        const route = adapter.routes?.find((r) => r.method === 'POST')
        expect(route, 'an adapter with inbound routes has a POST route').toBeDefined()
        const limit = route!.maxBodyBytes ?? 1024 * 1024
        // A route that streams its body reads it only as its own parser asks (and refuses a body that
        // is not its kind at once); core refuses it by the length the client declares.
        const declared: Record<string, string> = route!.streamsBody ? { 'content-length': String(limit + 1) } : {}
        const res = await gw.fetch(
          new Request(`${gw.channelUrl}${route!.path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...declared }, body: 'x'.repeat(limit + 1) }),
        )
        expect(res.status).toBe(413)
        expect(await caseCount()).toBe(0)
      })
    }

    kitCase('answers 404 for a channel that is not configured', async () => {
      const res = await gw.fetch(new Request(`${KIT_BASE}/channels/no-such-channel/in`, { method: 'POST', body: '{}' }))
      expect(res.status).toBe(404)
      expect(await res.json()).toMatchObject({ error: { code: 'unknown_channel' } })
    })

    if (fixtures.skip?.send) {
      it.skip(`classifies send errors — skipped: ${fixtures.skip.send}`, () => {})
    }
    /** The adapter's `send`, with a throw turned into a failed case that says so: errors are values. */
    const send = async (msg: OutboundMessage) => {
      try {
        return await adapter.send(msg, {
          channelId,
          idempotencyKey: 'intake-kit-key-1',
          attempt: 1,
          log: gw.intake.log,
          publicUrl: KIT_BASE,
          blobs: gw.intake.blobs,
        })
      } catch (err) {
        throw new Error(`[channel kit] ${name}: send threw instead of returning a classified error: ${(err as Error)?.message ?? String(err)}`)
      }
    }
    for (const fx of fixtures.sendErrors) {
      kitCase(
        `classifies a send error: ${fx.name} → ${fx.expect.code}${fx.expect.retryable ? ' (retryable)' : ''}`,
        async () => {
          const result = await send(sampleOutbound(channelId, fixtures.recipient))
          expect(result.ok).toBe(false)
          if (!result.ok) {
            expect(result.error.code).toBe(fx.expect.code)
            expect(result.error.retryable).toBe(fx.expect.retryable)
            expect(result.error.message.length).toBeGreaterThan(0)
          }
        },
        { arrange: fx.arrange },
      )
    }
    if (fixtures.sendOk) {
      const ok = fixtures.sendOk
      kitCase(
        'delivers a reply and returns the provider id',
        async () => {
          const msg = sampleOutbound(channelId, fixtures.recipient)
          const result = await send(msg)
          expect(result).toMatchObject({ ok: true })
          if (result.ok) {
            expect(result.providerId.length).toBeGreaterThan(0)
            await ok.verify(msg, result.providerId)
          }
        },
        { arrange: ok.arrange },
      )
    }

    if (fixtures.provider && !fixtures.skip?.send) {
      for (const fault of ['refused', 'reset', 'stalled'] as const) {
        kitCase(
          `returns a retryable connection error, never a throw, when the provider is unreachable: ${fault}`,
          async () => {
            const result = await send(sampleOutbound(channelId, fixtures.recipient))
            expect(result, 'an unreachable provider is a connection error the outbox retries').toMatchObject({ ok: false, error: { code: 'connection', retryable: true } })
          },
          // A stalled provider is given up on after KIT_SEND_TIMEOUT_MS; an adapter that ignores it waits for its own.
          { arrange: () => providerOf()!.breakNext(fault), timeout: 30_000 },
        )
      }

      kitCase('delivers the acknowledgement through send to the provider and records it as sent', async () => {
        const fx = fixtures.valid[0]!
        const answer = await take(fx)
        await gw.intake.outbox.drain()
        const items = await gw.intake.store.listOutbox({})
        expect(items.length, 'the acknowledgement was recorded').toBeGreaterThan(0)
        for (const item of items) expect(item.status, `the acknowledgement's delivery: ${item.lastError ?? ''}`).toBe('sent')
        const delivered = (await providerOf()!.deliveries()).join('\n')
        for (const item of items) {
          // A route that acknowledges inline put the text in its webhook answer instead (see InboundRoute.acknowledgesInline).
          if (item.providerId?.startsWith('inline-')) expect(answer.length, 'an inline acknowledgement is in the webhook answer').toBeGreaterThan(0)
          else expect(delivered, 'the acknowledgement (its tracking code) reached the provider').toContain(item.payload.trackingCode)
        }
      })
    } else if (!fixtures.provider) {
      it.skip(`delivers through the provider and survives it being unreachable — skipped: ${fixtures.skip!.provider}`, () => {})
    }

    // Declared last, so it runs after every case above, over every line each of them logged.
    it('never logs a secret, in any case above', () => {
      const leaks = logged.flatMap(({ test, lines }) =>
        fixtures.secrets.flatMap((secret, i) => (lines.some((l) => l.includes(secret)) ? [`${test}: logged secrets[${i}]`] : [])),
      )
      expect(leaks, `secrets found in log lines (${leaks.join('; ')})`).toEqual([])
    })
  })
}
