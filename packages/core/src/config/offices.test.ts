import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadOffices } from './index.ts'

const demoDir = fileURLToPath(new URL('../../../../examples/county-hotline/', import.meta.url))

function problemsOf(fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  throw new Error('expected a ConfigError')
}

describe('offices file', () => {
  it('refuses a mistyped key instead of dropping it, naming the file, the office and the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'intake-offices-'))
    writeFileSync(
      join(dir, 'offices.yaml'),
      [
        '- id: county',
        '  name: 某县人民政府',
        '  intakeDesk: true',
        '- id: county-labour',
        '  name: 某县人社局',
        '  parentID: county',
        '  remit: [labour]',
        '- id: county-police',
        '  name: 某县公安局',
        '  parentId: county',
        '  contact: { email: police@county.example, fax: "0998-1234567" }',
      ].join('\n'),
    )
    expect(problemsOf(() => loadOffices('offices.yaml', dir))).toEqual([
      'offices.yaml: offices[1] (county-labour): unknown key "parentID" (did you mean "parentId"?)',
      'offices.yaml: offices[2] (county-police).contact: unknown key "fax"',
    ])
  })

  it('loads the demo offices as they are', () => {
    const offices = loadOffices('offices.yaml', demoDir)
    expect(offices.length).toBeGreaterThan(10)
    expect(offices.filter((o) => o.intakeDesk)).toHaveLength(1)
  })
})
