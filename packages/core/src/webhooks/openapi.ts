import { z } from 'zod'
import { WEBHOOK_EVENT_TYPES, WebhookDeliveryStatus } from './model.ts'
import { WebhookSubscriptionInput } from './subscriptions.ts'

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const json = (s: object) => ({ content: { 'application/json': { schema: s } } })
const error = (description: string) => ({ description, ...json(ref('Error')) })
const param = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } })
const common = { '401': error('Missing or wrong API key'), '403': error('Not an administrator (the webhooks permission)'), '404': error('No such subscription (or outside your office subtree)') }

/** The webhooks' part of the OpenAPI document (app/openapi.ts): schemas and paths. */
export const webhookSchemas = {
  NewWebhookSubscription: z.toJSONSchema(WebhookSubscriptionInput, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }),
  WebhookSubscription: {
    type: 'object',
    description: 'A subscription as the API shows it: never its secret',
    properties: {
      id: { type: 'string' },
      url: { type: 'string' },
      events: { type: 'array', items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] } },
      officeId: { type: 'string', nullable: true },
      includeContact: { type: 'boolean' },
      source: { type: 'string', enum: ['config', 'api'] },
      createdAt: { type: 'integer' },
      createdBy: { type: 'string' },
    },
  },
  WebhookDelivery: {
    type: 'object',
    properties: {
      id: { type: 'string', description: 'Sent as X-Intake-Delivery' },
      subscriptionId: { type: 'string' },
      eventId: { type: 'integer' },
      caseId: { type: 'string' },
      eventType: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] },
      idempotencyKey: { type: 'string', description: 'Sent as Idempotency-Key, the same on every attempt' },
      payload: { type: 'object', description: 'The JSON body sent: { id, type, eventId, occurredAt, actor, case, data, message? }' },
      status: { type: 'string', enum: WebhookDeliveryStatus.options },
      attempts: { type: 'integer' },
      nextAttemptAt: { type: 'integer' },
      lastError: { type: 'string', nullable: true },
      responseStatus: { type: 'integer', nullable: true, description: "The receiver's last HTTP status" },
      createdAt: { type: 'integer' },
      updatedAt: { type: 'integer' },
    },
  },
}

export const webhookPaths = {
  '/webhooks': {
    get: { summary: 'Event subscriptions: the config’s and the API’s', responses: { '200': { description: 'Subscriptions', ...json({ type: 'object', properties: { subscriptions: { type: 'array', items: ref('WebhookSubscription') } } }) }, ...common } },
    post: {
      summary: 'Subscribe a URL to case events (signed like the api channel, in order per case, retried, dead-lettered)',
      requestBody: { required: true, ...json(ref('NewWebhookSubscription')) },
      responses: {
        '201': { description: 'Made', ...json(ref('WebhookSubscription')) },
        '400': error('Invalid body; invalid_url: not http(s), or this gateway itself; unknown_office'),
        ...common,
      },
    },
  },
  '/webhooks/{id}': {
    get: { summary: 'One subscription', parameters: [param('id')], responses: { '200': { description: 'The subscription', ...json(ref('WebhookSubscription')) }, ...common } },
    delete: { summary: 'Remove a subscription and its deliveries', parameters: [param('id')], responses: { '204': { description: 'Removed' }, '409': error('A subscription from the config'), ...common } },
  },
  '/webhooks/{id}/deliveries': {
    get: {
      summary: "A subscription's deliveries, newest event first",
      parameters: [param('id'), { name: 'status', in: 'query', schema: { type: 'string', enum: WebhookDeliveryStatus.options } }, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 } }],
      responses: { '200': { description: 'Deliveries', ...json({ type: 'object', properties: { deliveries: { type: 'array', items: ref('WebhookDelivery') } } }) }, ...common },
    },
  },
  '/webhooks/{id}/deliveries/{deliveryId}/retry': {
    post: { summary: 'Queue a dead-lettered delivery again, due now, with the same idempotency key', parameters: [param('id'), param('deliveryId')], responses: { '200': { description: 'Queued', ...json(ref('WebhookDelivery')) }, ...common } },
  },
}
