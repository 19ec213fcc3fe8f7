import { join } from 'node:path'
import { createIntake, createLogger, memoryBlobStore, type Intake, type IntakeConfig, type LookupThrottle } from '@intake/core'
import { apiChannel, signRequest } from '@intake/channels/api'
import { startCallbackServer, type CallbackServer } from '@intake/channels/api/callback-server'
import { webForm } from '@intake/channels/web-form'
import { demoRouting } from '../../examples/county-hotline/routing.ts'
import { sqliteStore } from '@intake/storage/sqlite'

export const DEMO_DIR = join(import.meta.dirname, '..', '..', 'examples', 'county-hotline')
export const API_KEY = 'test-api-key-0123456789'
export const API_SECRET = 'test-api-secret-0123456789'
export const BASE = 'http://intake.test'

export interface DemoGateway {
  intake: Intake
  callback: CallbackServer
  lines: string[]
  /** POST a signed message to the api channel. */
  sendApi(body: Record<string, unknown>, opts?: { at?: number; secret?: string }): Promise<Response>
  /** Call the staff API with the key. */
  api(path: string, init?: { method?: string; body?: unknown }): Promise<Response>
  close(): Promise<void>
}

/** The county-hotline demo's offices and routing, on an in-memory SQLite store, driven in-process. */
export async function demoGateway(over: Partial<IntakeConfig> = {}, opts: { now?: () => number; lookups?: LookupThrottle } = {}): Promise<DemoGateway> {
  const callback = await startCallbackServer()
  const lines: string[] = []
  const config: IntakeConfig = {
    store: sqliteStore({ file: ':memory:' }),
    offices: join(DEMO_DIR, 'offices.yaml'),
    channels: { web: webForm(), api: apiChannel({ secret: API_SECRET, callbackUrl: callback.url }) },
    routing: demoRouting(),
    apiKeys: [API_KEY],
    blobs: memoryBlobStore(),
    server: { publicUrl: BASE },
    outbox: { baseDelayMs: 1, maxDelayMs: 5, pollMs: 60_000 },
    ...over,
  }
  let intake: Intake
  try {
    intake = createIntake(config, { env: {}, now: opts.now, lookups: opts.lookups, log: createLogger({ level: 'debug', sink: (l) => lines.push(l), secrets: [API_KEY, API_SECRET] }) })
    await intake.start()
  } catch (err) {
    await callback.close()
    throw err
  }
  return {
    intake,
    callback,
    lines,
    sendApi(body, { at = opts.now?.() ?? Date.now(), secret = API_SECRET } = {}) {
      const text = JSON.stringify(body)
      return Promise.resolve(
        intake.app.request(`${BASE}/channels/api/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...signRequest(secret, text, at) },
          body: text,
        }),
      )
    },
    api(path, { method = 'GET', body } = {}) {
      return Promise.resolve(
        intake.app.request(`${BASE}/api/v1${path}`, {
          method,
          headers: { 'x-api-key': API_KEY, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      )
    },
    async close() {
      await intake.stop()
      await intake.store.close()
      await callback.close()
    },
  }
}
