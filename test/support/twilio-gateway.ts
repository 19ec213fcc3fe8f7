import type { IntakeConfig } from '@intake/core'
import type { TwilioSmsOptions } from '@intake/channels/twilio-sms'
import { twilioSms } from '@intake/channels/twilio-sms'
import { incomingMessageRequest, incomingSmsParams, startTwilioApiServer, type TwilioApiServer } from '@intake/channels/twilio-sms/twilio-api-server'
import { BASE, demoGateway, type DemoGateway } from './gateway.ts'

export const TWILIO_ACCOUNT_SID = 'AC' + '7c1e9a03b5d24f68a0e1c2d3b4a59687'
export const TWILIO_AUTH_TOKEN = '4be0c1d2e3f405162738495a6b7c8d9e'
export const HOTLINE_NUMBER = '+15005550006'

export interface SmsGateway extends DemoGateway {
  /** The stand-in for Twilio's REST API: what the SDK sent, media it serves, status callbacks it posts. */
  twilio: TwilioApiServer
  /** An incoming SMS to the hotline number, as Twilio posts it to `/channels/sms/messages`, signed. */
  sms(from: string, body: string, over?: Record<string, string>): Promise<Response>
  close(): Promise<void>
}

/**
 * The county-hotline demo with a `sms` channel on Twilio: the official SDK sends to a local
 * stand-in for api.twilio.com, which posts its status callbacks back into the gateway in-process.
 */
export async function smsGateway(over: Partial<TwilioSmsOptions> = {}, opts: Parameters<typeof demoGateway>[1] = {}, config: Partial<IntakeConfig> = {}): Promise<SmsGateway> {
  let gw: DemoGateway | undefined
  const twilio = await startTwilioApiServer({
    accountSid: TWILIO_ACCOUNT_SID,
    authToken: TWILIO_AUTH_TOKEN,
    fetch: async (req) => gw!.intake.app.fetch(req),
  })
  const sms = twilioSms({ accountSid: TWILIO_ACCOUNT_SID, authToken: TWILIO_AUTH_TOKEN, from: HOTLINE_NUMBER, apiBaseUrl: twilio.url, ...over })
  gw = await demoGateway({ ...config, channels: { ...config.channels, sms } }, opts)
  const demo = gw
  return {
    ...demo,
    twilio,
    async sms(from, body, params = {}) {
      const request = incomingMessageRequest(`${BASE}/channels/sms/messages`, incomingSmsParams(TWILIO_ACCOUNT_SID, { From: from, To: HOTLINE_NUMBER, Body: body, ...params }), TWILIO_AUTH_TOKEN)
      return demo.intake.app.fetch(request)
    },
    async close() {
      await demo.close()
      await twilio.close()
    },
  }
}
