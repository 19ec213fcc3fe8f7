import { once } from 'node:events'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { DELIVERY_THREAD_DATA, intakeThread } from './intake-thread.ts'

const askInThread = async (workerData: unknown) => {
  const worker = new Worker(new URL('./intake-thread.fixture.mjs', import.meta.url), { workerData })
  const [answer] = (await once(worker, 'message')) as [string]
  await worker.terminate()
  return answer
}

describe('intakeThread', () => {
  it('tells the main thread, the delivery thread and any other worker apart', async () => {
    expect(intakeThread()).toBe('main')
    expect(await askInThread({ configPath: 'intake.config.ts', ...DELIVERY_THREAD_DATA })).toBe('delivery')
    expect(await askInThread({ file: 'data/intake.db' })).toBe('other')
  })
})
