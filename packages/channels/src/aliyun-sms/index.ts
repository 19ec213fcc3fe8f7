import { randomUUID, timingSafeEqual } from 'node:crypto'
import { z } from 'zod'
import type { ChannelAdapter, DeliveryReport, InboundMessageInput, InboundOutcome, OutboundMessage, RawRequest, RouteContext, SendResult, Verification } from '@intake/core'
import { classifyAliyunError, describeAliyunCode } from './errors.ts'
import { rpcSignature, rpcTimestamp } from './signature.ts'

export { classifyAliyunError, describeAliyunCode } from './errors.ts'
export { canonicalQuery, percentEncode, rpcSignature, rpcSignatureMatches, rpcTimestamp } from './signature.ts'

/** What a template variable is filled with. */
export type TemplateValue = 'trackingCode' | 'statusUrl' | 'officeName' | 'text'

/** An approved template (模板): its code from the console and what fills each of its ${variables}. */
export interface SmsTemplate {
  /** The template code, e.g. `SMS_465890012`. */
  code: string
  /** Variable name → value, e.g. `{ code: 'trackingCode' }` for 「您的诉求已受理，编号${code}」. */
  params: Record<string, TemplateValue>
}

export interface AliyunSmsOptions {
  /** The AccessKey ID of a RAM user with AliyunDysmsFullAccess (or SendSms only). */
  accessKeyId: string
  accessKeySecret: string
  /** The approved signature (签名) shown as 【…】 in front of every message. */
  signName: string
  /**
   * Chinese SMS may carry only approved templates: one for the acknowledgement, one for status
   * notices (a staff answer, a follow-up received), one for the survey sent when a case is resolved.
   */
  templates: { acknowledgement: SmsTemplate; status: SmsTemplate; survey: SmsTemplate }
  /**
   * A random secret of at least 16 characters that ends the push URLs typed into the console
   * (`…/channels/sms/report?token=…` and `…/up?token=…`): the HTTP push (HTTP批量推送) carries no
   * signature, so the unguessable URL over HTTPS is the check the platform allows.
   */
  pushToken: string
  /** Where SendSms lives (default https://dysmsapi.aliyuncs.com); tests point it at the stand-in. */
  endpoint?: string
  regionId?: string
  /** Longest value of one template variable (default 35, the platform's limit for notification templates). */
  maxParamChars?: number
  /** Give up on one SendSms call after this long (default 10 s); the outbox retries. */
  timeoutMs?: number
  /** The clock for request timestamps (default Date.now). */
  now?: () => number
}

const TEMPLATE_CODE = /^SMS_\d{3,20}$/
const API_VERSION = '2017-05-25'
/** A mainland mobile number as SendSms takes it (an optional +86 / 0086 is stripped first). */
const MAINLAND_MOBILE = /^1[3-9]\d{9}$/

/**
 * Keywords that unsubscribe, whole message (NFKC, any case): 退订 and the customary 「回T退订」/ TD.
 * 订阅 / START subscribe again.
 */
const STOP = new Set(['退订', 'TD', 'T', 'N', 'STOP', '取消', '取消订阅'])
const START = new Set(['订阅', 'START'])

const maxText = 2000

/** SmsUp push (上行短信), a JSON array: https://help.aliyun.com/zh/sms/developer-reference/smsup-2 (as quoted at https://developer.aliyun.com/ask/218017). */
const SmsUp = z.object({
  phone_number: z.string().regex(/^\+?\d{5,20}$/, 'expected a phone number'),
  send_time: z.string().max(40),
  content: z.string().max(maxText, `the text is over ${maxText} characters`),
  sign_name: z.string().max(100).optional(),
  dest_code: z.string().max(40).optional(),
  sequence_id: z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,30}$/)]),
})

/** SmsReport push (状态报告), a JSON array: https://help.aliyun.com/zh/sms/developer-reference/smsreport-2. */
const SmsReport = z.object({
  phone_number: z.string().max(40),
  success: z.boolean(),
  err_code: z.string().max(60).default(''),
  err_msg: z.string().max(500).optional(),
  biz_id: z.string().min(1).max(100),
  out_id: z.string().max(100).optional(),
  send_time: z.string().max(40).optional(),
  report_time: z.string().max(40).optional(),
})

const issues = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')

/** The push answer the platform expects: `{ code: 0, msg }`, anything else is retried. */
const accepted = () => new Response(JSON.stringify({ code: 0, msg: '接收成功' }), { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' } })

const TEMPLATE_FOR: Record<NonNullable<OutboundMessage['template']>, keyof AliyunSmsOptions['templates']> = {
  acknowledgement: 'acknowledgement',
  followUp: 'status',
  reply: 'status',
  rated: 'status',
  alert: 'status',
  // The resolution notice no longer asks for a rating: the follow-up survey (回访) does, later.
  resolved: 'status',
  survey: 'survey',
  reopened: 'status',
  ratingTooEarly: 'status',
  alreadyRated: 'status',
  reminder: 'status',
  acceptanceOverdue: 'status',
  escalation: 'status',
  supervision: 'status',
  extensionRequested: 'status',
  reopenedAlert: 'status',
}

/** Which approved template carries an outbound message. */
export function templateFor(msg: Pick<OutboundMessage, 'kind' | 'template'>): keyof AliyunSmsOptions['templates'] {
  if (msg.template) return TEMPLATE_FOR[msg.template]
  return msg.kind === 'acknowledgement' ? 'acknowledgement' : 'status'
}

/** +8613912345678 / 008613912345678 / 13912345678 → 13912345678; anything else as given. */
export const mainlandNumber = (id: string) => id.replace(/^(\+|00)86/, '')

/**
 * SMS through Alibaba Cloud (阿里云短信服务, Dysmsapi 2017-05-25).
 *
 * - Out: SendSms, signed with the RPC signature v1.0 (signature.ts), the approved `signName` and the
 *   template that fits the message (`templates`: acknowledgement, status, survey). The template's
 *   variables are filled from the case (tracking code, status link, office, the reply's text cut to
 *   `maxParamChars`): the citizen reads the approved wording, never free text. `OutId` is our message
 *   id; `BizId` is the provider id. Error codes map to the send-error taxonomy in errors.ts.
 * - In: the console's HTTP push (HTTP批量推送) posts JSON arrays to `/up` (citizens' replies, 上行短信)
 *   and `/report` (delivery receipts). Each URL ends with `?token=<pushToken>`, checked in constant
 *   time before anything is parsed. `sequence_id` is the inbound message's external id, so a re-push
 *   makes no second case. 退订 / T / TD unsubscribe the number (nothing more is sent to it), 订阅
 *   subscribes it again.
 *
 * @example
 * channels: {
 *   sms: aliyunSms({ accessKeyId: env.ALIYUN_SMS_KEY_ID, accessKeySecret: env.ALIYUN_SMS_KEY_SECRET, signName: '伽师县人民检察院',
 *                    pushToken: env.ALIYUN_SMS_PUSH_TOKEN,
 *                    templates: { acknowledgement: { code: 'SMS_465890012', params: { code: 'trackingCode' } },
 *                                 status: { code: 'SMS_465890013', params: { code: 'trackingCode' } },
 *                                 survey: { code: 'SMS_465890014', params: { code: 'trackingCode' } } } }),
 * }
 */
export function aliyunSms({
  accessKeyId,
  accessKeySecret,
  signName,
  templates,
  pushToken,
  endpoint = 'https://dysmsapi.aliyuncs.com',
  regionId = 'cn-hangzhou',
  maxParamChars = 35,
  timeoutMs = 10_000,
  now = Date.now,
}: AliyunSmsOptions): ChannelAdapter {
  if (typeof accessKeyId !== 'string' || !/^[A-Za-z0-9]{12,64}$/.test(accessKeyId)) throw new Error('[aliyun-sms] accessKeyId: expected the AccessKey ID (LTAI…)')
  if (typeof accessKeySecret !== 'string' || accessKeySecret.length < 16) throw new Error('[aliyun-sms] accessKeySecret: expected the AccessKey secret (30 characters)')
  if (typeof signName !== 'string' || signName.length < 2 || signName.length > 20) throw new Error('[aliyun-sms] signName: expected the approved signature (2–20 characters)')
  if (typeof pushToken !== 'string' || !/^[A-Za-z0-9_-]{16,128}$/.test(pushToken)) {
    throw new Error('[aliyun-sms] pushToken: expected at least 16 letters, digits, - or _ (it ends the push URLs typed into the console)')
  }
  for (const key of ['acknowledgement', 'status', 'survey'] as const) {
    const t = templates?.[key]
    if (!t || !TEMPLATE_CODE.test(t.code)) throw new Error(`[aliyun-sms] templates.${key}.code: expected an approved template code like SMS_465890012`)
    for (const [name, value] of Object.entries(t.params ?? {})) {
      if (!['trackingCode', 'statusUrl', 'officeName', 'text'].includes(value)) {
        throw new Error(`[aliyun-sms] templates.${key}.params.${name}: expected trackingCode, statusUrl, officeName or text, got "${value}"`)
      }
    }
  }
  if (!/^https?:\/\/[^/]+/.test(endpoint)) throw new Error(`[aliyun-sms] endpoint: expected an http(s) URL, got "${endpoint}"`)
  if (!Number.isInteger(maxParamChars) || maxParamChars < 6) throw new Error('[aliyun-sms] maxParamChars: expected a whole number ≥ 6')
  const base = endpoint.replace(/\/+$/, '')
  const tokenBytes = Buffer.from(pushToken)

  function verify(req: RawRequest): Verification {
    const token = req.url.searchParams.get('token')
    if (!token) return { ok: false, error: { status: 401, code: 'missing_signature', message: 'the push URL must end with ?token=<pushToken>' } }
    const given = Buffer.from(token)
    const ok = given.length === tokenBytes.length && timingSafeEqual(given, tokenBytes)
    return ok ? { ok: true } : { ok: false, error: { status: 401, code: 'bad_signature', message: 'the push token does not match' } }
  }

  function jsonArray(req: RawRequest): { ok: true; items: unknown[] } | { ok: false; outcome: InboundOutcome } {
    let body: unknown
    try {
      body = JSON.parse(req.text())
    } catch {
      return { ok: false, outcome: { rejected: { status: 400, code: 'malformed_json', message: 'the push body is not JSON' } } }
    }
    // The platform documents a JSON array; one object alone is taken as an array of one.
    const items = Array.isArray(body) ? body : body && typeof body === 'object' ? [body] : null
    if (!items || items.length === 0) return { ok: false, outcome: { rejected: { status: 400, code: 'invalid_push', message: 'expected a non-empty JSON array' } } }
    if (items.length > 500) return { ok: false, outcome: { rejected: { status: 413, code: 'too_many_items', message: 'at most 500 items in one push' } } }
    return { ok: true, items }
  }

  async function parseUp(req: RawRequest, ctx: RouteContext): Promise<InboundOutcome> {
    const body = jsonArray(req)
    if (!body.ok) return body.outcome
    const messages: InboundMessageInput[] = []
    const skipped: string[] = []
    for (const [i, item] of body.items.entries()) {
      const parsed = SmsUp.safeParse(item)
      if (!parsed.success) return { rejected: { status: 400, code: 'invalid_message', message: `item ${i}: ${issues(parsed.error)}` } }
      const m = parsed.data
      const phone = mainlandNumber(m.phone_number)
      const word = m.content.normalize('NFKC').trim().toUpperCase()
      if (STOP.has(word) || START.has(word)) {
        await ctx.setOptOut(phone, STOP.has(word))
        skipped.push(`${STOP.has(word) ? 'opt-out' : 'opt-in'}: ${word}`)
        continue
      }
      messages.push({
        channelId: ctx.channelId,
        externalId: `up-${m.sequence_id}`,
        from: { channelId: ctx.channelId, id: phone },
        ...(m.dest_code ? { to: m.dest_code } : {}),
        text: m.content,
        receivedAt: ctx.now(),
        raw: item,
      })
    }
    return messages.length ? { messages } : { ignored: skipped.join('; ') }
  }

  async function parseReport(req: RawRequest): Promise<InboundOutcome> {
    const body = jsonArray(req)
    if (!body.ok) return body.outcome
    const reports: DeliveryReport[] = []
    for (const [i, item] of body.items.entries()) {
      const parsed = SmsReport.safeParse(item)
      if (!parsed.success) return { rejected: { status: 400, code: 'invalid_report', message: `item ${i}: ${issues(parsed.error)}` } }
      const r = parsed.data
      reports.push(
        r.success
          ? { providerId: r.biz_id, status: 'delivered' }
          : { providerId: r.biz_id, status: 'failed', error: `Alibaba Cloud receipt ${describeAliyunCode(r.err_code)}${r.err_msg ? `: ${r.err_msg}` : ''}` },
      )
    }
    return { reports }
  }

  const fill = (value: TemplateValue, msg: OutboundMessage): string => {
    const raw =
      value === 'trackingCode' ? msg.trackingCode : value === 'statusUrl' ? msg.statusUrl : value === 'officeName' ? (msg.office?.name ?? '') : msg.text.replace(/\s+/g, ' ').trim()
    const chars = [...raw]
    return chars.length <= maxParamChars ? raw : chars.slice(0, maxParamChars - 1).join('') + '…'
  }

  return {
    kind: 'aliyun-sms',
    // The citizen reads the approved template; maxText bounds the text core renders for the record.
    capabilities: { maxText },
    secrets: [accessKeySecret, pushToken],
    routes: [
      { method: 'POST', path: '/up', maxBodyBytes: 256 * 1024, verify, parse: parseUp, respond: accepted },
      { method: 'POST', path: '/report', maxBodyBytes: 256 * 1024, verify, parse: parseReport, respond: accepted },
    ],

    async send(msg): Promise<SendResult> {
      const phone = mainlandNumber(msg.to.id)
      if (!MAINLAND_MOBILE.test(phone)) {
        return { ok: false, error: { code: 'invalid_recipient', retryable: false, message: `Alibaba Cloud SMS sends to mainland mobile numbers; "${msg.to.id}" is not one` } }
      }
      const template = templates[templateFor(msg)]
      const values = Object.fromEntries(Object.entries(template.params).map(([name, value]) => [name, fill(value, msg)]))
      const params: Record<string, string> = {
        AccessKeyId: accessKeyId,
        Action: 'SendSms',
        Format: 'JSON',
        OutId: msg.id,
        PhoneNumbers: phone,
        RegionId: regionId,
        SignName: signName,
        SignatureMethod: 'HMAC-SHA1',
        // A new nonce on every attempt: the platform refuses a nonce it has seen (SignatureNonceUsed).
        SignatureNonce: randomUUID(),
        SignatureVersion: '1.0',
        TemplateCode: template.code,
        TemplateParam: JSON.stringify(values),
        Timestamp: rpcTimestamp(now()),
        Version: API_VERSION,
      }
      params.Signature = rpcSignature('POST', params, accessKeySecret)
      let res: Response
      try {
        res = await fetch(`${base}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', accept: 'application/json' },
          body: new URLSearchParams(params).toString(),
          signal: AbortSignal.timeout(timeoutMs),
        })
      } catch (err) {
        return { ok: false, error: { code: 'connection', retryable: true, message: `Alibaba Cloud SMS unreachable: ${(err as Error).name}: ${(err as Error).message}` } }
      }
      const text = await res.text().catch(() => '')
      let answer: { Code?: unknown; Message?: unknown; BizId?: unknown } = {}
      try {
        answer = JSON.parse(text)
      } catch {
        // A proxy's HTML error page: only the status says anything.
      }
      const code = typeof answer.Code === 'string' ? answer.Code : undefined
      if (res.status === 200 && code === 'OK' && typeof answer.BizId === 'string' && answer.BizId) return { ok: true, providerId: answer.BizId }
      return { ok: false, error: classifyAliyunError(res.status, code, typeof answer.Message === 'string' ? answer.Message : text.slice(0, 200)) }
    },
  }
}
