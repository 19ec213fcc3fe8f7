/**
 * Resident memory of the gateway while N citizens upload maximum-size web forms at once (three
 * photos of just under 5 MiB each, real PNGs). The same run measures the gateway with the default
 * bound on uploads read at once (8) and with it lifted (1000), so the figure has its baseline beside
 * it. Peak resident memory is the kernel's VmHWM for the gateway process.
 *
 *   npx tsx bench/uploads/run.ts [--uploads 200] [--variants bounded,unbounded]
 */
import { request } from 'node:http'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { importFromWorkspace } from '../support/workspace-deps.ts'
import { describeMachine, formatTable, freePort, parseVariants, resultFilePath, resultStamp, startGateway, stopChild, waitForHttpOk, writeResultFile } from '../support/harness.ts'

type Sharp = typeof import('../../packages/core/node_modules/sharp/lib/index.d.ts')
const { default: sharp } = await importFromWorkspace<{ default: Sharp }>('core', 'sharp')

const { values } = parseArgs({ options: { uploads: { type: 'string', default: '200' }, variants: { type: 'string', default: 'bounded,unbounded' } } })
const uploads = Number(values.uploads)
const VARIANTS = { bounded: 8, unbounded: 1000 } as const
const variants = parseVariants(values.variants!, Object.keys(VARIANTS), 'bench/uploads') as Array<keyof typeof VARIANTS>

const kib = (pid: number, field: 'VmRSS' | 'VmHWM') => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN)

/** A noisy PNG of just under 5 MiB (noise does not compress), the web form's largest photo. */
async function maxPhoto(): Promise<Buffer> {
  let side = 1290
  for (;;) {
    const png = await sharp({ create: { width: side, height: side, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).png({ compressionLevel: 1 }).toBuffer()
    if (png.byteLength < 5 * 1024 * 1024) return png
    side -= 20
  }
}

function upload(port: number, n: number, photo: Buffer): Promise<number> {
  const boundary = `----intakebench${n}`
  const field = (name: string, value: string) => `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
  const head = Buffer.from(field('submission', `bench-upload-${String(n).padStart(8, '0')}-${Date.now()}`) + field('lang', 'zh-CN') + field('text', `伽师县巴仁镇的路灯坏了（上传 ${n}）`))
  const part = (i: number) => Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="photos"; filename="photo-${i}.png"\r\ncontent-type: image/png\r\n\r\n`)
  const tail = Buffer.from(`--${boundary}--\r\n`)
  const crlf = Buffer.from('\r\n')
  const chunks = [head, part(1), photo, crlf, part(2), photo, crlf, part(3), photo, crlf, tail]
  const length = chunks.reduce((s, c) => s + c.byteLength, 0)
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/channels/web/submit', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': length } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    // A 503 is answered before the body is read and the connection closed: the rest of our writes
    // then fail with EPIPE on the socket, which is expected, not a bench error.
    req.on('socket', (socket) => socket.on('error', () => {}))
    req.on('error', () => resolve(0))
    // The same photo buffer for every upload: the bench process holds one copy, not two hundred.
    for (const c of chunks) req.write(c)
    req.end()
  })
}

const photo = await maxPhoto()
const rows: string[][] = []
const results: Record<string, unknown> = {}
const dir = mkdtempSync(join(tmpdir(), 'intake-bench-uploads-'))
for (const variant of variants) {
  const port = await freePort()
  const gateway = startGateway({ name: `gateway-${variant}`, config: join(import.meta.dirname, 'intake.config.ts'), env: { INTAKE_PORT: String(port), INTAKE_DATA_DIR: join(dir, variant), BENCH_MAX_UPLOADS: String(VARIANTS[variant]) }, logDir: dir })
  // The national place index takes a while to load on a busy machine.
  await waitForHttpOk(`http://127.0.0.1:${port}/readyz`, gateway, 'bench/uploads', 180_000)
  const pid = gateway.proc.pid!
  const idle = kib(pid, 'VmRSS')
  const started = performance.now()
  const statuses = await Promise.all(Array.from({ length: uploads }, (_, n) => upload(port, n, photo)))
  const seconds = (performance.now() - started) / 1000
  const peak = kib(pid, 'VmHWM')
  await stopChild(gateway)
  const count = (s: number) => statuses.filter((x) => x === s).length
  // Anything but 201 and 503, by status (0: the connection failed before an answer).
  const otherStatuses = Object.fromEntries([...new Set(statuses.filter((s) => s !== 201 && s !== 503))].map((s) => [s, count(s)]))
  results[variant] = { bound: VARIANTS[variant], idleKiB: idle, peakKiB: peak, seconds, created: count(201), busy: count(503), other: uploads - count(201) - count(503), otherStatuses }
  rows.push([variant, String(VARIANTS[variant]), (idle / 1024).toFixed(0), (peak / 1024).toFixed(0), String(count(201)), String(count(503)), String(uploads - count(201) - count(503)), seconds.toFixed(1)])
}
console.log(`${uploads} concurrent web-form uploads of 3 × ${(photo.byteLength / 1024 / 1024).toFixed(2)} MiB PNG`)
console.log(formatTable(['variant', 'read at once', 'idle RSS MiB', 'peak RSS MiB', '201', '503', 'other', 'seconds'], rows))
for (const [variant, r] of Object.entries(results)) {
  const other = (r as { otherStatuses: Record<string, number> }).otherStatuses
  if (Object.keys(other).length) console.log(`${variant}: other answers by status ${JSON.stringify(other)}`)
}
const file = resultFilePath('uploads', resultStamp())
writeResultFile(file, { machine: describeMachine(), uploads, photoBytes: photo.byteLength, results })
console.log(`results: ${file}`)
