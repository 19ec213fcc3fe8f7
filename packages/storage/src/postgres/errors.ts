/** The PostgreSQL driver's name in its errors, and the errors it throws. */
export const COMPONENT = '[store/postgres]'

export function caseNotFound(id: string): Error {
  return Object.assign(new Error(`${COMPONENT} case '${id}' does not exist`), { code: 'case_not_found' })
}

export function outboxNotFound(id: string): Error {
  return Object.assign(new Error(`${COMPONENT} outbox row '${id}' does not exist`), { code: 'outbox_not_found' })
}

/** The PostgreSQL error behind drizzle's wrapper, if any (node-postgres errors carry a severity). */
export function pgError(error: unknown): { code?: string; constraint?: string } | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (typeof (e as { code?: unknown }).code === 'string' && 'severity' in e) return e as { code?: string; constraint?: string }
  }
  return undefined
}

export function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = pgError(error)
  return e?.code === '23505' && e.constraint === constraint
}

/** deadlock_detected, serialization_failure: the transaction may simply be run again. */
export function isRetryable(error: unknown): boolean {
  const code = pgError(error)?.code
  return code === '40P01' || code === '40001'
}
