import { createHmac } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { httpPost } from '@intake/core'
import { startProviderStandIn, type ProviderStandIn } from './provider-stand-in.ts'

let provider: ProviderStandIn | undefined
afterEach(async () => {
  await provider?.close()
  provider = undefined
})

describe('provider stand-in', () => {
  it('records every request and answers scripted statuses in order, for the requests scripts select, then handle again', async () => {
    provider = await startProviderStandIn({
      handle: (req) => ({ status: 201, body: { path: req.url.pathname } }),
      scripts: (req) => req.url.pathname === '/send',
    })
    provider.answerNext(429, { status: 503, headers: { 'retry-after': '2' }, body: 'busy' })
    const token = await httpPost(`${provider.url}/token`, '')
    const first = await httpPost(`${provider.url}/send`, '{"n":1}')
    const second = await httpPost(`${provider.url}/send`, '{"n":2}')
    const third = await httpPost(`${provider.url}/send`, '{"n":3}')
    expect([token.status, first.status, second.status, third.status]).toEqual([201, 429, 503, 201])
    expect(second.headers['retry-after']).toBe('2')
    expect(provider.requests.map((r) => [r.url.pathname, r.text, r.status])).toEqual([
      ['/token', '', 201],
      ['/send', '{"n":1}', 429],
      ['/send', '{"n":2}', 503],
      ['/send', '{"n":3}', 201],
    ])
    // Only what the provider accepted counts as delivered.
    expect(provider.deliveries()).toEqual(['', '{"n":3}'])
  })

  it('decodes form bodies in what it reports as delivered', async () => {
    provider = await startProviderStandIn()
    await httpPost(provider.url, new URLSearchParams({ Body: 'Your case K7F3-9Q28 is received. 已受理' }).toString(), { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(provider.deliveries()).toEqual(['Your case K7F3-9Q28 is received. 已受理'])
  })

  it('signs a callback with the function it was given and posts it where it is told', async () => {
    const seen: Request[] = []
    provider = await startProviderStandIn({
      sign: ({ body }) => ({ 'x-signature': createHmac('sha256', 'k').update(body).digest('base64') }),
      fetch: async (req) => {
        seen.push(req)
        return new Response('ok')
      },
    })
    const answer = await provider.callback('http://intake.test/channels/x/webhook', '{"events":[]}', { headers: { 'content-type': 'application/json' } })
    expect(await answer.text()).toBe('ok')
    expect(seen[0]!.headers.get('x-signature')).toBe(createHmac('sha256', 'k').update('{"events":[]}').digest('base64'))
    expect(seen[0]!.headers.get('content-type')).toBe('application/json')
    expect(await seen[0]!.text()).toBe('{"events":[]}')
  })

  it('refuses connections until reset, and releases a stalled request on reset', async () => {
    provider = await startProviderStandIn()
    await provider.breakNext('refused')
    await expect(httpPost(provider.url, 'x')).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    await provider.reset()
    expect((await httpPost(provider.url, 'x')).status).toBe(200)
    await provider.breakNext('stalled')
    const stalled = httpPost(provider.url, 'x', { timeoutMs: 60_000 })
    await expect.poll(() => provider!.requests.length).toBe(2) // the one answered above, and the stalled one
    await provider.reset()
    await expect(stalled).rejects.toThrow()
  })

  it('answers 500 when its own handler throws, instead of crashing the test run', async () => {
    provider = await startProviderStandIn({
      handle: () => {
        throw new Error('bug in the stand-in')
      },
    })
    const answer = await httpPost(provider.url, 'x')
    expect(answer.status).toBe(500)
    expect(answer.text).toContain('bug in the stand-in')
  })
})
