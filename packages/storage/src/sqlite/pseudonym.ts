import { createHash } from 'node:crypto'

/**
 * What an erased citizen's address becomes: the same for every case of that citizen on that channel
 * (so they still count as one person in the figures), and not the address itself. Salted by the
 * channel, so one phone number on two channels gives two pseudonyms.
 */
export function pseudonym(channelId: string, citizenId: string): string {
  if (citizenId.startsWith('erased:')) return citizenId
  return `erased:${createHash('sha256').update(`${channelId}\u0000${citizenId}`).digest('hex').slice(0, 20)}`
}
