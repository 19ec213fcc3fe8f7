import type { ChannelAdapter } from '../contracts/channel.ts'
import type { Store } from '../contracts/store.ts'
import type { Logger } from '../log/index.ts'
import type { Metrics } from '../app/metrics.ts'
import type { OfficeDirectory } from '../offices/index.ts'
import type { Messaging } from '../messaging/index.ts'
import type { DeadlinePolicyResolver } from './deadline-policy.ts'
import type { LifecycleSettings } from './settings.ts'

/** What the lifecycle's parts share: the store, the office tree, the policy, the settings, the clock. */
export interface LifecycleContext {
  store: Store
  offices: OfficeDirectory
  messaging: Messaging
  policy: DeadlinePolicyResolver
  settings: LifecycleSettings
  channels: Record<string, ChannelAdapter>
  now: () => number
  log: Logger
  /** The channel office alerts go out on (an office's `contact.alert` is the address there). */
  alertChannel?: string
  onOutboxQueued?: () => void
  metrics?: Metrics
}

/** A refusal the API turns into its status code; `allowed` names the possible transitions on a 409. */
export type LifecycleRefusal = { ok: false; status: 400 | 403 | 404 | 409 | 422; code: string; message: string; allowed?: string[] }
