/**
 * The kit proves itself: it runs against a sound sample channel (every case passes) and against
 * deliberately broken ones (proof/*.kit.ts), and each flaw must fail exactly the case meant to catch it.
 * The runs happen in a child vitest, because a kit case that fails is what is being asserted.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

interface Assertion {
  title: string
  fullName: string
  status: 'passed' | 'failed' | 'skipped' | 'pending'
  failureMessages: string[]
}
interface Report {
  testResults: Array<{ name: string; message: string; assertionResults: Assertion[] }>
}

const proof = join(import.meta.dirname, 'proof')
const out = mkdtempSync(join(tmpdir(), 'intake-kit-proof-'))
let report: Report

beforeAll(async () => {
  const vitest = join(createRequire(import.meta.url).resolve('vitest/package.json'), '..', 'vitest.mjs')
  const file = join(out, 'report.json')
  await new Promise<void>((resolve, reject) => {
    // Exits 1 because the broken adapters fail; the report is what counts.
    execFile(process.execPath, [vitest, 'run', '--config', join(proof, 'vitest.config.ts'), '--reporter=json', `--outputFile=${file}`], { timeout: 120_000 }, (err) =>
      err && err.killed ? reject(err) : resolve(),
    )
  })
  report = JSON.parse(readFileSync(file, 'utf8')) as Report
}, 150_000)
afterAll(() => rmSync(out, { recursive: true, force: true }))

const results = (flaw: string) => {
  const file = report.testResults.find((r) => r.name.endsWith(`/${flaw}.kit.ts`))
  expect(file, `${flaw}.kit.ts ran`).toBeDefined()
  expect(file!.message, 'the file loaded').toBe('')
  return file!.assertionResults
}
const failed = (flaw: string) => results(flaw).filter((a) => a.status === 'failed')

describe('channel kit, run against a sample channel', () => {
  it('passes a sound adapter in every case, the adapter built after each case arranged the provider', () => {
    const all = results('sound')
    expect(all.length).toBeGreaterThan(10)
    expect(all.filter((a) => a.status !== 'passed').map((a) => a.title)).toEqual([])
    expect(all.map((a) => a.title)).toEqual(
      expect.arrayContaining([
        'returns a retryable connection error, never a throw, when the provider is unreachable: refused',
        'returns a retryable connection error, never a throw, when the provider is unreachable: reset',
        'returns a retryable connection error, never a throw, when the provider is unreachable: stalled',
        'delivers the acknowledgement through send to the provider and records it as sent',
        'never logs a secret, in any case above',
        'built the adapter after the case arranged the provider',
      ]),
    )
  })

  it('fails a send that throws on a network error, in each unreachable case', () => {
    const cases = failed('throws')
    expect(cases.map((a) => a.title).sort()).toEqual([
      'returns a retryable connection error, never a throw, when the provider is unreachable: refused',
      'returns a retryable connection error, never a throw, when the provider is unreachable: reset',
      'returns a retryable connection error, never a throw, when the provider is unreachable: stalled',
    ])
    for (const c of cases) expect(c.failureMessages.join('\n')).toMatch(/send threw instead of returning a classified error/)
  })

  it('fails a secret logged late, in a single case, naming that case', () => {
    const cases = failed('leaks')
    expect(cases.map((a) => a.title)).toEqual(['never logs a secret, in any case above'])
    expect(cases[0]!.failureMessages.join('\n')).toMatch(/classifies a send error: provider answers 429/)
    // The case that logged it passed on its own: the line arrived after its assertions.
    expect(results('leaks').find((a) => a.title.startsWith('classifies a send error: provider answers 429'))?.status).toBe('passed')
  })

  it('fails an acknowledgement that never reaches the provider', () => {
    const cases = failed('never-sends')
    const e2e = cases.find((a) => a.title === 'delivers the acknowledgement through send to the provider and records it as sent')
    expect(e2e, 'the end-to-end case failed').toBeDefined()
    expect(e2e!.failureMessages.join('\n')).toMatch(/reached the provider/)
  })
})
