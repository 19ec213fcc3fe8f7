import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

/**
 * Passwords are hashed with scrypt (memory-hard, in node:crypto). The stored form names its
 * parameters so they can be raised later without breaking existing hashes:
 * `scrypt$N$r$p$salt$hash` (salt and hash base64url).
 */
const DEFAULTS = { N: 2 ** 15, r: 8, p: 1 }
const KEY_LENGTH = 32
/** OWASP's minimum for N=2^15, r=8 is 32 MiB; node's default maxmem (32 MiB) is just too small. */
const MAXMEM = 64 * 1024 * 1024

function derive(password: string, salt: Buffer, o: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { ...o, maxmem: MAXMEM }, (err, key) => (err ? reject(err) : resolve(key))),
  )
}

export async function hashPassword(password: string, params: { N: number; r: number; p: number } = DEFAULTS): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, params)
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

/** Constant-time check; a malformed stored hash is simply a mismatch. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$')
  if (kind !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64url')
  const key = await derive(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) })
  return key.length === expected.length && timingSafeEqual(key, expected)
}

/** Why a new password is refused, or undefined. Length over composition rules (NIST SP 800-63B §5.1.1.2). */
export function passwordProblem(password: string): string | undefined {
  if ([...password].length < 10) return 'a password needs at least 10 characters'
  if (password.length > 200) return 'a password may have at most 200 characters'
  return undefined
}

/** A password for a new account, given once to its owner. */
export function randomPassword(): string {
  return randomBytes(12).toString('base64url')
}
