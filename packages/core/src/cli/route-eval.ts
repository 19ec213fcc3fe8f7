import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import type { CaseDraft, RoutingStrategy } from '../contracts/routing.ts'
import { createLogger, type Logger, type LogLevel } from '../log/index.ts'
import type { OfficeDirectory } from '../offices/index.ts'
import { runRoutingChain } from '../routing-chain/index.ts'

/**
 * `intake route-eval FILE.csv`: runs the configured routing chain over a labelled CSV and says how
 * well it routes. Columns (a header row names them; others are ignored):
 *   text               the message (required)
 *   place              the place field of a form (optional)
 *   expected_office    the office it should reach
 *   expected_category  the category it should get (at least one of the two expected_ columns)
 *   subject, channel, to, lat, lon   optional, as a channel would fill them
 *   group              optional: figures per group as well (e.g. "names-place", "no-place")
 */

/** A CSV file that cannot be read as an evaluation set; the message names the line. */
export class EvalFileError extends Error {
  readonly code = 'route_eval_file_invalid'
  constructor(message: string) {
    super(`[route-eval] ${message}`)
    this.name = 'EvalFileError'
  }
}

/**
 * CSV as RFC 4180 writes it: fields separated by commas, records by CRLF or LF; a field in double
 * quotes may hold commas, line breaks and quotes written twice (""). A leading byte order mark is
 * dropped (spreadsheets save one). Returns the records with the line each starts on.
 */
export function parseCsv(input: string): { line: number; fields: string[] }[] {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input
  const records: { line: number; fields: string[] }[] = []
  let fields: string[] = []
  let field = ''
  let line = 1
  let recordLine = 1
  let i = 0
  let quotedFieldEnded = false
  const endRecord = () => {
    fields.push(field)
    // A blank line is no record (a file often ends with one).
    if (!(fields.length === 1 && fields[0] === '' && !quotedFieldEnded)) records.push({ line: recordLine, fields })
    fields = []
    field = ''
    quotedFieldEnded = false
  }
  while (i < text.length) {
    const ch = text[i]!
    if (ch === '"' && field === '' && !quotedFieldEnded) {
      const start = line
      i++
      for (;;) {
        if (i >= text.length) throw new EvalFileError(`line ${start}: a quoted field is never closed`)
        const c = text[i]!
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"'
            i += 2
            continue
          }
          i++
          break
        }
        if (c === '\n') line++
        field += c
        i++
      }
      quotedFieldEnded = true
      const next = text[i]
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new EvalFileError(`line ${line}: text after the closing quote of a field`)
      }
      continue
    }
    if (ch === ',') {
      fields.push(field)
      field = ''
      quotedFieldEnded = false
      i++
      continue
    }
    if (ch === '\r' || ch === '\n') {
      endRecord()
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1
      line++
      recordLine = line
      continue
    }
    if (quotedFieldEnded) throw new EvalFileError(`line ${line}: text after the closing quote of a field`)
    field += ch
    i++
  }
  if (field !== '' || fields.length > 0 || quotedFieldEnded) endRecord()
  return records
}

export interface EvalRow {
  line: number
  text: string
  subject?: string
  place?: string
  lat?: number
  lon?: number
  channel?: string
  to?: string
  expectedOffice?: string
  expectedCategory?: string
  group?: string
}

/** The rows of a labelled CSV, checked: a text, something expected, offices the directory has. */
export function readEvalRows(csv: string, offices: OfficeDirectory): EvalRow[] {
  const [header, ...records] = parseCsv(csv)
  if (!header) throw new EvalFileError('the file is empty')
  const columns = header.fields.map((f) => f.trim().toLowerCase())
  const at = (name: string) => columns.indexOf(name)
  if (at('text') === -1) throw new EvalFileError(`no "text" column (columns: ${columns.join(', ')})`)
  if (at('expected_office') === -1 && at('expected_category') === -1) {
    throw new EvalFileError('no "expected_office" or "expected_category" column: nothing to compare with')
  }
  const rows: EvalRow[] = []
  for (const { line, fields } of records) {
    if (fields.length !== columns.length) {
      throw new EvalFileError(`line ${line}: ${fields.length} fields, but the header has ${columns.length}`)
    }
    const get = (name: string) => {
      const i = at(name)
      const value = i === -1 ? '' : fields[i]!.trim()
      return value === '' ? undefined : value
    }
    const number = (name: string) => {
      const value = get(name)
      if (value === undefined) return undefined
      const n = Number(value)
      if (!Number.isFinite(n)) throw new EvalFileError(`line ${line}: ${name} "${value}" is not a number`)
      return n
    }
    const row: EvalRow = {
      line,
      // Line breaks inside a quoted text stay; only the ends are trimmed.
      text: fields[at('text')]!.trim(),
      subject: get('subject'),
      place: get('place'),
      lat: number('lat'),
      lon: number('lon'),
      channel: get('channel'),
      to: get('to'),
      expectedOffice: get('expected_office'),
      expectedCategory: get('expected_category'),
      group: get('group'),
    }
    if (row.text === '') throw new EvalFileError(`line ${line}: the text is empty`)
    if (row.expectedOffice === undefined && row.expectedCategory === undefined) {
      throw new EvalFileError(`line ${line}: neither expected_office nor expected_category is given`)
    }
    if (row.expectedOffice !== undefined && !offices.get(row.expectedOffice)) {
      throw new EvalFileError(`line ${line}: expected office "${row.expectedOffice}" is not in the configured offices`)
    }
    rows.push(row)
  }
  if (rows.length === 0) throw new EvalFileError('the file has a header but no rows')
  return rows
}

export interface Score {
  correct: number
  total: number
  /** correct / total, 0 when total is 0. */
  accuracy: number
}

export interface OfficeScore {
  officeId: string
  /** Rows expecting it. */
  expected: number
  /** Rows (with an expected office) routed to it. */
  routed: number
  correct: number
  /** correct / routed; null when nothing was routed to it. */
  precision: number | null
  /** correct / expected; null when nothing expected it. */
  recall: number | null
}

export interface EvalOutcome {
  line: number
  text: string
  group?: string
  expectedOffice?: string
  routedOffice: string
  expectedCategory?: string
  routedCategory?: string
  strategy: string
  confidence: number
  reason: string
}

export interface EvalReport {
  file: string
  messages: number
  chain: string[]
  office: Score
  category: Score
  groups: Record<string, { office: Score; category: Score }>
  offices: OfficeScore[]
  /** Expected → routed pairs that differ, most frequent first. */
  confusions: { expected: string; routed: string; count: number }[]
  /** How often each strategy made the final decision. */
  decidedBy: Record<string, number>
  /** How often each strategy passed a category or urgency on (office ''). */
  passedOn: Record<string, number>
  /** Strategies that threw, by name. */
  errors: Record<string, number>
  misses: EvalOutcome[]
  ms: number
}

const score = (correct: number, total: number): Score => ({ correct, total, accuracy: total === 0 ? 0 : correct / total })
const bump = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1
}

/** Runs the chain over the rows, as the pipeline would for new cases (no earlier cases exist). */
export async function evaluateRouting(
  rows: readonly EvalRow[],
  { routing, offices, log, file = 'eval.csv', now = Date.now }: { routing: readonly RoutingStrategy[]; offices: OfficeDirectory; log: Logger; file?: string; now?: () => number },
): Promise<EvalReport> {
  const started = performance.now()
  const outcomes: EvalOutcome[] = []
  const decidedBy: Record<string, number> = {}
  const passedOn: Record<string, number> = {}
  const errors: Record<string, number> = {}
  const ctx = { offices, log, now, cases: { byTrackingCode: async () => undefined } }
  for (const row of rows) {
    const channelId = row.channel ?? 'route-eval'
    const place = row.place !== undefined || row.lat !== undefined ? { text: row.place, lat: row.lat, lon: row.lon } : undefined
    const draft: CaseDraft = { text: row.text, subject: row.subject, place, channelId, to: row.to, from: { channelId, id: 'route-eval' } }
    const { decision, trail } = await runRoutingChain(routing, draft, ctx)
    bump(decidedBy, decision.strategy)
    for (const attempt of trail) {
      if (attempt.error !== undefined && attempt.decision === undefined) bump(errors, attempt.strategy)
      if (attempt.decision?.officeId === '') bump(passedOn, attempt.decision.strategy)
    }
    outcomes.push({
      line: row.line,
      text: row.text,
      group: row.group,
      expectedOffice: row.expectedOffice,
      routedOffice: decision.officeId,
      expectedCategory: row.expectedCategory,
      routedCategory: decision.category,
      strategy: decision.strategy,
      confidence: decision.confidence,
      reason: decision.reason,
    })
  }

  const withOffice = outcomes.filter((o) => o.expectedOffice !== undefined)
  const withCategory = outcomes.filter((o) => o.expectedCategory !== undefined)
  const officeRight = (o: EvalOutcome) => o.routedOffice === o.expectedOffice
  const categoryRight = (o: EvalOutcome) => o.routedCategory === o.expectedCategory
  const groups: EvalReport['groups'] = {}
  for (const name of [...new Set(outcomes.map((o) => o.group).filter((g) => g !== undefined))].sort()) {
    const members = outcomes.filter((o) => o.group === name)
    const o = members.filter((m) => m.expectedOffice !== undefined)
    const c = members.filter((m) => m.expectedCategory !== undefined)
    groups[name] = { office: score(o.filter(officeRight).length, o.length), category: score(c.filter(categoryRight).length, c.length) }
  }
  const ids = [...new Set(withOffice.flatMap((o) => [o.expectedOffice!, o.routedOffice]))]
  const officeScores = ids
    .map((officeId): OfficeScore => {
      const expected = withOffice.filter((o) => o.expectedOffice === officeId).length
      const routed = withOffice.filter((o) => o.routedOffice === officeId).length
      const correct = withOffice.filter((o) => o.expectedOffice === officeId && officeRight(o)).length
      return { officeId, expected, routed, correct, precision: routed === 0 ? null : correct / routed, recall: expected === 0 ? null : correct / expected }
    })
    .sort((a, b) => b.expected - a.expected || b.routed - a.routed || a.officeId.localeCompare(b.officeId))
  const pairs = new Map<string, { expected: string; routed: string; count: number }>()
  for (const o of withOffice) {
    if (officeRight(o)) continue
    const k = `${o.expectedOffice}\u0000${o.routedOffice}`
    const entry = pairs.get(k) ?? { expected: o.expectedOffice!, routed: o.routedOffice, count: 0 }
    entry.count++
    pairs.set(k, entry)
  }
  return {
    file,
    messages: outcomes.length,
    chain: routing.map((s) => s.name || 'anonymous'),
    office: score(withOffice.filter(officeRight).length, withOffice.length),
    category: score(withCategory.filter(categoryRight).length, withCategory.length),
    groups,
    offices: officeScores,
    confusions: [...pairs.values()].sort((a, b) => b.count - a.count || a.expected.localeCompare(b.expected) || a.routed.localeCompare(b.routed)),
    decidedBy,
    passedOn,
    errors,
    misses: outcomes.filter((o) => (o.expectedOffice !== undefined && !officeRight(o)) || (o.expectedCategory !== undefined && !categoryRight(o))),
    ms: Math.round(performance.now() - started),
  }
}

const percent = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`)
const scoreLine = (label: string, s: Score, width: number) =>
  `${label.padEnd(width)} ${`${s.correct}/${s.total}`.padStart(9)}  ${percent(s.accuracy).padStart(6)}`
const clip = (text: string, n: number) => {
  const flat = text.replace(/\s+/g, ' ')
  return [...flat].length > n ? `${[...flat].slice(0, n).join('')}…` : flat
}

/** The report as a person reads it in a terminal. */
export function formatEvalReport(report: EvalReport, { misses = 10, confusions = 10 } = {}): string {
  const out: string[] = []
  out.push(`route-eval: ${report.messages} messages from ${report.file}`)
  out.push(`chain: ${report.chain.join(' → ')}`)
  out.push('')
  if (report.office.total > 0) out.push(scoreLine('office accuracy', report.office, 20))
  if (report.category.total > 0) out.push(scoreLine('category accuracy', report.category, 20))
  const groups = Object.entries(report.groups)
  if (groups.length > 0) {
    out.push('', 'by group (office)')
    for (const [name, g] of groups) {
      if (g.office.total > 0) out.push(scoreLine(`  ${name}`, g.office, 20))
    }
    if (groups.some(([, g]) => g.category.total > 0)) {
      out.push('', 'by group (category)')
      for (const [name, g] of groups) if (g.category.total > 0) out.push(scoreLine(`  ${name}`, g.category, 20))
    }
  }
  if (report.offices.length > 0) {
    const width = Math.max(6, ...report.offices.map((o) => o.officeId.length)) + 2
    out.push('', `${'office'.padEnd(width)}${'expected'.padStart(9)}${'routed'.padStart(8)}${'precision'.padStart(11)}${'recall'.padStart(9)}`)
    for (const o of report.offices) {
      out.push(`${`  ${o.officeId}`.padEnd(width)}${String(o.expected).padStart(9)}${String(o.routed).padStart(8)}${percent(o.precision).padStart(11)}${percent(o.recall).padStart(9)}`)
    }
  }
  if (report.confusions.length > 0) {
    out.push('', `top confusions (expected → routed)${report.confusions.length > confusions ? `, ${confusions} of ${report.confusions.length}` : ''}`)
    for (const c of report.confusions.slice(0, confusions)) out.push(`${String(c.count).padStart(5)}  ${c.expected} → ${c.routed}`)
  }
  const counts = (title: string, counts: Record<string, number>) => {
    const entries = Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    if (entries.length === 0) return
    out.push('', title)
    for (const [name, n] of entries) out.push(`  ${name.padEnd(18)}${String(n).padStart(5)}  ${percent(n / report.messages).padStart(6)}`)
  }
  counts('decided by', report.decidedBy)
  counts('passed on a category or urgency', report.passedOn)
  counts('strategies that failed', report.errors)
  if (report.misses.length > 0) {
    out.push('', `misses${report.misses.length > misses ? ` (first ${misses} of ${report.misses.length}; --json lists all)` : ''}`)
    for (const m of report.misses.slice(0, misses)) {
      const office = m.expectedOffice !== undefined && m.expectedOffice !== m.routedOffice ? `office ${m.expectedOffice} → ${m.routedOffice}` : ''
      const category = m.expectedCategory !== undefined && m.expectedCategory !== m.routedCategory ? `category ${m.expectedCategory} → ${m.routedCategory ?? 'none'}` : ''
      out.push(`  line ${m.line}: ${[office, category].filter(Boolean).join(', ')} (${m.strategy}) "${clip(m.text, 40)}"`)
    }
  }
  out.push('', `${report.messages} messages in ${report.ms} ms`)
  return out.join('\n')
}

export interface RouteEvalCommandOptions {
  /** The CSV file (the command's argument). */
  file: string | undefined
  json?: boolean
  routing: readonly RoutingStrategy[]
  offices: OfficeDirectory
  logLevel?: LogLevel
  /** Where the report goes (default stdout); logs go to `err`, so `--json` output stays parseable. */
  out?: (text: string) => void | Promise<void>
  err?: (text: string) => void
}

/**
 * The `route-eval` command: reads the CSV, runs the chain the config holds, prints the report.
 * Returns the exit code: 0, 1 when the file cannot be used, 2 when no file is given.
 */
export async function routeEvalCommand({
  file,
  json = false,
  routing,
  offices,
  logLevel = 'warn',
  // Resolved once written: the CLI exits right after, and a pipe takes large output in chunks.
  out = (text) => new Promise<void>((resolve, reject) => process.stdout.write(`${text}\n`, (e) => (e ? reject(e) : resolve()))),
  err = (text) => process.stderr.write(`${text}\n`),
}: RouteEvalCommandOptions): Promise<number> {
  if (!file) {
    err('intake route-eval needs a CSV file: intake route-eval FILE.csv [--config intake.config.ts] [--json]')
    return 2
  }
  let rows: EvalRow[]
  try {
    rows = readEvalRows(readFileSync(file, 'utf8'), offices)
  } catch (e) {
    err(e instanceof EvalFileError ? `${e.message} (${file})` : `[route-eval] cannot read ${file}: ${(e as Error).message}`)
    return 1
  }
  const log = createLogger({ level: logLevel, sink: err })
  const report = await evaluateRouting(rows, { routing, offices, log, file: basename(file) })
  await out(json ? JSON.stringify(report, null, 2) : formatEvalReport(report))
  return 0
}
