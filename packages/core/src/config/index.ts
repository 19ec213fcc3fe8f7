import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import type { BlobStore } from '../contracts/blob-store.ts'
import type { ChannelAdapter } from '../contracts/channel.ts'
import type { RoutingStrategy } from '../contracts/routing.ts'
import type { Store } from '../contracts/store.ts'
import type { Transcriber } from '../contracts/transcriber.ts'
import type { TranscriptionOptions } from '../transcription/index.ts'
import type { DispatchRule } from '../pipeline/index.ts'
import { parseDuration, type DeadlinePolicy, type WorkCalendar } from '../deadlines/index.ts'
import type { LogLevel } from '../log/index.ts'
import { Office, type OfficeInput } from '../model/index.ts'
import type { OutboxOptions } from '../outbox/index.ts'
import { ClusterOptions, type ClusterOptionsInput } from '../lifecycle/cluster-matching.ts'
import type { LookupThrottleOptions } from '../throttle/index.ts'
import { DEFAULT_TEMPLATES, type MessageTemplates } from '../templates/index.ts'
import { COUNTRY_CALENDARS } from '../deadlines/calendars/cn.ts'
import { lifecycleSettings, type LifecycleConfig, type LifecycleSettings } from '../lifecycle/settings.ts'
import type { StaffConsole } from '../contracts/console.ts'
import { Branding, type BrandingInput } from './branding.ts'
import { ConfigWebhookSubscription } from '../webhooks/subscriptions.ts'
import type { WebhooksOptions } from '../webhooks/service.ts'

/** A deployment, as written in intake.config.ts. */
export interface IntakeConfig {
  store: Store
  /** A YAML or JSON file (relative to the config file), or the offices inline. */
  offices: string | OfficeInput[]
  /** Channel instances by id; the id appears in URLs (/channels/:id/...) and on every case. */
  channels: Record<string, ChannelAdapter>
  /** Tried in order; the first decision wins; the intake desk takes what none decides. */
  routing: RoutingStrategy[]
  /**
   * Deadlines by urgency (and `accept`, the time to accept a case), with `categories` on top;
   * an office's own `deadlines` (offices file) win over these.
   */
  deadlines?: Partial<DeadlinePolicy> & { accept?: string; categories?: Record<string, Partial<DeadlinePolicy>> }
  /** `country: 'CN'` brings China's official holidays and make-up days; `holidays` / `workingWeekends` add the agency's own. */
  calendar?: Partial<WorkCalendar> & { country?: string }
  /** Reminders, escalation (督办), the follow-up survey and the timer worker (see the README). */
  lifecycle?: LifecycleConfig
  /** Language of pages and messages when the citizen's is unknown: `zh-CN` or `en`. */
  locale?: string
  templates?: Record<string, Partial<MessageTemplates>>
  server?: { port?: number; host?: string; publicUrl?: string }
  /** Keys accepted by the staff API (X-API-Key). At least one, 16 characters or more. */
  apiKeys?: string[]
  /** Where attachments are stored (default ./data). */
  dataDir?: string
  blobs?: BlobStore
  /** A message from the same sender on the same channel within this window joins their open case (default 24h). */
  followUpWindow?: string
  acknowledgeFollowUps?: boolean
  outbox?: OutboxOptions
  /** Speech to text for voice calls and voice notes (an OpenAI-compatible API, an offline engine). */
  transcriber?: Transcriber
  transcription?: TranscriptionOptions
  /** Dispatch by rule: what lands at an office goes straight down to one below it. */
  dispatchRules?: DispatchRule[]
  /** Urgent cases are announced to their office on this channel, at the office's `contact.alert` address. */
  alerts?: { channel: string }
  /** Duplicate clusters: on by default; see ClusterOptions for the window, threshold and distance. */
  clusters?: ClusterOptionsInput
  log?: { level?: LogLevel }
  /**
   * Remove citizens' personal data (contact, address, words, photos' references) this long after
   * their case is closed, e.g. `{ closedCasesAfter: '365 days' }`. The case, its events and the
   * figures stay. Without it nothing is erased.
   */
  retention?: { closedCasesAfter: string }
  /**
   * Status lookups (any channel, the status page): budgets per sender and per client address, the
   * limiter backend (default in memory), and whether X-Forwarded-For names the client (only behind
   * a proxy you trust).
   */
  lookups?: LookupThrottleOptions & { trustProxy?: boolean }
  /**
   * Public form submissions (a web form's POST) per client address: default 20 per 10 minutes;
   * past it, 429 with Retry-After on the form's own page. Kept in the `lookups` backend.
   */
  submissions?: { points: number; durationMs: number; blockMs?: number }
  /** Staff API requests per token and minute (default 600); past it, 429 with Retry-After. */
  apiLimits?: { perMinute?: number }
  /** The agency's name, logo, hotline, privacy notice, footer and favicon on every page. */
  branding?: BrandingInput
  /** The staff console mounted under /console (packages/console: `staffConsole()`). */
  console?: StaffConsole
  /**
   * Signed event webhooks to other systems (more can be added with the API). Retries follow
   * `outbox` unless set here; a URL that is not http(s) or that points at this gateway fails the start.
   */
  webhooks?: WebhooksOptions & { subscriptions?: ConfigWebhookSubscription[] }
}

/** Type-checks a config file; the gateway validates it again at start. */
export function defineConfig(config: IntakeConfig): IntakeConfig {
  return config
}

const fn = (what: string) => z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', `expected ${what}`)
const duration = z.string().refine(
  (s) => {
    try {
      parseDuration(s)
      return true
    } catch {
      return false
    }
  },
  { message: 'cannot read this duration (try "2h", "3 days" or "5 working days")' },
)

const ConfigSchema = z.object({
  store: z.object({ recordInbound: fn('a Store (sqliteStore(...))'), migrate: fn('a Store') }, { error: 'expected a Store, e.g. sqliteStore({ file })' }),
  offices: z.union([z.string().min(1), z.array(z.unknown()).min(1)]),
  channels: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'channel ids are kebab-case (a-z, 0-9, -)'),
      z.object({ kind: z.string(), send: fn('a channel adapter with send()') }, { error: 'expected a channel adapter, e.g. webForm()' }),
    )
    .refine((c) => Object.keys(c).length > 0, 'configure at least one channel'),
  routing: z.array(fn('a routing strategy')),
  deadlines: z
    .object({
      urgent: duration,
      normal: duration,
      complex: duration,
      accept: duration,
      categories: z.record(z.string(), z.object({ urgent: duration, normal: duration, complex: duration }).partial().strict()),
    })
    .partial()
    .strict()
    .default({}),
  lifecycle: z
    .object({
      reminders: z.array(duration),
      escalation: z.object({ after: duration, secondLevelAfter: duration.nullable() }).partial().strict(),
      survey: z
        .object({ delay: duration, expireAfter: duration, threshold: z.number().int().min(1).max(4), reopenWithin: duration.optional() })
        .partial()
        .strict(),
      timers: z.object({ pollMs: z.number().int().min(10), leaseMs: z.number().int().min(500), batchSize: z.number().int().min(1).max(2000) }).partial().strict(),
    })
    .partial()
    .strict()
    .default({}),
  calendar: z
    .object({
      timeZone: z.string().refine((tz) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: tz })
          return true
        } catch {
          return false
        }
      }, 'unknown IANA time zone'),
      holidays: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'dates are YYYY-MM-DD')),
      workingWeekends: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'dates are YYYY-MM-DD')),
      country: z.enum(Object.keys(COUNTRY_CALENDARS) as [string, ...string[]]),
      workingHours: z.object({ start: z.string().regex(/^\d{2}:\d{2}$/, 'HH:MM'), end: z.string().regex(/^\d{2}:\d{2}$/, 'HH:MM') }).strict(),
    })
    .partial()
    .strict()
    .default({}),
  locale: z.enum(['zh-CN', 'en']).default('zh-CN'),
  templates: z
    .record(
      z.string(),
      z
        .object(Object.fromEntries(Object.keys(DEFAULT_TEMPLATES.en!).map((k) => [k, z.string()])) as Record<keyof MessageTemplates, z.ZodString>)
        .partial()
        .strict(),
    )
    .default({}),
  server: z
    .object({
      port: z.coerce.number().int().min(0).max(65535).default(3000),
      host: z.string().default('127.0.0.1'),
      publicUrl: z.string().url().optional(),
    })
    .strict()
    .default({ port: 3000, host: '127.0.0.1' }),
  apiKeys: z.array(z.string().min(16, 'API keys must be at least 16 characters')).min(1, 'configure at least one API key (or set INTAKE_API_KEYS)'),
  dataDir: z.string().default('./data'),
  blobs: z.object({ put: fn('a BlobStore'), get: fn('a BlobStore') }).optional(),
  followUpWindow: duration.default('24h'),
  acknowledgeFollowUps: z.boolean().default(true),
  outbox: z
    .object({
      maxAttempts: z.number().int().min(1),
      baseDelayMs: z.number().int().min(1),
      maxDelayMs: z.number().int().min(1),
      leaseMs: z.number().int().min(500),
      batchSize: z.number().int().min(1).max(500),
      pollMs: z.number().int().min(10),
      ratePerSecond: z.record(z.string(), z.number().positive()),
    })
    .partial()
    .strict()
    .default({}),
  dispatchRules: z.array(z.object({ name: z.string().optional(), from: z.string(), to: z.string(), category: z.string().optional() }).strict()).default([]),
  alerts: z.object({ channel: z.string() }).strict().optional(),
  clusters: ClusterOptions.default(ClusterOptions.parse({})),
  lookups: z
    .object({
      backend: fn('a limiter backend, e.g. memoryLimiters'),
      lookups: z.object({ points: z.number().int().min(1), durationMs: z.number().int().min(1000), blockMs: z.number().int().min(1000).optional() }).strict(),
      misses: z.object({ points: z.number().int().min(1), durationMs: z.number().int().min(1000), blockMs: z.number().int().min(1000).optional() }).strict(),
      trustProxy: z.boolean(),
    })
    .partial()
    .strict()
    .default({}),
  transcriber: z.object({ name: z.string(), transcribe: fn('a Transcriber') }, { error: 'expected a Transcriber, e.g. openAiTranscriber({ ... })' }).optional(),
  transcription: z
    .object({
      timeoutMs: z.number().int().min(100),
      inlineTimeoutMs: z.number().int().min(100),
      maxAttempts: z.number().int().min(1),
      baseDelayMs: z.number().int().min(1),
      maxDelayMs: z.number().int().min(1),
      pollMs: z.number().int().min(10),
      leaseMs: z.number().int().min(500),
    })
    .partial()
    .strict()
    .default({}),
  log: z.object({ level: z.enum(['debug', 'info', 'warn', 'error']).default('info') }).strict().default({ level: 'info' }),
  /** Remove citizens' personal data this long after their case is closed (e.g. '365 days'). */
  retention: z.object({ closedCasesAfter: duration }).strict().optional(),
  branding: Branding.default({ agencyName: 'Intake' }),
  apiLimits: z.object({ perMinute: z.number().int().min(1).default(600) }).strict().default({ perMinute: 600 }),
  submissions: z
    .object({ points: z.number().int().min(1), durationMs: z.number().int().min(1000), blockMs: z.number().int().min(1000).optional() })
    .strict()
    .default({ points: 20, durationMs: 600_000 }),
  console: z.object({ name: z.string(), mount: fn('a staff console (staffConsole())') }, { error: 'expected a staff console, e.g. staffConsole()' }).optional(),
  webhooks: z
    .object({
      subscriptions: z
        .array(ConfigWebhookSubscription)
        .refine((list) => new Set(list.map((s) => s.id)).size === list.length, 'subscription ids must be unique')
        .default([]),
      timeoutMs: z.number().int().min(100),
      maxAttempts: z.number().int().min(1),
      baseDelayMs: z.number().int().min(1),
      maxDelayMs: z.number().int().min(1),
      leaseMs: z.number().int().min(500),
      batchSize: z.number().int().min(1).max(500),
      feedBatchSize: z.number().int().min(1).max(5000),
      pollMs: z.number().int().min(10),
    })
    .partial()
    .strict()
    .default({ subscriptions: [] }),
}).strict()

export class ConfigError extends Error {
  readonly code = 'config_invalid'
  constructor(readonly problems: string[]) {
    super(`[config] invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  }
}

export interface ResolvedConfig {
  store: Store
  offices: Office[]
  /** The offices file as the config names it (relative to the config file), when they come from one. */
  officesFile?: string
  channels: Record<string, ChannelAdapter>
  routing: RoutingStrategy[]
  deadlines: DeadlinePolicy
  /** Deadlines per category, and the time to accept (null: no acceptance deadline). */
  deadlineRules: { accept: string | null; categories: Record<string, Partial<DeadlinePolicy>> }
  calendar: WorkCalendar
  lifecycle: LifecycleSettings
  locale: 'zh-CN' | 'en'
  templates: Record<string, MessageTemplates>
  server: { port: number; host: string; publicUrl: string }
  apiKeys: string[]
  dataDir: string
  blobs?: BlobStore
  followUpWindowMs: number
  acknowledgeFollowUps: boolean
  outbox: OutboxOptions
  transcriber?: Transcriber
  transcription: TranscriptionOptions
  dispatchRules: DispatchRule[]
  alerts?: { channel: string }
  clusters: ClusterOptions
  logLevel: LogLevel
  /** Citizen data is erased this long after a case is closed; undefined keeps it. */
  retentionMs?: number
  lookups: LookupThrottleOptions & { trustProxy: boolean }
  branding: Branding
  console?: StaffConsole
  apiLimits: { perMinute: number }
  submissions: { points: number; durationMs: number; blockMs?: number }
  /** Subscriptions from the config (checked against the offices and the gateway's address at start) and the delivery settings. */
  webhooks: WebhooksOptions & { subscriptions: z.output<typeof ConfigWebhookSubscription>[] }
}

const DEFAULT_DEADLINES: DeadlinePolicy = { urgent: '2h', normal: '5 working days', complex: '15 working days' }
const DEFAULT_ACCEPT = '2 working hours'

const pick = <T extends object, K extends keyof T>(o: T, keys: K[]): Pick<T, K> =>
  Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as Pick<T, K>

/** A named country's calendar with the agency's own dates on top (its holidays win over make-up days). */
function calendarOf(c: { timeZone?: string; holidays?: string[]; workingWeekends?: string[]; country?: string; workingHours?: { start: string; end: string } }): WorkCalendar {
  const country = c.country ? COUNTRY_CALENDARS[c.country] : undefined
  const holidays = [...(country?.holidays ?? []), ...(c.holidays ?? [])]
  const own = new Set(c.holidays ?? [])
  return {
    timeZone: c.timeZone ?? country?.timeZone ?? 'Asia/Shanghai',
    holidays,
    workingWeekends: [...(country?.workingWeekends ?? []).filter((d) => !own.has(d)), ...(c.workingWeekends ?? [])],
    ...(c.workingHours ? { workingHours: c.workingHours } : {}),
  }
}

/**
 * Validate a config, apply environment overrides and defaults. Every problem is reported at once,
 * each naming its key: `config.server.port: expected number`.
 * Environment: INTAKE_PORT, INTAKE_HOST, INTAKE_PUBLIC_URL, INTAKE_API_KEYS (comma-separated),
 * INTAKE_DATA_DIR, INTAKE_LOG_LEVEL.
 */
export function resolveConfig(input: IntakeConfig, env: Record<string, string | undefined> = process.env, configDir = process.cwd()): ResolvedConfig {
  const withEnv = {
    ...input,
    server: {
      ...input.server,
      ...(env.INTAKE_PORT !== undefined ? { port: env.INTAKE_PORT } : {}),
      ...(env.INTAKE_HOST ? { host: env.INTAKE_HOST } : {}),
      ...(env.INTAKE_PUBLIC_URL ? { publicUrl: env.INTAKE_PUBLIC_URL } : {}),
    },
    ...(env.INTAKE_API_KEYS ? { apiKeys: env.INTAKE_API_KEYS.split(',').map((k) => k.trim()).filter(Boolean) } : {}),
    ...(env.INTAKE_DATA_DIR ? { dataDir: env.INTAKE_DATA_DIR } : {}),
    ...(env.INTAKE_LOG_LEVEL ? { log: { ...input.log, level: env.INTAKE_LOG_LEVEL } } : {}),
  }
  const parsed = ConfigSchema.safeParse(withEnv)
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map(describeIssue))
  const c = parsed.data
  const offices = loadOffices(c.offices as string | unknown[], configDir)
  const templates: Record<string, MessageTemplates> = {}
  for (const lang of new Set([...Object.keys(DEFAULT_TEMPLATES), ...Object.keys(c.templates)])) {
    const base = DEFAULT_TEMPLATES[lang] ?? DEFAULT_TEMPLATES.en!
    templates[lang] = { ...base, ...c.templates[lang] }
  }
  const host = c.server.host
  const port = c.server.port
  const durationMs = (text: string) => {
    const d = parseDuration(text)
    return d.kind === 'working-days' ? d.days * 86_400_000 : d.ms
  }
  return {
    store: input.store,
    offices,
    ...(typeof c.offices === 'string' ? { officesFile: c.offices } : {}),
    channels: input.channels,
    routing: input.routing,
    deadlines: { ...DEFAULT_DEADLINES, ...pick(c.deadlines, ['urgent', 'normal', 'complex']) },
    deadlineRules: { accept: c.deadlines.accept ?? DEFAULT_ACCEPT, categories: c.deadlines.categories ?? {} },
    calendar: calendarOf(c.calendar),
    lifecycle: lifecycleSettings(c.lifecycle),
    locale: c.locale,
    templates,
    server: { port, host, publicUrl: c.server.publicUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}` },
    apiKeys: c.apiKeys,
    dataDir: isAbsolute(c.dataDir) ? c.dataDir : resolve(process.cwd(), c.dataDir),
    blobs: input.blobs,
    followUpWindowMs: durationMs(c.followUpWindow),
    acknowledgeFollowUps: c.acknowledgeFollowUps,
    outbox: c.outbox,
    transcriber: input.transcriber,
    transcription: c.transcription,
    dispatchRules: c.dispatchRules,
    alerts: c.alerts,
    clusters: c.clusters,
    logLevel: c.log.level,
    ...(c.retention ? { retentionMs: durationMs(c.retention.closedCasesAfter) } : {}),
    lookups: { ...input.lookups, trustProxy: input.lookups?.trustProxy ?? false },
    branding: c.branding,
    console: input.console,
    apiLimits: c.apiLimits,
    submissions: c.submissions,
    webhooks: {
      // Retries as the outbox's unless the webhooks set their own.
      ...pick(c.outbox, ['maxAttempts', 'baseDelayMs', 'maxDelayMs', 'leaseMs']),
      ...c.webhooks,
      subscriptions: c.webhooks.subscriptions ?? [],
    },
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = ['config', ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))].join('.').replace(/\.\[/g, '[')
  return `${path}: ${issue.message}`
}

/** Offices from a YAML/JSON file or inline, each validated; errors name `offices[3].id`. */
export function loadOffices(source: string | unknown[], configDir: string): Office[] {
  let list: unknown
  if (typeof source === 'string') {
    const path = isAbsolute(source) ? source : resolve(configDir, source)
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      throw new ConfigError([`config.offices: cannot read ${path}: ${(err as Error).message}`])
    }
    try {
      list = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text)
    } catch (err) {
      throw new ConfigError([`config.offices: ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`])
    }
  } else list = source
  const parsed = z.array(Office).min(1).safeParse(list)
  if (!parsed.success) {
    const file = typeof source === 'string' ? `${source}: ` : ''
    throw new ConfigError(parsed.error.issues.map((i) => `${file}${officeIssuePath(i.path, list)}: ${officeIssueMessage(i)}`))
  }
  return parsed.data
}

/** `offices[2] (jiashi-labour).contact`: the index and, where it has one, the office's id. */
function officeIssuePath(path: readonly PropertyKey[], list: unknown): string {
  const [index, ...rest] = path
  if (typeof index !== 'number') return 'offices'
  const id = Array.isArray(list) ? (list[index] as { id?: unknown } | undefined)?.id : undefined
  return `offices[${index}]${typeof id === 'string' ? ` (${id})` : ''}${rest.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`
}

function officeIssueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const hint = issue.keys.map((k) => OFFICE_KEY_HINTS[k.toLowerCase()]).find(Boolean)
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}${hint ? ` (did you mean "${hint}"?)` : ''}`
  }
  return issue.message
}

/** Spellings seen in the wild for the keys an office has. */
const OFFICE_KEY_HINTS: Record<string, string> = {
  parentid: 'parentId',
  parent: 'parentId',
  parent_id: 'parentId',
  remits: 'remit',
  categories: 'remit',
  intake_desk: 'intakeDesk',
  intakedesk: 'intakeDesk',
  jurisdictions: 'jurisdiction',
}

export const configDirOf = (file: string) => dirname(resolve(file))
