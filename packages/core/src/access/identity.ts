import type { OfficeDirectory } from '../offices/index.ts'
import { ROLE_PERMISSIONS, scopePermissions, type Permission, type Role } from './roles.ts'
import type { ApiToken, StaffUser } from './model.ts'

/**
 * The offices whose cases someone may see: an office and everything below it. `undefined` means
 * every office (the deployment's own API keys, an integration without an office). Stores apply it
 * in the query itself (`CaseFilter.officeIds`, `getCase(id, scope)`), so a case outside it is never
 * read, listed, counted or exported.
 */
export interface CaseScope {
  officeIds: readonly string[]
}

/** Who is calling, as the console and the API know them after authentication. */
export interface Identity {
  /** Recorded as the actor of every change they make. */
  readonly actor: string
  readonly kind: 'user' | 'integration' | 'config-key'
  readonly name: string
  readonly userId?: string
  readonly role?: Role
  /** Their office (null: above every office). */
  readonly officeId: string | null
  readonly permissions: ReadonlySet<Permission>
  readonly scope: CaseScope | undefined
}

/** The office and every office below it, in tree order. */
export function subtreeOf(offices: OfficeDirectory, officeId: string): string[] {
  const out: string[] = []
  const walk = (id: string) => {
    out.push(id)
    for (const child of offices.children(id)) walk(child.id)
  }
  if (offices.get(officeId)) walk(officeId)
  return out
}

export function userIdentity(user: StaffUser, offices: OfficeDirectory): Identity {
  return {
    actor: user.id,
    kind: 'user',
    name: user.name,
    userId: user.id,
    role: user.role,
    officeId: user.officeId,
    permissions: new Set(ROLE_PERMISSIONS[user.role]),
    scope: { officeIds: subtreeOf(offices, user.officeId) },
  }
}

export function integrationIdentity(token: ApiToken, offices: OfficeDirectory): Identity {
  return {
    actor: `integration:${token.name}`,
    kind: 'integration',
    name: token.name,
    officeId: token.officeId,
    permissions: new Set(scopePermissions(token.scopes)),
    scope: token.officeId === null ? undefined : { officeIds: subtreeOf(offices, token.officeId) },
  }
}

/** The config's `apiKeys`: administrators of the whole deployment, numbered in config order. */
export function configKeyIdentity(index: number): Identity {
  return {
    actor: `api-key-${index + 1}`,
    kind: 'config-key',
    name: `API key ${index + 1}`,
    role: 'admin',
    officeId: null,
    permissions: new Set(ROLE_PERMISSIONS.admin),
    scope: undefined,
  }
}

export const inScope = (scope: CaseScope | undefined, officeId: string) => scope === undefined || scope.officeIds.includes(officeId)

/** Contact details are for the office handling the case, nobody above or beside it. */
export const handlesCase = (identity: Identity, kase: { officeId: string }) => identity.officeId === kase.officeId
