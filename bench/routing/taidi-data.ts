/**
 * The Taidi 2020 messages for bench/routing/trained.ts, read from the shared fixtures next to the
 * repository (../shared/fixtures/taidi2020, or INTAKE_SHARED_DIR/fixtures/taidi2020). Contest data
 * without a licence to redistribute: read from there only, never copied into the project.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseCsv } from '../../packages/core/src/cli/route-eval.ts'

const ROOT = join(import.meta.dirname, '..', '..')
export const TAIDI_DIR = join(process.env.INTAKE_SHARED_DIR ?? join(ROOT, '..', 'shared'), 'fixtures', 'taidi2020')

/** The rows with their first-level label: subjects.csv first, then texts.csv. */
export function taidiRows(): { text: string; label: string }[] {
  const rows: { text: string; label: string }[] = []
  for (const file of ['subjects.csv', 'texts.csv']) {
    const [, ...records] = parseCsv(readFileSync(join(TAIDI_DIR, file), 'utf8'))
    for (const r of records) if (r.fields[0]!.trim()) rows.push({ text: r.fields[0]!.trim(), label: r.fields[1]!.trim() })
  }
  return rows
}
