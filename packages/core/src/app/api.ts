import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { z } from 'zod'
import type { Store } from '../contracts/store.ts'
import { CaseFilter, CaseStatus, OutboxStatus, type Case } from '../model/index.ts'
import type { LiveOfficeDirectory } from '../offices/live-directory.ts'
import type { Pipeline } from '../pipeline/index.ts'
import { RETURN_REASONS, type ActionResult, type CaseActions } from '../case-actions/index.ts'
import { parseTrackingCode } from '../tracking-code/index.ts'
import type { IdGenerator } from '../ids/index.ts'
import { clusterSummary, mountClusterRoutes } from './cluster-api.ts'
import type { Authenticator } from '../access/authenticate.ts'
import type { LimiterStore } from '../throttle/limiter-store.ts'
import { handlesCase, type Identity } from '../access/identity.ts'
import { maskCase, maskMessage, maskValue } from '../access/mask.ts'
import type { Permission } from '../access/roles.ts'
import { mountAdminRoutes } from './admin-api.ts'

/**
 * Bodies may still carry `actor` or `author` (older clients): they are ignored. The actor of every
 * change is the authenticated identity (the token's user or integration), never a field in the body.
 */
const ignoredActor = { actor: z.unknown().optional(), author: z.unknown().optional() }
import type { WorkCalendar } from '../deadlines/index.ts'
import { figuresCsv, StatsQuery } from '../stats/figures.ts'
import { statsReport, StatsQueryError } from '../stats/report.ts'
import { mountLifecycleRoutes } from '../lifecycle/api.ts'
import { STEP_PERMISSIONS } from '../lifecycle/available-steps.ts'
import type { Lifecycle } from '../lifecycle/service.ts'
import { narrowerRole, ROLES, type Role as LifecycleRole } from '../lifecycle/state-machine.ts'
import { mountWebhookRoutes } from '../webhooks/api.ts'
import type { Webhooks } from '../webhooks/service.ts'

/** The role an API key acts as, unless the body names a narrower one (the console binds real users). */
/**
 * A body may name a role for the person acting, to act with less than the token allows (an
 * integration acting for a caseworker); never more: the token's own role is the ceiling.
 */
const ActingRole = z.enum(ROLES.filter((r) => r !== 'system') as [LifecycleRole, ...LifecycleRole[]]).optional()

/** What staff post to answer a citizen (public) or leave a note for colleagues (internal). */
export const StaffReply = z.object({
  text: z.string().trim().min(1).max(4000),
  ...ignoredActor,
  /** Internal notes stay on the record and never reach the citizen or the status page. */
  internal: z.boolean().default(false),
  role: ActingRole,
})

export const StatusChange = z.object({
  status: CaseStatus,
  ...ignoredActor,
  role: ActingRole,
  note: z.string().max(2000).optional(),
})

/** An instant in a query string: milliseconds since the epoch, or an ISO 8601 date or date-time. */
const Instant = z.string().transform((v, ctx) => {
  const ms = /^\d{1,15}$/.test(v) ? Number(v) : /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN
  if (!Number.isSafeInteger(ms) || ms < 0) {
    ctx.addIssue({ code: 'custom', message: `expected milliseconds since the epoch or an ISO 8601 date, got "${v}"` })
    return z.NEVER
  }
  return ms
})

const ListQuery = z
  .object({
    status: CaseStatus.optional(),
    officeId: z.string().optional(),
    channelId: z.string().optional(),
    category: z.string().optional(),
    urgency: z.enum(['urgent', 'normal', 'complex']).optional(),
    overdue: z.enum(['true', 'false']).optional(),
    /** The place or any place below it: a prefix of the case's place code. */
    placeCode: z.string().min(1).max(40).optional(),
    createdFrom: Instant.optional(),
    createdTo: Instant.optional(),
    updatedFrom: Instant.optional(),
    updatedTo: Instant.optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
    cursor: z.string().optional(),
  })
  .strict()

/** A query string with a parameter the route does not know: 400 naming it, never silently ignored. */
function unknownParameters(c: Context, error: z.ZodError): Response | undefined {
  const keys = error.issues.flatMap((i) => (i.code === 'unrecognized_keys' ? i.keys : []))
  if (keys.length === 0) return undefined
  return c.json(
    { error: { code: 'unknown_parameter', message: `unknown query parameter${keys.length > 1 ? 's' : ''}: ${keys.join(', ')}`, parameters: keys } },
    400,
  )
}

/** 派单: down the office tree. */
export const Dispatch = z.object({ officeId: z.string().min(1), ...ignoredActor, role: ActingRole, note: z.string().max(2000).optional() }).strict()
/** 转办: to any other office or agency, with the reason. */
export const Transfer = z.object({ officeId: z.string().min(1), ...ignoredActor, role: ActingRole, reason: z.string().trim().min(1).max(2000) }).strict()
/** 退回: back to whoever dispatched or transferred it here. */
export const ReturnCase = z.object({ ...ignoredActor, role: ActingRole, reason: z.enum(RETURN_REASONS), note: z.string().max(2000).optional() }).strict()
/** To one person, or (no staffId) by the office's assignment policy among those on duty. */
export const Assign = z.object({ ...ignoredActor, staffId: z.string().min(1).optional() }).strict()
export const Duty = z.object({ onDuty: z.boolean() }).strict()

export interface ApiDeps {
  store: Store
  offices: LiveOfficeDirectory
  pipeline: Pipeline
  actions: CaseActions
  auth: Authenticator
  /** Requests per token (config `apiLimits`): a token over its budget gets 429 with Retry-After. */
  perToken?: LimiterStore
  now: () => number
  ids: IdGenerator
  wakeOutbox: () => void
  /** Working days for the median handling time, and the zone periods are cut in. */
  calendar: WorkCalendar
  lifecycle: Lifecycle
  /** Event subscriptions (/webhooks), for administrators. */
  webhooks?: Webhooks
}

/** The zone's offset from UTC at an instant, in milliseconds (Asia/Shanghai: +8 h). */
function utcOffset(timeZone: string, at: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(new Date(at))
  const n = (t: string) => Number(parts.find((p) => p.type === t)!.value)
  const local = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'))
  return local - Math.floor(at / 1000) * 1000
}

type Env = { Variables: { identity: Identity } }

/** 403 naming what is missing, or undefined when the identity may (with a list: any one of them). */
function forbidden(c: Context<Env>, permission: Permission | readonly Permission[]): Response | undefined {
  const who = c.get('identity')
  const any: readonly Permission[] = typeof permission === 'string' ? [permission] : permission
  if (any.some((p) => who.permissions.has(p))) return undefined
  return c.json({ error: { code: 'forbidden', message: `${who.role ? `the ${who.role} role` : 'this token'} may not ${any.join(' or ')}` } }, 403)
}

/** The lifecycle role the caller acts with: their user's role (tokens of integrations and config keys act as admin), narrowed if the body asks. */
const roleOf = (c: Context<Env>, asked?: LifecycleRole): LifecycleRole => narrowerRole(c.get('identity').role ?? 'admin', asked)

/** A case as the caller may see it: the contact masked unless asked for (GET /cases/:id/contact). */
const shown = (kase: Case) => maskCase(kase)

function invalid(c: Context, error: z.ZodError) {
  return c.json(
    {
      error: {
        code: 'invalid_request',
        message: error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
        issues: error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      },
    },
    400,
  )
}

async function jsonBody(c: Context): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  const type = c.req.header('content-type') ?? ''
  if (!/^application\/json\b/i.test(type)) {
    return { ok: false, response: c.json({ error: { code: 'unsupported_media_type', message: 'send application/json' } }, 415) }
  }
  try {
    return { ok: true, value: await c.req.json() }
  } catch {
    return { ok: false, response: c.json({ error: { code: 'malformed_json', message: 'the body is not valid JSON' } }, 400) }
  }
}

const notFound = (c: Context, what: string) => c.json({ error: { code: 'not_found', message: `${what} not found` } }, 404)

/** The staff REST API under /api/v1, behind an API key (X-API-Key or Authorization: Bearer). */
export function createApi(deps: ApiDeps): Hono<Env> {
  const { store, offices, pipeline, now } = deps
  const api = new Hono<Env>()

  api.use(
    '*',
    bodyLimit({
      maxSize: 256 * 1024,
      onError: (c) => c.json({ error: { code: 'body_too_large', message: 'the body is larger than 256 KiB' } }, 413),
    }),
  )

  // Every route below needs a token; the public docs are mounted before this app, on their exact paths only.
  api.use('*', async (c, next) => {
    const presented = c.req.header('x-api-key') ?? c.req.header('authorization')?.replace(/^Bearer\s+/i, '')
    const auth = await deps.auth.bearer(presented)
    if (!auth.ok) return c.json({ error: { code: auth.code, message: auth.message } }, auth.status)
    c.set('identity', auth.identity)
    const budget = await deps.perToken?.consume(`token:${auth.identity.actor}`)
    if (budget && !budget.allowed) {
      c.header('Retry-After', String(Math.ceil(budget.retryAfterMs / 1000)))
      return c.json({ error: { code: 'rate_limited', message: 'too many requests with this token; try again after Retry-After seconds' } }, 429)
    }
    return next()
  })
  const scope = (c: Context<Env>) => c.get('identity').scope

  api.get('/cases', async (c) => {
    const q = ListQuery.safeParse(c.req.query())
    if (!q.success) return unknownParameters(c, q.error) ?? invalid(c, q.error)
    const { overdue, ...rest } = q.data
    const filter = CaseFilter.safeParse({ ...rest, officeIds: scope(c)?.officeIds, overdueAt: overdue === 'true' ? now() : undefined })
    if (!filter.success) return invalid(c, filter.error)
    try {
      const page = await store.listCases(filter.data)
      return c.json({ ...page, cases: page.cases.map(shown) })
    } catch (err) {
      if ((err as { code?: string }).code === 'invalid_cursor') return c.json({ error: { code: 'invalid_cursor', message: 'the cursor is not valid' } }, 400)
      throw err
    }
  })

  api.get('/stats', async (c) => {
    const q = StatsQuery.safeParse(c.req.query())
    if (!q.success) return unknownParameters(c, q.error) ?? invalid(c, q.error)
    const { format, ...query } = q.data
    let report
    try {
      // Counted inside the caller's subtree only: another office's cases are in no count or export.
      const visible = scope(c)?.officeIds
      report = await statsReport({ store, offices, calendar: deps.calendar, utcOffsetMs: utcOffset(deps.calendar.timeZone, now()) }, { ...query, ...(visible ? { scope: visible } : {}) }, now())
    } catch (err) {
      if (err instanceof StatsQueryError) return c.json({ error: { code: err.code, message: err.message } }, err.code === 'unknown_office' ? 404 : 400)
      throw err
    }
    if (format === 'csv') {
      c.header('Content-Disposition', `attachment; filename="intake-stats-${query.groupBy}.csv"`)
      return c.body(figuresCsv(report.rows, query.groupBy === 'none' ? 'all' : query.groupBy), 200, { 'Content-Type': 'text/csv; charset=utf-8' })
    }
    return c.json(report)
  })

  api.get('/cases/by-tracking-code/:code', async (c) => {
    const parsed = parseTrackingCode(c.req.param('code'))
    if (!parsed.ok) {
      return c.json({ error: { code: `tracking_code_${parsed.reason}`, message: parsed.reason === 'check_mismatch' ? 'the tracking code looks mistyped (its check character does not match)' : 'not a tracking code' } }, 400)
    }
    const kase = await store.getCaseByTrackingCode(parsed.code, scope(c))
    return kase ? c.json(shown(kase)) : notFound(c, 'case')
  })

  api.get('/cases/:id', async (c) => {
    const kase = await store.getCase(c.req.param('id'), scope(c))
    if (!kase) return notFound(c, 'case')
    const [messages, events, outbox, cluster] = await Promise.all([
      store.listMessages(kase.id),
      store.listEvents(kase.id),
      store.listOutbox({ caseId: kase.id }),
      kase.clusterId ? store.getCluster(kase.clusterId) : undefined,
    ])
    const maskedOutbox = outbox.map((o) => ({ ...o, payload: { ...o.payload, to: { ...o.payload.to, id: maskValue(o.payload.to.id) } } }))
    return c.json({ case: shown(kase), messages: messages.map(maskMessage), events, outbox: maskedOutbox, cluster: cluster ? clusterSummary(cluster) : null })
  })

  /** The citizen's contact details, for the office handling the case only; each view is an event. */
  api.get('/cases/:id/contact', async (c) => {
    const kase = await store.getCase(c.req.param('id'), scope(c))
    if (!kase) return notFound(c, 'case')
    const who = c.get('identity')
    if (!handlesCase(who, kase)) {
      return c.json({ error: { code: 'not_handling_office', message: 'contact details are shown only to the office handling the case' } }, 403)
    }
    const at = now()
    await store.applyCaseChange({ caseId: kase.id, at, events: [{ caseId: kase.id, at, type: 'contact_viewed', actor: who.actor, public: false, data: { via: 'api' } }] })
    return c.json({ citizen: kase.citizen, contact: kase.contact, anonymous: kase.anonymous })
  })

  api.post('/cases/:id/replies', async (c) => {
    const body = await jsonBody(c)
    if (!body.ok) return body.response
    const reply = StaffReply.safeParse(body.value)
    if (!reply.success) return invalid(c, reply.error)
    const denied = forbidden(c, reply.data.internal ? 'note' : 'reply')
    if (denied) return denied
    const kase = await store.getCase(c.req.param('id'), scope(c))
    if (!kase) return notFound(c, 'case')
    const { text, internal } = reply.data
    const actor = c.get('identity').actor
    if (internal) {
      await deps.actions.note(kase.id, { text, actor })
      return c.json({ internal: true }, 201)
    }
    const result = await deps.actions.reply(kase.id, { text, actor, role: roleOf(c, reply.data.role) })
    if (!result.ok) return c.json({ error: { code: result.code, message: result.message, ...(result.allowed ? { allowed: result.allowed } : {}) } }, result.status)
    return c.json({ case: shown(result.case), message: result.message }, 201)
  })

  api.post('/cases/:id/status', async (c) => {
    const body = await jsonBody(c)
    if (!body.ok) return body.response
    const change = StatusChange.safeParse(body.value)
    if (!change.success) return invalid(c, change.error)
    const denied = forbidden(c, 'status')
    if (denied) return denied
    const kase = await store.getCase(c.req.param('id'), scope(c))
    if (!kase) return notFound(c, 'case')
    const { status, note, role } = change.data
    const result = await deps.actions.changeStatus(kase.id, { status, actor: c.get('identity').actor, role: roleOf(c, role), ...(note ? { note } : {}) })
    if (!result.ok) return c.json({ error: { code: result.code, message: result.message, ...(result.allowed ? { allowed: result.allowed } : {}) } }, result.status)
    return c.json(shown(result.case) satisfies Case)
  })

  mountLifecycleRoutes(api, deps.lifecycle, {
    jsonBody,
    invalid,
    acting: (c, asked) => ({ id: c.get('identity').actor, role: roleOf(c, asked), officeId: c.get('identity').officeId }),
    inScope: async (c, caseId) => (await store.getCase(caseId, scope(c))) !== undefined,
    forbidden,
    visibleOffices: (c) => scope(c)?.officeIds,
  })

  /** One route per case action: validate, act, answer the updated case or the action's 4xx. */
  const action = <S extends z.ZodType>(path: string, schema: S, permission: readonly Permission[], act: (caseId: string, input: z.infer<S>, actor: string, role: LifecycleRole) => Promise<ActionResult>) =>
    api.post(`/cases/:id/${path}`, async (c) => {
      const body = await jsonBody(c)
      if (!body.ok) return body.response
      const input = schema.safeParse(body.value)
      if (!input.success) return invalid(c, input.error)
      const denied = forbidden(c, permission)
      if (denied) return denied
      // Outside the caller's subtree the case does not exist for them.
      if (!(await store.getCase(c.req.param('id'), scope(c)))) return notFound(c, 'case')
      const asked = (input.data as { role?: LifecycleRole }).role
      const result = await act(c.req.param('id'), input.data, c.get('identity').actor, roleOf(c, asked))
      if (!result.ok) return c.json({ error: { code: result.code, message: result.message, ...(result.allowed ? { allowed: result.allowed } : {}) } }, result.status)
      return c.json(shown(result.case) satisfies Case)
    })
  action('dispatch', Dispatch, STEP_PERMISSIONS.dispatch, (id, { officeId, note }, actor, role) => deps.actions.dispatch(id, { officeId, note, actor, role }))
  action('transfer', Transfer, STEP_PERMISSIONS.transfer, (id, { officeId, reason }, actor, role) => deps.actions.transfer(id, { officeId, reason, actor, role }))
  action('return', ReturnCase, STEP_PERMISSIONS.return, (id, { reason, note }, actor, role) => deps.actions.returnCase(id, { reason, note, actor, role }))
  action('assign', Assign, ['dispatch'], (id, { staffId }, actor) => deps.actions.assign(id, { staffId, actor }))

  mountClusterRoutes(api, { store, pipeline, ids: deps.ids, now, wakeOutbox: deps.wakeOutbox, lifecycle: deps.lifecycle.context, jsonBody, invalid })

  api.get('/staff', async (c) => {
    const duty = await store.listDuty()
    const officeId = c.req.query('officeId')
    const visible = scope(c)
    const staff = offices.all
      .filter((o) => (!officeId || o.id === officeId) && (!visible || visible.officeIds.includes(o.id)))
      .flatMap((o) => o.staff.map((s) => ({ id: s.id, name: s.name, officeId: o.id, onDuty: duty[s.id] ?? s.onDuty })))
    return c.json({ staff })
  })

  api.put('/staff/:id/duty', async (c) => {
    const body = await jsonBody(c)
    if (!body.ok) return body.response
    const input = Duty.safeParse(body.value)
    if (!input.success) return invalid(c, input.error)
    const denied = forbidden(c, 'dispatch')
    if (denied) return denied
    const staffId = c.req.param('id')
    const visible = scope(c)
    if (!offices.all.some((o) => (!visible || visible.officeIds.includes(o.id)) && o.staff.some((s) => s.id === staffId))) return notFound(c, 'staff member')
    await store.setOnDuty(staffId, input.data.onDuty, now())
    return c.json({ id: staffId, onDuty: input.data.onDuty })
  })

  mountAdminRoutes(api, { store, offices, now, jsonBody, invalid, forbidden })

  api.get('/offices', (c) => c.json({ offices: offices.all }))

  if (deps.webhooks) mountWebhookRoutes(api, deps.webhooks, store, now, { jsonBody, invalid, forbidden })

  api.get('/outbox', async (c) => {
    const q = z.object({ status: OutboxStatus.optional(), limit: z.coerce.number().int().min(1).max(500).optional() }).safeParse(c.req.query())
    if (!q.success) return invalid(c, q.error)
    const items = await store.listOutbox({ ...q.data, officeIds: scope(c)?.officeIds })
    return c.json({ items: items.map((o) => ({ ...o, payload: { ...o.payload, to: { ...o.payload.to, id: maskValue(o.payload.to.id) } } })) })
  })

  api.post('/outbox/:id/retry', async (c) => {
    const denied = forbidden(c, 'outbox')
    if (denied) return denied
    const item = await store.retryOutbox(c.req.param('id'), now(), scope(c))
    if (!item) return c.json({ error: { code: 'not_dead', message: 'no dead-lettered delivery with that id' } }, 404)
    deps.wakeOutbox()
    return c.json(item)
  })

  return api
}
