import { describe, expect, it } from 'vitest'
import type { ChannelAdapter, InboundRoute, RawRequest, RouteContext, SendContext, SendResult } from '../contracts/channel.ts'
import { createLogger } from '../log/index.ts'
import type { OutboundMessage } from '../model/index.ts'
import { failover } from './index.ts'
import { renderProviderHealth } from './health.ts'

/** A provider that answers each send with the next scripted result (then sends), and records what it was given. */
function scripted(kind: string, answers: SendResult[] = [], routes: InboundRoute[] = []) {
  const calls: Array<{ msg: OutboundMessage; key: string }> = []
  const adapter: ChannelAdapter = {
    kind,
    capabilities: {},
    routes,
    async send(msg, ctx) {
      calls.push({ msg, key: ctx.idempotencyKey })
      return answers.shift() ?? { ok: true, providerId: `${kind}-${calls.length}` }
    },
  }
  return { adapter, calls }
}

const msg = { id: 'm1', to: { channelId: 'sms', id: '+8613912345678' }, text: 'hello' } as unknown as OutboundMessage
const ctx = { channelId: 'sms', idempotencyKey: 'k1', attempt: 1, log: createLogger({ level: 'error', sink: () => {} }) } as unknown as SendContext
const fail500: SendResult = { ok: false, error: { code: 'connection', retryable: true, message: 'provider answered 500' } }
const badNumber: SendResult = { ok: false, error: { code: 'invalid_recipient', retryable: false, message: 'not a mainland number' } }
const unsubscribed: SendResult = { ok: false, error: { code: 'stopped', retryable: false, message: 'unsubscribed' } }

describe('failover', () => {
  it('sends through the first provider while it works, and through the next with the same message and key when it fails', async () => {
    const first = scripted('twilio-sms', [{ ok: true, providerId: 'SM1' }, fail500])
    const second = scripted('aliyun-sms')
    const sms = failover([first.adapter, second.adapter])
    expect(await sms.send(msg, ctx)).toEqual({ ok: true, providerId: 'twilio-sms:SM1' })
    expect(await sms.send(msg, ctx)).toEqual({ ok: true, providerId: 'aliyun-sms:aliyun-sms-1' })
    expect(second.calls).toEqual([{ msg, key: 'k1' }])
  })

  it('opens the breaker past the threshold, so the first provider is skipped', async () => {
    const first = scripted('twilio-sms', [fail500, fail500])
    const second = scripted('aliyun-sms')
    const sms = failover([first.adapter, second.adapter], { breaker: { minimumSends: 2, coolDownMs: 60_000 } })
    for (let i = 0; i < 3; i++) expect((await sms.send(msg, ctx)).ok).toBe(true)
    expect(first.calls).toHaveLength(2)
    expect(sms.providerHealth!()).toEqual([
      { provider: 'twilio-sms', state: 'open', successes: 0, failures: 2, refusals: 0, skipped: 1, opened: 1 },
      { provider: 'aliyun-sms', state: 'closed', successes: 3, failures: 0, refusals: 0, skipped: 0, opened: 0 },
    ])
  })

  it('lets a refused message try the next provider without counting against the first, but stops at "stopped"', async () => {
    const first = scripted('aliyun-sms', [badNumber, badNumber, unsubscribed])
    const second = scripted('twilio-sms', [{ ok: true, providerId: 'SM1' }, badNumber])
    const sms = failover([first.adapter, second.adapter], { breaker: { minimumSends: 1 } })
    expect(await sms.send(msg, ctx)).toEqual({ ok: true, providerId: 'twilio-sms:SM1' })
    // Refused by both: the outbox dead-letters it (not retryable), naming each provider's reason.
    const refused = await sms.send(msg, ctx)
    expect(refused).toEqual({ ok: false, error: { code: 'invalid_recipient', retryable: false, message: 'aliyun-sms: not a mainland number; twilio-sms: not a mainland number' } })
    expect(await sms.send(msg, ctx)).toMatchObject({ ok: false, error: { code: 'stopped', retryable: false } })
    expect(second.calls).toHaveLength(2)
    expect(sms.providerHealth!()[0]).toMatchObject({ state: 'closed', refusals: 3, failures: 0 })
  })

  it('gives the outbox a retryable error when every provider failed or was skipped', async () => {
    const sms = failover([scripted('a', [fail500, fail500]).adapter, scripted('b', [badNumber, badNumber]).adapter], { breaker: { minimumSends: 1 } })
    expect(await sms.send(msg, ctx)).toEqual({ ok: false, error: { code: 'connection', retryable: true, message: 'a: provider answered 500; b: not a mainland number' } })
    // Now a's breaker is open: b still refuses, and a may take it once it is back.
    expect(await sms.send(msg, ctx)).toEqual({ ok: false, error: { code: 'connection', retryable: true, message: 'b: not a mainland number; a: breaker open' } })
  })

  it("mounts every provider's routes and re-keys delivery reports to the provider that sent", async () => {
    const report: InboundRoute = { method: 'POST', path: '/status', parse: async () => ({ reports: [{ providerId: 'SM1', status: 'delivered' }] }) }
    const reply: InboundRoute = {
      method: 'POST',
      path: '/up',
      parse: async () => ({ messages: [{ channelId: 'sms', externalId: 'up-1', from: { channelId: 'sms', id: '139' }, text: 'hi', receivedAt: 1, threadRefs: ['SM9'] }] }),
    }
    const sms = failover([scripted('twilio-sms', [], [report]).adapter, scripted('aliyun-sms', [], [reply]).adapter])
    expect(sms.routes!.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /status', 'POST /up'])
    const [status, up] = sms.routes!
    const req = {} as RawRequest
    const rctx = {} as RouteContext
    expect(await status!.parse(req, rctx)).toEqual({ reports: [{ providerId: 'twilio-sms:SM1', status: 'delivered' }] })
    expect(await up!.parse(req, rctx)).toMatchObject({ messages: [{ externalId: 'up-1', threadRefs: ['SM9', 'aliyun-sms:SM9'] }] })
  })

  it('refuses a configuration it cannot serve, when the channel is configured', () => {
    const a = scripted('twilio-sms', [], [{ method: 'POST', path: '/status', parse: async () => ({ ignored: '' }) }]).adapter
    const b = scripted('other-sms', [], [{ method: 'POST', path: '/status', parse: async () => ({ ignored: '' }) }]).adapter
    expect(() => failover([a])).toThrow(/two providers or more/)
    expect(() => failover([a, b])).toThrow(/"twilio-sms" and "other-sms" both serve POST \/status/)
    expect(() => failover([a, { adapter: scripted('twilio-sms').adapter }])).toThrow(/"twilio-sms" is listed twice/)
    expect(() => failover([a, { name: 'Backup SMS', adapter: scripted('x').adapter }])).toThrow(/kebab-case/)
    expect(() => failover([a, scripted('x').adapter], { breaker: { failurePercent: 100 } })).toThrow(/failurePercent/)
    expect(() => failover([a, scripted('x').adapter], { breaker: { minimumSends: 30, windowSends: 10 } })).toThrow(/minimumSends/)
  })

  it('renders provider health in Prometheus text format', () => {
    const text = renderProviderHealth([{ channelId: 'sms', providers: [{ provider: 'twilio-sms', state: 'half-open', successes: 3, failures: 2, refusals: 0, skipped: 1, opened: 1 }] }])
    expect(text.split('\n')).toEqual(
      expect.arrayContaining([
        '# TYPE intake_provider_breaker_state gauge',
        'intake_provider_breaker_state{channelId="sms",provider="twilio-sms",state="closed"} 0',
        'intake_provider_breaker_state{channelId="sms",provider="twilio-sms",state="half-open"} 1',
        'intake_provider_sends_total{channelId="sms",outcome="failed",provider="twilio-sms"} 2',
        'intake_provider_breaker_opened_total{channelId="sms",provider="twilio-sms"} 1',
      ]),
    )
    expect(renderProviderHealth([])).toBe('')
  })
})
