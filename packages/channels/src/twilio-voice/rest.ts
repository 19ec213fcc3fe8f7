import twilio from 'twilio'
import type { SendError, SendErrorCode } from '@intake/core'
import { classifyTwilioError } from '../twilio-sms/index.ts'

export const TWILIO_API = 'https://api.twilio.com'

/**
 * Error codes the Calls API answers with (https://www.twilio.com/docs/api/errors/<code>) that the
 * messaging map in twilio-sms does not know; everything else is classified the SMS way.
 */
const CALL_CODES: Record<number, { code: SendErrorCode; meaning: string }> = {
  13223: { code: 'invalid_recipient', meaning: 'the phone number format is not valid' },
  13224: { code: 'invalid_recipient', meaning: 'the phone number is not valid' },
  21201: { code: 'invalid_recipient', meaning: "no 'To' number was given" },
  21205: { code: 'config', meaning: "the call's Url is not valid" },
  21210: { code: 'config', meaning: "the 'From' number is not verified for this account" },
  21213: { code: 'config', meaning: "a 'From' number is required" },
  21214: { code: 'invalid_recipient', meaning: "the 'To' number cannot be reached" },
  21215: { code: 'invalid_recipient', meaning: 'calls to this region are not enabled (geo permissions)' },
  21216: { code: 'invalid_recipient', meaning: 'this account may not call this number (blocked or premium)' },
  21217: { code: 'invalid_recipient', meaning: 'the phone number does not appear to be valid' },
  21219: { code: 'config', meaning: "trial account: the 'To' number is not verified" },
  32018: { code: 'rejected', meaning: 'the inline TwiML is over 4000 characters' },
}

/** What a failed `client.calls.create` or `client.messages.create` means for the outbox. */
export function classifyVoiceError(err: unknown): SendError {
  if (err instanceof twilio.RestException && typeof err.code === 'number' && CALL_CODES[err.code]) {
    const known = CALL_CODES[err.code]!
    return { code: known.code, retryable: false, message: `Twilio answered ${err.status} with error ${err.code}: ${known.meaning}` }
  }
  return classifyTwilioError(err)
}
