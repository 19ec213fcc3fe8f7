import { createHash, randomBytes } from 'node:crypto'

/** A fresh secret (session id, API token): 32 random bytes, base64url. */
export function newSecret(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url')
}

/** What the store keeps of a secret: its SHA-256, so a copy of the database signs no one in. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}
