import type { Context, Hono } from 'hono'
import { z } from 'zod'
import { addDuration, CaseStatus, linkToCluster, RETURN_REASONS, STEP_PERMISSIONS, unlinkFromCluster, type ActionResult, type Case, type LifecycleStep } from '@intake/core'
import type { ConsoleDeps, ConsoleEnv } from './app.tsx'
import { EXTENSION_DAYS, extendedDeadline, IN_PLACE_STEPS, MAX_NOTE, MAX_REPLY } from './case-steps.tsx'
import type { Dict } from './i18n.ts'
import { fillReplyTemplate, templatesForCase, type ReplyTemplate } from './reply-templates.ts'

export interface Shown {
  status?: number
  error?: string
  field?: string
  notice?: string
  contact?: boolean
  /** What the user typed, kept when the form is shown again. */
  draft?: string
  /** The reply template last inserted (kept selected). */
  templateId?: string
}

export type ShowCase = (c: Context<ConsoleEnv>, kase: Case, s?: Shown) => Promise<Response>

/** A refusal as the lifecycle, case actions and cluster links give it. */
type Refusal = { ok: false; status: 400 | 403 | 404 | 409 | 422; code: string; message: string; allowed?: readonly string[] }
type Outcome = ActionResult | { ok: true; notice?: string } | Refusal

/**
 * The refusal in the user's words: a step the case's status does not allow names the ones it does
 * (the state machine's 409), a role that may not is a 403, the rest as the lifecycle said it.
 */
export function refusalText(t: Dict, kase: Case, step: string, r: Refusal): string {
  const stepName = t.steps[step] ?? step
  if (r.code === 'invalid_transition') return t.stepRefused(t.statuses[kase.status] ?? kase.status, stepName, (r.allowed ?? []).map((a) => t.steps[a] ?? a).join(t.listSeparator))
  if (r.code === 'forbidden') return t.stepForbidden(stepName)
  if (r.code === 'not_above') return t.extensionWaitsAbove
  if (r.code === 'not_later') return t.extensionNotLater
  if (r.code === 'case_not_found') return t.noSuchCode
  return r.message.replace(/^\[[\w-]+\] /, '')
}

/**
 * The case page's forms: every step through the same functions the API uses (the lifecycle, case
 * actions, cluster links) — never a status written here — so events, deadlines and timers follow.
 * Each checks the permission, then the scope (another office's case is a 404), then the input.
 */
export function caseFormRoutes(
  app: Hono<ConsoleEnv>,
  deps: ConsoleDeps,
  page: { show: ShowCase; scoped: (c: Context<ConsoleEnv>) => Promise<Case | undefined>; templates: readonly ReplyTemplate[] },
): void {
  const { show, scoped } = page
  const roleIn = (c: Context<ConsoleEnv>) => c.get('identity').role ?? 'admin'
  const actorOf = (c: Context<ConsoleEnv>) => {
    const identity = c.get('identity')
    return { id: identity.actor, role: roleIn(c), officeId: identity.officeId }
  }

  const post = <S extends z.ZodType>(
    name: string,
    /** The step whose permission (STEP_PERMISSIONS) it needs, or the permission itself. */
    needs: LifecycleStep | Parameters<ConsoleDeps['need']>[1],
    schema: S,
    field: string,
    act: (kase: Case, input: z.infer<S>, c: Context<ConsoleEnv>) => Promise<Outcome | Response>,
  ) =>
    app.post(`/cases/:id/${name}`, async (c) => {
      const t = c.get('t')
      const permissions = needs in STEP_PERMISSIONS ? STEP_PERMISSIONS[needs as LifecycleStep] : [needs as Parameters<ConsoleDeps['need']>[1]]
      if (!permissions.some((p) => c.get('identity').permissions.has(p))) return deps.refuse(c, 403, t.forbidden)
      const kase = await scoped(c)
      if (!kase) return deps.refuse(c, 404, t.notFound)
      const form = await c.req.parseBody()
      const input = schema.safeParse(form)
      if (!input.success) {
        const tooLong = input.error.issues.find((i) => i.code === 'too_big')
        const message = tooLong ? t.tooLong(Number((tooLong as { maximum?: number }).maximum ?? MAX_REPLY)) : input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
        return show(c, kase, { status: 400, error: message, field, draft: typeof form.text === 'string' ? form.text.slice(0, MAX_REPLY) : undefined })
      }
      const result = await act(kase, input.data, c)
      if (result instanceof Response) return result
      if (!result.ok) {
        const step = typeof form.transition === 'string' ? form.transition : needs
        return show(c, kase, { status: result.status, error: refusalText(t, kase, step, result), field })
      }
      // Moved out of the user's sight (transferred sideways): back to the list.
      const still = await scoped(c)
      const notice = 'notice' in result && result.notice ? `&notice=${encodeURIComponent(result.notice)}` : ''
      return c.redirect(still ? `/console/cases/${encodeURIComponent(kase.id)}?done=1${notice}` : '/console/cases', 303)
    })

  const lifecycleOutcome = (result: Awaited<ReturnType<ConsoleDeps['lifecycle']['transition']>>, notice?: string): Outcome => {
    if (!result.ok) return { ok: false, status: result.status, code: result.code, message: result.message, ...(result.allowed ? { allowed: result.allowed } : {}) }
    deps.wakeOutbox()
    return { ok: true, ...(notice ? { notice } : {}) }
  }

  // The reply box. "Insert template" (no script needed) shows the form again with the template's
  // text for this case in the box; sending goes out on the citizen's channel through the outbox.
  const Reply = z.object({ text: z.string().trim().min(1).max(MAX_REPLY) })
  const Insert = z.object({ insert: z.literal('1'), template: z.string().max(64), text: z.string().max(MAX_REPLY).optional() })
  app.post('/cases/:id/reply', async (c, next) => {
    const form = await c.req.parseBody()
    const asked = Insert.safeParse(form)
    if (!asked.success) return next()
    if (!c.get('identity').permissions.has('reply')) return deps.refuse(c, 403, c.get('t').forbidden)
    const kase = await scoped(c)
    if (!kase) return deps.refuse(c, 404, c.get('t').notFound)
    const template = templatesForCase(page.templates, kase, deps.offices).find((tpl) => tpl.id === asked.data.template)
    const typed = asked.data.text?.trim() ?? ''
    const text = template ? [typed, fillReplyTemplate(template, kase, deps.offices, deps.timeZone)].filter(Boolean).join('\n') : typed
    return show(c, kase, { field: 'reply-text', draft: text.slice(0, MAX_REPLY), templateId: template?.id })
  })
  post('reply', 'answer', Reply, 'reply-text', (k, i, c) => deps.actions.reply(k.id, { text: i.text, actor: c.get('identity').actor, role: roleIn(c) }))
  post('note', 'note', z.object({ text: z.string().trim().min(1).max(MAX_NOTE) }), 'note-text', (k, i, c) => deps.actions.note(k.id, { text: i.text, actor: c.get('identity').actor }))

  // accept, start, resolve, close, reopen: one button each, through the lifecycle's state machine.
  const Step = z.object({ transition: z.enum(IN_PLACE_STEPS), note: z.string().trim().max(MAX_NOTE).optional() })
  post('step', 'status', Step, 'step-note', async (k, i, c) => {
    // close and reopen need `approve`: the state machine's roles are the roles holding it (a 403 naming the step).
    const reason = i.transition === 'close' || i.transition === 'reopen' ? 'staff' : undefined
    return lifecycleOutcome(await deps.lifecycle.transition(k.id, i.transition, { actor: actorOf(c), ...(i.note ? { note: i.note } : {}), reason }))
  })
  // The same by naming the status (what the API's POST /cases/:id/status takes).
  post('status', 'status', z.object({ status: CaseStatus }), 'step-note', (k, i, c) => deps.actions.changeStatus(k.id, { status: i.status, actor: c.get('identity').actor, role: roleIn(c) }))

  post('dispatch', 'dispatch', z.object({ officeId: z.string().min(1), note: z.string().max(MAX_NOTE).optional() }), 'dispatch-to', (k, i, c) =>
    deps.actions.dispatch(k.id, { officeId: i.officeId, note: i.note || undefined, actor: c.get('identity').actor, role: roleIn(c) }),
  )
  post('transfer', 'transfer', z.object({ officeId: z.string().min(1), reason: z.string().trim().min(1).max(MAX_NOTE) }), 'transfer-reason', (k, i, c) =>
    deps.actions.transfer(k.id, { officeId: i.officeId, reason: i.reason, actor: c.get('identity').actor, role: roleIn(c) }),
  )
  post('return', 'return', z.object({ reason: z.enum(RETURN_REASONS), note: z.string().max(MAX_NOTE).optional() }), 'return-reason', (k, i, c) =>
    deps.actions.returnCase(k.id, { reason: i.reason, note: i.note || undefined, actor: c.get('identity').actor, role: roleIn(c) }),
  )
  post('assign', 'dispatch', z.object({ staffId: z.string().max(100).optional() }), 'assign-to', (k, i, c) => deps.actions.assign(k.id, { staffId: i.staffId || undefined, actor: c.get('identity').actor }))

  // 延期: asked for with a reason and a number of working days past the current deadline; the
  // office above decides (approve moves the deadline and its timers).
  post('extension', 'request_extension', z.object({ days: z.enum(EXTENSION_DAYS), reason: z.string().trim().min(1).max(MAX_NOTE) }), 'extension-reason', async (k, i, c) =>
    lifecycleOutcome(await deps.lifecycle.requestExtension(k.id, { actor: actorOf(c), reason: i.reason, deadlineAt: extendedDeadline(k, i.days, deps.now(), deps.calendar) }), 'extension-requested'),
  )
  post('extension/decision', 'decide_extension', z.object({ decision: z.enum(['approve', 'refuse']), note: z.string().trim().max(MAX_NOTE).optional() }), 'decision-note', async (k, i, c) => {
    const approved = i.decision === 'approve'
    const result = await deps.lifecycle.decideExtension(k.id, { actor: actorOf(c), approved, ...(i.note ? { note: i.note } : {}) })
    return lifecycleOutcome(result, approved ? 'extension-approved' : 'extension-refused')
  })

  // 督办意见 through the lifecycle: the handling office is sent the note on its alert channel, and
  // a new deadline (in working days from now) moves the case's reminders and escalation.
  const Supervise = z.object({ text: z.string().trim().min(1).max(MAX_NOTE), within: z.enum(['', '1', '3', '5']).default('') })
  post('supervise', 'supervise', Supervise, 'supervise-text', async (k, i, c) => {
    const own = c.get('identity').officeId
    const above = own && own !== k.officeId && deps.offices.covers(own, k.officeId) ? own : undefined
    const deadlineAt = i.within ? addDuration(deps.now(), `${i.within} working days`, deps.calendar) : undefined
    return lifecycleOutcome(await deps.lifecycle.supervise(k.id, { actor: actorOf(c), note: i.text, ...(above ? { officeId: above } : {}), ...(deadlineAt !== undefined ? { deadlineAt } : {}) }))
  })

  // 并案: with another case of the same issue, found by its tracking code inside the user's scope.
  const links = { store: deps.store, ids: deps.ids, now: deps.now }
  post('cluster/link', 'dispatch', z.object({ trackingCode: z.string().trim().min(1).max(40) }), 'cluster-code', async (k, i, c) => {
    const other = await deps.store.getCaseByTrackingCode(i.trackingCode.toUpperCase(), c.get('identity').scope)
    if (!other) return { ok: false, status: 422, code: 'case_not_found', message: 'no such case' }
    const linked = await linkToCluster(links, { caseId: k.id, withCaseId: other.id, actor: c.get('identity').actor })
    return linked.ok ? { ok: true } : linked
  })
  post('cluster/unlink', 'dispatch', z.object({}), 'h-cluster', async (k, _i, c) => {
    if (!k.clusterId) return { ok: false, status: 409, code: 'not_a_member', message: c.get('t').notInCluster }
    const left = await unlinkFromCluster(links, { caseId: k.id, clusterId: k.clusterId, actor: c.get('identity').actor })
    return left.ok ? { ok: true } : left
  })
}
