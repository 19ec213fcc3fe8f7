import type { Context, Hono } from 'hono'
import { z } from 'zod'
import { parseDuration, addDuration } from '../deadlines/index.ts'
import type { Lifecycle, LifecycleResult } from './service.ts'
import { ROLES, type Role } from './state-machine.ts'

/**
 * The lifecycle's staff API under /api/v1 (behind the API key): accept (接单), start, answer,
 * resolve, close, reopen; extension (延期) and its decision; supervision notes (督办意见); a case's
 * timers. API keys act as `admin`; a body may name a narrower `role` for the person it acts for
 * (the console binds real users and their roles).
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
const actor = { actor: z.string().min(1).max(100), role: z.enum(ROLES.filter((r) => r !== 'system') as [Role, ...Role[]]).default('admin') }

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

type Json = (c: Context) => Promise<{ ok: true; value: unknown } | { ok: false; response: Response }>
type Invalid = (c: Context, error: z.ZodError) => Response

export function mountLifecycleRoutes(api: Hono, lifecycle: Lifecycle, helpers: { jsonBody: Json; invalid: Invalid }): void {
  const { store, policy, now, offices } = lifecycle.context
  const answer = (c: Context, result: LifecycleResult) =>
    result.ok
      ? c.json(result.case)
      : c.json({ error: { code: result.code, message: result.message, ...(result.allowed ? { allowed: result.allowed } : {}) } }, result.status)

  const post = <S extends z.ZodType>(path: string, schema: S, act: (caseId: string, input: z.infer<S>) => Promise<LifecycleResult>) =>
    api.post(`/cases/:id/${path}`, async (c) => {
      const body = await helpers.jsonBody(c)
      if (!body.ok) return body.response
      const input = schema.safeParse(body.value)
      if (!input.success) return helpers.invalid(c, input.error)
      return answer(c, await act(c.req.param('id'), input.data))
    })

  for (const t of ['accept', 'start', 'resolve', 'close', 'reopen'] as const) {
    post(t, TransitionBody, (id, b) => lifecycle.transition(id, t, { actor: { id: b.actor, role: b.role }, ...(b.note ? { note: b.note } : {}), reason: t === 'close' || t === 'reopen' ? 'staff' : undefined }))
  }
  post('extension', ExtensionRequest, async (id, b) => {
    const deadlineAt = b.deadlineAt ?? addDuration((await store.getCase(id))?.deadlineAt ?? now(), b.within!, policy.calendar)
    return lifecycle.requestExtension(id, { actor: { id: b.actor, role: b.role }, reason: b.reason, deadlineAt })
  })
  post('extension/decision', ExtensionDecision, (id, b) =>
    lifecycle.decideExtension(id, { actor: { id: b.actor, role: b.role }, approved: b.approved, ...(b.note ? { note: b.note } : {}), ...(b.deadlineAt !== undefined ? { deadlineAt: b.deadlineAt } : {}) }),
  )
  post('supervision', SupervisionNote, (id, b) => {
    const deadlineAt = b.deadlineAt ?? (b.within ? addDuration(now(), b.within, policy.calendar) : undefined)
    return lifecycle.supervise(id, { actor: { id: b.actor, role: b.role }, note: b.note, ...(deadlineAt !== undefined ? { deadlineAt } : {}), ...(b.officeId ? { officeId: b.officeId } : {}) })
  })
  // 督办 list: the open cases past their deadline at the offices below this one (escalation's audience).
  api.get('/offices/:id/supervision', async (c) => {
    const office = offices.get(c.req.param('id'))
    if (!office) return c.json({ error: { code: 'not_found', message: 'office not found' } }, 404)
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
    const kase = await store.getCase(c.req.param('id'))
    if (!kase) return c.json({ error: { code: 'not_found', message: 'case not found' } }, 404)
    return c.json({ timers: await store.listTimers(kase.id) })
  })
}
