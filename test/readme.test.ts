/**
 * Every command the README shows runs as written, against a demo started the README's way
 * (`intake start` with the demo config): the shell blocks are read out of README.md, and each is run
 * with bash against a gateway on a free port. Only the address (127.0.0.1:3000 → the test's port),
 * the example case id (CASE_ID) and the example tracking code are filled in, and `curl -s` becomes
 * `curl -sS --fail-with-body`, so an HTTP error fails the block. The first two blocks (install and
 * start, install and test) are what CI itself runs, so they are not run again here.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../bench/support/free-port.ts'
import { DEMO_DIR } from './support/gateway.ts'

const ROOT = join(import.meta.dirname, '..')
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')

/** The ```sh blocks, in order, each with the heading it sits under. */
function shellBlocks(markdown: string): Array<{ heading: string; script: string }> {
  const blocks: Array<{ heading: string; script: string }> = []
  let heading = ''
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (/^#+ /.test(line)) heading = line.replace(/^#+ /, '')
    if (line.trim() === '```sh') {
      const body: string[] = []
      for (i++; i < lines.length && lines[i]!.trim() !== '```'; i++) body.push(lines[i]!)
      blocks.push({ heading, script: body.join('\n') })
    }
  }
  return blocks
}

const blocks = shellBlocks(README)
/** Commands quoted inline in the prose (`npx --yes pnpm@10 intake …`). */
const inlineCommands = [...README.matchAll(/`(npx --yes pnpm@10 intake [^`]+)`/g)].map((m) => m[1]!)
const CLI = `${process.execPath} --import tsx ${join(ROOT, 'packages/core/src/cli/main.ts')}`

describe('the README', () => {
  it('starts with the two commands: install and start the demo, install and run the tests', () => {
    expect(blocks[0]!.script.trim()).toBe('npx --yes pnpm@10 install && npx --yes pnpm@10 start')
    expect(blocks[1]!.script.trim()).toBe('npx --yes pnpm@10 install && npx --yes pnpm@10 test')
  })

  it('lists every category id of the shipped taxonomy that a remit may name', () => {
    const taxonomy = readFileSync(join(ROOT, 'packages/routing/src/taxonomy/china-12345.yaml'), 'utf8')
    const ids = [...taxonomy.matchAll(/^- id: ([a-z0-9-]+)$/gm)].map((m) => m[1]!)
    expect(ids.length).toBeGreaterThan(10)
    const remits = README.split('\n').slice(README.split('\n').findIndex((l) => l.startsWith('- **Remits**'))).slice(0, 8).join(' ')
    expect(ids.filter((id) => !remits.includes(`\`${id}\``))).toEqual([])
  })

  it('names only `npx --yes pnpm@10` (a bare `npx pnpm` asks to install another pnpm and fails without a terminal)', () => {
    expect(README.match(/npx pnpm\b/g) ?? []).toEqual([])
  })
})

describe('every other shell block of the README runs as written against the started demo', () => {
  let child: ChildProcess
  let port: number
  let dataDir: string
  let output = ''
  const base = () => `http://127.0.0.1:${port}`

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'intake-readme-'))
    port = await freePort()
    child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'packages/core/src/cli/main.ts'), 'start', '--config', join(DEMO_DIR, 'intake.config.ts')], {
      cwd: ROOT,
      env: { ...process.env, INTAKE_DATA_DIR: dataDir, INTAKE_PORT: String(port), INTAKE_LOG_LEVEL: 'warn', INTAKE_BANNER: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout!.on('data', (d) => (output += d))
    child.stderr!.on('data', (d) => (output += d))
    const deadline = Date.now() + 30_000
    for (;;) {
      try {
        if ((await fetch(`${base()}/readyz`)).ok) break
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the demo did not start:\n${output}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }, 40_000)

  afterAll(() => {
    child?.kill('SIGTERM')
    rmSync(dataDir, { recursive: true, force: true })
  })

  /** Runs a script as the README's reader would (bash, stopping at the first failure): 0, or what went wrong. */
  const bash = (script: string) =>
    promisify(execFile)('bash', ['-e', '-o', 'pipefail', '-c', script], {
      cwd: ROOT,
      env: { ...process.env, INTAKE_DATA_DIR: dataDir, INTAKE_LOG_LEVEL: 'warn', INTAKE_BANNER: '0' },
      timeout: 60_000,
    }).then(
      () => 0,
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
    )

  /** A case made through the web form, so the blocks have a real id and tracking code to fill in. */
  async function aCase(): Promise<{ id: string; trackingCode: string }> {
    const form = new FormData()
    form.set('submission', `readme-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`)
    form.set('text', '伽师县巴仁镇的路灯坏了一个月了')
    const res = await fetch(`${base()}/channels/web/submit`, { method: 'POST', body: form })
    expect(res.status).toBe(201)
    // The code's own element: the page's header also carries the hotline number (0998-12345).
    const code = /class="code"[^>]*>\s*([0-9A-Z]{4}-[0-9A-Z]{4})/.exec(await res.text())![1]!
    const found = await fetch(`${base()}/api/v1/cases/by-tracking-code/${code}`, { headers: { 'x-api-key': 'demo-api-key-change-me' } })
    const json = (await found.json()) as { case?: { id: string }; id?: string }
    return { id: json.case?.id ?? json.id!, trackingCode: code }
  }

  for (const [index, block] of blocks.entries()) {
    if (index < 2) continue
    it(`block ${index + 1} (under "${block.heading}")`, async () => {
      const kase = await aCase()
      const script = block.script
        .replaceAll('http://127.0.0.1:3000', base())
        .replaceAll('CASE_ID', kase.id)
        .replaceAll('K7F3-9Q28', kase.trackingCode)
        .replace(/\bcurl -s\b/g, 'curl -sS --fail-with-body')
        .replaceAll('npx --yes pnpm@10 intake', CLI)
      expect(await bash(script)).toBe(0)
    }, 90_000)
  }

  for (const command of inlineCommands) {
    it(`inline: ${command.slice(0, 90)}`, async () => {
      // `npx --yes pnpm@10 intake` is the root package's script: the CLI run with tsx from the root.
      expect(await bash(command.replace('npx --yes pnpm@10 intake', CLI))).toBe(0)
    }, 90_000)
  }
})
