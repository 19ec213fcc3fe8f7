import type { RoutingStrategy } from '../contracts/routing.ts'
import type { Office } from '../model/index.ts'

/**
 * Every category an office's remit names must be one some routing strategy decides; otherwise a
 * typo (`labor` for `labour`) quietly leaves the office without the cases meant for it. Checked
 * only when the chain says what it decides (a taxonomy, rules): a strategy that learns its
 * categories from a model, or an agency strategy that declares none, leaves the remits unchecked.
 */
export function remitProblems(offices: readonly Office[], routing: readonly RoutingStrategy[]): string[] {
  if (routing.some((s) => s.categories === undefined && 'learner' in s)) return []
  const known = new Set(routing.flatMap((s) => s.categories ?? []))
  if (known.size === 0) return []
  const problems: string[] = []
  for (const office of offices) {
    office.remit.forEach((category, i) => {
      if (known.has(category)) return
      const near = [...known].filter((k) => distance(k, category) <= 2)
      problems.push(
        `offices: "${office.id}" remit[${i}]: no routing strategy decides the category "${category}"${near.length ? ` (did you mean "${near[0]}"?)` : ''}; the chain decides: ${[...known].sort().join(', ')}`,
      )
    })
  }
  return problems
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = row
  }
  return prev[b.length]!
}
