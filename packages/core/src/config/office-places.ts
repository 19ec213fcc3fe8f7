import type { RoutingStrategy } from '../contracts/routing.ts'
import type { Office } from '../model/index.ts'
import type { OfficeDirectory } from '../offices/index.ts'

/**
 * What the routing strategies find wrong with the offices (`checkOffices`: a jurisdiction code or
 * place its place list does not have), each named like the offices schema's own errors:
 * `offices.yaml: offices[4] (jiashi).jurisdiction.codes[0]: …` — the file, the office, the key.
 */
export function officeProblems(offices: readonly Office[], directory: OfficeDirectory, routing: readonly RoutingStrategy[], file?: string): string[] {
  const index = new Map(offices.map((o, i) => [o.id, i]))
  const seen = new Set<string>()
  const problems: string[] = []
  for (const strategy of routing) {
    for (const problem of strategy.checkOffices?.(directory) ?? []) {
      const line = `${file ? `${file}: ` : ''}offices[${index.get(problem.officeId) ?? '?'}] (${problem.officeId}).${problem.key}: ${problem.message}`
      // Two strategies reading the same place list (byCategory within byJurisdiction) say it once.
      if (!seen.has(line)) problems.push(line)
      seen.add(line)
    }
  }
  return problems
}
