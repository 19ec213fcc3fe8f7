import type { Lang } from './i18n.ts'

/** Building an Intl.DateTimeFormat costs far more than using one: a list page formats a hundred times. */
const formatters = new Map<string, Intl.DateTimeFormat>()

export function formatTime(at: number | null | undefined, lang: Lang, timeZone: string): string {
  if (at === null || at === undefined) return '—'
  const key = `${lang}|${timeZone}`
  let f = formatters.get(key)
  if (!f) formatters.set(key, (f = new Intl.DateTimeFormat(lang, { timeZone, dateStyle: 'medium', timeStyle: 'short' })))
  return f.format(new Date(at))
}

/** ISO for <time datetime>. */
export const iso = (at: number) => new Date(at).toISOString()

/** An office's name in the page's language, or its id when the tree does not know it. */
export function officeName(offices: { get(id: string): { name: string; names: Record<string, string> } | undefined }, id: string, lang: Lang): string {
  const office = offices.get(id)
  return office?.names[lang === 'en' ? 'en' : 'zh-CN'] ?? office?.name ?? id
}
