import { join } from 'node:path'
import { Hono } from 'hono'
import { fileBlobStore, type BlobStore } from './contracts/blob-store.ts'
import type { IntakeResult } from './contracts/channel.ts'
import type { Store } from './contracts/store.ts'
import { createApi } from './app/api.ts'
import { mountChannels, routeContext } from './app/channel-routes.ts'
import { createMetrics, type Metrics } from './app/metrics.ts'
import { openApiDocument, openApiReference } from './app/openapi.ts'
import { createStatusPages } from './app/status-page.ts'
import { remitProblems } from './config/remits.ts'
import { officeProblems } from './config/office-places.ts'
import { ConfigError, resolveConfig, type IntakeConfig, type ResolvedConfig } from './config/index.ts'
import { newId, type IdGenerator } from './ids/index.ts'
import { createLogger, type LogFields, type Logger } from './log/index.ts'
import { leasedWork } from './leadership/index.ts'
import type { InboundMessageInput } from './model/index.ts'
import type { OfficeDirectory } from './offices/index.ts'
import { liveOfficeDirectory, type LiveOfficeDirectory } from './offices/live-directory.ts'
import { deadlineProblems, refreshOffices } from './offices/office-changes.ts'
import { createOutboxWorker, type OutboxWorker } from './outbox/index.ts'
import { createPipeline, type Pipeline } from './pipeline/index.ts'
import { createLookupThrottle, type LookupThrottle } from './throttle/index.ts'
import { createTranscriptionWorker, type TranscriptionWorker } from './transcription/index.ts'
import { createCaseActions, type CaseActions } from './case-actions/index.ts'
import { createRetention, type Retention } from './retention/index.ts'
import { createClusterMatcher } from './lifecycle/cluster-matching.ts'
import { placeNamesOf } from './lifecycle/cluster-place.ts'
import { deadlinePolicy } from './lifecycle/deadline-policy.ts'
import type { LifecycleContext } from './lifecycle/context.ts'
import { ratingChange } from './lifecycle/rating.ts'
import { transitionChange } from './lifecycle/transitions.ts'
import { createRatingPage, ratingForm } from './lifecycle/rating-page.ts'
import { createLifecycle, type Lifecycle } from './lifecycle/service.ts'
import type { TimerWorker } from './lifecycle/timer-worker.ts'
import { addDuration } from './deadlines/index.ts'
import { createAuthenticator, type Authenticator } from './access/authenticate.ts'
import { memoryLimiters } from './throttle/limiter-store.ts'
import { createCaseRecords } from './records/index.ts'
import { createForwardingWorker } from './forwarding/index.ts'
import type { PollingLoop } from './polling/index.ts'
import { mountFavicon, securityHeaders } from './app/security-headers.ts'
import { providerHealthOf, renderProviderHealth, type ChannelProviderHealth } from './failover/health.ts'
import { createWebhooks, type Webhooks } from './webhooks/service.ts'
import { configSubscriptions, subscriptionProblems } from './webhooks/subscriptions.ts'

/** How often a process reads the offices' live settings another process may have changed. */
export const OFFICE_REFRESH_MS = 10_000

export interface IntakeOptions {
  /** Injected for deterministic tests. */
  now?: () => number
  ids?: IdGenerator
  random?: () => number
  log?: Logger
  /** Fields every line of the default logger carries (`intake start --workers N`: the worker's number and pid). */
  logFields?: LogFields
  /** Resolve relative paths in the config (offices file) from here. */
  configDir?: string
  env?: Record<string, string | undefined>
  /**
   * Deliveries run elsewhere (the CLI runs them in a worker thread, so intake and delivery each
   * have a core). This process then only tells that runner when rows are queued, and /readyz asks
   * it whether it is alive; `start()` does not start the local worker.
   */
  deliveries?: DeliveryRunner
  /** Status lookup limits (default: createLookupThrottle's, in memory); tests pass tighter ones. */
  lookups?: LookupThrottle
}

/** Something that delivers the outbox on this process's behalf. */
export interface DeliveryRunner {
  wake(): void
  readonly running: boolean
  /** The failover channels' provider health as the delivering process sees it (its breakers decide). */
  providerHealth?(): ChannelProviderHealth[]
}

/** A running gateway: the Hono app plus the parts behind it. */
export interface Intake {
  readonly app: Hono
  readonly store: Store
  /** The offices file with the administrators' live settings over it. */
  readonly offices: LiveOfficeDirectory
  readonly pipeline: Pipeline
  readonly outbox: OutboxWorker
  /** Acceptance, reminders, escalation and the survey: the lifecycle's timers (`drain()` in tests). */
  readonly timers: TimerWorker
  readonly lifecycle: Lifecycle
  /** Present when a transcriber is configured: retries voice messages not transcribed at intake. */
  readonly transcriptions?: TranscriptionWorker
  /** Present when the config sets `retention`: erases citizen data of cases closed long enough ago. */
  readonly retention?: Retention
  /** Event webhooks: the feed from the audit trail and the signed deliveries (`drain()` in tests). */
  readonly webhooks: Webhooks
  /** Present when a channel forwards cases (an office's `forwardTo`): reads back what the other system did (`drain()` in tests). */
  readonly forwarding?: PollingLoop
  readonly metrics: Metrics
  readonly config: ResolvedConfig
  readonly log: Logger
  readonly blobs: BlobStore
  /** Who a bearer token belongs to (the API's and the console's view of identities). */
  readonly auth: Authenticator
  /** Lines for the operator once started (the console's demo sign-ins). */
  readonly notices: readonly string[]
  /** Migrate the store, save the offices, start channel listeners and the outbox worker. */
  start(): Promise<void>
  stop(): Promise<void>
  /** Hand a message to a channel as if it had arrived (the CLI's `intake send`). */
  ingest(channelId: string, message: Omit<InboundMessageInput, 'channelId'>): Promise<IntakeResult>
}

/**
 * Assemble a gateway from a config. Nothing listens until `start()`; the app can be driven
 * in-process with `intake.app.request(url, init)`.
 *
 * @example
 * const intake = createIntake(config)
 * await intake.start()
 * serve({ fetch: intake.app.fetch, port: intake.config.server.port })
 */
export function createIntake(config: IntakeConfig, options: IntakeOptions = {}): Intake {
  const resolved = resolveConfig(config, options.env ?? process.env, options.configDir)
  const now = options.now ?? Date.now
  const ids = options.ids ?? (() => newId(now()))
  const secrets = [...resolved.apiKeys, ...Object.values(resolved.channels).flatMap((c) => c.secrets ?? []), ...resolved.webhooks.subscriptions.map((s) => s.secret)]
  const log = options.log ?? createLogger({ level: resolved.logLevel, secrets }).child(options.logFields ?? {})
  const store = resolved.store
  const offices = liveOfficeDirectory(resolved.offices)
  checkDispatchAndAlerts(resolved, offices)
  const blobs = resolved.blobs ?? fileBlobStore(join(resolved.dataDir, 'attachments'))
  const metrics = createMetrics()
  const publicUrl = resolved.server.publicUrl

  const outbox = createOutboxWorker(
    { store, channels: resolved.channels, log: log.child({ component: 'outbox' }), blobs, publicUrl, now, random: options.random },
    resolved.outbox,
  )
  const deliveries: DeliveryRunner = options.deliveries ?? outbox
  // The breakers that matter are those of the process that sends: this one's, unless deliveries run elsewhere.
  const providerHealth = () => deliveries.providerHealth?.() ?? providerHealthOf(resolved.channels)
  // One budget per sender and per client address, shared by chat channels and the status page.
  const lookups = options.lookups ?? createLookupThrottle(resolved.lookups)
  const pipeline = createPipeline({
    lookups,
    store,
    offices,
    routing: resolved.routing,
    deadlines: resolved.deadlines,
    calendar: resolved.calendar,
    templates: resolved.templates,
    locale: resolved.locale,
    publicUrl,
    followUpWindowMs: resolved.followUpWindowMs,
    acknowledgeFollowUps: resolved.acknowledgeFollowUps,
    now,
    ids,
    log: log.child({ component: 'pipeline' }),
    onOutboxQueued: () => deliveries.wake(),
    blobs,
    transcriber: resolved.transcriber,
    transcription: resolved.transcription,
    dispatchRules: resolved.dispatchRules,
    landing: (...args) => actions.landing(...args),
    clusters: createClusterMatcher({ store, names: placeNamesOf(offices), ids }, resolved.clusters),
    startCase: (kase, at) => lifecycle.startCase(kase, at),
    rating: (kase, parsed, at, opts) => ratingChange(lifecycleContext, kase, parsed, at, opts),
    reopen: async (kase, at) => {
      const change = await transitionChange(lifecycleContext, kase, 'reopen', { actor: { id: 'citizen', role: 'system' }, reason: 'citizen' }, at)
      return 'ok' in change ? undefined : change
    },
    surveyWindowMs: addDuration(0, resolved.lifecycle.survey.expireAfter, { timeZone: 'UTC' }) + addDuration(0, resolved.lifecycle.survey.delay, { timeZone: 'UTC' }),
  })
  const lifecycleContext: LifecycleContext = {
    store,
    offices,
    messaging: pipeline,
    policy: deadlinePolicy(offices, { base: resolved.deadlines, ...resolved.deadlineRules }, resolved.calendar),
    settings: resolved.lifecycle,
    channels: resolved.channels,
    now,
    log: log.child({ component: 'lifecycle' }),
    alertChannel: resolved.alerts?.channel,
    onOutboxQueued: () => deliveries.wake(),
    metrics,
  }
  const lifecycle = createLifecycle(lifecycleContext)
  const actions: CaseActions = createCaseActions({
    store,
    offices,
    messaging: pipeline,
    now,
    alertChannel: resolved.alerts?.channel,
    onOutboxQueued: () => deliveries.wake(),
    lifecycle: lifecycleContext,
    transition: (caseId, transition, input) => lifecycle.transition(caseId, transition, input),
  })
  const forwarding = createForwardingWorker({
    store,
    channels: resolved.channels,
    lifecycle: lifecycleContext,
    log: log.child({ component: 'forwarding' }),
    now,
    onOutboxQueued: () => deliveries.wake(),
  })
  const transcriptions = resolved.transcriber
    ? createTranscriptionWorker(
        { store, blobs, transcriber: resolved.transcriber, pipeline, log: log.child({ component: 'transcription' }), now, random: options.random },
        resolved.transcription,
      )
    : undefined
  const { subscriptions: configured, ...webhookOptions } = resolved.webhooks
  const webhooks = createWebhooks(
    { store, offices, configured: configSubscriptions(configured), gateway: { ...resolved.server }, ids, now, log, random: options.random },
    webhookOptions,
  )
  const retention =
    resolved.retentionMs !== undefined ? createRetention({ store, now, log: log.child({ component: 'retention' }), afterMs: resolved.retentionMs }) : undefined

  const app = new Hono()
  app.use('*', async (c, next) => {
    const requestId = c.req.header('x-request-id')?.slice(0, 100) || ids()
    const started = performance.now()
    c.header('X-Request-Id', requestId)
    await next()
    log.info('request', {
      requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    })
  })
  app.use('*', securityHeaders())
  const auth = createAuthenticator({ store, offices, apiKeys: resolved.apiKeys })
  app.get('/healthz', (c) => c.json({ ok: true }))
  app.get('/readyz', async (c) => {
    try {
      await store.ping()
    } catch (err) {
      return c.json({ ok: false, store: (err as Error).message }, 503)
    }
    return deliveries.running ? c.json({ ok: true, store: store.driver }) : c.json({ ok: false, outbox: 'stopped' }, 503)
  })
  // Counters name channels, offices and error rates: for the operators' scraper, with a token that may read metrics.
  app.get('/metrics', async (c) => {
    const who = await auth.bearer(c.req.header('authorization')?.replace(/^Bearer\s+/i, '') ?? c.req.header('x-api-key'))
    if (!who.ok) return c.json({ error: { code: who.code, message: who.message } }, who.status)
    if (!who.identity.permissions.has('metrics')) return c.json({ error: { code: 'forbidden', message: 'this token may not read metrics' } }, 403)
    return c.text(metrics.render() + renderProviderHealth(providerHealth()))
  })
  const doc = openApiDocument(publicUrl)
  // Public on these exact paths only; everything else under /api/v1 needs a token.
  app.get('/api/v1/openapi.json', (c) => c.json(doc))
  app.get('/api/v1/docs', (c) => c.html(openApiReference(doc)))
  // In the deployment's limiter backend: with several processes (PostgreSQL) one budget per token, whichever process answers.
  const perToken = (resolved.lookups.backend ?? memoryLimiters)('api-per-token', { points: resolved.apiLimits.perMinute, durationMs: 60_000 })
  app.route('/api/v1', createApi({ store, offices, pipeline, actions, auth, perToken, now, ids, wakeOutbox: () => deliveries.wake(), calendar: resolved.calendar, lifecycle, webhooks }))
  mountFavicon(app, resolved.branding, resolved.locale)
  const consoleContext = {
    store,
    offices,
    pipeline,
    actions,
    auth,
    blobs,
    branding: resolved.branding,
    locale: resolved.locale,
    timeZone: resolved.calendar.timeZone,
    calendar: resolved.calendar,
    publicUrl,
    now,
    ids,
    log: log.child({ component: 'console' }),
    wakeOutbox: () => deliveries.wake(),
    lifecycle,
    providerHealth,
    trustProxy: resolved.lookups.trustProxy,
    ...(resolved.lookups.backend ? { limiterBackend: resolved.lookups.backend } : {}),
  }
  resolved.console?.mount(app, consoleContext)
  const notices: string[] = []
  app.route('/', createStatusPages({ store, offices, locale: resolved.locale, timeZone: resolved.calendar.timeZone, branding: resolved.branding, throttle: lookups, trustProxy: resolved.lookups.trustProxy, ratingForm }))
  app.route('/', createRatingPage(lifecycle, resolved.locale, { throttle: lookups, trustProxy: resolved.lookups.trustProxy }))
  const records = createCaseRecords({ store, offices, auth })
  const perAddress = { limiter: (resolved.lookups.backend ?? memoryLimiters)('form-submissions', resolved.submissions), trustProxy: resolved.lookups.trustProxy }
  mountChannels(app, { channels: resolved.channels, pipeline, store, blobs, publicUrl, log, now, metrics, branding: resolved.branding, records, perAddress })
  const form = Object.entries(resolved.channels).find(([, a]) => a.kind === 'web-form')
  app.get('/', (c) => c.redirect(form ? `/channels/${form[0]}/` : '/status', 302))
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path}` } }, 404))
  app.onError((err, c) => {
    const requestId = c.res.headers.get('X-Request-Id') ?? undefined
    log.error('unhandled error', { requestId, path: c.req.path, error: err })
    return c.json({ error: { code: 'internal', message: 'something went wrong on our side; the request id helps us find it', requestId } }, 500)
  })

  let started = false
  // Listeners and pollers run in one process among those sharing the store (Store.tryHoldLease).
  const listeners = leasedWork({
    store,
    name: 'channel-listeners',
    log,
    begin: async () => {
      for (const [id, adapter] of Object.entries(resolved.channels)) await adapter.start?.(channelContext(id))
    },
    end: async () => {
      for (const adapter of Object.values(resolved.channels)) await adapter.stop?.()
    },
  })
  // Pollers that want one reader among the processes, not one each: the read-back of forwarded
  // cases (it asks the other system about every one of them) and the webhook feed (it reads every
  // event after the cursor; with several readers all but one throw their cycle away). Both stay
  // correct with several (the store applies a read-back only over the report it was computed
  // from; the cursor only moves from where it was read), so this lease saves work, not a wrong
  // write. Outbox, timers and webhook deliveries run everywhere: their rows are leased.
  const pollers = leasedWork({
    store,
    name: 'pollers',
    log,
    begin: async () => {
      forwarding?.start()
      webhooks.feed.start()
    },
    end: async () => {
      await forwarding?.stop()
      await webhooks.feed.stop()
    },
  })
  let officeRefresh: ReturnType<typeof setInterval> | undefined
  const channelContext = (channelId: string) => ({
    ...routeContext(channelId, { store, blobs, publicUrl, log, now, branding: resolved.branding, records }, resolved.channels[channelId]?.mountPath),
    ingest: (msg: InboundMessageInput) => pipeline.ingest({ ...msg, channelId }),
    metrics,
  })

  return {
    app,
    store,
    offices,
    pipeline,
    outbox,
    timers: lifecycle.timers,
    lifecycle,
    transcriptions,
    retention,
    webhooks,
    forwarding,
    metrics,
    config: resolved,
    log,
    blobs,
    auth,
    notices,
    async start() {
      if (started) return
      await store.migrate()
      await store.saveOffices(resolved.offices)
      // The offices file is the seed; what administrators changed live is laid over it, here and
      // (several processes sharing a database) every OFFICE_REFRESH_MS after.
      await refreshOffices({ store, offices })
      officeRefresh = setInterval(() => {
        refreshOffices({ store, offices }).catch((error) => log.warn('office settings refresh failed', { error }))
      }, OFFICE_REFRESH_MS)
      officeRefresh.unref()
      if (resolved.console?.start) notices.push(...(await resolved.console.start(consoleContext)))
      await listeners.start()
      if (!options.deliveries) outbox.start()
      transcriptions?.start()
      retention?.loop.start()
      await pollers.start()
      lifecycle.timers.start()
      webhooks.deliveries.start()
      started = true
      log.info('intake started', { store: store.driver, channels: Object.keys(resolved.channels), offices: resolved.offices.length, publicUrl })
    },
    async stop() {
      clearInterval(officeRefresh)
      await lifecycle.timers.stop()
      await pollers.stop()
      await webhooks.deliveries.stop()
      await outbox.stop()
      await transcriptions?.stop()
      await retention?.loop.stop()
      await listeners.stop()
      started = false
    },
    ingest(channelId, message) {
      if (!resolved.channels[channelId]) throw new Error(`[intake] no channel "${channelId}" is configured`)
      return pipeline.ingest({ ...message, channelId })
    },
  }
}

/** Rules and alerts name offices and channels: a typo fails at start, not on the first urgent case. */
function checkDispatchAndAlerts(resolved: ResolvedConfig, offices: OfficeDirectory): void {
  const problems: string[] = []
  resolved.dispatchRules.forEach((rule, i) => {
    for (const key of ['from', 'to'] as const) {
      if (!offices.get(rule[key])) problems.push(`config.dispatchRules[${i}].${key}: no office "${rule[key]}"`)
    }
    if (offices.get(rule.from) && offices.get(rule.to) && (rule.from === rule.to || !offices.covers(rule.from, rule.to))) {
      problems.push(`config.dispatchRules[${i}].to: "${rule.to}" is not below "${rule.from}" (dispatch goes down the tree)`)
    }
  })
  for (const office of offices.all) {
    if (office.forwardTo === undefined) continue
    const adapter = resolved.channels[office.forwardTo]
    if (!adapter) problems.push(`offices[${office.id}].forwardTo: no channel "${office.forwardTo}" is configured`)
    else if (!adapter.forwarding) problems.push(`offices[${office.id}].forwardTo: channel "${office.forwardTo}" (${adapter.kind}) does not forward cases (use an adapter with forwarding, e.g. open311Sender)`)
  }
  if (resolved.alerts && !resolved.channels[resolved.alerts.channel]) {
    problems.push(`config.alerts.channel: no channel "${resolved.alerts.channel}" is configured`)
  }
  problems.push(...remitProblems(resolved.offices, resolved.routing))
  resolved.webhooks.subscriptions.forEach((subscription, i) => {
    for (const p of subscriptionProblems(subscription, resolved.server, offices)) problems.push(`config.webhooks.subscriptions[${i}] (${subscription.id}).${p.field}: ${p.message}`)
  })
  problems.push(...officeProblems(resolved.offices, offices, resolved.routing, resolved.officesFile))
  // An office's own deadlines are read when a case reaches it: a typo fails at start instead.
  for (const office of offices.all) problems.push(...deadlineProblems(office.deadlines).map((p) => `offices[${office.id}].${p}`))
  if (problems.length) throw new ConfigError(problems)
}
