import { readFileSync } from 'node:fs'
import { learnerOf, type LabelledMessage, type RoutingLearner, type RoutingStrategy } from '../contracts/routing.ts'
import type { Store } from '../contracts/store.ts'
import type { CaseStatus } from '../model/index.ts'
import type { OfficeDirectory } from '../offices/index.ts'
import { EvalFileError, parseCsv } from './route-eval.ts'

/**
 * `intake train`: trains the routing strategy of the config's chain that learns (byTrainedClassifier)
 * and saves its model where the config says. From a CSV of past messages:
 *   text                 the message (required)
 *   subject              optional
 *   category | label     the category it belonged to (label: an agency's own export)
 *   office               the office that handled it (an office of the config)
 * (route-eval's expected_category / expected_office are read as category / office, so an
 * evaluation set can train too), at least one of category and office per row; or from the store
 * (`--from-store`): every resolved or closed case, its first message labelled by the office that
 * resolved it and the category on record when it closed — so every transfer and correction staff
 * made teaches the model.
 */

/** Labelled messages from a training CSV; the errors name the line. */
export function readTrainingRows(csv: string, offices: OfficeDirectory): LabelledMessage[] {
  const [header, ...records] = parseCsv(csv)
  if (!header) throw new EvalFileError('the file is empty')
  const columns = header.fields.map((f) => f.trim().toLowerCase())
  const first = (...names: string[]) => names.map((n) => columns.indexOf(n)).find((i) => i !== -1) ?? -1
  const textAt = first('text')
  const subjectAt = first('subject')
  const categoryAt = first('category', 'label', 'expected_category')
  const officeAt = first('office', 'expected_office')
  if (textAt === -1) throw new EvalFileError(`no "text" column (columns: ${columns.join(', ')})`)
  if (categoryAt === -1 && officeAt === -1) throw new EvalFileError('no "category" (or "label") and no "office" column: nothing to learn')
  const rows: LabelledMessage[] = []
  for (const { line, fields } of records) {
    if (fields.length !== columns.length) throw new EvalFileError(`line ${line}: ${fields.length} fields, but the header has ${columns.length}`)
    const get = (i: number) => (i === -1 ? undefined : fields[i]!.trim() || undefined)
    const row: LabelledMessage = { text: fields[textAt]!.trim(), subject: get(subjectAt), category: get(categoryAt), officeId: get(officeAt) }
    if (row.text === '' && !row.subject) throw new EvalFileError(`line ${line}: the text is empty`)
    if (!row.category && !row.officeId) throw new EvalFileError(`line ${line}: neither a category nor an office is given`)
    if (row.officeId && !offices.get(row.officeId)) throw new EvalFileError(`line ${line}: office "${row.officeId}" is not in the configured offices`)
    rows.push(row)
  }
  if (rows.length === 0) throw new EvalFileError('the file has a header but no rows')
  return rows
}

const FINISHED: readonly CaseStatus[] = ['resolved', 'closed']

/** Labelled messages from the store's finished cases, oldest first within each status. */
export async function readTrainingCases(store: Store, offices: OfficeDirectory): Promise<LabelledMessage[]> {
  const rows: LabelledMessage[] = []
  for (const status of FINISHED) {
    let cursor: string | undefined
    do {
      const page = await store.listCases({ status, limit: 500, cursor })
      for (const c of page.cases) {
        // An office since removed from the config cannot be routed to; it teaches nothing.
        if (!offices.get(c.officeId)) continue
        const first = (await store.listMessages(c.id)).find((m) => m.direction === 'in' && (m.text.trim() !== '' || m.subject))
        if (!first) continue
        rows.push({ text: first.text, subject: first.subject ?? undefined, officeId: c.officeId, category: c.category ?? undefined })
      }
      cursor = page.nextCursor
    } while (cursor)
  }
  return rows
}

/** The one learning strategy in a chain; an error message when there is none or more than one. */
export function chainLearner(routing: readonly RoutingStrategy[]): RoutingLearner | string {
  const learners = routing.map(learnerOf).filter((l) => l !== undefined)
  if (learners.length === 0) return 'the configured routing chain has no strategy that learns (add byTrainedClassifier({ model: … }))'
  if (learners.length > 1) return `the configured routing chain has ${learners.length} strategies that learn; train needs exactly one`
  return learners[0]!
}

export interface TrainCommandOptions {
  file?: string
  fromStore?: boolean
  routing: readonly RoutingStrategy[]
  offices: OfficeDirectory
  store?: Store
  out?: (text: string) => void
  err?: (text: string) => void
}

/** Returns the exit code: 0 trained and saved, 1 the data cannot be used, 2 a wrong call. */
export async function trainCommand({
  file,
  fromStore = false,
  routing,
  offices,
  store,
  out = (text) => process.stdout.write(`${text}\n`),
  err = (text) => process.stderr.write(`${text}\n`),
}: TrainCommandOptions): Promise<number> {
  if ((file === undefined) === !fromStore) {
    err('intake train needs a CSV file or --from-store (one of them): intake train FILE.csv | intake train --from-store [--config intake.config.ts]')
    return 2
  }
  const learner = chainLearner(routing)
  if (typeof learner === 'string') {
    err(`[train] ${learner}`)
    return 2
  }
  let examples: LabelledMessage[]
  try {
    if (file !== undefined) examples = readTrainingRows(readFileSync(file, 'utf8'), offices)
    else examples = await readTrainingCases(store!, offices)
  } catch (e) {
    err(e instanceof EvalFileError ? `${e.message.replace('[route-eval]', '[train]')} (${file})` : `[train] cannot read ${file ?? 'the store'}: ${(e as Error).message}`)
    return 1
  }
  if (examples.length === 0) {
    err('[train] the store holds no resolved or closed case to learn from')
    return 1
  }
  try {
    out(await learner.trainAndSave(examples))
  } catch (e) {
    err(`${(e as Error).message}`)
    return 1
  }
  return 0
}
