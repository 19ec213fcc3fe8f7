import type { Lifecycle } from '../lifecycle/service.ts'
import type { WorkCalendar } from '../deadlines/index.ts'
import type { Hono } from 'hono'
import type { Authenticator } from '../access/authenticate.ts'
import type { BlobStore } from './blob-store.ts'
import type { Store } from './store.ts'
import type { CaseActions } from '../case-actions/index.ts'
import type { Branding } from '../config/branding.ts'
import type { IdGenerator } from '../ids/index.ts'
import type { Logger } from '../log/index.ts'
import type { LiveOfficeDirectory } from '../offices/live-directory.ts'
import type { Pipeline } from '../pipeline/index.ts'
import type { ChannelProviderHealth } from '../failover/health.ts'
import type { LimiterBackend } from '../throttle/limiter-store.ts'

/** What the gateway hands a staff console when it mounts it. */
export interface ConsoleContext {
  store: Store
  /** The office tree with the administrators' live settings (offices/live-directory.ts). */
  offices: LiveOfficeDirectory
  pipeline: Pipeline
  actions: CaseActions
  auth: Authenticator
  blobs: BlobStore
  branding: Branding
  locale: 'zh-CN' | 'en'
  timeZone: string
  /** The working-day calendar, for the figures' working hours. */
  calendar: WorkCalendar
  publicUrl: string
  now: () => number
  ids: IdGenerator
  log: Logger
  wakeOutbox: () => void
  /** The lifecycle's steps the console offers: transitions, extension and its decision, supervision notes. */
  lifecycle: Pick<Lifecycle, 'transition' | 'requestExtension' | 'decideExtension' | 'supervise'>
  /** Each failover channel's providers: breaker state and counts, from the process that sends. */
  providerHealth: () => ChannelProviderHealth[]
  /** Whether X-Forwarded-For names the client (config `lookups.trustProxy`: only behind a proxy you trust), for the sign-in budget per address. */
  trustProxy?: boolean
  /** The deployment's limiter backend (config `lookups.backend`), so sign-in budgets are shared by every process as the others are. */
  limiterBackend?: LimiterBackend
}

/**
 * A staff console: pages mounted on the gateway's app (packages/console provides one). Core never
 * imports it; the deployment's config passes it in.
 *
 * @example
 * defineConfig({ ..., console: staffConsole() })
 */
export interface StaffConsole {
  readonly name: string
  mount(app: Hono, ctx: ConsoleContext): void
  /** After the store is migrated (intake.start()): seed accounts and the like; returns lines for the operator. */
  start?(ctx: ConsoleContext): Promise<string[]>
}
