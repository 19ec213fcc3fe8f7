import { html, raw } from 'hono/html'
import { z } from 'zod'
import { Case, CaseEvent, CaseMessage, Office, OutboxItem } from '../model/index.ts'
import { Assign, Dispatch, Duty, ReturnCase, StaffReply, StatusChange, Transfer } from './api.ts'
import { ClusterLinkBody, ClusterReplyBody, ClusterResolveBody, NewClusterBody } from './cluster-api.ts'
import { ExtensionDecision, ExtensionRequest, SupervisionNote, TransitionBody } from '../lifecycle/api.ts'
import { webhookPaths, webhookSchemas } from '../webhooks/openapi.ts'
import { NewUserBody, PasswordResetBody } from './admin-api.ts'
import { StaffUser } from '../access/model.ts'
import { OfficeSettings, OfficeSettingsChange } from '../offices/settings.ts'

const schema = (s: z.ZodType, io: 'input' | 'output' = 'output') =>
  z.toJSONSchema(s, { target: 'openapi-3.0', io, unrepresentable: 'any' })

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const json = (s: object) => ({ content: { 'application/json': { schema: s } } })
const ErrorBody = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
}
const errors = {
  '400': { description: 'Invalid request', ...json(ref('Error')) },
  '401': { description: 'Missing or wrong API key', ...json(ref('Error')) },
  '404': { description: 'Not found', ...json(ref('Error')) },
}
const forbidden = { '403': { description: "The token's role or scopes do not allow it", ...json(ref('Error')) } }
const userAction = (path: string, summary: string, body?: string) => ({
  [`/users/{id}/${path}`]: {
    post: {
      summary,
      parameters: [idParam],
      ...(body ? { requestBody: { required: true, ...json(ref(body)) } } : {}),
      responses: { '200': { description: 'The account (never its password hash)', ...json(ref('StaffUser')) }, ...forbidden, ...errors },
    },
  },
})
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } }

const caseAction = (path: string, body: string, summary: string) => ({
  [`/cases/{id}/${path}`]: {
    post: {
      summary,
      parameters: [idParam],
      requestBody: { required: true, ...json(ref(body)) },
      responses: { '200': { description: 'The updated case', ...json(ref('Case')) }, '409': { description: 'Not possible in the case\'s state' }, '422': { description: 'Unknown office or staff, or not allowed there' }, ...errors },
    },
  },
})

/** The OpenAPI 3.0 document of /api/v1, generated from the same zod schemas that validate requests. */
export function openApiDocument(publicUrl: string) {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Intake API',
      version: '1',
      description:
        'Staff API of the Intake gateway: list and read cases with their messages and events, answer citizens on the channel they used, change status, watch the outbox.',
    },
    servers: [{ url: `${publicUrl.replace(/\/$/, '')}/api/v1` }],
    security: [{ bearer: [] }, { apiKey: [] }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            "A token (`intake token add`): a user's acts as that user (their office subtree, their role); an integration's has its scopes (read, reply, dispatch) and an office subtree. The config's apiKeys are administrators of every office.",
        },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'The same tokens, in a header of their own' },
      },
      schemas: {
        Case: schema(Case),
        CaseEvent: schema(CaseEvent),
        CaseMessage: schema(CaseMessage),
        OutboxItem: schema(OutboxItem),
        Office: schema(Office),
        StaffUser: schema(StaffUser.omit({ passwordHash: true })),
        NewUser: schema(NewUserBody, 'input'),
        PasswordReset: schema(PasswordResetBody, 'input'),
        OfficeSettings: schema(OfficeSettings),
        OfficeSettingsChange: schema(OfficeSettingsChange, 'input'),
        StaffReply: schema(StaffReply, 'input'),
        StatusChange: schema(StatusChange, 'input'),
        Dispatch: schema(Dispatch, 'input'),
        Transfer: schema(Transfer, 'input'),
        ReturnCase: schema(ReturnCase, 'input'),
        Assign: schema(Assign, 'input'),
        Duty: schema(Duty, 'input'),
        ClusterLink: schema(ClusterLinkBody, 'input'),
        NewCluster: schema(NewClusterBody, 'input'),
        ClusterReply: schema(ClusterReplyBody, 'input'),
        ClusterResolve: schema(ClusterResolveBody, 'input'),
        Cluster: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            createdAt: { type: 'integer' },
            updatedAt: { type: 'integer' },
            createdBy: { type: 'string' },
            members: {
              type: 'array',
              items: {
                type: 'object',
                properties: Object.fromEntries(['id', 'trackingCode', 'status', 'channelId', 'language', 'officeId', 'summary'].map((k) => [k, { type: 'string' }]).concat([['createdAt', { type: 'integer' }]])),
              },
            },
          },
        },
        Transition: schema(TransitionBody, 'input'),
        ExtensionRequest: schema(ExtensionRequest, 'input'),
        ExtensionDecision: schema(ExtensionDecision, 'input'),
        SupervisionNote: schema(SupervisionNote, 'input'),
        ...webhookSchemas,
        Error: ErrorBody,
      },
    },
    paths: {
      '/cases': {
        get: {
          summary: 'List cases, newest first',
          parameters: [
            ...['status', 'officeId', 'channelId', 'category', 'urgency', 'cursor'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
            { name: 'overdue', in: 'query', schema: { type: 'string', enum: ['true', 'false'] }, description: 'Only open cases past their deadline' },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
            { name: 'placeCode', in: 'query', schema: { type: 'string' }, description: 'The place or any place below it (a prefix of the case\'s place code)' },
            ...['createdFrom', 'createdTo', 'updatedFrom', 'updatedTo'].map((name) => ({
              name,
              in: 'query',
              schema: { type: 'string' },
              description: 'Milliseconds since the epoch or an ISO 8601 date; From is inclusive, To exclusive',
            })),
          ],
          responses: {
            '200': {
              description: 'A page of cases; pass nextCursor back as cursor for the next one. An unknown query parameter is a 400 (unknown_parameter) naming it',
              ...json({ type: 'object', properties: { cases: { type: 'array', items: ref('Case') }, nextCursor: { type: 'string' } } }),
            },
            ...errors,
          },
        },
      },
      '/stats': {
        get: {
          summary: 'The three rates and other figures of the cases received in a period (default: the year up to now)',
          parameters: [
            { name: 'from', in: 'query', schema: { type: 'integer' }, description: 'Received at or after (ms since the epoch)' },
            { name: 'to', in: 'query', schema: { type: 'integer' }, description: 'Received before (ms since the epoch)' },
            { name: 'officeId', in: 'query', schema: { type: 'string' }, description: 'The office and its subtree' },
            ...['channelId', 'category'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
            { name: 'placeCode', in: 'query', schema: { type: 'string' }, description: 'The place and every place below it' },
            { name: 'groupBy', in: 'query', schema: { type: 'string', enum: ['none', 'office', 'channel', 'category', 'place', 'month', 'day'], default: 'none' }, description: 'office: each office of the subtree with its own subtree\'s figures' },
            { name: 'placeDigits', in: 'query', schema: { type: 'integer' }, description: 'With groupBy=place: group by the first N characters of the code' },
            { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'csv'], default: 'json' } },
          ],
          responses: {
            '200': {
              description:
                'Rows of received, accepted_in_time, response_rate (÷ received), resolved, resolution_rate (÷ received), resolved_on_time, on_time_resolution_rate (÷ resolved), rated, satisfied, satisfaction_rate (÷ rated), ever_resolved, reopened, reopen_rate (÷ ever resolved), median_handling_hours (working days), overdue_now; text/csv with format=csv',
              ...json({ type: 'object', properties: { from: { type: 'integer' }, to: { type: 'integer' }, now: { type: 'integer' }, officeId: { type: ['string', 'null'] }, groupBy: { type: 'string' }, rows: { type: 'array', items: { type: 'object' } } } }),
            },
            ...errors,
          },
        },
      },
      '/cases/{id}': {
        get: {
          summary: 'A case with its messages, events and deliveries',
          parameters: [idParam],
          responses: {
            '200': {
              description: 'The case',
              ...json({
                type: 'object',
                properties: {
                  case: ref('Case'),
                  messages: { type: 'array', items: ref('CaseMessage') },
                  events: { type: 'array', items: ref('CaseEvent') },
                  outbox: { type: 'array', items: ref('OutboxItem') },
                  cluster: { ...ref('Cluster'), nullable: true },
                },
              }),
            },
            ...errors,
          },
        },
      },
      '/cases/by-tracking-code/{code}': {
        get: {
          summary: 'Find a case by its tracking code (a mistyped code is a 400, not a miss)',
          parameters: [{ name: 'code', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'The case', ...json(ref('Case')) }, ...errors },
        },
      },
      '/cases/{id}/contact': {
        get: {
          summary: "The citizen's contact details, unmasked: for the office handling the case only; each view is a contact_viewed event",
          parameters: [idParam],
          responses: {
            '200': { description: 'The contact', ...json({ type: 'object', properties: { citizen: { type: 'object' }, contact: { type: 'object', nullable: true }, anonymous: { type: 'boolean' } } }) },
            '403': { description: 'Not the office handling the case (not_handling_office)', ...json(ref('Error')) },
            ...errors,
          },
        },
      },
      '/cases/{id}/replies': {
        post: {
          summary: 'Answer the citizen on the channel they used (or leave an internal note)',
          parameters: [idParam],
          requestBody: { required: true, ...json(ref('StaffReply')) },
          responses: { '201': { description: 'Queued in the outbox' }, '415': { description: 'Not JSON' }, ...errors },
        },
      },
      '/cases/{id}/status': {
        post: {
          summary: 'Move the case along its life (resolving it notifies the citizen)',
          parameters: [idParam],
          requestBody: { required: true, ...json(ref('StatusChange')) },
          responses: { '200': { description: 'The updated case', ...json(ref('Case')) }, '409': { description: 'Not allowed from the current status' }, ...errors },
        },
      },
      ...caseAction('dispatch', 'Dispatch', 'Dispatch down the office tree (派单); assigns and alerts at the office it lands in'),
      ...caseAction('transfer', 'Transfer', 'Transfer to another office or agency, with the reason (转办)'),
      ...caseAction('return', 'ReturnCase', 'Return to the office that dispatched or transferred it here, with a reason code (退回)'),
      ...caseAction('assign', 'Assign', "Give the case to one person, or by the office's policy (round-robin, least-open) among those on duty"),
      '/clusters': {
        post: {
          summary: "Link a case with another citizen's case about the same matter: both join that case's cluster (made now if it has none)",
          requestBody: { required: true, ...json(ref('NewCluster')) },
          responses: { '201': { description: 'The cluster', ...json(ref('Cluster')) }, '409': { description: 'The case is already in another cluster' }, '422': { description: 'A case linked with itself' }, ...errors },
        },
      },
      '/clusters/{id}': {
        get: { summary: 'A duplicate cluster and its member cases', parameters: [idParam], responses: { '200': { description: 'The cluster', ...json(ref('Cluster')) }, ...errors } },
      },
      '/clusters/{id}/link': {
        post: {
          summary: 'Put a case into the cluster',
          parameters: [idParam],
          requestBody: { required: true, ...json(ref('ClusterLink')) },
          responses: { '200': { description: 'The cluster', ...json(ref('Cluster')) }, '409': { description: 'The case is already in another cluster' }, ...errors },
        },
      },
      '/clusters/{id}/unlink': {
        post: {
          summary: 'Take a case out of the cluster',
          parameters: [idParam],
          requestBody: { required: true, ...json(ref('ClusterLink')) },
          responses: { '200': { description: 'The cluster', ...json(ref('Cluster')) }, '409': { description: 'The case is not in this cluster' }, ...errors },
        },
      },
      '/clusters/{id}/replies': {
        post: {
          summary: "Answer every member of the cluster, each on their own channel, in their language, with their own tracking code",
          parameters: [idParam],
          requestBody: { required: true, ...json(ref('ClusterReply')) },
          responses: { '201': { description: 'Queued in the outbox for every member' }, ...errors },
        },
      },
      '/clusters/{id}/resolve': {
        post: {
          summary: 'Resolve every open member (办结) and tell each of them',
          parameters: [idParam],
          requestBody: { required: true, ...json(ref('ClusterResolve')) },
          responses: { '200': { description: 'The members changed, and those skipped (already resolved or closed)' }, ...errors },
        },
      },
      ...caseAction('accept', 'Transition', 'Accept the case at its office (接单); meets the acceptance deadline'),
      ...caseAction('start', 'Transition', 'Start handling the case (办理)'),
      ...caseAction('resolve', 'Transition', 'Resolve the case (办结): notifies the citizen, plans the follow-up survey'),
      ...caseAction('close', 'Transition', 'Close a resolved case without waiting for its rating'),
      ...caseAction('reopen', 'Transition', 'Reopen a resolved or closed case at the same office (重办), with a new deadline'),
      ...caseAction('extension', 'ExtensionRequest', 'Ask the office above for a later deadline, with a reason (延期)'),
      ...caseAction('extension/decision', 'ExtensionDecision', 'Approve (moves the deadline) or refuse the pending extension request'),
      ...caseAction('supervision', 'SupervisionNote', 'A supervision note (督办意见) to the handling office, optionally with a new deadline'),
      '/cases/{id}/timers': {
        get: { summary: "The case's pending timers (acceptance, reminders, escalation, survey)", parameters: [idParam], responses: { '200': { description: 'Timers' }, ...errors } },
      },
      '/offices/{id}/supervision': {
        get: {
          summary: 'The supervision list (督办): open cases at the offices below this one that are due or overdue',
          parameters: [idParam],
          responses: { '200': { description: 'Cases', ...json({ type: 'object', properties: { officeId: { type: 'string' }, cases: { type: 'array', items: ref('Case') } } }) }, ...errors },
        },
      },
      '/staff': {
        get: {
          summary: 'Staff of every office (or ?officeId=) with whether they are on duty',
          parameters: [{ name: 'officeId', in: 'query', schema: { type: 'string' } }],
          responses: { '200': { description: 'Staff' }, ...errors },
        },
      },
      '/staff/{id}/duty': {
        put: { summary: 'Go on or off duty', parameters: [idParam], requestBody: { required: true, ...json(ref('Duty')) }, responses: { '200': { description: 'Changed' }, ...errors } },
      },
      '/users': {
        get: {
          summary: 'Staff accounts of your office subtree (administrators)',
          responses: { '200': { description: 'Accounts', ...json({ type: 'object', properties: { users: { type: 'array', items: ref('StaffUser') } } }) }, ...forbidden, ...errors },
        },
        post: {
          summary: 'Add a staff account, live (an account event names you); the office must be in your subtree',
          requestBody: { required: true, ...json(ref('NewUser')) },
          responses: {
            '201': { description: 'The account', ...json(ref('StaffUser')) },
            '409': { description: 'The login is taken (login_taken)', ...json(ref('Error')) },
            '422': { description: 'No such office', ...json(ref('Error')) },
            ...forbidden,
            ...errors,
          },
        },
      },
      ...userAction('disable', 'Disable an account: its sessions end and its tokens stop at once'),
      ...userAction('enable', 'Enable a disabled account again'),
      '/users/{id}/reset-password': {
        post: {
          summary: 'A new password (given, or made and answered once); every session of the account ends',
          parameters: [idParam],
          requestBody: { required: true, ...json(ref('PasswordReset')) },
          responses: {
            '200': { description: 'The account, and `password` when the server made it', ...json({ type: 'object', properties: { user: ref('StaffUser'), password: { type: 'string' } } }) },
            ...forbidden,
            ...errors,
          },
        },
      },
      '/offices/{id}': {
        get: {
          summary: 'An office as the gateway runs it (the offices file with the live settings over it), and those settings',
          parameters: [idParam],
          responses: { '200': { description: 'The office', ...json({ type: 'object', properties: { office: ref('Office'), live: { ...ref('OfficeSettings'), nullable: true } } }) }, ...errors },
        },
        patch: {
          summary:
            "Change an office's contacts, duty roster or deadline policy, live: each field given replaces that field whole (deadlines: {} drops the office's own; null puts the field back to what the offices file says), kept over the offices file across restarts; an office_changed account event records before and after",
          parameters: [idParam],
          requestBody: { required: true, ...json(ref('OfficeSettingsChange')) },
          responses: {
            '200': { description: 'The office and its live settings', ...json({ type: 'object', properties: { office: ref('Office'), live: ref('OfficeSettings') } }) },
            '400': { description: 'Invalid request, an unreadable deadline (invalid_deadline), a roster naming an id twice (invalid_staff), nothing to change', ...json(ref('Error')) },
            ...forbidden,
            '404': errors['404'],
          },
        },
      },
      '/offices': { get: { summary: 'The office tree', responses: { '200': { description: 'Offices', ...json({ type: 'object', properties: { offices: { type: 'array', items: ref('Office') } } }) } } } },
      '/outbox': {
        get: {
          summary: 'Deliveries, e.g. ?status=dead for the dead letters',
          parameters: [{ name: 'status', in: 'query', schema: { type: 'string', enum: ['pending', 'sending', 'sent', 'dead'] } }],
          responses: { '200': { description: 'Deliveries', ...json({ type: 'object', properties: { items: { type: 'array', items: ref('OutboxItem') } } }) }, ...errors },
        },
      },
      '/outbox/{id}/retry': {
        post: { summary: 'Queue a dead-lettered delivery again', parameters: [idParam], responses: { '200': { description: 'Queued', ...json(ref('OutboxItem')) }, ...errors } },
      },
      ...webhookPaths,
    },
  }
}

/** A browsable reference page, rendered on the server from the document (no script, no CDN). */
export function openApiReference(doc: ReturnType<typeof openApiDocument>) {
  const paths = Object.entries(doc.paths) as [string, Record<string, { summary: string; requestBody?: unknown }>][]
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Intake API reference</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem}code,pre{font:13px ui-monospace,monospace}pre{background:#f6f8fa;padding:.75rem;overflow:auto}h2{border-top:1px solid #ddd;padding-top:1rem}.m{font-weight:700;text-transform:uppercase;margin-right:.5rem}</style></head>
<body><h1>${doc.info.title}</h1><p>${doc.info.description}</p>
<p>Base URL <code>${doc.servers[0]!.url}</code>. Send a token as <code>Authorization: Bearer …</code> (or in the <code>X-API-Key</code> header). Machine-readable: <a href="openapi.json">openapi.json</a>.</p>
${paths.map(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => html`<h2><span class="m">${method}</span><code>${path}</code></h2><p>${op.summary}</p>`),
)}
<h2>Schemas</h2>
${Object.entries(doc.components.schemas).map(([name, s]) => html`<h3 id="${name}">${name}</h3><pre>${raw(escapeJson(s))}</pre>`)}
</body></html>`
}

function escapeJson(value: unknown) {
  return JSON.stringify(value, null, 2).replace(/[<>&]/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[ch]!)
}
