import { z } from 'zod'
import type { RoutingDecision, RoutingStrategy } from '@intake/core'
import { RoutingConfigError } from './errors.ts'
import { remitIndex } from './remit.ts'

export interface ByChannelOwnerOptions {
  /** Channel id → the office that runs it (`{ 'jiashi-wechat': 'jiashi' }`). */
  channels?: Record<string, string>
  /**
   * The address a message was sent to (`draft.to`: an SMS number, an official account's id, a
   * mailbox) → the office that owns it, for channels shared by several offices. Checked before
   * `channels`. Addresses compare without case and, for phone numbers, without spaces or dashes.
   */
  to?: Record<string, string>
  /**
   * Content strategies (byJurisdiction, byLocation…) this one yields to. It asks them first: when
   * one of them places the message, clearly (confidence ≥ `yieldAbove`), at an office outside the
   * owner's area, this strategy passes (returns undefined) and the chain goes on to them; when one
   * places it inside the owner's area, below the owner, this strategy takes that office.
   */
  yieldTo?: readonly RoutingStrategy[]
  /** Default 0.7. */
  yieldAbove?: number
  /**
   * Default 0.6: who runs the account says where the citizen thought to write, not what the
   * message is about. Strategies after this one never run when it decides; put content strategies
   * before it, or in `yieldTo`.
   */
  confidence?: number
}

const OfficeId = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'office ids are kebab-case')
const Options = z
  .object({
    channels: z.record(z.string().min(1), OfficeId).default({}),
    to: z.record(z.string().trim().min(1), OfficeId).default({}),
    yieldTo: z.array(z.custom<RoutingStrategy>((v) => typeof v === 'function', 'expected a routing strategy')).default([]),
    yieldAbove: z.number().min(0).max(1).default(0.7),
    confidence: z.number().min(0).max(1).default(0.6),
  })
  .strict()
  .refine((o) => Object.keys(o.channels).length + Object.keys(o.to).length > 0, { message: 'give channels or to: no account is owned' })

/** +86 139-0000-0001 and +8613900000001 are one number; Mail@Office.GOV and mail@office.gov one mailbox. */
function addressKey(address: string): string {
  const trimmed = address.trim().toLowerCase()
  return /^\+?[\d\s().-]+$/.test(trimmed) ? trimmed.replace(/[\s().-]/g, '') : trimmed
}

/**
 * Routes a message by whose account or number it was sent to. A provincial office and its county
 * offices each run their own accounts (a "matrix" of WeChat official accounts, SMS numbers,
 * mailboxes); a citizen who writes to the county's account usually means the county.
 *
 * "Unless the content clearly says otherwise": the account is a moderate signal (confidence 0.6).
 * The strategies in `yieldTo` are asked first. If one places the message, clearly, outside the
 * owner's area (the county's account gets a complaint about another county), this strategy passes
 * and the chain goes on to them; if one places it below the owner (a town of that county), this
 * strategy takes that office; a vaguer place (the prefecture above) keeps the owner. With a
 * category from an earlier strategy, the office that handles it in the owner's area is chosen (a
 * wage complaint to the county's account → the county's labour bureau).
 *
 * @example
 * const jurisdiction = byJurisdiction()
 * routing: [byTrackingCode(), byKeywords({ rules }),
 *           byChannelOwner({ to: { gh_jiashi12345: 'jiashi' }, yieldTo: [jurisdiction] }), jurisdiction, toIntakeDesk()]
 * // "sent to gh_jiashi12345, the account of 伽师县人民政府 → office 伽师县人力资源和社会保障局 (jiashi-labour) for category labour"
 */
export function byChannelOwner(options: ByChannelOwnerOptions): RoutingStrategy {
  const parsed = Options.safeParse(options)
  if (!parsed.success) throw new RoutingConfigError('by-channel-owner', `invalid options:\n${z.prettifyError(parsed.error)}`)
  const { channels, yieldTo, yieldAbove, confidence } = parsed.data
  const byAddress = new Map(Object.entries(parsed.data.to).map(([address, officeId]) => [addressKey(address), officeId]))

  return async function byChannelOwner(draft, ctx) {
    const viaAddress = draft.to !== undefined ? byAddress.get(addressKey(draft.to)) : undefined
    const ownerId = viaAddress ?? channels[draft.channelId]
    if (ownerId === undefined) return undefined
    const owner = ctx.offices.get(ownerId)
    if (!owner) {
      ctx.log.warn('the owner of a channel is not in the office directory', { channelId: draft.channelId, to: draft.to, officeId: ownerId })
      return undefined
    }
    const directory = ctx.offices
    const remit = remitIndex(directory)
    const sentTo = viaAddress !== undefined ? `sent to ${draft.to}, the account of ${owner.name}` : `sent on channel ${draft.channelId}, run by ${owner.name}`
    const ownerArea = remit.territoryOf(owner.id)

    for (const strategy of yieldTo) {
      let content: RoutingDecision | undefined
      try {
        content = await strategy(draft, ctx)
      } catch (err) {
        ctx.log.warn('a strategy byChannelOwner yields to failed', { strategy: strategy.name, error: (err as Error).message })
        continue
      }
      if (!content || content.officeId === '' || !directory.get(content.officeId)) continue
      const placed = directory.get(content.officeId)!
      if (content.officeId !== owner.id && directory.covers(owner.id, content.officeId)) {
        // The text is more precise than the account: a town of the county whose account it is.
        return {
          officeId: placed.id,
          strategy: 'channel-owner',
          reason: `${sentTo}; the content places it within: ${content.reason} → office ${placed.name} (${placed.id})`,
          confidence: Math.max(confidence, content.confidence),
        }
      }
      const elsewhere = !directory.covers(ownerArea, content.officeId) && !directory.covers(content.officeId, owner.id)
      if (elsewhere && content.confidence >= yieldAbove) {
        ctx.log.info('byChannelOwner yields: the content places the message outside the owner’s area', {
          owner: owner.id,
          placedBy: content.strategy,
          officeId: content.officeId,
        })
        return undefined
      }
    }

    const category = draft.category || undefined
    const handler = category !== undefined ? remit.handlerFor(owner.id, category) : undefined
    const office = handler ?? owner
    let reason = `${sentTo} → office ${office.name} (${office.id})`
    if (handler && handler.id !== owner.id) reason += ` for category ${category}`
    return { officeId: office.id, strategy: 'channel-owner', reason, confidence }
  }
}
