/**
 * The Alibaba Cloud SMS stand-in during a gateway run, in its own process (like bench/sms's
 * twilio-child.ts), so the SendSms calls of the acknowledgements do not compete with the load
 * generator. IPC: sends `{ url }` once listening; answers `'count'` with `{ count }`.
 */
import { startAliyunSmsServer } from '@intake/channels/aliyun-sms/aliyun-api-server'

const accessKeyId = process.env.BENCH_ALIYUN_KEY_ID
const accessKeySecret = process.env.BENCH_ALIYUN_KEY_SECRET
if (!accessKeyId || !accessKeySecret) throw new Error('[bench/aliyun-sms] set BENCH_ALIYUN_KEY_ID and BENCH_ALIYUN_KEY_SECRET')

export interface AliyunCount {
  messages: number
  calls: number
}

const api = await startAliyunSmsServer({
  accessKeyId,
  accessKeySecret,
  signNames: ['伽师县人民检察院'],
  templates: { SMS_465890012: '您的诉求已受理，编号${code}。', SMS_465890013: '您的诉求${code}有新的答复：${text}', SMS_465890014: '您的诉求${code}已办结，请回复1-5打分。' },
})
process.send!({ url: api.url })
process.on('message', (msg) => {
  if (msg === 'count') process.send!({ count: { messages: api.sent.length, calls: api.calls } satisfies AliyunCount })
})
process.on('disconnect', () => void api.close().then(() => process.exit(0)))
