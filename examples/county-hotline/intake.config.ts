/**
 * The default demo: a prefecture's 12345 hotline (喀什地区) with three counties, their townships and
 * bureaus. `pnpm start` runs it on SQLite with the web form, the api channel and Open311; SMS, voice, email,
 * Telegram, WeChat and speech come on with their environment variables (see channels-from-env.ts).
 */
import { join } from 'node:path'
import { isMainThread } from 'node:worker_threads'
import { defineConfig } from '@intake/core'
import { apiChannel } from '@intake/channels/api'
import { open311Server } from '@intake/channels/open311'
import { defaultTaxonomy } from '@intake/routing'
import { webForm } from '@intake/channels/web-form'
import { postgresStore } from '@intake/storage/postgres'
import { postgresLimiters } from '@intake/storage/postgres/limiters'
import { sqliteStore } from '@intake/storage/sqlite'
import { staffConsole } from '@intake/console'
import { channelsFromEnv, transcriberFromEnv } from './channels-from-env.ts'
import { demoRouting, xinjiangPlaces } from './routing.ts'

const here = import.meta.dirname
const env = process.env
const dataDir = env.INTAKE_DATA_DIR ?? './data'

// Demo secrets: fine on a laptop, replaced through the environment anywhere else.
const apiSecret = env.INTAKE_API_SECRET ?? 'demo-api-secret-change-me'
const staffPassword = env.INTAKE_DEMO_PASSWORD ?? 'demo-password-2026'

/** Demo staff, created at start when missing, and printed with their sign-in. */
const demoStaff = [
  { login: 'hotline', name: '古丽娜尔（热线受理）', officeId: 'kashgar-hotline', role: 'lead' },
  { login: 'jiashi', name: '阿依努尔（伽师县）', officeId: 'jiashi', role: 'caseworker' },
  { login: 'jiashi-lead', name: '王建华（伽师县负责人）', officeId: 'jiashi', role: 'lead' },
  { login: 'bairen', name: '买买提江（巴仁镇）', officeId: 'jiashi-bairen', role: 'caseworker' },
  { login: 'shule', name: '李娜（疏勒县）', officeId: 'shule', role: 'caseworker' },
  { login: 'supervisor', name: '张强（地区督办）', officeId: 'kashgar', role: 'supervisor' },
  { login: 'admin', name: '系统管理员', officeId: 'kashgar', role: 'admin' },
] as const

// Build the place index now (~0.4 s), so the first citizen does not wait for it — in the gateway's
// thread only: `intake start` loads this file again in its delivery thread, which never routes.
if (isMainThread) xinjiangPlaces.load()

export default defineConfig({
  // INTAKE_DATABASE_URL=postgres://… puts the demo on PostgreSQL (several gateway processes may
  // share it); otherwise SQLite, writing in a thread of its own so the event loop never waits on a commit.
  store: env.INTAKE_DATABASE_URL
    ? postgresStore({ url: env.INTAKE_DATABASE_URL })
    : sqliteStore({ file: join(dataDir, 'intake.db'), writer: 'thread' }),
  // With several processes on PostgreSQL, the status-lookup throttle counts there too (one budget per sender, whichever process).
  ...(env.INTAKE_DATABASE_URL ? { lookups: { backend: postgresLimiters({ url: env.INTAKE_DATABASE_URL }) } } : {}),
  offices: join(here, 'offices.yaml'),
  channels: {
    web: webForm(),
    api: apiChannel({ secret: apiSecret, callbackUrl: env.INTAKE_API_CALLBACK_URL }),
    // Open311 GeoReport v2 at /open311/v2: the taxonomy's categories are its services; posting takes an API key or token.
    open311: open311Server({ categories: defaultTaxonomy() }),
    ...(await channelsFromEnv(env)),
  },
  transcriber: await transcriberFromEnv(env),
  routing: demoRouting(),
  deadlines: { urgent: '2h', normal: '5 working days', complex: '15 working days' },
  // China's official holidays and make-up working days (State Council notices, 2024–2026).
  calendar: { timeZone: 'Asia/Shanghai', country: 'CN' },
  locale: 'zh-CN',
  apiKeys: [env.INTAKE_API_KEY ?? 'demo-api-key-change-me'],
  console: staffConsole({ seedUsers: demoStaff.map((s) => ({ ...s, password: staffPassword })) }),
  branding: {
    agencyName: { 'zh-CN': '喀什地区12345政务服务便民热线', en: 'Kashgar Prefecture 12345 Government Service Hotline' },
    hotline: '0998-12345',
    privacyNotice: {
      'zh-CN': '我们收集您的诉求内容、联系方式和您提供的地点、照片，仅用于办理和答复您的诉求、回访和统计；联系方式只有承办单位可以查看，每次查看都有记录。资料按政务档案规定保存。',
      en: 'We collect what you tell us, your contact details and any place or photo you give, only to handle and answer your request, follow up and count cases. Only the office handling it sees your contact details, and every view is recorded. Records are kept as government archives require.',
    },
    footer: { 'zh-CN': '喀什地区行政公署 · 12345 热线 24 小时服务', en: 'Kashgar Prefecture Administration · 12345 hotline, 24 hours' },
  },
  dataDir,
  server: { port: 3000, host: '127.0.0.1' },
  outbox: { leaseMs: Number(env.INTAKE_OUTBOX_LEASE_MS ?? 30_000) },
  // Urgent cases are announced to their office through the integrator's callback, when there is one.
  ...(env.INTAKE_API_CALLBACK_URL ? { alerts: { channel: 'api' } } : {}),
})
