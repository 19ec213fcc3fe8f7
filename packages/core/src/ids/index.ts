import { randomBytes } from 'node:crypto'

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz' // Crockford base32, lower case

/**
 * Ids that sort by creation time (48-bit ms timestamp + 80 random bits, ULID layout), so the newest
 * rows are adjacent in every index and logs read in order.
 */
// One 4 KiB draw from the CSPRNG serves 256 ids: a system call per id showed up in the intake profile.
let pool = Buffer.alloc(0)
let poolOffset = 0

export function newId(now: number = Date.now()): string {
  let time = ''
  let t = now
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time
    t = Math.floor(t / 32)
  }
  if (poolOffset + 16 > pool.length) {
    pool = randomBytes(4096)
    poolOffset = 0
  }
  let rand = ''
  for (let i = 0; i < 16; i++) rand += ALPHABET[pool[poolOffset + i]! % 32]
  poolOffset += 16
  return time + rand
}

export type IdGenerator = () => string
