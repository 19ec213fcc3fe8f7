import type * as Echarts from 'echarts'

/** ECharts is large: loaded on the first dashboard, not when the gateway (and its delivery thread) starts. */
let loaded: typeof Echarts | undefined
export async function loadCharts(): Promise<void> {
  loaded ??= await import('echarts')
}

/**
 * Charts drawn on the server with Apache ECharts' SSR renderer (SVG string, no DOM, no script), so
 * the dashboard prints and works without JavaScript. Each chart is an <svg role="img"> with a title;
 * the page shows the same figures as a table beside it for screen readers.
 */
export interface Series {
  name: string
  values: number[]
}

const PALETTE = ['#0b5cad', '#b35900', '#1a7f37', '#8250df', '#b42318', '#57606a', '#0a7d8c', '#9a6700']

function render(option: Echarts.EChartsCoreOption, width: number, height: number): string {
  if (!loaded) throw new Error('[console] charts: await loadCharts() first')
  const chart = loaded.init(null, null, { renderer: 'svg', ssr: true, width, height })
  try {
    chart.setOption({ animation: false, color: PALETTE, textStyle: { fontFamily: 'system-ui, sans-serif' }, ...option })
    return chart.renderToSVGString()
  } finally {
    chart.dispose()
  }
}

/** Lines over days, one per series. */
export function lineChart(title: string, days: string[], series: Series[], width = 640, height = 280): string {
  return render(
    {
      aria: { enabled: true, label: { description: title } },
      legend: { top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: 28 },
      xAxis: { type: 'category', data: days.map((d) => d.slice(5)) },
      yAxis: { type: 'value', minInterval: 1 },
      series: series.map((s) => ({ name: s.name, type: 'line', data: s.values, symbol: 'none' })),
    },
    width,
    height,
  )
}

/** Grouped vertical bars of percentages (0–100), one group per label, one bar per series. */
export function percentChart(title: string, labels: string[], series: Series[], width = 640, height = 300): string {
  return render(
    {
      aria: { enabled: true, label: { description: title } },
      legend: { top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: 56 },
      xAxis: { type: 'category', data: labels.map((l) => (l.length > 10 ? `${l.slice(0, 9)}…` : l)), axisLabel: { interval: 0, rotate: labels.length > 4 ? 30 : 0 } },
      yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
      series: series.map((s) => ({ name: s.name, type: 'bar', data: s.values })),
    },
    width,
    height,
  )
}

/** Horizontal bars, largest first. */
export function barChart(title: string, rows: Array<{ label: string; value: number }>, width = 480, height = 40 + rows.length * 26): string {
  const sorted = [...rows].sort((a, b) => a.value - b.value)
  return render(
    {
      aria: { enabled: true, label: { description: title } },
      grid: { left: 160, right: 24, top: 8, bottom: 24 },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', data: sorted.map((r) => (r.label.length > 16 ? `${r.label.slice(0, 15)}…` : r.label)) },
      series: [{ type: 'bar', data: sorted.map((r) => r.value), label: { show: true, position: 'right' } }],
    },
    width,
    Math.max(height, 80),
  )
}
