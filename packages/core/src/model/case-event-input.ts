import { CaseEvent, CaseEventType, type CaseEventInput } from './index.ts'

const TYPES: ReadonlySet<string> = new Set(CaseEventType.options)

/**
 * A case event as a store appends it to the audit trail: the same checks as `CaseEvent.parse` (a
 * known type, the field types, `data` an object, defaulting to `{}`), without zod's walk over every
 * field of `data` — a store checks five events per new case on its writer's critical path. Anything
 * that fails a check goes through `CaseEvent.parse`, which throws the same error it always did.
 */
export function caseEventToAppend(input: CaseEventInput): Omit<CaseEvent, 'id'> {
  const { caseId, at, type, actor, public: isPublic, data } = input
  const proto = typeof data === 'object' && data !== null ? Object.getPrototypeOf(data) : undefined
  const dataOk = data === undefined || proto === Object.prototype || proto === null
  if (typeof caseId !== 'string' || !Number.isSafeInteger(at) || at < 0 || !TYPES.has(type) || typeof actor !== 'string' || typeof isPublic !== 'boolean' || !dataOk) {
    const { id: _ignored, ...event } = CaseEvent.parse(input)
    return event
  }
  return { caseId, at, type, actor, public: isPublic, data: data ?? {} }
}
