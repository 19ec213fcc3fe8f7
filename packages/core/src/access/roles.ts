import { z } from 'zod'

/**
 * Who may do what. A caseworker works the cases of their office; an office lead also dispatches,
 * assigns and approves; a supervisor oversees the office's subtree (督办); an administrator runs the
 * deployment. Everyone sees only their office's subtree (identity.ts); roles decide the actions.
 */
export const Role = z.enum(['caseworker', 'lead', 'supervisor', 'admin'])
export type Role = z.infer<typeof Role>

export const Permission = z.enum([
  /** See cases, messages, events. */
  'read',
  /** Answer the citizen on their channel. */
  'reply',
  /** Internal notes. */
  'note',
  /** Move a case through its statuses (accept, start, answer, resolve, close, reopen). */
  'status',
  /** 派单, 转办, 退回, and assignment inside the office. */
  'dispatch',
  /** The office lead's approval: close (结案) and reopen (重办) a case. */
  'approve',
  /** Supervision notes on overdue and escalated cases (督办). */
  'supervise',
  /** Retry dead-lettered deliveries. */
  'outbox',
  /** Read the audit trail and verify its chain. */
  'audit',
  /** Add, disable and reset staff accounts. */
  'staff',
  /** Change an office's contacts, duty roster and deadline policy while the gateway runs. */
  'offices',
  /** The Prometheus metrics. */
  'metrics',
  /** Event webhooks: subscriptions and their deliveries (they can carry every case of the deployment). */
  'webhooks',
])
export type Permission = z.infer<typeof Permission>

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  caseworker: ['read', 'reply', 'note', 'status'],
  lead: ['read', 'reply', 'note', 'status', 'dispatch', 'approve', 'outbox'],
  supervisor: ['read', 'note', 'supervise', 'audit'],
  admin: Permission.options,
}

/**
 * What an integration token may be given: `read`, `reply` (and notes), `dispatch` (dispatch,
 * transfer, return, assign and status changes, close and reopen included).
 */
export const IntegrationScope = z.enum(['read', 'reply', 'dispatch'])
export type IntegrationScope = z.infer<typeof IntegrationScope>

export function scopePermissions(scopes: readonly IntegrationScope[]): Permission[] {
  const out = new Set<Permission>()
  for (const s of scopes) {
    out.add('read')
    if (s === 'reply') out.add('reply').add('note')
    if (s === 'dispatch') out.add('dispatch').add('status').add('approve')
  }
  return [...out]
}
