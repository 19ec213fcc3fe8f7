import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { memoryBlobStore } from '../contracts/blob-store.ts'
import type { ChannelAdapter, InboundRoute } from '../contracts/channel.ts'
import type { Store } from '../contracts/store.ts'
import { createLogger } from '../log/index.ts'
import type { Pipeline } from '../pipeline/index.ts'
import { mountChannels } from './channel-routes.ts'
import { createMetrics } from './metrics.ts'

/** A route that reads its streamed body chunk by chunk and says how much it read. */
const counting: InboundRoute = {
  method: 'POST',
  path: '/upload',
  streamsBody: true,
  maxBodyBytes: 1000,
  async parse(req) {
    let bytes = 0
    for await (const chunk of req.stream!) bytes += (chunk as Uint8Array).byteLength
    return { ignored: `read ${bytes} bytes` }
  },
}

function app(route: InboundRoute): Hono {
  const hono = new Hono()
  const adapter: ChannelAdapter = { kind: 'test', capabilities: {}, routes: [route], send: async () => ({ ok: true, providerId: 'x' }) }
  mountChannels(hono, {
    channels: { up: adapter },
    // Neither is reached: the route only ignores or fails.
    pipeline: {} as Pipeline,
    store: {} as Store,
    blobs: memoryBlobStore(),
    publicUrl: 'http://intake.test',
    log: createLogger({ level: 'error', sink: () => {} }),
    now: () => 0,
    metrics: createMetrics(),
  })
  return hono
}

/** A body with no declared length, arriving in pieces. */
const pieces = (...sizes: number[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const size of sizes) controller.enqueue(new Uint8Array(size))
      controller.close()
    },
  })

const post = (hono: Hono, body: ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
  hono.request('http://intake.test/channels/up/upload', { method: 'POST', body, headers, duplex: 'half' } as RequestInit)

describe('a route that streams its body', () => {
  it('hands parse the body as it arrives, every byte of it', async () => {
    const res = await post(app(counting), pieces(300, 300, 400))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ignored: 'read 1000 bytes' })
  })

  it('fails the stream past maxBodyBytes, and answers 413 for parse', async () => {
    const res = await post(app(counting), pieces(600, 600))
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ error: { code: 'body_too_large' } })
  })

  it('refuses a declared length over the limit before parse reads anything, and closes the connection', async () => {
    let parsed = false
    const res = await post(app({ ...counting, parse: async () => ((parsed = true), { ignored: 'read' }) }), pieces(10), { 'content-length': '5000' })
    expect(res.status).toBe(413)
    expect(res.headers.get('connection')).toBe('close')
    expect(parsed).toBe(false)
  })

  it('closes the connection when parse answers before the body ended', async () => {
    const res = await post(app({ ...counting, parse: async () => ({ rejected: { status: 415, code: 'not_a_form', message: 'no' } }) }), pieces(500))
    expect(res.status).toBe(415)
    expect(res.headers.get('connection')).toBe('close')
  })

  it('is a misconfiguration together with verify: a signature covers bytes not yet arrived', () => {
    expect(() => app({ ...counting, verify: () => ({ ok: true }) })).toThrow(/streams its body and cannot also verify/)
  })
})
