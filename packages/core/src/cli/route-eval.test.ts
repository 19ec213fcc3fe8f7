import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import type { RoutingStrategy } from '../contracts/routing.ts'
import { Office } from '../model/index.ts'
import { buildOfficeDirectory } from '../offices/index.ts'
import { EvalFileError, parseCsv, routeEvalCommand, type EvalReport } from './route-eval.ts'

const dir = mkdtempSync(join(tmpdir(), 'route-eval-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const csvFile = (name: string, text: string) => {
  const file = join(dir, name)
  writeFileSync(file, text)
  return file
}

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks (RFC 4180), CRLF or LF, and drops a BOM', () => {
    const text = '\ufefftext,place\r\n"路灯坏了，""很久""了",伽师县\r\n"two\nlines, one field",\nplain,"x"\n\n'
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['text', 'place'] },
      { line: 2, fields: ['路灯坏了，"很久"了', '伽师县'] },
      { line: 3, fields: ['two\nlines, one field', ''] },
      { line: 5, fields: ['plain', 'x'] },
    ])
  })

  it('keeps an empty quoted field as a record', () => {
    expect(parseCsv('a\n""\n')).toEqual([
      { line: 1, fields: ['a'] },
      { line: 2, fields: [''] },
    ])
  })

  it.each([
    ['a quote never closed', 'text\n"open,\nstill open', /line 2: a quoted field is never closed/],
    ['text after a closing quote', 'text\n"a"b,c', /line 2: text after the closing quote/],
  ])('refuses %s, naming the line', (_title, text, message) => {
    expect(() => parseCsv(text)).toThrow(EvalFileError)
    expect(() => parseCsv(text)).toThrow(message)
  })
})

// A small deployment: a city with a roads department and a water department, and an intake desk.
const offices = buildOfficeDirectory([
  Office.parse({ id: 'city', name: 'Springfield', jurisdiction: { places: [{ name: 'Springfield' }] } }),
  Office.parse({ id: 'desk', name: 'Springfield 311', parentId: 'city', intakeDesk: true }),
  Office.parse({ id: 'roads', name: 'Roads', parentId: 'city', remit: ['roads'] }),
  Office.parse({ id: 'water', name: 'Water', parentId: 'city', remit: ['water'] }),
])
const urgency: RoutingStrategy = async function byUrgency(draft) {
  return /flood/i.test(draft.text) ? { officeId: '', strategy: 'urgency', reason: 'flood', confidence: 0.9, urgency: 'urgent' } : undefined
}
const words: RoutingStrategy = async function byWords(draft) {
  if (/pothole|street light/i.test(draft.text)) return { officeId: 'roads', strategy: 'words', reason: 'roads word', confidence: 0.8, category: 'roads' }
  if (/water|flood/i.test(draft.text)) return { officeId: 'water', strategy: 'words', reason: 'water word', confidence: 0.8, category: 'water' }
  return undefined
}
const broken: RoutingStrategy = async function byBrokenModel() {
  throw new Error('model offline')
}
const routing = [urgency, broken, words]

const EVAL = `text,place,expected_office,expected_category,group,source
"Pothole on Main St, big one",,roads,roads,street,line 1 of a log
Street light out on Elm,Springfield,roads,roads,street,
"Water main break,
flooding the road",,water,water,street,
No water since morning,,water,water,home,
"My neighbour's dog barks all night",,desk,,home,
Flooded basement after the storm,,roads,roads,home,
`

async function run(args: { file: string | undefined; json?: boolean }) {
  const out: string[] = []
  const err: string[] = []
  const code = await routeEvalCommand({ ...args, routing, offices, out: (t) => void out.push(t), err: (t) => void err.push(t) })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

describe('intake route-eval', () => {
  it('prints accuracy, per-office precision and recall, confusions, and who decided', async () => {
    const { code, out, err } = await run({ file: csvFile('eval.csv', EVAL) })
    expect(code).toBe(0)
    const lines = out.split('\n')
    expect(lines[0]).toBe('route-eval: 6 messages from eval.csv')
    expect(lines[1]).toBe('chain: byUrgency → byBrokenModel → byWords')
    expect(out).toMatch(/^office accuracy\s+5\/6\s+83\.3%$/m)
    expect(out).toMatch(/^category accuracy\s+4\/5\s+80\.0%$/m)
    expect(out).toMatch(/^ {2}home\s+2\/3\s+66\.7%$/m)
    expect(out).toMatch(/^ {2}street\s+3\/3\s+100\.0%$/m)
    // roads: 3 expected, 2 routed there, both right; water: 2 expected, 3 routed, 2 right.
    expect(out).toMatch(/^ {2}roads\s+3\s+2\s+100\.0%\s+66\.7%$/m)
    expect(out).toMatch(/^ {2}water\s+2\s+3\s+66\.7%\s+100\.0%$/m)
    expect(out).toMatch(/^ {2}desk\s+1\s+1\s+100\.0%\s+100\.0%$/m)
    expect(out).toMatch(/^top confusions \(expected → routed\)\n\s+1 {2}roads → water$/m)
    expect(out).toMatch(/^decided by\n {2}words\s+5\s+83\.3%\n {2}intake-desk\s+1\s+16\.7%$/m)
    expect(out).toMatch(/^passed on a category or urgency\n {2}urgency\s+2\s+33\.3%$/m)
    expect(out).toMatch(/^strategies that failed\n {2}byBrokenModel\s+6\s+100\.0%$/m)
    expect(out).toContain('line 8: office roads → water, category roads → water (words) "Flooded basement after the storm"')
    // The chain's warnings went to stderr, not into the report.
    expect(err).toContain('model offline')
    expect(out).not.toContain('model offline')
  })

  it('prints the same figures as JSON with --json', async () => {
    const { code, out } = await run({ file: csvFile('eval.csv', EVAL), json: true })
    expect(code).toBe(0)
    const report = JSON.parse(out) as EvalReport
    expect(report.office).toEqual({ correct: 5, total: 6, accuracy: 5 / 6 })
    expect(report.category).toEqual({ correct: 4, total: 5, accuracy: 0.8 })
    expect(report.groups.home?.office).toEqual({ correct: 2, total: 3, accuracy: 2 / 3 })
    expect(report.offices.find((o) => o.officeId === 'water')).toEqual({ officeId: 'water', expected: 2, routed: 3, correct: 2, precision: 2 / 3, recall: 1 })
    expect(report.confusions).toEqual([{ expected: 'roads', routed: 'water', count: 1 }])
    expect(report.decidedBy).toEqual({ words: 5, 'intake-desk': 1 })
    expect(report.passedOn).toEqual({ urgency: 2 })
    expect(report.misses.map((m) => m.line)).toEqual([8])
    expect(report.misses[0]).toMatchObject({ text: 'Flooded basement after the storm', routedOffice: 'water', strategy: 'words', reason: 'water word' })
  })

  it('reads the place column as the form’s place field', async () => {
    const seen: (string | undefined)[] = []
    const spy: RoutingStrategy = async function spy(draft) {
      seen.push(draft.place?.text)
      return undefined
    }
    await routeEvalCommand({ file: csvFile('place.csv', EVAL), routing: [spy], offices, out: () => {}, err: () => {} })
    expect(seen).toEqual([undefined, 'Springfield', undefined, undefined, undefined, undefined])
  })

  it.each<[string, string | undefined, number, RegExp]>([
    ['no file', undefined, 2, /needs a CSV file/],
    ['a file that does not exist', join(dir, 'missing.csv'), 1, /cannot read .*missing\.csv/],
    ['no text column', 'message,expected_office\nhi,desk\n', 1, /no "text" column/],
    ['nothing expected', 'text,place\nhi,\n', 1, /no "expected_office" or "expected_category" column/],
    ['an office the config lacks', 'text,expected_office\nhi,atlantis\n', 1, /line 2: expected office "atlantis" is not in the configured offices/],
    ['a row without its fields', 'text,expected_office\nhi\n', 1, /line 2: 1 fields, but the header has 2/],
    ['a row expecting nothing', 'text,expected_office,expected_category\nhi,,\n', 1, /line 2: neither expected_office nor expected_category/],
    ['an unclosed quote', 'text,expected_office\n"hi,desk\n', 1, /line 2: a quoted field is never closed/],
  ])('fails clearly on %s', async (_title, content, code, message) => {
    const file = content === undefined || content.startsWith('/') ? content : csvFile(`bad-${code}-${Math.abs(hash(content))}.csv`, content)
    const result = await run({ file })
    expect(result.code).toBe(code)
    expect(result.err).toMatch(message)
    expect(result.out).toBe('')
  })
})

function hash(text: string): number {
  let h = 0
  for (const ch of text) h = (h * 31 + ch.charCodeAt(0)) | 0
  return h
}

describe('intake route-eval from the command line', () => {
  it('runs the chain of a config file (the county-hotline demo) and prints JSON', async () => {
    const root = fileURLToPath(new URL('../../../../', import.meta.url))
    const file = csvFile(
      'demo.csv',
      'text,place,expected_office\n伽师县巴仁镇的路灯坏了一个月了,,jiashi-bairen\n老板拖欠工资三个月,疏勒县,shule-labour\n你好,,kashgar-hotline\n',
    )
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(root, 'packages/core/src/cli/main.ts'), 'route-eval', file, '--config', join(root, 'examples/county-hotline/intake.config.ts'), '--json'],
      { cwd: root, env: { ...process.env, INTAKE_DATA_DIR: join(dir, 'data') } },
    )
    const report = JSON.parse(stdout) as EvalReport
    expect(report.messages).toBe(3)
    expect(report.office).toEqual({ correct: 3, total: 3, accuracy: 1 })
    expect(report.chain).toContain('byJurisdiction')
  }, 60_000)
})
