import type { Store } from '../contracts/store.ts'
import { formatTime, type PageLanguage } from '../app/page.ts'
import type { Case, CaseStatus, InboundMessage } from '../model/index.ts'
import type { OfficeDirectory } from '../offices/index.ts'
import { pickLanguage } from '../templates/index.ts'
import { senderKey, type LookupThrottle } from '../throttle/index.ts'
import type { MessageClass } from './classify-message.ts'
import { latestPublicReply } from '../records/index.ts'

/** What a status query is answered with, on the channel it was asked from. */
export interface StatusAnswer {
  outcome: 'status' | 'unknown' | 'mistyped' | 'open_cases' | 'throttled'
  text: string
  language: string
  /** The asker's own case the exchange belongs on; absent when it belongs to no case (someone else's case, no case). */
  own?: Case
  /** The case asked about, whoever asked. */
  asked?: Case
}

export interface StatusAnswerDeps {
  store: Store
  offices: OfficeDirectory
  throttle: LookupThrottle
  locale: string
  languages: readonly string[]
  timeZone: string
  statusUrl(code: string): string
  /** The status page's lookup form, for answers about no case. */
  lookupUrl: string
}

const TEXTS = {
  'zh-CN': {
    status: (s: Fields) =>
      [
        `诉求 ${s.code}：${s.status}。`,
        `办理单位：${s.office}。`,
        s.deadline ? `办理时限：${s.deadline}。` : '',
        s.reply ? `最新答复：${s.reply}` : '',
        `详情：${s.url}`,
      ].filter(Boolean).join('\n'),
    unknown: (code: string, url: string) => `没有找到编号为 ${code} 的诉求，请核对编号后再试。查询页面：${url}`,
    mistyped: (code: string) => `编号 ${code} 好像输错了一个字符，请核对编号后再发送（例如：查询 K7F3-9Q2M）。`,
    openCases: (lines: string[]) => `您在这里有 ${lines.length} 件正在办理的诉求：\n${lines.join('\n')}\n发送「查询 编号」查看详情。`,
    line: (code: string, status: string, summary: string) => `${code}（${status}）${summary}`,
    noOpenCases: '您在这里没有正在办理的诉求。查询其他诉求，请发送「查询 编号」。',
    throttled: (minutes: number) => `查询次数太多了，请 ${minutes} 分钟后再试。`,
    statuses: { received: '已受理', dispatched: '已派单', accepted: '已接单', in_progress: '办理中', replied: '已答复', resolved: '已办结', closed: '已结束' },
  },
  en: {
    status: (s: Fields) =>
      [
        `Case ${s.code}: ${s.status}.`,
        `Handled by ${s.office}.`,
        s.deadline ? `Due by ${s.deadline}.` : '',
        s.reply ? `Latest reply: ${s.reply}` : '',
        `Details: ${s.url}`,
      ].filter(Boolean).join('\n'),
    unknown: (code: string, url: string) => `No case has the code ${code}. Please check the code and try again. Look up: ${url}`,
    mistyped: (code: string) => `The code ${code} looks mistyped (one character does not check out). Please check the code and send it again, e.g. "status K7F3-9Q2M".`,
    openCases: (lines: string[]) => `You have ${lines.length} open case${lines.length === 1 ? '' : 's'} here:\n${lines.join('\n')}\nSend "status <code>" for details.`,
    line: (code: string, status: string, summary: string) => `${code} (${status}) ${summary}`,
    noOpenCases: 'You have no open case here. To look up another case, send "status <code>".',
    throttled: (minutes: number) => `Too many lookups. Please try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
    statuses: { received: 'received', dispatched: 'dispatched', accepted: 'accepted', in_progress: 'in progress', replied: 'answered', resolved: 'resolved', closed: 'closed' },
  },
} satisfies Record<PageLanguage, unknown>

interface Fields {
  code: string
  status: string
  office: string
  deadline?: string
  reply?: string
  url: string
}

const REPLY_CHARS = 200
const OPEN_CASES_SHOWN = 5
const clip = (s: string, n: number) => ([...s].length > n ? [...s].slice(0, n - 1).join('') + '…' : s)

/** Whether the message comes from the case's own citizen: the same channel and address. */
export const isCitizenOf = (kase: Case, msg: Pick<InboundMessage, 'channelId' | 'from'>) =>
  kase.channelId === msg.channelId && kase.citizen.id === msg.from.id

/**
 * The answer to a status query: the public status (what the status page shows, nothing more),
 * "please check the code", "no such case", the sender's open cases, or a polite refusal when the
 * sender has looked up too much. Nothing is written here; the pipeline records the exchange.
 */
export async function answerStatusQuery(deps: StatusAnswerDeps, msg: InboundMessage, query: Extract<MessageClass, { kind: 'status_query' }>): Promise<StatusAnswer> {
  const language = queryLanguage(msg, deps)
  const t = language.startsWith('zh') ? TEXTS['zh-CN'] : TEXTS.en
  const keys = [senderKey(msg.channelId, msg.from.id)]
  const verdict = await deps.throttle.attempt(keys)
  if (!verdict.allowed) return { outcome: 'throttled', text: t.throttled(Math.max(1, Math.ceil(verdict.retryAfterMs / 60_000))), language }
  if (query.mistyped) {
    await deps.throttle.miss(keys)
    return { outcome: 'mistyped', text: t.mistyped(query.mistyped), language }
  }
  if (query.code) {
    const kase = await deps.store.getCaseByTrackingCode(query.code)
    if (!kase) {
      await deps.throttle.miss(keys)
      return { outcome: 'unknown', text: t.unknown(query.code, deps.lookupUrl), language }
    }
    const lang: PageLanguage = language.startsWith('zh') ? 'zh-CN' : 'en'
    const office = deps.offices.get(kase.officeId)
    const fields: Fields = {
      code: kase.trackingCode,
      status: t.statuses[kase.status as CaseStatus],
      office: (lang === 'en' ? office?.names.en : undefined) ?? office?.name ?? '',
      url: deps.statusUrl(kase.trackingCode),
    }
    if (kase.deadlineAt !== null && !['resolved', 'closed'].includes(kase.status)) fields.deadline = formatTime(kase.deadlineAt, lang, deps.timeZone)
    const reply = await latestPublicReply(deps.store, kase)
    if (reply) fields.reply = clip(reply, REPLY_CHARS)
    return { outcome: 'status', text: t.status(fields), language, asked: kase, ...(isCitizenOf(kase, msg) ? { own: kase } : {}) }
  }
  const { cases } = await deps.store.listCases({ channelId: msg.channelId, citizenId: msg.from.id, open: true, limit: OPEN_CASES_SHOWN })
  if (cases.length === 0) return { outcome: 'open_cases', text: t.noOpenCases, language }
  const lines = cases.map((c) => t.line(c.trackingCode, t.statuses[c.status], clip(c.summary, 40)))
  return { outcome: 'open_cases', text: t.openCases(lines), language, own: cases[0]! }
}

/** The asker's language: chosen, else written (Chinese, or an English query word), else the deployment's. */
function queryLanguage(msg: InboundMessage, deps: StatusAnswerDeps): string {
  const english = /\b(status|track|check)\b/i.test(msg.text) && !/[\u3400-\u9fff]/.test(msg.text)
  const sample = /[\u3400-\u9fff]/.test(msg.text) ? msg.text : english ? 'status' : ''
  return pickLanguage(sample, msg.language, deps.locale, deps.languages)
}
