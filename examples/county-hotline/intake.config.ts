/**
 * The default demo: a prefecture's 12345 hotline (喀什地区) with three counties, their townships and
 * bureaus. `pnpm start` runs it on SQLite with the web form and the api channel; SMS, voice, email,
 * Telegram, WeChat and speech come on with their environment variables (see channels-from-env.ts).
 */
import { join } from 'node:path'
import { isMainThread } from 'node:worker_threads'
import { defineConfig } from '@intake/core'
import { apiChannel } from '@intake/channels/api'
import { webForm } from '@intake/channels/web-form'
import { sqliteStore } from '@intake/storage/sqlite'
import { channelsFromEnv, transcriberFromEnv } from './channels-from-env.ts'
import { demoRouting, xinjiangPlaces } from './routing.ts'

const here = import.meta.dirname
const env = process.env
const dataDir = env.INTAKE_DATA_DIR ?? './data'

// Demo secrets: fine on a laptop, replaced through the environment anywhere else.
const apiSecret = env.INTAKE_API_SECRET ?? 'demo-api-secret-change-me'

// Build the place index now (~0.4 s), so the first citizen does not wait for it — in the gateway's
// thread only: `intake start` loads this file again in its delivery thread, which never routes.
if (isMainThread) xinjiangPlaces.load()

export default defineConfig({
  // Writes in a thread of their own, so the gateway's event loop never waits on a commit.
  store: sqliteStore({ file: join(dataDir, 'intake.db'), writer: 'thread' }),
  offices: join(here, 'offices.yaml'),
  channels: {
    web: webForm(),
    api: apiChannel({ secret: apiSecret, callbackUrl: env.INTAKE_API_CALLBACK_URL }),
    ...(await channelsFromEnv(env)),
  },
  transcriber: await transcriberFromEnv(env),
  routing: demoRouting(),
  deadlines: { urgent: '2h', normal: '5 working days', complex: '15 working days' },
  // China's official holidays and make-up working days (State Council notices, 2024–2026).
  calendar: { timeZone: 'Asia/Shanghai', country: 'CN' },
  locale: 'zh-CN',
  apiKeys: [env.INTAKE_API_KEY ?? 'demo-api-key-change-me'],
  dataDir,
  server: { port: 3000, host: '127.0.0.1' },
  outbox: { leaseMs: Number(env.INTAKE_OUTBOX_LEASE_MS ?? 30_000) },
  // Urgent cases are announced to their office through the integrator's callback, when there is one.
  ...(env.INTAKE_API_CALLBACK_URL ? { alerts: { channel: 'api' } } : {}),
})
