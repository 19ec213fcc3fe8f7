/**
 * Alibaba Cloud SMS on loopback, for tests and benchmarks (dysmsapi.aliyuncs.com cannot be reached
 * from here), in its wire format:
 * - SendSms (https://help.aliyun.com/zh/sms/developer-reference/api-dysmsapi-2017-05-25-sendsms): RPC call, parameters in the query
 *   or a form body, signed with signature v1.0 (https://www.alibabacloud.com/help/en/sms/signature-method),
 *   checked here like the platform does: signature, SignatureNonce used once, Timestamp within 15 minutes.
 *   Answer: HTTP 200 `{ RequestId, Code: "OK", Message: "OK", BizId }`, or HTTP 200 with an isv. code
 *   (API错误码, https://help.aliyun.com/document_detail/101346.html), or HTTP 4xx for the gateway's
 *   own refusals (SignatureDoesNotMatch, InvalidAccessKeyId.NotFound, SignatureNonceUsed, InvalidTimeStamp.Expired).
 * - The HTTP push (HTTP批量推送): JSON arrays of delivery receipts (SmsReport) and replies (SmsUp)
 *   posted to the URLs configured in the console, answered `{ code: 0, msg }`.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { startProviderStandIn, type ProviderControl } from '../kit/provider-stand-in.ts'
import { rpcSignatureMatches } from './signature.ts'

export interface AliyunSmsServerOptions {
  accessKeyId: string
  accessKeySecret: string
  /** Approved signatures. */
  signNames: string[]
  /** Approved templates: code → content with ${variables}. */
  templates: Record<string, string>
  /** Where the console's push URLs point (full URLs, token included). */
  push?: { report?: string; up?: string }
  /** How the stand-in reaches the gateway for pushes (default fetch); in-process tests pass `(req) => intake.app.fetch(req)`. */
  fetch?: (req: Request) => Promise<Response>
  now?: () => number
  port?: number
}

export interface SentSms {
  bizId: string
  phone: string
  signName: string
  templateCode: string
  params: Record<string, string>
  /** What the handset shows: 【signName】 + the template with its variables filled. */
  text: string
  outId?: string
}

export type ArrangedSmsAnswer = { code: string; message?: string; status?: number } | { status: number; body?: string }

/** Also the kit's `fixtures.provider`: it can refuse, reset or stall connections (built on startProviderStandIn). */
export interface AliyunSmsServer extends ProviderControl {
  url: string
  sent: SentSms[]
  /** Every SendSms call that reached the stand-in, refused or not. */
  calls: number
  /** Answer the next SendSms calls like this, in order. */
  failNext(...answers: ArrangedSmsAnswer[]): void
  /** Numbers that unsubscribed at the platform: SendSms answers isv.BLACK_KEY_CONTROL_LIMIT. */
  blacklist: Set<string>
  /** Post a delivery receipt for a sent message, as SmsReport does. */
  report(bizId: string, outcome?: { success: boolean; errCode?: string; errMsg?: string }): Promise<Response>
  /** Post a citizen's reply, as SmsUp does; returns the gateway's answer. */
  up(phone: string, content: string, over?: Record<string, unknown>): Promise<Response>
  close(): Promise<void>
}

const MESSAGES: Record<string, { status: number; message: string }> = {
  SignatureDoesNotMatch: { status: 400, message: 'Specified signature is not matched with our calculation.' },
  'InvalidAccessKeyId.NotFound': { status: 404, message: 'Specified access key is not found.' },
  SignatureNonceUsed: { status: 400, message: 'Specified signature nonce was used already.' },
  'InvalidTimeStamp.Expired': { status: 400, message: 'Specified time stamp or date value is expired.' },
  MissingParameter: { status: 400, message: 'A required parameter is missing.' },
  'isv.BUSINESS_LIMIT_CONTROL': { status: 200, message: '触发分钟级流控Permits:1' },
  'isv.MOBILE_NUMBER_ILLEGAL': { status: 200, message: '非法手机号' },
  'isv.SMS_TEMPLATE_ILLEGAL': { status: 200, message: '模板不合法(不存在或被拉黑)' },
  'isv.SMS_SIGNATURE_ILLEGAL': { status: 200, message: '签名不合法(不存在或被拉黑)' },
  'isv.TEMPLATE_MISSING_PARAMETERS': { status: 200, message: '模板缺少变量' },
  'isv.INVALID_JSON_PARAM': { status: 200, message: 'JSON参数不合法，只接受字符串值' },
  'isv.BLACK_KEY_CONTROL_LIMIT': { status: 200, message: '黑名单管控' },
  'isv.AMOUNT_NOT_ENOUGH': { status: 200, message: '账户余额不足' },
  'isp.SYSTEM_ERROR': { status: 200, message: 'isp.SYSTEM_ERROR' },
  'Throttling.User': { status: 400, message: 'Request was denied due to user flow control.' },
}

export async function startAliyunSmsServer(opts: AliyunSmsServerOptions): Promise<AliyunSmsServer> {
  const { accessKeyId, accessKeySecret, signNames, templates, push = {}, fetch: send = (r) => fetch(r), now = Date.now, port = 0 } = opts
  const sent: SentSms[] = []
  const queue: ArrangedSmsAnswer[] = []
  const nonces = new Set<string>()
  const blacklist = new Set<string>()
  let calls = 0
  let sequence = 100_000

  const answer = (res: ServerResponse, status: number, body: Record<string, unknown>) => {
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' })
    res.end(JSON.stringify({ RequestId: randomUUID().toUpperCase(), ...body }))
  }
  const refuse = (res: ServerResponse, code: string, message?: string, status?: number) =>
    answer(res, status ?? MESSAGES[code]?.status ?? 200, { Code: code, Message: message ?? MESSAGES[code]?.message ?? code })

  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const url = new URL(req.url ?? '/', 'http://dysmsapi.test')
    const params: Record<string, string> = Object.fromEntries(url.searchParams)
    if (req.method === 'POST' && /x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) Object.assign(params, Object.fromEntries(new URLSearchParams(body)))
    if (url.pathname !== '/' || params.Action !== 'SendSms') return refuse(res, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.', 404)
    calls++
    if (!params.Signature || !params.SignatureNonce || !params.Timestamp || !params.AccessKeyId) return refuse(res, 'MissingParameter')
    if (params.AccessKeyId !== accessKeyId) return refuse(res, 'InvalidAccessKeyId.NotFound')
    if (!rpcSignatureMatches(req.method ?? 'GET', params, accessKeySecret)) return refuse(res, 'SignatureDoesNotMatch')
    if (nonces.has(params.SignatureNonce)) return refuse(res, 'SignatureNonceUsed')
    nonces.add(params.SignatureNonce)
    const at = Date.parse(params.Timestamp)
    if (!Number.isFinite(at) || Math.abs(now() - at) > 15 * 60_000) return refuse(res, 'InvalidTimeStamp.Expired')

    const arranged = queue.shift()
    if (arranged) {
      if ('code' in arranged) return refuse(res, arranged.code, arranged.message, arranged.status)
      res.writeHead(arranged.status, { 'content-type': 'text/html' })
      return res.end(arranged.body ?? '<html><body>502 Bad Gateway</body></html>')
    }
    const phone = params.PhoneNumbers ?? ''
    if (!/^(\+?86|0086)?1[3-9]\d{9}$/.test(phone)) return refuse(res, 'isv.MOBILE_NUMBER_ILLEGAL')
    if (!signNames.includes(params.SignName ?? '')) return refuse(res, 'isv.SMS_SIGNATURE_ILLEGAL')
    const template = templates[params.TemplateCode ?? '']
    if (template === undefined) return refuse(res, 'isv.SMS_TEMPLATE_ILLEGAL')
    let values: Record<string, unknown> = {}
    try {
      values = params.TemplateParam ? JSON.parse(params.TemplateParam) : {}
    } catch {
      return refuse(res, 'isv.INVALID_JSON_PARAM')
    }
    if (!values || typeof values !== 'object' || Object.values(values).some((v) => typeof v !== 'string')) return refuse(res, 'isv.INVALID_JSON_PARAM')
    const missing = [...template.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!).filter((name) => values[name] === undefined)
    if (missing.length) return refuse(res, 'isv.TEMPLATE_MISSING_PARAMETERS', `模板缺少变量: ${missing.join(',')}`)
    if (blacklist.has(phone.replace(/^(\+|00)86/, ''))) return refuse(res, 'isv.BLACK_KEY_CONTROL_LIMIT')
    const bizId = `${Date.now()}${randomBytes(3).readUIntBE(0, 3)}^0`
    const text = `【${params.SignName}】${template.replace(/\$\{(\w+)\}/g, (_, name: string) => String(values[name]))}`
    sent.push({ bizId, phone, signName: params.SignName!, templateCode: params.TemplateCode!, params: values as Record<string, string>, text, ...(params.OutId ? { outId: params.OutId } : {}) })
    answer(res, 200, { Code: 'OK', Message: 'OK', BizId: bizId })
  }

  const standIn = await startProviderStandIn({
    port,
    listener(req, res) {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')))
    },
  })
  const stamp = () => new Date(now() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ') // Beijing time, as the push shows it

  const post = (target: string | undefined, items: unknown[]) => {
    if (!target) throw new Error('[aliyun-sms stand-in] no push URL configured for this push')
    return send(new Request(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(items) }))
  }

  return {
    url: standIn.url,
    sent,
    get calls() {
      return calls
    },
    failNext: (...answers) => void queue.push(...answers),
    blacklist,
    report(bizId, { success = true, errCode = success ? 'DELIVERED' : 'UNKNOWN', errMsg = success ? '用户接收成功' : '未知错误' } = { success: true }) {
      const sms = sent.find((s) => s.bizId === bizId)
      return post(push.report, [
        { phone_number: sms?.phone ?? '', send_time: stamp(), report_time: stamp(), success, err_code: errCode, err_msg: errMsg, sms_size: '1', biz_id: bizId, out_id: sms?.outId ?? '' },
      ])
    },
    up(phone, content, over = {}) {
      return post(push.up, [{ phone_number: phone, send_time: stamp(), content, sign_name: signNames[0], dest_code: '1234', sequence_id: ++sequence, ...over }])
    },
    breakNext: standIn.breakNext,
    deliveries: standIn.deliveries,
    reset() {
      queue.length = 0
      return standIn.reset()
    },
    close: standIn.close,
  }
}
