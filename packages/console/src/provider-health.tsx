import type { ChannelProviderHealth } from '@intake/core'
import type { Dict } from './i18n.ts'

/** Each failover channel's providers: the breaker's state and what they did with sends. Nothing without a failover channel. */
export function ProviderHealthTable({ channels, t }: { channels: ChannelProviderHealth[]; t: Dict }) {
  if (channels.length === 0) return null
  return (
    <section aria-labelledby="providers">
      <h2 id="providers">{t.providers}</h2>
      <p>{t.providersIntro}</p>
      <table class="cases">
        <thead>
          <tr>
            <th scope="col">{t.channel}</th>
            <th scope="col">{t.provider}</th>
            <th scope="col">{t.breaker}</th>
            <th scope="col">{t.providerSent}</th>
            <th scope="col">{t.providerFailed}</th>
            <th scope="col">{t.providerRefused}</th>
            <th scope="col">{t.providerSkipped}</th>
          </tr>
        </thead>
        <tbody>
          {channels.flatMap(({ channelId, providers }) =>
            providers.map((p) => (
              <tr data-provider={`${channelId}/${p.provider}`}>
                <td>{channelId}</td>
                <td>{p.provider}</td>
                <td>{t.breakerStates[p.state]}</td>
                <td>{p.successes}</td>
                <td>{p.failures}</td>
                <td>{p.refusals}</td>
                <td>{p.skipped}</td>
              </tr>
            )),
          )}
        </tbody>
      </table>
    </section>
  )
}
