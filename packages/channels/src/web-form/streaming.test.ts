/**
 * The web form over real HTTP (@hono/node-server on a loopback port, Node's own HTTP client): a
 * submission is read as it arrives, so a form over a limit is refused while the citizen's device is
 * still sending, the rest of the body is never read, and nothing of a refused or abandoned upload
 * stays behind — not in the blob store, not in the upload folder.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { request, type ClientRequest, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve, type ServerType } from '@hono/node-server'
import { createIntake, createLogger, fileBlobStore, type Intake } from '@intake/core'
import { sqliteStore } from '@intake/storage/sqlite'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { KIT_API_KEY, KIT_OFFICES, pngImage } from '../kit/index.ts'
import { webForm } from './index.ts'

const MiB = 1024 * 1024
const BOUNDARY = '----intake-streaming-test'
const PNG = pngImage(4, 3, [42, 122, 226])

let dir: string
let blobDir: string
let uploadDir: string
let intake: Intake
let server: ServerType
let port: number
let counter = 0

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'intake-web-form-streaming-'))
  blobDir = join(dir, 'blobs')
  uploadDir = mkdtempSync(join(dir, 'uploads-'))
  intake = createIntake(
    {
      store: sqliteStore({ file: ':memory:' }),
      offices: KIT_OFFICES,
      channels: { web: webForm({ uploadDir, maxConcurrentUploads: 2 }) },
      routing: [],
      apiKeys: [KIT_API_KEY],
      blobs: fileBlobStore(blobDir),
      server: { publicUrl: 'http://intake.test' },
      outbox: { pollMs: 60_000 },
    },
    { log: createLogger({ level: 'error', sink: () => {} }), env: {} },
  )
  await intake.start()
  server = serve({ fetch: intake.app.fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  port = (server.address() as AddressInfo).port
})

afterEach(async () => {
  if (server) {
    ;(server as import('node:http').Server).closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  await intake?.stop()
  await intake?.store.close()
  rmSync(dir, { recursive: true, force: true })
})

const part = (name: string, value: string) => Buffer.from(`--${BOUNDARY}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
const fileHead = (filename: string) => Buffer.from(`--${BOUNDARY}\r\ncontent-disposition: form-data; name="photos"; filename="${filename}"\r\ncontent-type: image/png\r\n\r\n`)
const END = Buffer.from(`\r\n--${BOUNDARY}--\r\n`)
const fields = (text: string | undefined) =>
  Buffer.concat([part('submission', `streaming-test-${String(++counter).padStart(8, '0')}`), part('lang', 'en'), ...(text === undefined ? [] : [part('text', text)])])

interface Upload {
  status: number
  body: string
  /** Bytes the client had handed to its socket when the answer's head arrived. */
  writtenAtAnswer: number
  /** Bytes the client handed to its socket in all. */
  written: number
  /** True when the client wrote its whole body. */
  finished: boolean
}

/**
 * POST `head`, then a photo part of `fillBytes` (a PNG's first bytes, then zeros) in 64 KiB chunks as the
 * socket takes them, then the closing boundary — chunked, so only counting tells the size — and
 * stop writing as soon as the answer arrives or the connection closes.
 */
function upload(head: Buffer, fillBytes: number, { abortAfter }: { abortAfter?: number } = {}): Promise<Upload> {
  return new Promise((resolve, reject) => {
    let written = 0
    let writtenAtAnswer = -1
    let answered = false
    let finished = false
    const req: ClientRequest = request({ host: '127.0.0.1', port, method: 'POST', path: '/channels/web/submit', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` } })
    req.on('response', (res: IncomingMessage) => {
      answered = true
      writtenAtAnswer = written
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), writtenAtAnswer, written, finished }))
      res.on('error', reject)
    })
    // After a refusal the server closes the connection: further writes fail, which is the point.
    req.on('error', (err) => (answered ? undefined : reject(err)))
    const chunk = Buffer.alloc(64 * 1024)
    const photoStart = Buffer.from(PNG.subarray(0, 16))
    const pieces = function* () {
      yield head
      yield fileHead('big.png')
      yield photoStart
      for (let sent = photoStart.byteLength; sent < fillBytes; sent += chunk.byteLength) yield chunk.subarray(0, Math.min(chunk.byteLength, fillBytes - sent))
      yield END
    }
    const it = pieces()
    const pump = () => {
      for (;;) {
        if (answered || req.destroyed) return
        if (abortAfter !== undefined && written >= abortAfter) {
          req.destroy()
          resolve({ status: 0, body: '', writtenAtAnswer, written, finished })
          return
        }
        const next = it.next()
        if (next.done) {
          finished = true
          req.end()
          return
        }
        written += next.value.byteLength
        if (!req.write(next.value)) return void req.once('drain', pump)
      }
    }
    pump()
  })
}

const listFiles = (root: string): string[] => {
  try {
    return readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name)
  } catch {
    return []
  }
}

/** Cleaning up after a refusal finishes as the answer goes out; wait for it with a deadline. */
async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still not the case after 5 s: ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const cases = async () => (await intake.store.listCases({ limit: 10 })).cases

describe('web form, read as it arrives', () => {
  it('refuses a 20 MB photo with 413 while it is still being sent, and reads no further', async () => {
    const sent = await upload(fields('The street light is broken'), 20 * MiB)
    expect(sent.status).toBe(413)
    expect(sent.body).toContain('is larger than 5 MB')
    // The answer came long before the client got to its end, and it never did: the connection was closed.
    expect(sent.writtenAtAnswer).toBeGreaterThan(0)
    expect(sent.writtenAtAnswer).toBeLessThan(12 * MiB)
    expect(sent.finished).toBe(false)
    expect(sent.written).toBeLessThan(20 * MiB)
    expect(await cases()).toHaveLength(0)
    expect(listFiles(blobDir)).toEqual([])
    await eventually(() => listFiles(uploadDir).length === 0 && readdirSync(uploadDir).length === 0, 'the upload folder is empty')
  })

  it('refuses a body that declares more than the form can take before reading any of it', async () => {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/channels/web/submit', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': 20 * MiB } }, resolve)
      req.on('error', reject)
      req.write(fields('big'))
    })
    res.resume()
    expect(res.statusCode).toBe(413)
    expect(res.headers.connection).toBe('close')
  })

  it('checks the text when it arrives: a text over the limit is refused before the photo behind it is read', async () => {
    const sent = await upload(fields('长'.repeat(5001)), 20 * MiB)
    expect(sent.status).toBe(400)
    expect(sent.body).toContain('Your message is too long: at most 5000 characters')
    expect(sent.finished).toBe(false)
    expect(sent.writtenAtAnswer).toBeLessThan(12 * MiB)
    expect(listFiles(blobDir)).toEqual([])
  })

  it('answers a form without any text and without a photo with 400 and says what is missing', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/channels/web/submit`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      body: Buffer.concat([fields(undefined), Buffer.from(`--${BOUNDARY}--\r\n`)]),
    })
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('Please write your message or attach at least one photo.')
    expect(await cases()).toHaveLength(0)
  })

  it('answers a malformed multipart body with 400', async () => {
    const post = (contentType: string, body: string) => fetch(`http://127.0.0.1:${port}/channels/web/submit?lang=en`, { method: 'POST', headers: { 'content-type': contentType }, body })
    // A part that never ends, a part without headers, and no boundary at all.
    const cut = await post(`multipart/form-data; boundary=${BOUNDARY}`, `--${BOUNDARY}\r\ncontent-disposition: form-data; name="text"\r\n\r\nunfinished`)
    expect(cut.status).toBe(400)
    expect(await cut.text()).toContain('We could not read the form.')
    expect((await post(`multipart/form-data; boundary=${BOUNDARY}`, `--${BOUNDARY}\r\nnot a part`)).status).toBe(400)
    expect((await post('multipart/form-data', `--${BOUNDARY}\r\n`)).status).toBe(400)
    expect(await cases()).toHaveLength(0)
  })

  it('keeps nothing of an upload the client abandons halfway, and the next citizen gets in', async () => {
    const abandoned = await upload(fields('The street light is broken'), 4 * MiB, { abortAfter: 2 * MiB })
    expect(abandoned.finished).toBe(false)
    await eventually(() => readdirSync(uploadDir).length === 0, 'the abandoned upload folder is removed')
    expect(listFiles(blobDir)).toEqual([])
    expect(await cases()).toHaveLength(0)

    // Both turns (maxConcurrentUploads: 2) are free again.
    const [a, b] = await Promise.all([0, 1].map(() => sendPhoto()))
    expect([a!.status, b!.status]).toEqual([201, 201])
    expect(await cases()).toHaveLength(2)
    expect(listFiles(blobDir)).toHaveLength(1)
    await eventually(() => readdirSync(uploadDir).length === 0, 'the stored uploads’ folders are removed')
  })

  it('stores a photo that arrived in pieces, decoded and encoded again', async () => {
    const res = await sendPhoto()
    expect(res.status).toBe(201)
    const [kase] = await cases()
    const [message] = await intake.store.listMessages(kase!.id)
    expect(message!.attachments).toMatchObject([{ filename: 'road.png', contentType: 'image/png' }])
    expect(await intake.blobs.get(message!.attachments[0]!.blobKey!)).toBeDefined()
    expect(readdirSync(uploadDir)).toEqual([])
  })
})

/** A whole submission with one real photo, sent in small pieces over one connection. */
function sendPhoto(): Promise<{ status: number }> {
  const body = Buffer.concat([fields('A pothole on Jiefang Road'), fileHead('road.png'), Buffer.from(PNG), END])
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/channels/web/submit', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` } }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }))
    })
    req.on('error', reject)
    for (let at = 0; at < body.byteLength; at += 7) req.write(body.subarray(at, at + 7))
    req.end()
  })
}
