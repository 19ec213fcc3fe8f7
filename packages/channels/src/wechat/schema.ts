import { z } from 'zod'

/**
 * What WeChat pushes to the account's server URL, after the XML is read into flat fields.
 * Messages: https://developers.weixin.qq.com/doc/subscription/guide/product/message/Receiving_standard_messages.html (接收普通消息)
 * Events:   https://developers.weixin.qq.com/doc/subscription/guide/product/message/Receiving_event_pushes.html (接收事件推送)
 * Every push has ToUserName (the account's original id, gh_…), FromUserName (the follower's openid),
 * CreateTime (unix seconds) and MsgType; messages carry a 64-bit MsgId, events do not.
 */
export const PushHeader = z.object({
  ToUserName: z.string().min(1).max(128),
  FromUserName: z.string().min(1).max(128),
  CreateTime: z.string().trim().regex(/^\d{1,12}$/, 'CreateTime is unix seconds'),
  MsgType: z.string().trim().min(1).max(32),
})
export type PushHeader = z.infer<typeof PushHeader>

const MsgId = z.string().trim().min(1).max(64)
const MediaId = z.string().trim().min(1).max(256)
const coordinate = (limit: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d{1,3}(\.\d+)?$/, 'a decimal coordinate')
    .transform(Number)
    .pipe(z.number().min(-limit).max(limit))

export const TextPush = z.object({ Content: z.string().max(20_000), MsgId })
export const ImagePush = z.object({ PicUrl: z.string().max(2048).default(''), MediaId, MsgId })
/** `Recognition` is WeChat's own speech-to-text, present when the account turned recognition on. */
export const VoicePush = z.object({ MediaId, Format: z.string().max(16).default(''), Recognition: z.string().max(20_000).optional(), MsgId })
export const VideoPush = z.object({ MediaId, MsgId })
/** Location_X is the latitude, Location_Y the longitude (sic), Label the address WeChat resolved. */
export const LocationPush = z.object({
  Location_X: coordinate(90),
  Location_Y: coordinate(180),
  Scale: z.string().max(16).optional(),
  Label: z.string().max(500).default(''),
  MsgId,
})
export const LinkPush = z.object({ Title: z.string().max(1000).default(''), Description: z.string().max(5000).default(''), Url: z.string().max(2048).default(''), MsgId })
export const EventPush = z.object({ Event: z.string().trim().min(1).max(64), EventKey: z.string().max(1024).optional() })

/** A readable list of what a schema refused, for the 400 answer. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')
}
