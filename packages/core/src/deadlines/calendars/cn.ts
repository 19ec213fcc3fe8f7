/**
 * China's public holidays (放假) and make-up working days (调休上班) as the State Council's General
 * Office announces them each year. Every date of a holiday period is listed, weekends included, so
 * the list reads like the notice; make-up days are the weekend dates worked instead.
 *
 * Sources (the notices, as published by Xinhua; checked against the texts on 2026-12-03):
 * - 2024: 国务院办公厅关于2024年部分节假日安排的通知, 国办发明电〔2023〕7号, 2023-10-25
 *   (人民日报 2023-10-26 第06版, http://paper.people.com.cn/rmrb/html/2023-10/26/nw.D110000renmrb_20231026_3-06.htm;
 *   full text also at https://zh.wikisource.org/wiki/国务院办公厅关于2024年部分节假日安排的通知)
 * - 2025: 国务院办公厅关于2025年部分节假日安排的通知, 国办发明电〔2024〕12号, 2024-11-12
 *   (光明网/新华网, https://m.gmw.cn/2024-11/12/content_1303894933.htm)
 * - 2026: 国务院办公厅关于2026年部分节假日安排的通知, 2025-11-04
 *   (光明网/新华网, https://politics.gmw.cn/2025-11/04/content_38391083.htm)
 * A year the State Council has not announced yet is not guessed: add it here when the notice is out
 * (usually in October–November), or in the deployment's own `calendar.holidays`.
 */

/** [first, last] of each holiday period, inclusive. */
const PERIODS: Record<number, Array<[string, string]>> = {
  2024: [
    ['2024-01-01', '2024-01-01'], // 元旦, with the weekend before it
    ['2024-02-10', '2024-02-17'], // 春节
    ['2024-04-04', '2024-04-06'], // 清明节
    ['2024-05-01', '2024-05-05'], // 劳动节
    ['2024-06-08', '2024-06-10'], // 端午节: 6月10日, with the weekend
    ['2024-09-15', '2024-09-17'], // 中秋节
    ['2024-10-01', '2024-10-07'], // 国庆节
  ],
  2025: [
    ['2025-01-01', '2025-01-01'], // 元旦 (a Wednesday: one day, no make-up)
    ['2025-01-28', '2025-02-04'], // 春节 (from 除夕)
    ['2025-04-04', '2025-04-06'], // 清明节
    ['2025-05-01', '2025-05-05'], // 劳动节
    ['2025-05-31', '2025-06-02'], // 端午节
    ['2025-10-01', '2025-10-08'], // 国庆节、中秋节
  ],
  2026: [
    ['2026-01-01', '2026-01-03'], // 元旦
    ['2026-02-15', '2026-02-23'], // 春节
    ['2026-04-04', '2026-04-06'], // 清明节
    ['2026-05-01', '2026-05-05'], // 劳动节
    ['2026-06-19', '2026-06-21'], // 端午节
    ['2026-09-25', '2026-09-27'], // 中秋节
    ['2026-10-01', '2026-10-07'], // 国庆节
  ],
}

/** Weekend dates that are working days (上班). */
const MAKE_UP_DAYS: Record<number, string[]> = {
  2024: ['2024-02-04', '2024-02-18', '2024-04-07', '2024-04-28', '2024-05-11', '2024-09-14', '2024-09-29', '2024-10-12'],
  2025: ['2025-01-26', '2025-02-08', '2025-04-27', '2025-09-28', '2025-10-11'],
  2026: ['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10'],
}

function datesBetween(first: string, last: string): string[] {
  const out: string[] = []
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= Date.parse(`${last}T00:00:00Z`); t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10))
  }
  return out
}

/** The years this file knows. */
export const CN_CALENDAR_YEARS = Object.keys(PERIODS).map(Number)

/** China's official holidays and make-up working days, every year this file knows. */
export const CN_CALENDAR: { holidays: readonly string[]; workingWeekends: readonly string[] } = {
  holidays: Object.values(PERIODS).flatMap((periods) => periods.flatMap(([a, b]) => datesBetween(a, b))),
  workingWeekends: Object.values(MAKE_UP_DAYS).flat(),
}

/** Calendars a config can name with `calendar: { country }`. */
export const COUNTRY_CALENDARS: Record<string, { timeZone: string; holidays: readonly string[]; workingWeekends: readonly string[] }> = {
  CN: { timeZone: 'Asia/Shanghai', ...CN_CALENDAR },
}
