import type { Context, Hono } from 'hono'
import { z } from 'zod'
import { parseDuration, addDuration } from '../deadlines/index.ts'
import type { Permission } from '../access/roles.ts'
import { STEP_PERMISSIONS } from './available-steps.ts'
import type { Lifecycle, LifecycleResult } from './service.ts'
import { ROLES, type Actor, type Role } from './state-machine.ts'

/**
 * The lifecycle's staff API under /api/v1: accept (接单), start, answer, resolve, close, reopen;
 * extension (延期) and its decision; supervision notes (督办意见); a case's timers. The actor is the
 * signed-in identity and its role (a body may only narrow it); a case outside the caller's office
 * subtree is a 404.
 */
const duration = z.string().refine((s) => {
  try {
    parseDuration(s)
    return true
  } catch {
    return false
  }
}, 'cannot read this duration (try "2h", "3 days" or "5 working days")')
const instant = z.union([z.number().int().nonnegative(), z.string().datetime({ offset: true }).transform((s) => Date.parse(s))])
// `actor`/`author` in a body are accepted and ignored: the actor is who signed in.
const actor = { actor: z.unknown().optional(), author: z.unknown().optional(), role: z.enum(ROLES.filter((r) => r !== 'system') as [Role, ...Role[]]).optional() }

export const TransitionBody = z.object({ ...actor, note: z.string().max(2000).optional() }).strict()
export const ExtensionRequest = z
  .object({ ...actor, reason: z.string().trim().min(1).max(2000), deadlineAt: instant.optional(), within: duration.optional() })
  .strict()
  .refine((b) => (b.deadlineAt === undefined) !== (b.within === undefined), 'give either deadlineAt or within')
export const ExtensionDecision = z.object({ ...actor, approved: z.boolean(), note: z.string().max(2000).optional(), deadlineAt: instant.optional() }).strict()
export const SupervisionNote = z
  .object({ ...actor, note: z.string().trim().min(1).max(2000), deadlineAt: instant.optional(), within: duration.optional(), officeId: z.string().optional() })
  .strict()
  .refine((b) => b.deadlineAt === undefined || b.within === undefined, 'give deadlineAt or within, not both')

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyContext = Context<any>
type Json = (c: AnyContext) => Promise<{ ok: true; value: unknown } | { ok: false; response: Response }>
type Invalid = (c: AnyContext, error: z.ZodError) => Response

/** What the API knows of the caller, for these routes. */
export interface LifecycleRouteHelpers {
  jsonBody: Json
  invalid: Invalid
  /** Who acts, with the role a body may narrow. */
  acting(c: AnyContext, asked?: Role): Actor
  /** Whether the case is in the caller's office subtree. */
  inScope(c: AnyContext, caseId: string): Promise<boolean>
  /** A 403 when the caller lacks the permission (with a list: lacks every one of them). */
  forbidden(c: AnyContext, permission: Permission | readonly Permission[]): Response | undefined
  /** The offices the caller may see (undefined: all). */
  visibleOffices(c: AnyContext): readonly string[] | undefined
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function mountLifecycleRoutes(api: Hono<any>, lifecycle: Lifecycle, helpers: LifecycleRouteHelpers): void {
  const { store, policy, now, offices } = lifecycle.context
  const answer = (c: Context, result: LifecycleResult) =>
    result.ok
      ? c.json(result.case)
      : c.json({ error: { code: result.code, message: result.message, ...(result.allowed ? { allowed: result.allowed } : {}) } }, result.status)

  const notFound = (c: AnyContext, what: string) => c.json({ error: { code: 'not_found', message: `${what} not found` } }, 404)
  const post = <S extends z.ZodType>(path: string, schema: S, permission: Permission | readonly Permission[], act: (caseId: string, input: z.infer<S>, who: Actor) => Promise<LifecycleResult>) =>
    api.post(`/cases/:id/${path}`, async (c) => {
      const body = await helpers.jsonBody(c)
      if (!body.ok) return body.response
      const input = schema.safeParse(body.value)
      if (!input.success) return helpers.invalid(c, input.error)
      const denied = helpers.forbidden(c, permission)
      if (denied) return denied
      // Outside the caller's subtree the case does not exist for them.
      if (!(await helpers.inScope(c, c.req.param('id')))) return notFound(c, 'case')
      return answer(c, await act(c.req.param('id'), input.data, helpers.acting(c, (input.data as { role?: Role }).role)))
    })

  for (const t of ['accept', 'start', 'resolve', 'close', 'reopen'] as const) {
    post(t, TransitionBody, STEP_PERMISSIONS[t], (id, b, who) => lifecycle.transition(id, t, { actor: who, ...(b.note ? { note: b.note } : {}), reason: t === 'close' || t === 'reopen' ? 'staff' : undefined }))
  }
  post('extension', ExtensionRequest, STEP_PERMISSIONS.request_extension, async (id, b, who) => {
    const deadlineAt = b.deadlineAt ?? addDuration((await store.getCase(id))?.deadlineAt ?? now(), b.within!, policy.calendar)
    return lifecycle.requestExtension(id, { actor: who, reason: b.reason, deadlineAt })
  })
  // A lead (dispatch) or a supervisor (supervise, without `status`) of an office above decides.
  post('extension/decision', ExtensionDecision, STEP_PERMISSIONS.decide_extension, (id, b, who) =>
    lifecycle.decideExtension(id, { actor: who, approved: b.approved, ...(b.note ? { note: b.note } : {}), ...(b.deadlineAt !== undefined ? { deadlineAt: b.deadlineAt } : {}) }),
  )
  post('supervision', SupervisionNote, 'supervise', (id, b, who) => {
    const deadlineAt = b.deadlineAt ?? (b.within ? addDuration(now(), b.within, policy.calendar) : undefined)
    return lifecycle.supervise(id, { actor: who, note: b.note, ...(deadlineAt !== undefined ? { deadlineAt } : {}), ...(b.officeId ? { officeId: b.officeId } : {}) })
  })
  // 督办 list: the open cases past their deadline at the offices below this one (escalation's audience).
  api.get('/offices/:id/supervision', async (c) => {
    const office = offices.get(c.req.param('id'))
    const visible = helpers.visibleOffices(c)
    if (!office || (visible && !visible.includes(office.id))) return notFound(c, 'office')
    const below: string[] = []
    for (let queue = [...offices.children(office.id)]; queue.length; ) {
      const o = queue.shift()!
      below.push(o.id)
      queue.push(...offices.children(o.id))
    }
    // Escalation fires at the deadline itself: a case due now is on the list.
    const at = now() + 1
    const pages = await Promise.all(below.map((officeId) => store.listCases({ officeId, overdueAt: at, limit: 500 })))
    const cases = pages.flatMap((p) => p.cases).sort((a, b) => (a.deadlineAt ?? 0) - (b.deadlineAt ?? 0))
    return c.json({ officeId: office.id, cases })
  })

  api.get('/cases/:id/timers', async (c) => {
    const kase = (await helpers.inScope(c, c.req.param('id'))) ? await store.getCase(c.req.param('id')) : undefined
    if (!kase) return notFound(c, 'case')
    return c.json({ timers: await store.listTimers(kase.id) })
  })
}
