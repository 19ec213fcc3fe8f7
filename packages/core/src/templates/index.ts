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
}

export const DEFAULT_TEMPLATES: Record<string, MessageTemplates> = {
  'zh-CN': {
    acknowledgement:
      '您好，您的诉求已收到，编号 {trackingCode}，已转交{officeName}办理，我们会在这里告诉您进展。查询进度：{statusUrl}',
    followUp: '您好，您补充的内容已加入诉求 {trackingCode}，{officeName}会一并处理。查询进度：{statusUrl}',
    reply: '【{officeName}答复 {trackingCode}】{text}',
    resolved: '您好，您的诉求 {trackingCode} 已办结。请回复 1–5 为我们的答复打分（5 为非常满意）。查询：{statusUrl}',
    alert: '【紧急诉求】{officeName}：{trackingCode}「{summary}」请立即处理。{statusUrl}',
    rated: '感谢您的评价（{rating} 分）。诉求 {trackingCode} 已办结归档；如有新的问题，欢迎随时再联系我们。',
  },
  en: {
    acknowledgement:
      'Hello, we have received your message. Your tracking code is {trackingCode}. It has been passed to {officeName}, and we will keep you informed here. Status: {statusUrl}',
    followUp: 'Hello, what you added is now part of case {trackingCode}; {officeName} will handle it together. Status: {statusUrl}',
    reply: '[{officeName} — reply on {trackingCode}] {text}',
    resolved:
      'Hello, your case {trackingCode} has been resolved. Please reply with 1–5 to rate our answer (5 = very satisfied). Status: {statusUrl}',
    alert: 'URGENT for {officeName}: case {trackingCode} "{summary}" needs action now. {statusUrl}',
    rated: 'Thank you for your rating ({rating}/5). Case {trackingCode} is now closed; write to us again any time.',
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
