import type { Lang } from './i18n.ts'

export function formatTime(at: number | null | undefined, lang: Lang, timeZone: string): string {
  if (at === null || at === undefined) return '—'
  return new Intl.DateTimeFormat(lang, { timeZone, dateStyle: 'medium', timeStyle: 'short' }).format(new Date(at))
}

/** ISO for <time datetime>. */
export const iso = (at: number) => new Date(at).toISOString()
