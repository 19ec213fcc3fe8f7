import { randomBytes } from 'node:crypto'

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz' // Crockford base32, lower case

/**
 * Ids that sort by creation time (48-bit ms timestamp + 80 random bits, ULID layout), so the newest
 * rows are adjacent in every index and logs read in order.
 */
export function newId(now: number = Date.now()): string {
  let time = ''
  let t = now
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time
    t = Math.floor(t / 32)
  }
  const bytes = randomBytes(16)
  let rand = ''
  for (let i = 0; i < 16; i++) rand += ALPHABET[bytes[i]! % 32]
  return time + rand
}

export type IdGenerator = () => string
