import { z } from 'zod'
import { Timestamp } from '../model/index.ts'
import { IntegrationScope, Role } from './roles.ts'

/** A person who signs in to the console. Passwords are kept only as a scrypt hash (passwords.ts). */
export const StaffUser = z.object({
  id: z.string().min(1).max(100),
  /** What they type to sign in: an email address or a short name. Unique, case-insensitive. */
  login: z.string().trim().min(2).max(200),
  name: z.string().trim().min(1).max(200),
  officeId: z.string().min(1),
  role: Role,
  passwordHash: z.string(),
  disabled: z.boolean().default(false),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})
export type StaffUser = z.infer<typeof StaffUser>

/**
 * A bearer token for the API. A user's token acts as that user (same office, same role); an
 * integration's token has its own scopes and office subtree. Only the token's SHA-256 is stored.
 */
export const ApiToken = z.object({
  id: z.string().min(1),
  hash: z.string().length(64),
  name: z.string().min(1).max(200),
  userId: z.string().nullable(),
  /** Integration tokens: the office whose subtree it may see (null: every office). */
  officeId: z.string().nullable(),
  scopes: z.array(IntegrationScope),
  createdAt: Timestamp,
  revokedAt: Timestamp.nullable(),
})
export type ApiToken = z.infer<typeof ApiToken>

/** A signed-in console session. The cookie holds the id; the store keeps only its SHA-256. */
export const StaffSession = z.object({
  idHash: z.string().length(64),
  userId: z.string(),
  /** The form token of this session (CSRF), compared in constant time on every POST. */
  csrfToken: z.string(),
  createdAt: Timestamp,
  lastSeenAt: Timestamp,
  /** The absolute end, whatever the activity. */
  expiresAt: Timestamp,
})
export type StaffSession = z.infer<typeof StaffSession>

/** Changes to accounts and to offices' live settings, on their own hash chain beside the case events. */
export const AccountEventType = z.enum(['user_added', 'user_disabled', 'user_enabled', 'password_reset', 'token_issued', 'token_revoked', 'signed_in', 'sign_in_failed', 'signed_out', 'office_changed'])
export type AccountEventType = z.infer<typeof AccountEventType>

export const AccountEvent = z.object({
  id: z.number().int().optional(),
  at: Timestamp,
  type: AccountEventType,
  /** Who did it: a user id, `cli`, or `system`. */
  actor: z.string(),
  /** The user (or token) it concerns. */
  subject: z.string(),
  data: z.record(z.string(), z.unknown()).default({}),
})
export type AccountEvent = z.infer<typeof AccountEvent>
export type AccountEventInput = z.input<typeof AccountEvent>
