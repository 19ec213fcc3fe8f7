import type { CaseChange, OutboundWrite } from '../contracts/store.ts'
import type { Case, CaseEventInput } from '../model/index.ts'
import type { Thread } from '../messaging/index.ts'
import type { LifecycleContext } from './context.ts'
import { officeAlert, showTime } from './office-alert.ts'
import { transitionChange } from './transitions.ts'

/**
 * The citizen's answer to the follow-up survey (回访评价): 1–5, 满意 / 基本满意 / 不满意,
 * satisfied / not satisfied, optionally followed by their words ("1，还是没人来修"). A rating at or
 * below the threshold reopens the case (重办) at the same office with a new deadline and alerts the
 * supervising office; a better one closes it. A rating for a case still open, or a second rating,
 * gets a clear answer and changes nothing but the record.
 */
export interface ParsedRating {
  rating: number
  words?: string
}

const WORDS: Array<[RegExp, number]> = [
  [/^(非常满意|很满意|very satisfied)/i, 5],
  [/^(基本满意|fairly satisfied|mostly satisfied)/i, 4],
  [/^(不满意|很不满意|非常不满意|not satisfied|unsatisfied|dissatisfied)/i, 1],
  [/^(满意|satisfied)/i, 5],
]

/**
 * A rating at the start of a message, or undefined. After a digit, words count only behind a
 * separator or in Chinese, so "5 people have not been paid" is not a rating.
 *
 * @example parseRating('１分，还是没人来修') // { rating: 1, words: '还是没人来修' }
 */
export function parseRating(text: string): ParsedRating | undefined {
  const t = text.normalize('NFKC').trim()
  let rating: number | undefined
  let rest = ''
  const digit = /^([1-5])\s*(分|星|颗星|stars?|points?)?(?=$|[\s,，.。!！:：;；、\-—~]|[\u3400-\u9fff])(.*)$/isu.exec(t)
  if (digit) {
    rating = Number(digit[1])
    rest = digit[3]!
    // "5 people…": after plain whitespace, only Chinese text counts as the citizen's words.
    if (/^\s+[a-z]/i.test(rest) && !digit[2]) return undefined
  } else {
    for (const [pattern, value] of WORDS) {
      const m = pattern.exec(t)
      if (m) {
        rating = value
        rest = t.slice(m[0].length)
        if (/^[a-z]/i.test(rest)) return undefined
        break
      }
    }
  }
  if (rating === undefined) return undefined
  const words = rest.replace(/^[\s,，.。!！:：;；、\-—~]+/u, '').trim()
  return words ? { rating, words } : { rating }
}

export type RatingOutcome =
  | { kind: 'rated'; satisfied: boolean; change: CaseChange }
  /** The case is still being handled, or was rated already: the message is kept, the citizen told why. */
  | { kind: 'too_early' | 'already_rated'; change: CaseChange }

/**
 * What a rating does to `kase` (from a message, `messageId`, or the status page's form). The change
 * carries the events, the citizen's answer (threaded by `thread`), the alert and the timers.
 */
export async function ratingChange(
  ctx: LifecycleContext,
  kase: Case,
  parsed: ParsedRating,
  at: number,
  opts: { messageId?: string; thread?: Thread } = {},
): Promise<RatingOutcome> {
  const answer = (template: 'rated' | 'reopened' | 'ratingTooEarly' | 'alreadyRated', forCase: Case, values: Record<string, string> = {}): OutboundWrite =>
    ctx.messaging.outbound(forCase, 'notice', ctx.messaging.render(template, forCase, values), 'system', at, opts.thread, template)
  const open = !['resolved', 'closed'].includes(kase.status)
  if (open || (kase.status === 'closed' && kase.rating !== null)) {
    const kind = open ? 'too_early' : 'already_rated'
    const events: CaseEventInput[] = [
      { caseId: kase.id, at, type: 'follow_up', actor: 'citizen', public: true, data: { ...(opts.messageId ? { messageId: opts.messageId } : {}), rating: parsed.rating, refused: kind } },
    ]
    return { kind, change: { caseId: kase.id, at, events, outbound: [answer(open ? 'ratingTooEarly' : 'alreadyRated', kase)] } }
  }
  const satisfied = parsed.rating > ctx.settings.survey.threshold
  const rated: CaseEventInput = {
    caseId: kase.id,
    at,
    type: 'rated',
    actor: 'citizen',
    public: true,
    data: { ...(opts.messageId ? { messageId: opts.messageId } : {}), rating: parsed.rating, satisfied, ...(parsed.words ? { words: parsed.words } : {}) },
  }
  const system = { id: 'system', role: 'system' as const }
  if (satisfied || kase.status === 'closed') {
    // A late rating of a case closed unrated is recorded; it does not reopen what was closed.
    const change =
      kase.status === 'resolved'
        ? ((await transitionChange(ctx, kase, 'close', { actor: system, reason: 'rated' }, at)) as CaseChange)
        : { caseId: kase.id, at, events: [] as CaseEventInput[] }
    change.patch = { ...change.patch, rating: parsed.rating }
    change.events = [rated, ...change.events]
    change.outbound = [...(change.outbound ?? []), answer('rated', kase, { rating: String(parsed.rating) })]
    return { kind: 'rated', satisfied, change }
  }
  const change = (await transitionChange(ctx, kase, 'reopen', { actor: system, reason: 'rating' }, at)) as CaseChange
  const reopened: Case = { ...kase, ...change.patch } as Case
  const supervising = ctx.offices.get(kase.officeId)?.parentId ?? kase.officeId
  const alert = officeAlert(ctx, kase, supervising, 'reopenedAlert', { rating: String(parsed.rating), summary: kase.summary }, at)
  change.events = [rated, ...change.events, ...alert.events]
  change.outbound = [answer('reopened', reopened, { deadline: showTime(reopened.deadlineAt, reopened, ctx.policy.calendar.timeZone) }), ...alert.outbound]
  return { kind: 'rated', satisfied, change }
}
