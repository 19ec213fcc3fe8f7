import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../config/index.ts'
import { describeCliFailure } from './cli-error.ts'

const root = fileURLToPath(new URL('../../../../', import.meta.url))
const cli = (...args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', join(root, 'packages/core/src/cli/main.ts'), ...args], { cwd: root }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  )

describe('the command line says what went wrong in one line, with no stack trace unless asked', () => {
  it('a missing config file: exit 2, where it looked and what to pass', async () => {
    const { code, stderr } = await cli('migrate', '--config', 'no-such.config.ts')
    expect(code).toBe(2)
    expect(stderr.trim()).toBe('intake: no config file at no-such.config.ts — pass --config path/to/intake.config.ts (the demo\'s is examples/county-hotline/intake.config.ts)')
  }, 30_000)

  it('a mistyped flag: exit 2, naming it; --debug adds the stack', async () => {
    const plain = await cli('start', '--confg', 'x.ts')
    expect(plain.code).toBe(2)
    expect(plain.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^intake: Unknown option '--confg' — run `intake help`/)])
    const debug = await cli('start', '--confg', 'x.ts', '--debug')
    expect(debug.stderr).toMatch(/\n\s+at /)
  }, 30_000)

  it('a bad option of a store or plugin, an invalid config, and an unexpected failure', () => {
    const option = describeCliFailure(new Error('[sqlite store] writer: "thread" needs a file, not :memory:'), { configFile: 'intake.config.ts' })
    expect(option).toEqual({ exitCode: 2, lines: ['intake: [sqlite store] writer: "thread" needs a file, not :memory: (in intake.config.ts)'] })
    const config = describeCliFailure(new ConfigError(['offices.yaml: offices[2] (jiashi-labour): unknown key "parentID"']), { configFile: 'intake.config.ts' })
    expect(config).toEqual({ exitCode: 2, lines: ['intake: invalid configuration in intake.config.ts: offices.yaml: offices[2] (jiashi-labour): unknown key "parentID"'] })
    const crash = describeCliFailure(new TypeError('x is not a function'))
    expect(crash.exitCode).toBe(1)
    expect(crash.lines).toEqual(['intake: x is not a function', '(run again with --debug for the stack trace)'])
  })
})
