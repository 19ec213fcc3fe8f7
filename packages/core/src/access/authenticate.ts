import { createHash, timingSafeEqual } from 'node:crypto'
import type { Store } from '../contracts/store.ts'
import type { OfficeDirectory } from '../offices/index.ts'
import { configKeyIdentity, integrationIdentity, userIdentity, type Identity } from './identity.ts'
import { secretHash } from './tokens.ts'

export type Authentication = { ok: true; identity: Identity } | { ok: false; status: 401 | 403; code: string; message: string }

export interface Authenticator {
  /** The identity behind a bearer secret: a config API key, a user's token, an integration's token. */
  bearer(presented: string | undefined): Promise<Authentication>
}

const digest = (s: string) => createHash('sha256').update(s).digest()

/**
 * Tokens are looked up by their SHA-256; the config's keys are compared as digests in constant time
 * (every comparison takes the same time whatever the key's length). A token's user is read on every
 * request, so disabling someone stops their tokens at once.
 */
export function createAuthenticator({ store, offices, apiKeys }: { store: Store; offices: OfficeDirectory; apiKeys: readonly string[] }): Authenticator {
  const keys = apiKeys.map(digest)
  const missing: Authentication = { ok: false, status: 401, code: 'unauthorized', message: 'a valid API token is required (Authorization: Bearer, or X-API-Key)' }
  return {
    async bearer(presented) {
      if (!presented) return missing
      const d = digest(presented)
      let index = -1
      keys.forEach((k, i) => {
        if (timingSafeEqual(k, d) && index < 0) index = i
      })
      if (index >= 0) return { ok: true, identity: configKeyIdentity(index) }
      const token = await store.findApiToken(secretHash(presented))
      if (!token) return missing
      if (token.revokedAt !== null) return { ok: false, status: 401, code: 'token_revoked', message: 'this API token was revoked' }
      if (token.userId === null) return { ok: true, identity: integrationIdentity(token, offices) }
      const user = await store.getUser(token.userId)
      if (!user || user.disabled) return { ok: false, status: 403, code: 'user_disabled', message: 'the account this token belongs to is disabled' }
      if (!offices.get(user.officeId)) return { ok: false, status: 403, code: 'unknown_office', message: `the account's office "${user.officeId}" is not in the office tree` }
      return { ok: true, identity: userIdentity(user, offices) }
    },
  }
}
