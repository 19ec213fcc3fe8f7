import { createHash, timingSafeEqual } from 'node:crypto'
import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { z } from 'zod'
import type { Store } from '../contracts/store.ts'
import { CaseFilter, CaseStatus, OPEN_STATUSES, OutboxStatus, type Case, type CaseStatus as Status } from '../model/index.ts'
import type { OfficeDirectory } from '../offices/index.ts'
import type { Pipeline } from '../pipeline/index.ts'
import { RETURN_REASONS, type ActionResult, type CaseActions } from '../case-actions/index.ts'
import { parseTrackingCode } from '../tracking-code/index.ts'
import type { IdGenerator } from '../ids/index.ts'
import { clusterSummary, mountClusterRoutes } from './cluster-api.ts'
import type { WorkCalendar } from '../deadlines/index.ts'
import { figuresCsv, StatsQuery } from '../stats/figures.ts'
import { statsReport, StatsQueryError } from '../stats/report.ts'
import { mountLifecycleRoutes } from '../lifecycle/api.ts'
import type { Lifecycle } from '../lifecycle/service.ts'
import { allowedFrom, checkTransition, ROLES, transitionTo, type Role } from '../lifecycle/state-machine.ts'
import { statusChanged } from '../lifecycle/transitions.ts'

/** The role an API key acts as, unless the body names a narrower one (the console binds real users). */
const StaffRole = z.enum(ROLES.filter((r) => r !== 'system') as [Role, ...Role[]]).default('admin')

/** What staff post to answer a citizen (public) or leave a note for colleagues (internal). */
export const StaffReply = z.object({
  text: z.string().trim().min(1).max(4000),
  /** Staff id or name; recorded on the event. */
  author: z.string().min(1).max(100),
  /** Internal notes stay on the record and never reach the citizen or the status page. */
  internal: z.boolean().default(false),
})

export const StatusChange = z.object({
  status: CaseStatus,
  actor: z.string().min(1).max(100),
  role: StaffRole,
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
export const Dispatch = z.object({ officeId: z.string().min(1), actor: z.string().min(1).max(100), role: StaffRole, note: z.string().max(2000).optional() }).strict()
/** 转办: to any other office or agency, with the reason. */
export const Transfer = z.object({ officeId: z.string().min(1), actor: z.string().min(1).max(100), role: StaffRole, reason: z.string().trim().min(1).max(2000) }).strict()
/** 退回: back to whoever dispatched or transferred it here. */
export const ReturnCase = z.object({ actor: z.string().min(1).max(100), role: StaffRole, reason: z.enum(RETURN_REASONS), note: z.string().max(2000).optional() }).strict()
/** To one person, or (no staffId) by the office's assignment policy among those on duty. */
export const Assign = z.object({ actor: z.string().min(1).max(100), staffId: z.string().min(1).optional() }).strict()
export const Duty = z.object({ onDuty: z.boolean() }).strict()

export interface ApiDeps {
  store: Store
  offices: OfficeDirectory
  pipeline: Pipeline
  actions: CaseActions
  apiKeys: readonly string[]
  now: () => number
  ids: IdGenerator
  wakeOutbox: () => void
  /** Working days for the median handling time, and the zone periods are cut in. */
  calendar: WorkCalendar
  lifecycle: Lifecycle
}

/** The zone's offset from UTC at an instant, in milliseconds (Asia/Shanghai: +8 h). */
function utcOffset(timeZone: string, at: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(new Date(at))
  const n = (t: string) => Number(parts.find((p) => p.type === t)!.value)
  const local = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'))
  return local - Math.floor(at / 1000) * 1000
}

const digest = (s: string) => createHash('sha256').update(s).digest()

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
export function createApi(deps: ApiDeps): Hono {
  const { store, offices, pipeline, now } = deps
  const keys = deps.apiKeys.map(digest)
  const api = new Hono()

  api.use(
    '*',
    bodyLimit({
      maxSize: 256 * 1024,
      onError: (c) => c.json({ error: { code: 'body_too_large', message: 'the body is larger than 256 KiB' } }, 413),
    }),
  )

  api.use('*', async (c, next) => {
    if (c.req.path.endsWith('/openapi.json') || c.req.path.endsWith('/docs')) return next()
    const presented = c.req.header('x-api-key') ?? c.req.header('authorization')?.replace(/^Bearer\s+/i, '')
    // Compare digests so every comparison takes the same time whatever the key's length.
    const ok = presented !== undefined && keys.some((k) => timingSafeEqual(k, digest(presented)))
    if (!ok) return c.json({ error: { code: 'unauthorized', message: 'a valid API key is required (X-API-Key header)' } }, 401)
    return next()
  })

  api.get('/cases', async (c) => {
    const q = ListQuery.safeParse(c.req.query())
    if (!q.success) return unknownParameters(c, q.error) ?? invalid(c, q.error)
    const { overdue, ...rest } = q.data
    const filter = CaseFilter.safeParse({ ...rest, overdueAt: overdue === 'true' ? now() : undefined })
    if (!filter.success) return invalid(c, filter.error)
    try {
      return c.json(await store.listCases(filter.data))
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
      report = await statsReport({ store, offices, calendar: deps.calendar, utcOffsetMs: utcOffset(deps.calendar.timeZone, now()) }, query, now())
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
    const kase = await store.getCaseByTrackingCode(parsed.code)
    return kase ? c.json(kase) : notFound(c, 'case')
  })

  api.get('/cases/:id', async (c) => {
    const kase = await store.getCase(c.req.param('id'))
    if (!kase) return notFound(c, 'case')
    const [messages, events, outbox, cluster] = await Promise.all([
      store.listMessages(kase.id),
      store.listEvents(kase.id),
      store.listOutbox({ caseId: kase.id }),
      kase.clusterId ? store.getCluster(kase.clusterId) : undefined,
    ])
    return c.json({ case: kase, messages, events, outbox, cluster: cluster ? clusterSummary(cluster) : null })
  })

  api.post('/cases/:id/replies', async (c) => {
    const body = await jsonBody(c)
    if (!body.ok) return body.response
    const reply = StaffReply.safeParse(body.value)
    if (!reply.success) return invalid(c, reply.error)
    const kase = await store.getCase(c.req.param('id'))
    if (!kase) return notFound(c, 'case')
    const at = now()
    const { text, author, internal } = reply.data
    if (internal) {
      await store.applyCaseChange({ caseId: kase.id, at, events: [{ caseId: kase.id, at, type: 'note', actor: author, public: false, data: { text } }] })
      return c.json({ internal: true }, 201)
    }
    const out = pipeline.outbound(kase, 'reply', pipeline.render('reply', kase, { text }), author, at, await pipeline.threadOf(kase), 'reply')
    // A reply on an open case is the answer (答复): the status moves, and acceptance is met.
    const answers = OPEN_STATUSES.includes(kase.status) && kase.status !== 'replied'
    const firstAcceptance = answers && kase.acceptedAt === null
    const updated = await store.applyCaseChange({
      caseId: kase.id,
      at,
      patch: answers ? { status: 'replied', ...(firstAcceptance ? { acceptedAt: at } : {}) } : undefined,
      events: [
        { caseId: kase.id, at, type: 'replied', actor: author, public: true, data: { messageId: out.message.id, text } },
        ...(answers ? [statusChanged(kase, 'replied', 'answer', author, at)] : []),
      ],
      outbound: [out],
      ...(firstAcceptance ? { timers: { cancel: ['accept_due'], timers: [] } } : {}),
    })
    deps.wakeOutbox()
    return c.json({ case: updated, message: out.message }, 201)
  })

  api.post('/cases/:id/status', async (c) => {
    const body = await jsonBody(c)
    if (!body.ok) return body.response
    const change = StatusChange.safeParse(body.value)
    if (!change.success) return invalid(c, change.error)
    const kase = await store.getCase(c.req.param('id'))
    if (!kase) return notFound(c, 'case')
    const { status, actor, role, note } = change.data
    // The state machine decides (lifecycle/state-machine.ts); this route names a status, not a transition.
    const transition = transitionTo(kase.status, status)
    if (!transition || transition === 'answer') {
      const allowed = allowedFrom(kase.status)
      const why = status === 'dispatched' ? ' (dispatch with POST /cases/:id/dispatch, naming the office)' : status === 'replied' ? ' (answer with POST /cases/:id/replies)' : ''
      return c.json({ error: { code: 'invalid_transition', message: `a ${kase.status} case cannot become ${status}${why}; possible: ${allowed.join(', ')}`, allowed } }, 409)
    }
    const check = checkTransition(kase.status, transition, { id: actor, role })
    if (!check.ok) return c.json({ error: { code: check.code, message: check.message, allowed: check.allowed } }, check.status)
    const result = await deps.lifecycle.transition(kase.id, transition, { actor: { id: actor, role }, ...(note ? { note } : {}), reason: transition === 'close' || transition === 'reopen' ? 'staff' : undefined })
    if (!result.ok) return c.json({ error: { code: result.code, message: result.message, ...(result.allowed ? { allowed: result.allowed } : {}) } }, result.status)
    return c.json(result.case satisfies Case)
  })

  mountLifecycleRoutes(api, deps.lifecycle, { jsonBody, invalid })

  /** One route per case action: validate, act, answer the updated case or the action's 4xx. */
  const action = <S extends z.ZodType>(path: string, schema: S, act: (caseId: string, input: z.infer<S>) => Promise<ActionResult>) =>
    api.post(`/cases/:id/${path}`, async (c) => {
      const body = await jsonBody(c)
      if (!body.ok) return body.response
      const input = schema.safeParse(body.value)
      if (!input.success) return invalid(c, input.error)
      const result = await act(c.req.param('id'), input.data)
      if (!result.ok) return c.json({ error: { code: result.code, message: result.message } }, result.status)
      return c.json(result.case satisfies Case)
    })
  action('dispatch', Dispatch, (id, input) => deps.actions.dispatch(id, input))
  action('transfer', Transfer, (id, input) => deps.actions.transfer(id, input))
  action('return', ReturnCase, (id, input) => deps.actions.returnCase(id, input))
  action('assign', Assign, (id, input) => deps.actions.assign(id, input))

  mountClusterRoutes(api, { store, pipeline, ids: deps.ids, now, wakeOutbox: deps.wakeOutbox, lifecycle: deps.lifecycle.context, jsonBody, invalid })

  api.get('/staff', async (c) => {
    const duty = await store.listDuty()
    const officeId = c.req.query('officeId')
    const staff = offices.all
      .filter((o) => !officeId || o.id === officeId)
      .flatMap((o) => o.staff.map((s) => ({ id: s.id, name: s.name, officeId: o.id, onDuty: duty[s.id] ?? s.onDuty })))
    return c.json({ staff })
  })

  api.put('/staff/:id/duty', async (c) => {
    const body = await jsonBody(c)
    if (!body.ok) return body.response
    const input = Duty.safeParse(body.value)
    if (!input.success) return invalid(c, input.error)
    const staffId = c.req.param('id')
    if (!offices.all.some((o) => o.staff.some((s) => s.id === staffId))) return notFound(c, 'staff member')
    await store.setOnDuty(staffId, input.data.onDuty, now())
    return c.json({ id: staffId, onDuty: input.data.onDuty })
  })

  api.get('/offices', (c) => c.json({ offices: offices.all }))

  api.get('/outbox', async (c) => {
    const q = z.object({ status: OutboxStatus.optional(), limit: z.coerce.number().int().min(1).max(500).optional() }).safeParse(c.req.query())
    if (!q.success) return invalid(c, q.error)
    return c.json({ items: await store.listOutbox(q.data) })
  })

  api.post('/outbox/:id/retry', async (c) => {
    const item = await store.retryOutbox(c.req.param('id'), now())
    if (!item) return c.json({ error: { code: 'not_dead', message: 'no dead-lettered delivery with that id' } }, 404)
    deps.wakeOutbox()
    return c.json(item)
  })

  return api
}
