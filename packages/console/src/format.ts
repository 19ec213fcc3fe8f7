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
