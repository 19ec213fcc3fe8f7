/**
 * What citizens read: acknowledgements and notices, per language. Deployments override any of them
 * in their config (`templates: { 'zh-CN': { acknowledgement: '...' } }`). Placeholders: {trackingCode},
 * {officeName}, {statusUrl}, {text}, {status}.
 */
export interface MessageTemplates {
  acknowledgement: string
  followUp: string
  reply: string
  resolved: string
  /** To an office, for an urgent case: {summary} is the case's summary. */
  alert: string
  /** The answer to a citizen's rating of a resolved case: {rating} is 1–5. */
  rated: string
  /** The follow-up survey (回访), some time after resolution. */
  survey: string
  /** To the citizen whose low rating reopened the case (重办): {deadline}. */
  reopened: string
  /** A rating for a case that is still being handled: the message is kept, nothing is rated. */
  ratingTooEarly: string
  /** A second rating: the first stands, the message is kept. */
  alreadyRated: string
  /** To the handling office: {point} ('1 working day before', 'due'), {deadline}, {summary}. */
  reminder: string
  /** To the handling office: the acceptance deadline passed. */
  acceptanceOverdue: string
  /** To the supervising office: {level}, {handlingOffice}, {deadline}, {summary}. */
  escalation: string
  /** To the handling office, from the supervising one: {text}, {deadline}. */
  supervision: string
  /** To the parent office: {text} (the reason), {deadline} (asked for). */
  extensionRequested: string
  /** To the supervising office when a low rating reopened a case: {rating}, {summary}. */
  reopenedAlert: string
}

export const DEFAULT_TEMPLATES: Record<string, MessageTemplates> = {
  'zh-CN': {
    acknowledgement:
      '您好，您的诉求已收到，编号 {trackingCode}，已转交{officeName}办理，我们会在这里告诉您进展。查询进度：{statusUrl}',
    followUp: '您好，您补充的内容已加入诉求 {trackingCode}，{officeName}会一并处理。查询进度：{statusUrl}',
    reply: '【{officeName}答复 {trackingCode}】{text}',
    resolved: '您好，您的诉求 {trackingCode} 已办结，稍后我们会请您评价办理结果。查询：{statusUrl}',
    alert: '【紧急诉求】{officeName}：{trackingCode}「{summary}」请立即处理。{statusUrl}',
    rated: '感谢您的评价（{rating} 分）。诉求 {trackingCode} 已办结归档；如有新的问题，欢迎随时再联系我们。',
    survey: '【回访】您的诉求 {trackingCode} 已办结。请回复 1–5 为办理结果打分（5 为非常满意），或回复“满意”“基本满意”“不满意”，可附上意见。查询：{statusUrl}',
    reopened: '很抱歉办理结果未让您满意。诉求 {trackingCode} 已重新交{officeName}办理，办理期限 {deadline}。查询：{statusUrl}',
    ratingTooEarly: '您的诉求 {trackingCode} 仍在办理中，办结后我们会请您评价。您的留言已加入诉求。查询：{statusUrl}',
    alreadyRated: '诉求 {trackingCode} 已经评价过了，谢谢您。您的留言已记录；如有新的问题，请直接告诉我们。',
    reminder: '【办理提醒】{officeName}：诉求 {trackingCode}「{summary}」办理期限 {deadline}（{point}）。{statusUrl}',
    acceptanceOverdue: '【接单超时】{officeName}：诉求 {trackingCode}「{summary}」尚未接单，请尽快接单。{statusUrl}',
    escalation: '【督办（{level}级）】{handlingOffice}办理的诉求 {trackingCode}「{summary}」已超过办理期限 {deadline}，请督办。{statusUrl}',
    supervision: '【督办意见】{officeName}：诉求 {trackingCode}：{text}（办理期限 {deadline}）{statusUrl}',
    extensionRequested: '【延期申请】{officeName}申请诉求 {trackingCode} 延期至 {deadline}，理由：{text}。{statusUrl}',
    reopenedAlert: '【重办】诉求 {trackingCode}「{summary}」回访评价 {rating} 分，已退回{officeName}重办。{statusUrl}',
  },
  en: {
    acknowledgement:
      'Hello, we have received your message. Your tracking code is {trackingCode}. It has been passed to {officeName}, and we will keep you informed here. Status: {statusUrl}',
    followUp: 'Hello, what you added is now part of case {trackingCode}; {officeName} will handle it together. Status: {statusUrl}',
    reply: '[{officeName} — reply on {trackingCode}] {text}',
    resolved: 'Hello, your case {trackingCode} has been resolved; we will ask you to rate how it was handled. Status: {statusUrl}',
    alert: 'URGENT for {officeName}: case {trackingCode} "{summary}" needs action now. {statusUrl}',
    rated: 'Thank you for your rating ({rating}/5). Case {trackingCode} is now closed; write to us again any time.',
    survey:
      'Follow-up on case {trackingCode}, now resolved: please reply 1–5 to rate how it was handled (5 = very satisfied), or "satisfied" / "not satisfied", with any comment. Status: {statusUrl}',
    reopened: 'We are sorry the result did not satisfy you. Case {trackingCode} is back with {officeName}, due {deadline}. Status: {statusUrl}',
    ratingTooEarly: 'Case {trackingCode} is still being handled; we will ask for your rating once it is resolved. Your message was added to the case. Status: {statusUrl}',
    alreadyRated: 'Case {trackingCode} was already rated, thank you. Your message was kept; tell us about anything new.',
    reminder: 'REMINDER for {officeName}: case {trackingCode} "{summary}" is due {deadline} ({point}). {statusUrl}',
    acceptanceOverdue: 'NOT ACCEPTED for {officeName}: case {trackingCode} "{summary}" is waiting to be accepted. {statusUrl}',
    escalation: 'ESCALATION (level {level}): case {trackingCode} "{summary}" at {handlingOffice} is past its deadline {deadline}. {statusUrl}',
    supervision: 'SUPERVISION NOTE for {officeName} on case {trackingCode}: {text} (due {deadline}) {statusUrl}',
    extensionRequested: 'EXTENSION REQUEST: {officeName} asks to move case {trackingCode} to {deadline}: {text}. {statusUrl}',
    reopenedAlert: 'REOPENED: case {trackingCode} "{summary}" was rated {rating}/5 and goes back to {officeName}. {statusUrl}',
  },
}

export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole)
}

/** The language to answer in: what the citizen chose, else what they wrote in, else the deployment's. */
export function pickLanguage(text: string, chosen: string | undefined, fallback: string, available: readonly string[]): string {
  const candidates = [chosen, /[\u3400-\u9fff]/.test(text) ? 'zh-CN' : text.trim() ? 'en' : undefined, fallback]
  for (const c of candidates) {
    if (!c) continue
    const exact = available.find((a) => a.toLowerCase() === c.toLowerCase())
    if (exact) return exact
    const base = available.find((a) => a.split('-')[0]!.toLowerCase() === c.split('-')[0]!.toLowerCase())
    if (base) return base
  }
  return available[0] ?? fallback
}
