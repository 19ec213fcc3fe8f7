import { z } from 'zod'

/**
 * The intelligent bot's callback (智能机器人, API mode), after decryption:
 * https://developer.work.weixin.qq.com/document/path/100719 (接收消息)
 *   { msgid, aibotid, chatid?, chattype: 'single' | 'group', from: { userid }, response_url?,
 *     msgtype: 'text' | 'image' | 'mixed' | 'voice' | 'file' | 'stream' | 'event', text: { content }, … }
 */
export const MAX_TEXT_CHARS = 4000

export const BotCallback = z.object({
  msgid: z.string().min(1).max(200).optional(),
  aibotid: z.string().max(200).optional(),
  chatid: z.string().max(200).optional(),
  chattype: z.enum(['single', 'group']).optional(),
  from: z.object({ userid: z.string().min(1).max(200) }).optional(),
  response_url: z.string().max(2000).optional(),
  msgtype: z.string().min(1).max(40),
  text: z.object({ content: z.string().max(MAX_TEXT_CHARS, `the text is over ${MAX_TEXT_CHARS} characters`) }).optional(),
  voice: z.object({ content: z.string().max(MAX_TEXT_CHARS) }).optional(),
  mixed: z.object({ msg_item: z.array(z.object({ msgtype: z.string(), text: z.object({ content: z.string().max(MAX_TEXT_CHARS) }).optional() }).passthrough()).max(50) }).optional(),
  event: z.object({ eventtype: z.string().min(1).max(60) }).passthrough().optional(),
})
export type BotCallback = z.infer<typeof BotCallback>

export const Envelope = z.object({ encrypt: z.string().min(1).max(1024 * 1024) })
