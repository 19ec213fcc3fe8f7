/**
 * Counters, exposed at /metrics in Prometheus text format. Forged and malformed requests leave
 * nothing in the store; they show up here.
 */
export interface Metrics {
  count(name: string, labels?: Record<string, string>, by?: number): void
  get(name: string, labels?: Record<string, string>): number
  render(): string
}

export function createMetrics(): Metrics {
  const values = new Map<string, number>()
  const key = (name: string, labels: Record<string, string> = {}) => {
    const parts = Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
    return `intake_${name}_total${parts.length ? `{${parts.join(',')}}` : ''}`
  }
  return {
    count(name, labels, by = 1) {
      const k = key(name, labels)
      values.set(k, (values.get(k) ?? 0) + by)
    },
    get: (name, labels) => values.get(key(name, labels)) ?? 0,
    render: () => [...values].map(([k, v]) => `${k} ${v}`).join('\n') + '\n',
  }
}
