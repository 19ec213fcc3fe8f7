import { z } from 'zod'
import { LocalText, localText, renderTemplate, type Case, type OfficeDirectory } from '@intake/core'
import { formatTime } from './format.ts'

/**
 * Reply templates (答复模板): ready answers a caseworker picks in the reply box, per language, for
 * every office or for one office and the offices below it. Placeholders, filled for the case at
 * hand in the citizen's language: {trackingCode}, {officeName}, {deadline}.
 *
 * @example
 * staffConsole({ replyTemplates: [{ id: 'more-info', title: { 'zh-CN': '补充材料', en: 'More information' },
 *   text: { 'zh-CN': '您好，诉求 {trackingCode} 需要补充……', en: 'Hello, case {trackingCode} needs …' }, officeId: 'jiashi' }] })
 */
export const ReplyTemplate = z
  .object({
    id: z.string().regex(/^[\w-]{1,64}$/, 'letters, digits, "-" and "_" (at most 64)'),
    /** What staff see in the list, in their language. */
    title: LocalText,
    /** What the citizen reads, in the citizen's language. */
    text: LocalText,
    /** Offered on the cases of this office and the offices below it; absent: everywhere. */
    officeId: z.string().optional(),
  })
  .strict()
export type ReplyTemplate = z.infer<typeof ReplyTemplate>
export type ReplyTemplateInput = z.input<typeof ReplyTemplate>

/** Offered when a deployment names none (`replyTemplates: []` offers none). */
export const DEFAULT_REPLY_TEMPLATES: ReplyTemplate[] = [
  {
    id: 'received-handling',
    title: { 'zh-CN': '已受理，正在办理', en: 'Received, being handled' },
    text: {
      'zh-CN': '您好，您反映的问题（编号 {trackingCode}）已由{officeName}受理，正在办理，将于 {deadline} 前答复您。',
      en: 'Hello, {officeName} has taken up your case {trackingCode} and is working on it; you will hear from us by {deadline}.',
    },
  },
  {
    id: 'more-information',
    title: { 'zh-CN': '请补充信息', en: 'Please tell us more' },
    text: {
      'zh-CN': '您好，为办理您的诉求（编号 {trackingCode}），请补充具体地点和发生时间，直接回复本消息即可。',
      en: 'Hello, to handle your case {trackingCode} we need the exact place and time; just reply to this message.',
    },
  },
  {
    id: 'resolved',
    title: { 'zh-CN': '已处理完毕', en: 'Dealt with' },
    text: {
      'zh-CN': '您好，您反映的问题（编号 {trackingCode}）已处理完毕。感谢您的监督，如仍有问题请回复本消息。',
      en: 'Hello, the matter you reported (case {trackingCode}) has been dealt with. Thank you; reply here if it is not.',
    },
  },
]

/** Read the deployment's templates once, at start: a mistake fails the start, not a caseworker's reply. */
export function parseReplyTemplates(input: unknown, offices: OfficeDirectory): ReplyTemplate[] {
  const templates = z.array(ReplyTemplate).parse(input ?? DEFAULT_REPLY_TEMPLATES)
  const ids = new Set<string>()
  for (const t of templates) {
    if (ids.has(t.id)) throw new Error(`[console] reply template "${t.id}" is named twice`)
    ids.add(t.id)
    if (t.officeId !== undefined && !offices.get(t.officeId)) throw new Error(`[console] reply template "${t.id}" names no office "${t.officeId}"`)
  }
  return templates
}

/** The templates offered on a case: the global ones and those of its office or an office above it. */
export function templatesForCase(templates: readonly ReplyTemplate[], kase: Pick<Case, 'officeId'>, offices: OfficeDirectory): ReplyTemplate[] {
  return templates.filter((t) => t.officeId === undefined || offices.covers(t.officeId, kase.officeId))
}

/** The template's text for this case, in the citizen's language, placeholders filled. */
export function fillReplyTemplate(template: ReplyTemplate, kase: Case, offices: OfficeDirectory, timeZone: string): string {
  const lang = kase.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en'
  const office = offices.get(kase.officeId)
  return renderTemplate(localText(template.text, kase.language) ?? localText(template.text, lang) ?? '', {
    trackingCode: kase.trackingCode,
    officeName: office?.names[lang] ?? office?.name ?? kase.officeId,
    deadline: formatTime(kase.deadlineAt, lang, timeZone),
  })
}
