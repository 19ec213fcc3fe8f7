/**
 * The county-hotline demo (examples/county-hotline/intake.config.ts, imported as is) plus an `sms`
 * channel on Twilio whose REST calls go to the bench's stand-in. Read by `intake start` and by its
 * delivery thread; everything comes from the environment run.ts sets.
 */
import { defineConfig } from '@intake/core'
import { twilioSms } from '@intake/channels/twilio-sms'
import demo from '../../examples/county-hotline/intake.config.ts'

const env = process.env
const required = (name: string) => {
  const value = env[name]
  if (!value) throw new Error(`[bench/sms] set ${name}`)
  return value
}

export default defineConfig({
  ...demo,
  channels: {
    ...demo.channels,
    sms: twilioSms({
      accountSid: required('BENCH_TWILIO_ACCOUNT_SID'),
      authToken: required('BENCH_TWILIO_AUTH_TOKEN'),
      from: required('BENCH_TWILIO_FROM'),
      apiBaseUrl: required('BENCH_TWILIO_API_URL'),
    }),
  },
})
