import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'

const dir = mkdtempSync(join(tmpdir(), 'intake-worker-flags-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const thread = join(dir, 'thread.mjs')
writeFileSync(thread, "import { parentPort } from 'node:worker_threads'\nparentPort.postMessage(process.execArgv)\n")
const helper = pathToFileURL(join(import.meta.dirname, 'worker-with-process-flags.ts')).href

/** Runs a main script given with -e (so --input-type applies) under `flags`; it prints the worker's flags. */
async function workerFlagsUnder(flags: string[]): Promise<string[]> {
  const script = [
    `const { workerWithProcessFlags } = await import(${JSON.stringify(helper)})`,
    `const w = workerWithProcessFlags(new URL(${JSON.stringify(pathToFileURL(thread).href)}))`,
    "w.once('message', (argv) => { console.log(JSON.stringify(argv)); w.terminate() })",
    "w.once('error', (error) => { console.log(JSON.stringify({ error: error.code })); process.exitCode = 1 })",
  ].join('\n')
  const { stdout } = await promisify(execFile)(process.execPath, [...flags, '--import', 'tsx', '--input-type=module', '-e', script])
  return JSON.parse(stdout.trim()) as string[]
}

describe('workerWithProcessFlags', () => {
  it('starts a thread in a process run with V8 flags and --input-type, keeping the flags a worker accepts', async () => {
    const argv = await workerFlagsUnder(['--max-semi-space-size=32', '--stack-size=2000', '--trace-deprecation'])
    expect(argv).toContain('--trace-deprecation')
    expect(argv).toContain('--import')
    expect(argv.some((a) => a.startsWith('--max-semi-space-size') || a.startsWith('--stack-size') || a.startsWith('--input-type'))).toBe(false)
  })
})
