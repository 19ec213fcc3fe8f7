import type { ChannelAdapter, ProviderHealth } from '../contracts/channel.ts'

/** The providers of one failover channel. */
export interface ChannelProviderHealth {
  channelId: string
  providers: ProviderHealth[]
}

/** Every channel that reports provider health (those built with `failover(...)`), in config order. */
export function providerHealthOf(channels: Record<string, Pick<ChannelAdapter, 'providerHealth'>>): ChannelProviderHealth[] {
  return Object.entries(channels).flatMap(([channelId, adapter]) => (adapter.providerHealth ? [{ channelId, providers: adapter.providerHealth() }] : []))
}

const STATES: ProviderHealth['state'][] = ['closed', 'half-open', 'open']
const OUTCOMES = [
  ['sent', 'successes'],
  ['failed', 'failures'],
  ['refused', 'refusals'],
  ['skipped', 'skipped'],
] as const

const label = (v: string) => v.replace(/["\\\n]/g, '_')

/**
 * Provider health in Prometheus text format: the breaker's state as a gauge per state (1 for the
 * current one, as kube-state-metrics writes enums), and the send outcomes and openings as counters.
 *
 * @example
 * // intake_provider_breaker_state{channelId="sms",provider="twilio-sms",state="open"} 1
 * // intake_provider_sends_total{channelId="sms",outcome="failed",provider="twilio-sms"} 12
 */
export function renderProviderHealth(channels: ChannelProviderHealth[]): string {
  if (channels.length === 0) return ''
  const state: string[] = ['# TYPE intake_provider_breaker_state gauge']
  const sends: string[] = ['# TYPE intake_provider_sends_total counter']
  const opened: string[] = ['# TYPE intake_provider_breaker_opened_total counter']
  for (const { channelId, providers } of channels) {
    for (const p of providers) {
      const who = `channelId="${label(channelId)}",provider="${label(p.provider)}"`
      for (const s of STATES) state.push(`intake_provider_breaker_state{${who},state="${s}"} ${p.state === s ? 1 : 0}`)
      for (const [outcome, key] of OUTCOMES) sends.push(`intake_provider_sends_total{channelId="${label(channelId)}",outcome="${outcome}",provider="${label(p.provider)}"} ${p[key]}`)
      opened.push(`intake_provider_breaker_opened_total{${who}} ${p.opened}`)
    }
  }
  return [...state, ...sends, ...opened].join('\n') + '\n'
}
