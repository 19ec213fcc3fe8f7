import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { IncomingMessage } from 'node:http'
import { serve, type ServerType } from '@hono/node-server'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BodyTooLargeError, ClientGoneError, readBodyLimited } from './body.ts'

// Over real HTTP (@hono/node-server), where the body is read from Node's request, not a web stream.
const LIMIT = 64 * 1024
let server: ServerType
let port: number
const seen: Array<'node' | 'web'> = []
const gone: unknown[] = []

beforeAll(async () => {
  const app = new Hono<{ Bindings: { incoming: IncomingMessage } }>()
  app.post('/echo', async (c) => {
    seen.push(c.env.incoming.readableDidRead ? 'web' : 'node')
    try {
      const body = await readBodyLimited(c.req.raw, LIMIT, c.env.incoming)
      return c.body(new TextDecoder().decode(body), 200)
    } catch (error) {
      if (error instanceof BodyTooLargeError) return c.json({ error: { code: 'body_too_large' } }, 413)
      gone.push(error)
      throw error
    }
  })
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve())
  })
  port = (server.address() as AddressInfo).port
})

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

/** POSTs `chunks` with chunked transfer encoding (no Content-Length), as a streaming client does. */
function postChunked(path: string, chunks: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'text/plain' } }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode!, body }))
    })
    req.on('error', reject)
    for (const chunk of chunks) req.write(chunk)
    req.end()
  })
}

describe('readBodyLimited over real HTTP', () => {
  it('reads the body from Node\'s request, byte for byte, across chunks and 4-byte characters', async () => {
    const chunks = ['{"text":"市民反映 ', '🏗️ 工地噪音 𠀋', '"}']
    seen.length = 0
    await expect(postChunked('/echo', chunks)).resolves.toEqual({ status: 200, body: chunks.join('') })
    expect(seen).toEqual(['node'])
  })

  it('refuses a chunked body as soon as it passes the limit, and still answers 413 on the connection', async () => {
    const chunk = 'x'.repeat(16 * 1024)
    const res = await postChunked('/echo', Array.from({ length: 8 }, () => chunk))
    expect(res.status).toBe(413)
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'body_too_large' } })
  })

  it('refuses by Content-Length before reading', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/echo`, { method: 'POST', body: 'y'.repeat(LIMIT + 1) })
    expect(res.status).toBe(413)
  })

  it('tells a client that hung up mid-body from a server fault (ClientGoneError, not an unhandled error)', async () => {
    gone.length = 0
    const req = httpRequest({ host: '127.0.0.1', port, path: '/echo', method: 'POST', headers: { 'content-type': 'text/plain', 'content-length': '1000' } })
    req.on('error', () => {})
    req.write('x'.repeat(100))
    await new Promise((r) => setTimeout(r, 50))
    req.destroy()
    await expect.poll(() => gone.length).toBe(1)
    expect(gone[0]).toBeInstanceOf(ClientGoneError)
  })
})
