import { classifyHttpStatus, type SendError, type SendErrorCode } from '@intake/core'

/**
 * SendSms answers HTTP 200 with `{ Code, Message, RequestId, BizId }`; `Code` is "OK" or an isv./isp.
 * code (API错误码, https://help.aliyun.com/document_detail/101346.html). The gateway in front refuses
 * unsigned or mis-signed calls with an HTTP 4xx and the same JSON (SignatureDoesNotMatch,
 * InvalidAccessKeyId.NotFound, SignatureNonceUsed, InvalidTimeStamp.Expired, Throttling.User).
 */
const CODES: Record<string, { code: SendErrorCode; meaning: string; retryAfterMs?: number }> = {
  // 业务限流: the platform's per-number flow control (1/min, 5/h, 10/day for one signature by default).
  'isv.BUSINESS_LIMIT_CONTROL': { code: 'throttled', meaning: 'flow control for this number (业务限流)', retryAfterMs: 60_000 },
  'Throttling.User': { code: 'throttled', meaning: 'too many API calls from this account' },
  Throttling: { code: 'throttled', meaning: 'too many API calls' },
  'isv.MOBILE_NUMBER_ILLEGAL': { code: 'invalid_recipient', meaning: 'not a valid mobile number (非法手机号)' },
  'isv.MOBILE_COUNT_OVER_LIMIT': { code: 'invalid_recipient', meaning: 'too many numbers in one call' },
  // A number that unsubscribed (退订) or complained is held back by the platform: never retry.
  'isv.BLACK_KEY_CONTROL_LIMIT': { code: 'stopped', meaning: 'blacklist control (黑名单管控)' },
  'isv.CUSTOMER_REFUSED': { code: 'stopped', meaning: 'the recipient unsubscribed (用户已退订)' },
  'isv.SMS_TEMPLATE_ILLEGAL': { code: 'config', meaning: 'the template does not exist or is not approved (模板不合法)' },
  'isv.SMS_SIGNATURE_ILLEGAL': { code: 'config', meaning: 'the signature does not exist or is not approved (签名不合法)' },
  'isv.SMS_SIGN_ILLEGAL': { code: 'config', meaning: 'the signature may not be used (签名禁止使用)' },
  'isv.SIGN_STATE_ILLEGAL': { code: 'config', meaning: 'the signature is not available (签名状态不可用)' },
  'isv.SMS_SIGNATURE_SCENE_ILLEGAL': { code: 'config', meaning: 'the signature and template types do not match' },
  'isv.TEMPLATE_MISSING_PARAMETERS': { code: 'config', meaning: 'a template variable has no value (模板缺少变量)' },
  'isv.INVALID_JSON_PARAM': { code: 'config', meaning: 'TemplateParam is not a JSON object of strings' },
  'isv.PARAM_NOT_SUPPORT_URL': { code: 'config', meaning: 'a template variable may not carry a URL (不支持URL)' },
  'isv.PARAM_LENGTH_LIMIT': { code: 'config', meaning: 'a template variable is too long (参数超出长度限制)' },
  'isv.DAY_LIMIT_CONTROL': { code: 'config', meaning: "the console's daily sending cap is reached (触发日发送限额)" },
  'isv.MONTH_LIMIT_CONTROL': { code: 'config', meaning: "the console's monthly sending cap is reached (触发月发送限额)" },
  'isv.AMOUNT_NOT_ENOUGH': { code: 'config', meaning: 'the account balance is too low (账户余额不足)' },
  'isv.OUT_OF_SERVICE': { code: 'config', meaning: 'the service is suspended (业务停机)' },
  'isv.ACCOUNT_NOT_EXISTS': { code: 'config', meaning: 'no such account' },
  'isv.ACCOUNT_ABNORMAL': { code: 'config', meaning: 'the account is abnormal' },
  'isv.PRODUCT_UN_SUBSCRIPT': { code: 'config', meaning: 'SMS is not activated on this account' },
  'isv.DENY_IP_RANGE': { code: 'config', meaning: 'calls from this IP region are refused' },
  'isp.RAM_PERMISSION_DENY': { code: 'config', meaning: 'the AccessKey lacks AliyunDysmsFullAccess' },
  'InvalidAccessKeyId.NotFound': { code: 'config', meaning: 'no such AccessKey ID' },
  SignatureDoesNotMatch: { code: 'config', meaning: 'the request signature does not match: check the AccessKey secret' },
  'InvalidTimeStamp.Expired': { code: 'config', meaning: "the request timestamp is too far from Alibaba Cloud's clock: check this server's time" },
  // Our nonce was seen before: the next attempt signs with a new one.
  SignatureNonceUsed: { code: 'unknown', meaning: 'the signature nonce was used before' },
  'isv.SMS_CONTENT_ILLEGAL': { code: 'rejected', meaning: 'the content is forbidden (短信内容包含禁止发送内容)' },
  'isv.TEMPLATE_PARAMS_ILLEGAL': { code: 'rejected', meaning: 'a template variable holds a forbidden keyword' },
  'isp.SYSTEM_ERROR': { code: 'connection', meaning: 'system error at the platform' },
  'isv.SYSTEM_ERROR': { code: 'connection', meaning: 'system error at the platform' },
  ServiceUnavailable: { code: 'connection', meaning: 'the service is unavailable' },
  InternalError: { code: 'connection', meaning: 'internal error at the platform' },
}

const RETRYABLE: ReadonlySet<SendErrorCode> = new Set(['throttled', 'connection', 'unknown'])

/** What a SendSms answer that is not "OK" means for the outbox. */
export function classifyAliyunError(status: number, code: string | undefined, message: string | undefined): SendError {
  const known = code ? CODES[code] : undefined
  const text = `Alibaba Cloud SMS answered ${status}${code ? ` ${code}` : ''}: ${known?.meaning ?? message ?? 'no message'}`
  if (known) return { code: known.code, retryable: RETRYABLE.has(known.code), message: text, ...(known.retryAfterMs ? { retryAfterMs: known.retryAfterMs } : {}) }
  if (status !== 200) return { ...classifyHttpStatus(status), message: text }
  return { code: 'unknown', retryable: true, message: text }
}

/** "isv.MOBILE_NUMBER_ILLEGAL (not a valid mobile number)" for logs and delivery reports. */
export function describeAliyunCode(code: string): string {
  const known = CODES[code]
  return known ? `${code} (${known.meaning})` : code
}
