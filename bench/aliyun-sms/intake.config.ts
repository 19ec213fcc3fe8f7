/**
 * The county-hotline demo (examples/county-hotline/intake.config.ts, imported as is) plus an `aliyun`
 * channel whose SendSms calls go to the bench's Alibaba Cloud SMS stand-in. Read by `intake start`
 * and by its delivery thread; everything comes from the environment run.ts sets.
 */
import { defineConfig } from '@intake/core'
import { aliyunSms } from '@intake/channels/aliyun-sms'
import demo from '../../examples/county-hotline/intake.config.ts'

const env = process.env
const required = (name: string) => {
  const value = env[name]
  if (!value) throw new Error(`[bench/aliyun-sms] set ${name}`)
  return value
}

export default defineConfig({
  ...demo,
  channels: {
    ...demo.channels,
    aliyun: aliyunSms({
      accessKeyId: required('BENCH_ALIYUN_KEY_ID'),
      accessKeySecret: required('BENCH_ALIYUN_KEY_SECRET'),
      signName: '伽师县人民检察院',
      pushToken: required('BENCH_ALIYUN_PUSH_TOKEN'),
      endpoint: required('BENCH_ALIYUN_API_URL'),
      templates: {
        acknowledgement: { code: 'SMS_465890012', params: { code: 'trackingCode' } },
        status: { code: 'SMS_465890013', params: { code: 'trackingCode', text: 'text' } },
        survey: { code: 'SMS_465890014', params: { code: 'trackingCode' } },
      },
    }),
  },
})
