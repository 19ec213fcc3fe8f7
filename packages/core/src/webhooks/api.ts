import type { Context, Hono } from 'hono'
import { z } from 'zod'
import type { Store } from '../contracts/store.ts'
import type { Identity } from '../access/identity.ts'
import type { Permission } from '../access/roles.ts'
import { WebhookDeliveryStatus, type WebhookDelivery, type WebhookSubscription } from './model.ts'
import type { Webhooks } from './service.ts'
import { WebhookSubscriptionInput } from './subscriptions.ts'

type Env = { Variables: { identity: Identity } }
type Json = (c: Context<Env>) => Promise<{ ok: true; value: unknown } | { ok: false; response: Response }>

export interface WebhookRouteHelpers {
  jsonBody: Json
  invalid: (c: Context<Env>, error: z.ZodError) => Response
  forbidden: (c: Context<Env>, permission: Permission) => Response | undefined
}

/** A subscription as the API shows it: never its secret. */
const view = ({ secret: _secret, ...subscription }: WebhookSubscription) => subscription
/** A delivery with its body as JSON, as it was (and will be) sent. */
const deliveryView = ({ payload, ...delivery }: WebhookDelivery) => ({ ...delivery, payload: JSON.parse(payload) as unknown })

const DeliveriesQuery = z.object({ status: WebhookDeliveryStatus.optional(), limit: z.coerce.number().int().min(1).max(500).optional() }).strict()

/**
 * Event subscriptions under /api/v1/webhooks, for administrators (the `webhooks` permission): add,
 * list, read, remove; a subscription's deliveries, and a retry of a dead one. An administrator of
 * one office sees and makes only subscriptions filtered to an office inside their subtree; the
 * config's subscriptions are listed, never changed.
 */
export function mountWebhookRoutes(api: Hono<Env>, webhooks: Webhooks, store: Store, now: () => number, { jsonBody, invalid, forbidden }: WebhookRouteHelpers): void {
  const notFound = (c: Context<Env>) => c.json({ error: { code: 'not_found', message: 'webhook subscription not found' } }, 404)
  const visible = (c: Context<Env>, s: Pick<WebhookSubscription, 'officeId'>) => {
    const scope = c.get('identity').scope
    return scope === undefined || (s.officeId !== null && scope.officeIds.includes(s.officeId))
  }
  const find = async (c: Context<Env>) => {
    const found = (await webhooks.subscriptions()).find((s) => s.id === c.req.param('id'))
    return found && visible(c, found) ? found : undefined
  }

  api.use('/webhooks/*', async (c, next) => forbidden(c, 'webhooks') ?? next())
  api.use('/webhooks', async (c, next) => forbidden(c, 'webhooks') ?? next())

  api.get('/webhooks', async (c) => c.json({ subscriptions: (await webhooks.subscriptions()).filter((s) => visible(c, s)).map(view) }))

  api.post('/webhooks', async (c) => {
    const body = await jsonBody(c)
    if (!body.ok) return body.response
    const input = WebhookSubscriptionInput.safeParse(body.value)
    if (!input.success) return invalid(c, input.error)
    if (!visible(c, input.data)) {
      return c.json({ error: { code: 'office_out_of_scope', message: 'name an officeId inside your own office subtree' } }, 403)
    }
    const made = await webhooks.create(input.data, c.get('identity').actor)
    if (!made.ok) {
      const message = made.problems.map((p) => `${p.field}: ${p.message}`).join('; ')
      return c.json({ error: { code: made.problems.some((p) => p.field === 'url') ? 'invalid_url' : 'unknown_office', message, issues: made.problems.map((p) => ({ path: p.field, message: p.message })) } }, 400)
    }
    return c.json(view(made.subscription), 201)
  })

  api.get('/webhooks/:id', async (c) => {
    const found = await find(c)
    return found ? c.json(view(found)) : notFound(c)
  })

  api.delete('/webhooks/:id', async (c) => {
    const found = await find(c)
    if (!found) return notFound(c)
    if (found.source === 'config') return c.json({ error: { code: 'configured_subscription', message: 'this subscription is in the config file: remove it there' } }, 409)
    await store.deleteWebhookSubscription(found.id)
    return c.body(null, 204)
  })

  api.get('/webhooks/:id/deliveries', async (c) => {
    const q = DeliveriesQuery.safeParse(c.req.query())
    if (!q.success) return invalid(c, q.error)
    const found = await find(c)
    if (!found) return notFound(c)
    return c.json({ deliveries: (await store.listWebhookDeliveries({ subscriptionId: found.id, ...q.data })).map(deliveryView) })
  })

  api.post('/webhooks/:id/deliveries/:deliveryId/retry', async (c) => {
    const found = await find(c)
    if (!found) return notFound(c)
    const delivery = await store.retryWebhookDelivery(found.id, c.req.param('deliveryId'), now())
    if (!delivery) return c.json({ error: { code: 'not_dead', message: 'no dead-lettered delivery with that id in this subscription' } }, 404)
    webhooks.deliveries.wake()
    return c.json(deliveryView(delivery))
  })
}
