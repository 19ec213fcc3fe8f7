import { z } from 'zod'

/** Weibo's private-message limit: "文本大小必须小于300个汉字" (https://open.weibo.com/wiki/Send_Customer_Service_Message). */
export const MAX_REPLY_CHARS = 299
export const MAX_TEXT_CHARS = 2000

const Uid = z.union([z.number().int().positive(), z.string().regex(/^\d{1,20}$/)]).transform(String)

/**
 * A fans-service push (消息推送服务, https://open.weibo.com/wiki/消息推送服务):
 *   { type, receiver_id, sender_id, created_at: 'Mon Jul 16 18:09:20 +0800 2012', text, data }
 * type: text | position | voice | image | event | mention (unknown types are to be ignored, the doc says).
 */
export const Push = z.object({
  type: z.string().min(1).max(40),
  receiver_id: Uid,
  sender_id: Uid,
  created_at: z.string().min(1).max(60),
  text: z.string().max(MAX_TEXT_CHARS, `the text is over ${MAX_TEXT_CHARS} characters`).default(''),
  data: z.record(z.string(), z.unknown()).or(z.array(z.unknown()).length(0)).default({}),
})
export type Push = z.infer<typeof Push>

export const PositionData = z.object({ longitude: z.coerce.number().min(-180).max(180), latitude: z.coerce.number().min(-90).max(90) })
export const EventData = z.object({ subtype: z.string().min(1).max(60), key: z.string().max(200).optional() })
