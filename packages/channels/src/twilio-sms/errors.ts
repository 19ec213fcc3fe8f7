import twilio from 'twilio'
import { classifyHttpStatus, type SendError, type SendErrorCode } from '@intake/core'

/**
 * Twilio's error codes (https://www.twilio.com/docs/api/errors/<code>), mapped to the send-error
 * taxonomy. The REST API answers a refused request with `{ code, message, more_info, status }`;
 * the SDK throws it as a RestException. Codes in the 30000s and 63000s arrive later, in status
 * callbacks (ErrorCode), and are here only for their meaning.
 */
const CODES: Record<number, { code?: SendErrorCode; meaning: string; retryAfterMs?: number }> = {
  20003: { code: 'config', meaning: 'authentication failed: check the account SID and auth token' },
  20404: { code: 'config', meaning: 'resource not found: check the account SID or Messaging Service SID' },
  // "An API request that receives a 429 is never processed and is always safe to retry."
  20429: { code: 'throttled', meaning: 'too many concurrent requests' },
  21211: { code: 'invalid_recipient', meaning: "invalid 'To' phone number" },
  21212: { code: 'config', meaning: "invalid 'From' phone number" },
  21408: { code: 'invalid_recipient', meaning: "sending to the 'To' number's region is not enabled on this account" },
  21602: { code: 'rejected', meaning: 'the message body is required' },
  21603: { code: 'config', meaning: "a 'From' number or Messaging Service is required" },
  21604: { code: 'invalid_recipient', meaning: "a 'To' phone number is required" },
  21606: { code: 'config', meaning: "the 'From' number cannot send to this destination" },
  21608: { code: 'config', meaning: "trial account: the 'To' number is not verified" },
  21610: { code: 'stopped', meaning: 'the recipient replied STOP: unsubscribed from this sender' },
  // The sender's queue holds ten hours of messages already; new ones are refused until it drains.
  21611: { code: 'throttled', meaning: "the 'From' number's message queue is full", retryAfterMs: 10 * 60_000 },
  21612: { code: 'invalid_recipient', meaning: "the 'To' number cannot be reached by SMS" },
  21614: { code: 'invalid_recipient', meaning: "the 'To' number is not a mobile number" },
  21617: { code: 'rejected', meaning: 'the message body exceeds 1600 characters' },
  21635: { code: 'invalid_recipient', meaning: "the 'To' number is a landline" },
  21660: { code: 'config', meaning: "the 'From' number does not belong to this account" },
  63007: { code: 'config', meaning: "WhatsApp: no channel for the 'From' address" },
  30001: { meaning: 'queue overflow' },
  30002: { meaning: 'account suspended' },
  30003: { meaning: 'unreachable destination handset' },
  30004: { meaning: 'message blocked by the recipient or carrier' },
  30005: { meaning: 'unknown destination handset' },
  30006: { meaning: 'landline or unreachable carrier' },
  30007: { meaning: 'filtered by the carrier' },
  30008: { meaning: 'unknown delivery error' },
  63016: { meaning: 'WhatsApp: outside the 24-hour window, only templates may be sent' },
}

/** "30003 (unreachable destination handset)" for a status callback's ErrorCode. */
export function describeTwilioCode(code: string | number): string {
  const known = CODES[Number(code)]
  return known ? `${code} (${known.meaning})` : String(code)
}

/** What a failed `client.messages.create` means for the outbox. */
export function classifyTwilioError(err: unknown): SendError {
  if (err instanceof twilio.RestException) {
    const status = err.status
    const code = typeof err.code === 'number' ? err.code : undefined
    const known = code !== undefined ? CODES[code] : undefined
    const message = `Twilio answered ${status}${code ? ` with error ${code}` : ''}: ${known?.meaning ?? err.message ?? 'no message'}`
    if (known?.code) {
      const retryable = known.code === 'throttled' || known.code === 'connection'
      return { code: known.code, retryable, message, ...(known.retryAfterMs ? { retryAfterMs: known.retryAfterMs } : {}) }
    }
    // A code we do not know: its HTTP status still says whether a retry can help. Twilio's 404 is
    // a wrong account or resource path (our settings), never a recipient.
    if (status === 404) return { code: 'config', retryable: false, message }
    return { ...classifyHttpStatus(status), message }
  }
  const e = err as { code?: unknown; message?: unknown; isAxiosError?: boolean }
  // No answer at all (refused, reset, timed out): the SDK's HTTP client (axios) sets a code.
  if (e?.isAxiosError || (typeof e?.code === 'string' && /^E[A-Z_]+$/.test(e.code))) {
    return { code: 'connection', retryable: true, message: `Twilio unreachable: ${String(e.code ?? 'error')}: ${String(e.message ?? '')}` }
  }
  return { code: 'unknown', retryable: true, message: `Twilio send failed: ${err instanceof Error ? err.message : String(err)}` }
}
