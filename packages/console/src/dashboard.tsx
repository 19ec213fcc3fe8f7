import type { Hono } from 'hono'
import { raw } from 'hono/html'
import { CaseStatus, statsReport, type StatsFigures } from '@intake/core'
import type { ConsoleDeps, ConsoleEnv } from './app.tsx'
import { barChart, lineChart, loadCharts, percentChart } from './charts.ts'

const DAY = 86_400_000
/** Bars in the per-office chart; the rest are one bar, and every office is in the table. */
const OFFICE_BARS = 12

/** Minutes east of UTC of a time zone at an instant (Asia/Shanghai: 480). */
function utcOffsetMinutes(timeZone: string, at: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' }).formatToParts(new Date(at))
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value)
  const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'))
  return Math.round((local - Math.floor(at / 60_000) * 60_000) / 60_000)
}

/** Volumes of the last 30 days in the user's subtree: per day and channel, per office, category and status. */
export function dashboardRoutes(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  app.get('/dashboard', async (c) => {
    const t = c.get('t')
    const lang = c.get('lang')
    const now = deps.now()
    const offset = utcOffsetMinutes(deps.timeZone, now)
    const until = now
    const since = now - 30 * DAY
    await loadCharts()
    // Four small counts from the store (day × channel, office, category, status), not one row per case.
    // [since, until + 1): a case received this very millisecond counts, as in the rates below.
    const volumes = await deps.store.caseVolumes({ scope: c.get('identity').scope, since, until: until + 1, utcOffsetMinutes: offset })
    const days: string[] = []
    for (let d = since; d <= until; d += DAY) days.push(new Date(d + offset * 60_000).toISOString().slice(0, 10))
    const perDayAndChannel = new Map(volumes.byDayAndChannel.map((r) => [`${r.day}|${r.channelId}`, r.count]))
    const channels = [...new Set(volumes.byDayAndChannel.map((r) => r.channelId))].sort()
    const perDay = channels.map((ch) => ({ name: ch, values: days.map((d) => perDayAndChannel.get(`${d}|${ch}`) ?? 0) }))
    const officeName = (id: string) => deps.offices.get(id)?.names[lang === 'en' ? 'en' : 'zh-CN'] ?? deps.offices.get(id)?.name ?? id
    // Largest first, ties by name: the same order whatever order a store returns its groups in.
    const largestFirst = (a: { label: string; value: number }, b: { label: string; value: number }) => b.value - a.value || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0)
    const byOffice = volumes.byOffice.map((r) => ({ label: officeName(r.officeId), value: r.count })).sort(largestFirst)
    // A city has a hundred offices: the chart draws the busiest (a hundred bars are unreadable, and
    // each costs the SVG renderer); the table beside it lists every one.
    const officeBars = byOffice.length <= OFFICE_BARS ? byOffice : [...byOffice.slice(0, OFFICE_BARS - 1), { label: t.otherOffices(byOffice.length - OFFICE_BARS + 1), value: byOffice.slice(OFFICE_BARS - 1).reduce((n, r) => n + r.value, 0) }]
    const byCategory = volumes.byCategory.map((r) => ({ label: r.category ?? '—', value: r.count })).sort(largestFirst)
    const byStatus = [...volumes.byStatus]
      .sort((a, b) => CaseStatus.options.indexOf(a.status) - CaseStatus.options.indexOf(b.status))
      .map((r) => ({ label: t.statuses[r.status] ?? r.status, value: r.count }))
    const total = volumes.byOffice.reduce((n, r) => n + r.count, 0)
    // The three rates, from the statistics (computed from the events): the user's office and each
    // office below it, every row counting its own subtree.
    const identity = c.get('identity')
    const report = await statsReport(
      { store: deps.store, offices: deps.offices, calendar: deps.calendar, utcOffsetMs: offset * 60_000 },
      // [from, to): a case received this very millisecond counts too.
      // The page shows no median handling time: the store reads counts only, no row per resolved case.
      { groupBy: 'office', from: since, to: until + 1, median: false, ...(identity.officeId ? { officeId: identity.officeId } : {}) },
      now,
    )
    const rated = report.rows.filter((r) => r.received > 0).slice(0, 12)
    const pct = (v: number | null) => (v === null ? 0 : Math.round(v * 1000) / 10)
    const shown = (v: number | null) => (v === null ? '—' : `${pct(v)}%`)
    const rateOf: Array<[keyof typeof t.rateNames, (r: StatsFigures) => number | null]> = [
      ['response', (r) => r.response_rate],
      ['resolution', (r) => r.resolution_rate],
      ['onTime', (r) => r.on_time_resolution_rate],
      ['satisfaction', (r) => r.satisfaction_rate],
    ]
    const rateSeries = rateOf.map(([name, get]) => ({ name: t.rateNames[name], values: rated.map((r) => pct(get(r))) }))
    const Figure = ({ id, title, svg, table }: { id: string; title: string; svg: string; table: Array<{ label: string; value: number }> }) => (
      <figure aria-labelledby={id}>
        <figcaption id={id}><strong>{title}</strong></figcaption>
        <div aria-hidden="true">{raw(svg)}</div>
        <table>
          <caption class="skip">{title}</caption>
          <tbody>{table.map((r) => <tr><th scope="row">{r.label}</th><td>{r.value}</td></tr>)}</tbody>
        </table>
      </figure>
    )
    return deps.page(c, {
      title: t.dashboard,
      section: 'dashboard',
      body: (
        <>
          <h1>{t.dashboard}</h1>
          <p class="muted" id="volume-total">{t.total(total)}</p>
          <figure aria-labelledby="c-rates" id="rates">
            <figcaption id="c-rates"><strong>{t.rates}</strong></figcaption>
            <div aria-hidden="true">{raw(percentChart(t.rates, rated.map((r) => officeName(r.key ?? '')), rateSeries))}</div>
            <table>
              <thead>
                <tr>
                  <th scope="col">{t.byOffice}</th>
                  <th scope="col">{t.rateTable.received}</th>
                  {rateOf.map(([name]) => <th scope="col">{t.rateNames[name]}</th>)}
                  <th scope="col">{t.rateTable.closedNotRated}</th>
                  <th scope="col">{t.rateTable.overdue}</th>
                </tr>
              </thead>
              <tbody>
                {rated.map((r) => (
                  <tr>
                    <th scope="row">{officeName(r.key ?? '')}</th>
                    <td>{r.received}</td>
                    {rateOf.map(([, get]) => <td>{shown(get(r))}</td>)}
                    <td>{r.closed_not_rated}</td>
                    <td>{r.overdue_now}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </figure>
          <div class="charts">
            <Figure id="c-day" title={t.byDay} svg={lineChart(t.byDay, days, perDay)} table={perDay.map((s) => ({ label: s.name, value: s.values.reduce((a, b) => a + b, 0) }))} />
            <Figure id="c-office" title={t.byOffice} svg={barChart(t.byOffice, officeBars)} table={byOffice} />
            <Figure id="c-category" title={t.byCategory} svg={barChart(t.byCategory, byCategory)} table={byCategory} />
            <Figure id="c-status" title={t.byStatus} svg={barChart(t.byStatus, byStatus)} table={CaseStatus.options.map((s) => ({ label: t.statuses[s]!, value: byStatus.find((b) => b.label === t.statuses[s])?.value ?? 0 }))} />
          </div>
        </>
      ),
    })
  })
}
