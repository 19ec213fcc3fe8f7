/**
 * The gateway of bench/email: the county-hotline demo's offices and routing on a SQLite file, with
 * the smtp-email channel listening on BENCH_SMTP_PORT and sending acknowledgements to the relay on
 * BENCH_RELAY_PORT. Started by run.ts through the CLI (`intake start`), like a deployment.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { defineConfig } from '@intake/core'
import { smtpEmailChannel } from '@intake/channels/smtp-email'
import { byJurisdiction, byKeywords, byTrackingCode, loadKeywordRules, toIntakeDesk } from '@intake/routing'
import { sqliteStore } from '@intake/storage/sqlite'

const demo = join(import.meta.dirname, '..', '..', 'examples', 'county-hotline')
const env = process.env
const dataDir = env.INTAKE_DATA_DIR!

export default defineConfig({
  store: sqliteStore({ file: join(dataDir, 'intake.db') }),
  offices: join(demo, 'offices.yaml'),
  channels: {
    mail: smtpEmailChannel({
      addresses: ['12345@kashgar.gov.example'],
      fromName: '喀什地区12345热线',
      listen: { host: '127.0.0.1', port: Number(env.BENCH_SMTP_PORT) },
      transport: { host: '127.0.0.1', port: Number(env.BENCH_RELAY_PORT), maxConnections: 5 },
    }),
  },
  routing: [
    byTrackingCode(),
    byKeywords({ rules: loadKeywordRules(readFileSync(join(demo, 'keywords.yaml'), 'utf8')) }),
    byJurisdiction(),
    toIntakeDesk(),
  ],
  deadlines: { urgent: '2h', normal: '5 working days', complex: '15 working days' },
  calendar: { timeZone: 'Asia/Shanghai' },
  locale: 'zh-CN',
  apiKeys: ['bench-api-key-0123456789'],
  dataDir,
  server: { port: Number(env.INTAKE_PORT), host: '127.0.0.1' },
})
