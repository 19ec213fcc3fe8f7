/**
 * The webhook body LINE posts, as far as a channel adapter reads it
 * (https://developers.line.biz/en/reference/messaging-api/#request-body and #message-event).
 * Event types the adapter does not use pass through untouched and are ignored.
 */
import { z } from 'zod'

export const LineSource = z.object({
  type: z.enum(['user', 'group', 'room']),
  userId: z.string().optional(),
  groupId: z.string().optional(),
  roomId: z.string().optional(),
})
export type LineSource = z.infer<typeof LineSource>

export const LineTextMessage = z.object({ type: z.literal('text'), id: z.string().min(1), text: z.string(), quoteToken: z.string().optional() })

export const LineMessageEvent = z.object({
  type: z.literal('message'),
  mode: z.enum(['active', 'standby']),
  timestamp: z.number(),
  webhookEventId: z.string().min(1),
  deliveryContext: z.object({ isRedelivery: z.boolean() }),
  source: LineSource,
  replyToken: z.string().optional(),
  message: z.object({ type: z.string(), id: z.string().min(1) }).passthrough(),
})

/** `follow` (added as a friend, or unblocked) and `unfollow` (blocked): the citizen's opt-in and opt-out. */
export const LineFollowEvent = z.object({ type: z.enum(['follow', 'unfollow']), source: LineSource, timestamp: z.number() })

export const LineWebhookBody = z.object({
  /** The bot's user id. */
  destination: z.string(),
  /** Empty when LINE checks the webhook URL ("Verify" in the console). */
  events: z.array(z.object({ type: z.string() }).passthrough()),
})
export type LineWebhookBody = z.infer<typeof LineWebhookBody>

/** Who a reply goes to: the group or room the message came from, else the user. */
export const addressOf = (source: LineSource): string | undefined => source.groupId ?? source.roomId ?? source.userId
