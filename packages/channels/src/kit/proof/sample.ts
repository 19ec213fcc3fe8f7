/** The kit run against the sample channel, with the flaw named by the file that calls it. */
import { afterEach, expect, it } from 'vitest'
import { startProviderStandIn, testChannel, type ProviderStandIn } from '../index.ts'
import { sampleChannel, sign, type SampleFlaw } from './sample-adapter.ts'

const TOKEN = 'sample-token-0123456789abcdef'
const provider: ProviderStandIn = await startProviderStandIn({ handle: (req) => ({ status: 200, body: { id: `p-${req.url.pathname}-${Date.now()}` } }) })

const inbound = (url: string, body: string, token = TOKEN) =>
  new Request(`${url}/in`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-sample-signature': sign(token, body) }, body })
const message = JSON.stringify({ id: 'm-1', from: 'citizen-1', text: 'The street light on Station Road is out' })

export function runKit(flaw?: SampleFlaw): void {
  /** What ran before each adapter was built: the kit must arrange first. */
  const arrangedBeforeBuild: boolean[] = []
  let arranged = false
  afterEach(() => {
    arranged = false
  })
  testChannel({
    name: `sample${flaw ? ` (${flaw})` : ''}`,
    adapter: ({ sendTimeoutMs }) => {
      arrangedBeforeBuild.push(arranged)
      return sampleChannel({ token: TOKEN, apiBaseUrl: provider.url, timeoutMs: sendTimeoutMs, flaw })
    },
    fixtures: {
      valid: [{ name: 'a message', messages: 1, text: 'street light', request: (u) => inbound(u, message) }],
      forged: { name: 'signed with another token', request: (u) => inbound(u, message, 'not-the-token-00000000') },
      malformed: [{ name: 'not JSON', status: 400, request: (u) => inbound(u, 'hello') }],
      sendErrors: [
        {
          name: 'provider answers 429',
          arrange: () => {
            arranged = true
            provider.answerNext(429)
          },
          expect: { code: 'throttled', retryable: true },
        },
        { name: 'provider answers 503', arrange: () => provider.answerNext(503), expect: { code: 'connection', retryable: true } },
      ],
      provider,
      secrets: [TOKEN],
    },
  })
  it('built the adapter after the case arranged the provider', () => {
    // Exactly one case arranged something of ours; its adapter must have been built after that.
    expect(arrangedBeforeBuild.filter(Boolean)).toHaveLength(1)
  })
}
