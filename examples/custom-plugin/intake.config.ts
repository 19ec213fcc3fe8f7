/**
 * A deployment with the LINE channel beside the web form, for trying the plugin: demo.ts starts it
 * with `intake start` and plays LINE against it (a citizen writes, the push comes back).
 * Against the real LINE Platform: set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN, leave
 * LINE_API_BASE_URL unset, and give https://YOUR-HOST/channels/line/webhook as the webhook URL.
 */
import { join } from 'node:path'
import { defineConfig } from '@intake/core'
import { webForm } from '@intake/channels/web-form'
import { sqliteStore } from '@intake/storage/sqlite'
import { lineChannel } from './src/index.ts'
import { DEMO_ACCESS_TOKEN, DEMO_CHANNEL_SECRET, DEMO_LINE_PORT } from './demo-settings.ts'

const env = process.env
const dataDir = env.INTAKE_DATA_DIR ?? './data/line-demo'

export default defineConfig({
  store: sqliteStore({ file: join(dataDir, 'intake.db') }),
  offices: [
    { id: 'city', name: 'City Hall', names: { en: 'City Hall' } },
    { id: 'desk', name: 'Intake Desk', names: { en: 'Intake Desk' }, parentId: 'city', intakeDesk: true },
  ],
  channels: {
    web: webForm(),
    line: lineChannel({
      channelSecret: env.LINE_CHANNEL_SECRET ?? DEMO_CHANNEL_SECRET,
      channelAccessToken: env.LINE_CHANNEL_ACCESS_TOKEN ?? DEMO_ACCESS_TOKEN,
      // The demo's stand-in, unless the real secret is given.
      apiBaseUrl: env.LINE_API_BASE_URL ?? (env.LINE_CHANNEL_SECRET ? undefined : `http://127.0.0.1:${DEMO_LINE_PORT}`),
    }),
  },
  routing: [],
  locale: 'en',
  apiKeys: [env.INTAKE_API_KEY ?? 'demo-api-key-change-me'],
  dataDir,
  server: { port: Number(env.INTAKE_PORT ?? 3000), host: '127.0.0.1' },
})
