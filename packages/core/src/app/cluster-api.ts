import type { Context, Hono } from 'hono'
import { z } from 'zod'
import type { Store } from '../contracts/store.ts'
import type { IdGenerator } from '../ids/index.ts'
import type { LifecycleContext } from '../lifecycle/context.ts'
import { notifyCluster } from '../lifecycle/cluster-fan-out.ts'
import { linkToCluster, unlinkFromCluster, type ClusterLinkOutcome } from '../lifecycle/cluster-links.ts'
import type { Pipeline } from '../pipeline/index.ts'
import { inScope, type Identity } from '../access/identity.ts'
import type { Permission } from '../access/roles.ts'

/** `actor`/`author` in a body are ignored: the actor is the token's identity (see api.ts). */
const ignoredActor = { actor: z.unknown().optional(), author: z.unknown().optional() }

/** Staff put a case into a cluster: an existing one (path) or the cluster of another case (`withCaseId`). */
export const ClusterLinkBody = z.object({ caseId: z.string().min(1), ...ignoredActor }).strict()
export const NewClusterBody = z.object({ caseId: z.string().min(1), withCaseId: z.string().min(1), ...ignoredActor }).strict()
/** The office's answer to everyone in the cluster. */
export const ClusterReplyBody = z.object({ text: z.string().trim().min(1).max(4000), ...ignoredActor }).strict()
/** Resolve (办结) every open member, each told on their own channel. */
export const ClusterResolveBody = z.object({ ...ignoredActor, note: z.string().max(2000).optional() }).strict()

export interface ClusterApiDeps {
  store: Store
  pipeline: Pipeline
  ids: IdGenerator
  now: () => number
  wakeOutbox: () => void
  /** Resolving members plans their surveys and stops their deadlines' timers, as a single resolve does. */
  lifecycle?: LifecycleContext
  jsonBody(c: Context): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }>
  invalid(c: Context, error: z.ZodError): Response
}

/** The cluster as staff see it: its members with their channel, status and code. */
export const clusterSummary = (view: NonNullable<Awaited<ReturnType<Store['getCluster']>>>) => ({
  ...view.cluster,
  members: view.members.map((m) => ({
    id: m.id,
    trackingCode: m.trackingCode,
    status: m.status,
    channelId: m.channelId,
    language: m.language,
    officeId: m.officeId,
    summary: m.summary,
    createdAt: m.createdAt,
  })),
})

/** /clusters routes of the staff API (mounted behind its API key). */
type Env = { Variables: { identity: Identity } }

export function mountClusterRoutes(api: Hono<Env>, deps: ClusterApiDeps): void {
  const { store } = deps
  const notFound = (c: Context) => c.json({ error: { code: 'cluster_not_found', message: 'cluster not found' } }, 404)
  const forbidden = (c: Context<Env>, p: Permission) =>
    c.get('identity').permissions.has(p) ? undefined : c.json({ error: { code: 'forbidden', message: `this identity may not ${p}` } }, 403)
  /** A cluster with a member outside the caller's subtree is not theirs to see or answer. */
  const visible = async (c: Context<Env>, id: string) => {
    const view = await store.getCluster(id)
    const scope = c.get('identity').scope
    return view && view.members.every((m) => inScope(scope, m.officeId)) ? view : undefined
  }
  /** The first of these cases the caller cannot see (or that does not exist), as its 404; undefined when all are visible. */
  const missingCase = async (c: Context<Env>, ...ids: string[]) => {
    for (const id of ids) {
      if (!(await store.getCase(id, c.get('identity').scope))) return c.json({ error: { code: 'case_not_found', message: `no case "${id}"` } }, 404)
    }
    return undefined
  }

  const answer = (c: Context, result: ClusterLinkOutcome, created = false) => {
    if (!result.ok) return c.json({ error: { code: result.code, message: result.message } }, result.status)
    return c.json(clusterSummary(result.view), created && result.changed ? 201 : 200)
  }

  /** Parse the body with `schema`, or answer the 4xx. */
  async function body<S extends z.ZodType>(c: Context, schema: S): Promise<{ ok: true; value: z.infer<S> } | { ok: false; response: Response }> {
    const raw = await deps.jsonBody(c)
    if (!raw.ok) return raw
    const parsed = schema.safeParse(raw.value)
    return parsed.success ? { ok: true, value: parsed.data } : { ok: false, response: deps.invalid(c, parsed.error) }
  }

  api.get('/clusters/:id', async (c) => {
    const view = await visible(c, c.req.param('id'))
    if (!view) return notFound(c)
    return c.json(clusterSummary(view))
  })

  api.post('/clusters', async (c) => {
    const input = await body(c, NewClusterBody)
    if (!input.ok) return input.response
    const denied = forbidden(c, 'dispatch')
    if (denied) return denied
    const missing = await missingCase(c, input.value.caseId, input.value.withCaseId)
    if (missing) return missing
    return answer(c, await linkToCluster(deps, { caseId: input.value.caseId, withCaseId: input.value.withCaseId, actor: c.get('identity').actor }), true)
  })

  api.post('/clusters/:id/link', async (c) => {
    const input = await body(c, ClusterLinkBody)
    if (!input.ok) return input.response
    const denied = forbidden(c, 'dispatch')
    if (denied) return denied
    const missing = await missingCase(c, input.value.caseId)
    if (missing) return missing
    if (!(await visible(c, c.req.param('id')))) return notFound(c)
    return answer(c, await linkToCluster(deps, { caseId: input.value.caseId, actor: c.get('identity').actor, clusterId: c.req.param('id') }))
  })

  api.post('/clusters/:id/unlink', async (c) => {
    const input = await body(c, ClusterLinkBody)
    if (!input.ok) return input.response
    const denied = forbidden(c, 'dispatch')
    if (denied) return denied
    if (!(await visible(c, c.req.param('id')))) return notFound(c)
    return answer(c, await unlinkFromCluster(deps, { caseId: input.value.caseId, actor: c.get('identity').actor, clusterId: c.req.param('id') }))
  })

  api.post('/clusters/:id/replies', async (c) => {
    const input = await body(c, ClusterReplyBody)
    if (!input.ok) return input.response
    const denied = forbidden(c, 'reply')
    if (denied) return denied
    if (!(await visible(c, c.req.param('id')))) return notFound(c)
    const sent = await notifyCluster({ store, messaging: deps.pipeline, onOutboxQueued: deps.wakeOutbox }, c.req.param('id'), { kind: 'reply', text: input.value.text, actor: c.get('identity').actor }, deps.now())
    if (!sent.ok) return c.json({ error: { code: sent.code, message: sent.message } }, sent.status)
    return c.json({ clusterId: sent.clusterId, cases: sent.changed, skipped: sent.skipped }, 201)
  })

  api.post('/clusters/:id/resolve', async (c) => {
    const input = await body(c, ClusterResolveBody)
    if (!input.ok) return input.response
    const denied = forbidden(c, 'status')
    if (denied) return denied
    if (!(await visible(c, c.req.param('id')))) return notFound(c)
    const notice = { kind: 'status', to: 'resolved', transition: 'resolve', actor: c.get('identity').actor, template: 'resolved', ...(input.value.note ? { note: input.value.note } : {}) } as const
    const sent = await notifyCluster({ store, messaging: deps.pipeline, onOutboxQueued: deps.wakeOutbox, lifecycle: deps.lifecycle }, c.req.param('id'), notice, deps.now())
    if (!sent.ok) return c.json({ error: { code: sent.code, message: sent.message } }, sent.status)
    return c.json({ clusterId: sent.clusterId, cases: sent.changed, skipped: sent.skipped })
  })
}
