import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { httpGet } from './get.ts'

let server: Server
let base: string
const seen: Array<{ url: string; authorization?: string }> = []
beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url!, authorization: req.headers.authorization })
    if (req.url === '/photo') return res.end(Buffer.alloc(1000, 7))
    if (req.url === '/chunked-large') {
      // No Content-Length: the cap must hold as the bytes arrive.
      res.write(Buffer.alloc(600))
      return res.end(Buffer.alloc(600))
    }
    if (req.url === '/moved') {
      res.writeHead(307, { location: '/photo' })
      return res.end()
    }
    if (req.url === '/slow') return // never answers
    res.writeHead(404).end()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => {
  server.closeAllConnections()
  server.close()
})

describe('httpGet', () => {
  it('reads a file within the cap, with the headers given', async () => {
    const got = await httpGet(`${base}/photo`, { maxBytes: 1000, timeoutMs: 2000, headers: { authorization: 'Basic eA==' } })
    expect(got.status).toBe(200)
    expect(got.body).toEqual(Buffer.alloc(1000, 7))
    expect(seen.at(-1)).toEqual({ url: '/photo', authorization: 'Basic eA==' })
  })

  it('refuses an answer past the cap, declared or not, as too_large', async () => {
    await expect(httpGet(`${base}/photo`, { maxBytes: 999, timeoutMs: 2000 })).rejects.toMatchObject({ code: 'too_large' })
    await expect(httpGet(`${base}/chunked-large`, { maxBytes: 1000, timeoutMs: 2000 })).rejects.toMatchObject({ code: 'too_large' })
  })

  it('leaves redirects and HTTP errors to the caller, and times out', async () => {
    const moved = await httpGet(`${base}/moved`, { maxBytes: 1000, timeoutMs: 2000 })
    expect([moved.status, moved.headers.location]).toEqual([307, '/photo'])
    expect((await httpGet(`${base}/missing`, { maxBytes: 1000, timeoutMs: 2000 })).status).toBe(404)
    await expect(httpGet(`${base}/slow`, { maxBytes: 1000, timeoutMs: 100 })).rejects.toMatchObject({ code: 'timeout' })
    await expect(httpGet('ftp://example.test/x', { maxBytes: 1, timeoutMs: 100 })).rejects.toMatchObject({ code: 'bad_url' })
  })
})
