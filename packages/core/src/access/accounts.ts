import { StoreConflictError, type Store } from '../contracts/store.ts'
import type { OfficeDirectory } from '../offices/index.ts'
import type { StaffUser } from './model.ts'
import { hashPassword, passwordProblem } from './passwords.ts'
import type { IntegrationScope, Role } from './roles.ts'
import { newSecret, secretHash } from './tokens.ts'

/**
 * Adding, disabling and resetting staff accounts and issuing tokens: the same steps for the CLI
 * (`intake user ...`), the console's admin pages and the demo. Each change is one store write with
 * its account event, naming who made it.
 */
export class AccountError extends Error {
  constructor(
    readonly code: 'unknown_office' | 'login_taken' | 'weak_password' | 'unknown_user',
    message: string,
  ) {
    super(`[accounts] ${message}`)
  }
}

export interface NewUser {
  login: string
  name: string
  officeId: string
  role: Role
  password: string
  /** Defaults to the login, lower-cased. */
  id?: string
}

export async function addUser(store: Store, offices: OfficeDirectory, input: NewUser, actor: string, at: number): Promise<StaffUser> {
  if (!offices.get(input.officeId)) throw new AccountError('unknown_office', `no office "${input.officeId}"`)
  const weak = passwordProblem(input.password)
  if (weak) throw new AccountError('weak_password', weak)
  const user: StaffUser = {
    id: input.id ?? input.login.trim().toLowerCase(),
    login: input.login.trim(),
    name: input.name.trim(),
    officeId: input.officeId,
    role: input.role,
    passwordHash: await hashPassword(input.password),
    disabled: false,
    createdAt: at,
    updatedAt: at,
  }
  if (await store.getUser(user.id)) throw new AccountError('login_taken', `an account "${user.id}" exists already`)
  try {
    await store.saveUser(user, { at, type: 'user_added', actor, subject: user.id, data: { officeId: user.officeId, role: user.role } })
  } catch (err) {
    if (err instanceof StoreConflictError || (err as { code?: string }).code === 'store_conflict') {
      throw new AccountError('login_taken', `the login "${user.login}" is taken`)
    }
    throw err
  }
  return user
}

async function existing(store: Store, idOrLogin: string): Promise<StaffUser> {
  const user = (await store.getUser(idOrLogin)) ?? (await store.findUserByLogin(idOrLogin))
  if (!user) throw new AccountError('unknown_user', `no account "${idOrLogin}"`)
  return user
}

/** Disable (or enable again) an account; its sessions end at once, its tokens stop working. */
export async function setUserDisabled(store: Store, idOrLogin: string, disabled: boolean, actor: string, at: number): Promise<StaffUser> {
  const user = await existing(store, idOrLogin)
  const changed = { ...user, disabled, updatedAt: at }
  await store.saveUser(changed, { at, type: disabled ? 'user_disabled' : 'user_enabled', actor, subject: user.id })
  if (disabled) await store.deleteSessions({ userId: user.id })
  return changed
}

/** A new password; every session of the account ends. */
export async function resetPassword(store: Store, idOrLogin: string, password: string, actor: string, at: number): Promise<StaffUser> {
  const weak = passwordProblem(password)
  if (weak) throw new AccountError('weak_password', weak)
  const user = await existing(store, idOrLogin)
  const changed = { ...user, passwordHash: await hashPassword(password), updatedAt: at }
  await store.saveUser(changed, { at, type: 'password_reset', actor, subject: user.id })
  await store.deleteSessions({ userId: user.id })
  return changed
}

/**
 * A token, shown once: a user's (acts as them) or an integration's (its scopes, an office subtree or
 * every office). Only its SHA-256 is stored.
 */
export async function issueToken(
  store: Store,
  owner: { userId: string } | { integration: string; scopes: IntegrationScope[]; officeId: string | null },
  actor: string,
  at: number,
  id: string,
): Promise<{ id: string; secret: string }> {
  const secret = newSecret('itk_')
  const token =
    'userId' in owner
      ? { id, hash: secretHash(secret), name: owner.userId, userId: owner.userId, officeId: null, scopes: [], createdAt: at, revokedAt: null }
      : { id, hash: secretHash(secret), name: owner.integration, userId: null, officeId: owner.officeId, scopes: owner.scopes, createdAt: at, revokedAt: null }
  await store.saveApiToken(token, { at, type: 'token_issued', actor, subject: id, data: { owner: token.name, userId: token.userId, scopes: token.scopes, officeId: token.officeId } })
  return { id, secret }
}
