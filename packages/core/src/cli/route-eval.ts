import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { learnerOf, type CaseDraft, type LabelledMessage, type RoutingContext, type RoutingStrategy } from '../contracts/routing.ts'
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
  /** Messages no strategy decided anything about (the intake desk got them without a category): `correct` counts them. */
  undecided: Score
  groups: Record<string, { office: Score; category: Score }>
  offices: OfficeScore[]
  /** Precision and recall per expected category ('(none)': routed without a category). */
  categories: ClassScore[]
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
  /** Cross-validated: the number of folds. */
  folds?: number
  /** Cross-validated: the same rows routed by the chain without its learning strategies. */
  anchor?: EvalReport
}

export interface ClassScore {
  id: string
  expected: number
  routed: number
  correct: number
  precision: number | null
  recall: number | null
}

const score = (correct: number, total: number): Score => ({ correct, total, accuracy: total === 0 ? 0 : correct / total })
const bump = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1
}

interface Routed {
  outcomes: EvalOutcome[]
  decidedBy: Record<string, number>
  passedOn: Record<string, number>
  errors: Record<string, number>
}

/** The chain's decision for each row, as the pipeline would route new cases (no earlier cases exist). */
async function routeRows(rows: readonly EvalRow[], routing: readonly RoutingStrategy[], ctx: RoutingContext, into?: Routed): Promise<Routed> {
  const routed: Routed = into ?? { outcomes: [], decidedBy: {}, passedOn: {}, errors: {} }
  for (const row of rows) {
    const channelId = row.channel ?? 'route-eval'
    const place = row.place !== undefined || row.lat !== undefined ? { text: row.place, lat: row.lat, lon: row.lon } : undefined
    const draft: CaseDraft = { text: row.text, subject: row.subject, place, channelId, to: row.to, from: { channelId, id: 'route-eval' } }
    const { decision, trail } = await runRoutingChain(routing, draft, ctx)
    bump(routed.decidedBy, decision.strategy)
    for (const attempt of trail) {
      if (attempt.error !== undefined && attempt.decision === undefined) bump(routed.errors, attempt.strategy)
      if (attempt.decision?.officeId === '') bump(routed.passedOn, attempt.decision.strategy)
    }
    routed.outcomes.push({
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
  return routed
}

/** Precision and recall of each value of `expected` (an office id, a category) against `routed`. */
function classScores(outcomes: readonly EvalOutcome[], expected: (o: EvalOutcome) => string | undefined, routed: (o: EvalOutcome) => string | undefined): ClassScore[] {
  const labelled = outcomes.filter((o) => expected(o) !== undefined)
  const ids = [...new Set(labelled.flatMap((o) => [expected(o)!, routed(o) ?? NONE]))]
  return ids
    .map((id): ClassScore => {
      const e = labelled.filter((o) => expected(o) === id).length
      const r = labelled.filter((o) => (routed(o) ?? NONE) === id).length
      const correct = labelled.filter((o) => expected(o) === id && routed(o) === id).length
      return { id, expected: e, routed: r, correct, precision: r === 0 ? null : correct / r, recall: e === 0 ? null : correct / e }
    })
    .sort((a, b) => b.expected - a.expected || b.routed - a.routed || a.id.localeCompare(b.id))
}

/** How a category-less decision shows in the per-category table. */
const NONE = '(none)'

function summarize(routed: Routed, { file, chain, ms, desk }: { file: string; chain: string[]; ms: number; desk: string }): EvalReport {
  const { outcomes, decidedBy, passedOn, errors } = routed
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
  const officeScores = classScores(outcomes, (o) => o.expectedOffice, (o) => o.routedOffice).map(({ id, ...rest }) => ({ officeId: id, ...rest }))
  const pairs = new Map<string, { expected: string; routed: string; count: number }>()
  for (const o of withOffice) {
    if (officeRight(o)) continue
    const k = `${o.expectedOffice}\u0000${o.routedOffice}`
    const entry = pairs.get(k) ?? { expected: o.expectedOffice!, routed: o.routedOffice, count: 0 }
    entry.count++
    pairs.set(k, entry)
  }
  // Nobody decided anything: the intake desk got it without even a category.
  const undecided = outcomes.filter((o) => (o.strategy === 'intake-desk' || o.routedOffice === desk) && o.routedCategory === undefined).length
  return {
    file,
    messages: outcomes.length,
    chain,
    office: score(withOffice.filter(officeRight).length, withOffice.length),
    category: score(withCategory.filter(categoryRight).length, withCategory.length),
    undecided: score(undecided, outcomes.length),
    groups,
    offices: officeScores,
    categories: classScores(outcomes, (o) => o.expectedCategory, (o) => o.routedCategory),
    confusions: [...pairs.values()].sort((a, b) => b.count - a.count || a.expected.localeCompare(b.expected) || a.routed.localeCompare(b.routed)),
    decidedBy,
    passedOn,
    errors,
    misses: outcomes.filter((o) => (o.expectedOffice !== undefined && !officeRight(o)) || (o.expectedCategory !== undefined && !categoryRight(o))),
    ms,
  }
}

/** Runs the chain over the rows, as the pipeline would for new cases (no earlier cases exist). */
export async function evaluateRouting(
  rows: readonly EvalRow[],
  { routing, offices, log, file = 'eval.csv', now = Date.now }: { routing: readonly RoutingStrategy[]; offices: OfficeDirectory; log: Logger; file?: string; now?: () => number },
): Promise<EvalReport> {
  const started = performance.now()
  const ctx: RoutingContext = { offices, log, now, cases: { byTrackingCode: async () => undefined } }
  const routed = await routeRows(rows, routing, ctx)
  return summarize(routed, { file, chain: routing.map((s) => s.name || 'anonymous'), ms: Math.round(performance.now() - started), desk: offices.intakeDesk().id })
}

/** The fold (0…k-1) of each row: a seeded shuffle dealt round, so folds differ in size by one at most. */
export function foldsOf(count: number, k: number, seed = 1): Int32Array {
  const order = Array.from({ length: count }, (_, i) => i)
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  const fold = new Int32Array(count)
  order.forEach((row, position) => (fold[row] = position % k))
  return fold
}

/**
 * k-fold cross-validation of a chain that learns: each fold's rows are routed by the chain whose
 * learning strategies were trained on the other folds' rows (their expected office and category);
 * the report covers every row once. The same run routes all rows with the chain minus its
 * learning strategies too (`anchor`): what the rules alone do, measured on the same messages.
 */
export async function crossValidateRouting(
  rows: readonly EvalRow[],
  { routing, offices, log, folds, seed = 1, file = 'eval.csv', now = Date.now }: { routing: readonly RoutingStrategy[]; offices: OfficeDirectory; log: Logger; folds: number; seed?: number; file?: string; now?: () => number },
): Promise<EvalReport> {
  if (!Number.isInteger(folds) || folds < 2 || folds > rows.length) throw new EvalFileError(`--folds must be an integer from 2 to the number of rows (${rows.length}), not ${folds}`)
  if (!routing.some((s) => learnerOf(s))) throw new EvalFileError('--folds needs a routing chain with a strategy that learns (byTrainedClassifier); this one has none')
  const started = performance.now()
  const ctx: RoutingContext = { offices, log, now, cases: { byTrackingCode: async () => undefined } }
  const desk = offices.intakeDesk().id
  const fold = foldsOf(rows.length, folds, seed)
  const routed: Routed = { outcomes: [], decidedBy: {}, passedOn: {}, errors: {} }
  for (let f = 0; f < folds; f++) {
    const training: LabelledMessage[] = rows
      .filter((_, i) => fold[i] !== f)
      .map((r) => ({ text: r.text, subject: r.subject, category: r.expectedCategory, officeId: r.expectedOffice }))
    const chain = await Promise.all(routing.map((s) => learnerOf(s)?.trainedOn(training) ?? s))
    await routeRows(rows.filter((_, i) => fold[i] === f), chain, ctx, routed)
  }
  routed.outcomes.sort((a, b) => a.line - b.line)
  const ms = Math.round(performance.now() - started)
  const anchorStarted = performance.now()
  const rules = routing.filter((s) => !learnerOf(s))
  const anchor = summarize(await routeRows(rows, rules, ctx), { file, chain: rules.map((s) => s.name || 'anonymous'), ms: Math.round(performance.now() - anchorStarted), desk })
  return { ...summarize(routed, { file, chain: routing.map((s) => s.name || 'anonymous'), ms, desk }), folds, anchor }
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
  out.push(`route-eval: ${report.messages} messages from ${report.file}${report.folds ? `, ${report.folds}-fold cross-validation (each fold routed by a model trained on the others)` : ''}`)
  out.push(`chain: ${report.chain.join(' → ')}`)
  out.push('')
  if (report.office.total > 0) out.push(scoreLine('office accuracy', report.office, 20))
  if (report.category.total > 0) out.push(scoreLine('category accuracy', report.category, 20))
  out.push(scoreLine('undecided', report.undecided, 20))
  if (report.anchor) {
    const a = report.anchor
    out.push('', `anchor, same rows without the learning strategies: ${a.chain.join(' → ')}`)
    if (a.office.total > 0) out.push(scoreLine('  office accuracy', a.office, 20))
    if (a.category.total > 0) out.push(scoreLine('  category accuracy', a.category, 20))
    out.push(scoreLine('  undecided', a.undecided, 20))
  }
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
  const table = report.categories.filter((c) => c.expected > 0 || c.routed > 0)
  if (table.length > 0 && report.category.total > 0) {
    const width = Math.max(8, ...table.map((c) => [...c.id].length * 2)) + 2
    out.push('', `${'category'.padEnd(width)}${'expected'.padStart(9)}${'routed'.padStart(8)}${'precision'.padStart(11)}${'recall'.padStart(9)}`)
    for (const c of table) {
      // Chinese characters take two columns in a terminal.
      const label = `  ${c.id}`
      const pad = width - [...label].reduce((n, ch) => n + (ch.charCodeAt(0) > 0x2e80 ? 2 : 1), 0)
      out.push(`${label}${' '.repeat(Math.max(1, pad))}${String(c.expected).padStart(9)}${String(c.routed).padStart(8)}${percent(c.precision).padStart(11)}${percent(c.recall).padStart(9)}`)
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
  /** k-fold cross-validation of the chain's learning strategy (k ≥ 2). */
  folds?: number
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
  folds,
  routing,
  offices,
  logLevel = 'warn',
  // Resolved once written: the CLI exits right after, and a pipe takes large output in chunks.
  out = (text) => new Promise<void>((resolve, reject) => process.stdout.write(`${text}\n`, (e) => (e ? reject(e) : resolve()))),
  err = (text) => process.stderr.write(`${text}\n`),
}: RouteEvalCommandOptions): Promise<number> {
  if (!file) {
    err('intake route-eval needs a CSV file: intake route-eval FILE.csv [--config intake.config.ts] [--json] [--folds K]')
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
  let report: EvalReport
  if (folds !== undefined) {
    try {
      report = await crossValidateRouting(rows, { routing, offices, log, folds, file: basename(file) })
    } catch (e) {
      if (!(e instanceof EvalFileError)) throw e
      err(e.message)
      return 2
    }
  } else report = await evaluateRouting(rows, { routing, offices, log, file: basename(file) })
  await out(json ? JSON.stringify(report, null, 2) : formatEvalReport(report))
  return 0
}
