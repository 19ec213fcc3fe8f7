import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Worker } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { Store } from '@intake/core'
import { FIXTURE_TIME, makeInboundWrite, testStore } from '../kit/index.ts'
import { sqliteStore } from './index.ts'

const dir = mkdtempSync(join(tmpdir(), 'intake-sqlite-'))
let fileCount = 0
const nextFile = () => join(dir, `store-${++fileCount}.db`)

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** writer-client.fixture.mjs in a thread of this process, and its next message. */
function writerClientThread(workerData: { file: string; count: number; busyTimeoutMs: number }) {
  const thread = new Worker(new URL('./writer-client.fixture.mjs', import.meta.url), { workerData })
  const next = () =>
    new Promise((resolve, reject) => {
      thread.once('message', resolve)
      thread.once('error', reject)
    })
  return { thread, next }
}

/** One process writes a SQLite file: core counts that process's own picks, which is exact there. */
const ONE_PROCESS = 'a SQLite file has one gateway process; core counts its own picks (case-actions), which is exact there'
const sqliteSkips = {
  skip: {
    'pickAssignee decides one pick at a time per office: concurrent round-robin picks go round the staff in turn': ONE_PROCESS,
    'pickAssignee counts picks whose cases are not written yet: concurrent least-open picks even out the load': ONE_PROCESS,
  },
}
testStore('sqlite', async () => sqliteStore({ file: nextFile() }), sqliteSkips)
testStore('sqlite with a writer thread', async () => sqliteStore({ file: nextFile(), writer: 'thread' }), sqliteSkips)

describe('sqliteStore', () => {
  const open: Store[] = []
  const track = (store: Store) => {
    open.push(store)
    return store
  }

  afterEach(async () => {
    await Promise.all(open.splice(0).map((store) => store.close()))
  })

  it('keeps the database file in WAL mode', async () => {
    const file = nextFile()
    const store = track(sqliteStore({ file }))
    await store.migrate()

    const raw = new Database(file, { readonly: true })
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal')
    } finally {
      raw.close()
    }
  })

  it('keeps what it wrote across close and reopen', async () => {
    const file = nextFile()
    const write = makeInboundWrite()
    const first = sqliteStore({ file })
    await first.migrate()
    await first.recordInbound(write)
    await first.close()

    const reopened = track(sqliteStore({ file }))
    await reopened.migrate()
    expect(await reopened.getCase(write.newCase.id)).toEqual(write.newCase)
    expect(await reopened.listMessages(write.newCase.id)).toHaveLength(2)
    expect(await reopened.recordInbound(write)).toMatchObject({ duplicate: true })
  })

  it('migrates twice, and from two connections, without harm', async () => {
    const file = nextFile()
    const store = track(sqliteStore({ file }))
    await store.migrate()
    const write = makeInboundWrite()
    await store.recordInbound(write)
    await store.migrate()

    const second = track(sqliteStore({ file }))
    await second.migrate()
    expect(await second.getCase(write.newCase.id)).toEqual(write.newCase)
    expect((await store.listCases()).cases).toHaveLength(1)
  })

  it('creates the directory of the database file', async () => {
    const file = join(dir, 'nested', 'deeper', 'intake.db')
    const store = track(sqliteStore({ file }))
    await store.migrate()
    await store.recordInbound(makeInboundWrite())
    expect((await store.listCases()).cases).toHaveLength(1)
  })

  it('runs in memory', async () => {
    const store = track(sqliteStore({ file: ':memory:', synchronous: 'normal' }))
    await store.migrate()
    await expect(store.ping()).resolves.toBeUndefined()
    await store.recordInbound(makeInboundWrite())
    expect((await store.listCases()).cases).toHaveLength(1)
  })

  it('two connections to one file never lease the same outbox row', async () => {
    const file = nextFile()
    const a = track(sqliteStore({ file }))
    const b = track(sqliteStore({ file }))
    await a.migrate()
    for (let i = 0; i < 10; i++) await a.recordInbound(makeInboundWrite({ at: FIXTURE_TIME + i }))

    const now = FIXTURE_TIME + 60_000
    const claims = await Promise.all([a.claimOutbox(now, 4, 30_000), b.claimOutbox(now, 4, 30_000)])
    const rest = await b.claimOutbox(now, 10, 30_000)
    const leased = [...claims.flat(), ...rest].map((item) => item.id)
    expect(leased).toHaveLength(10)
    expect(new Set(leased).size).toBe(10)
  })

  it('enforces foreign keys: a message for a case that does not exist is refused', async () => {
    const store = track(sqliteStore({ file: nextFile() }))
    await store.migrate()
    const { newCase: _unsaved, ...orphan } = makeInboundWrite()
    await expect(store.recordInbound(orphan)).rejects.toThrow(/FOREIGN KEY/)
    expect(await store.listMessages(orphan.message.caseId)).toEqual([])
  })

  it('rejects misconfiguration when called, naming the option', () => {
    expect(() => sqliteStore({ file: '' })).toThrow(/'file'/)
    expect(() => sqliteStore({ file: nextFile(), synchronous: 'off' as 'full' })).toThrow(/'synchronous'/)
    expect(() => sqliteStore({ file: nextFile(), busyTimeoutMs: -1 })).toThrow(/'busyTimeoutMs'/)
    expect(() => sqliteStore({ file: nextFile(), busyTimeoutMs: 1.5 })).toThrow(/'busyTimeoutMs'/)
    expect(() => sqliteStore({ file: nextFile(), writer: 'process' as 'thread' })).toThrow(/'writer'/)
    expect(() => sqliteStore({ file: ':memory:', writer: 'thread' })).toThrow(/'writer' must be 'inline' for ':memory:'/)
  })

  it('rejects a cursor it did not issue', async () => {
    const store = track(sqliteStore({ file: ':memory:' }))
    await store.migrate()
    await expect(store.listCases({ cursor: 'not-a-cursor' })).rejects.toThrow(/invalid cursor/)
  })

  it('a store opened in another thread writes through the main thread\'s writer: no lock to wait for, even with no busy timeout', async () => {
    const file = nextFile()
    const store = track(sqliteStore({ file, writer: 'thread', busyTimeoutMs: 0 }))
    await store.migrate()
    const count = 300
    const { thread, next } = writerClientThread({ file, count, busyTimeoutMs: 0 })
    await expect(next()).resolves.toBe('ready')
    const reported = next()
    thread.postMessage('go')
    // Both threads write in bursts at once; two connections would collide and fail with SQLITE_BUSY.
    const mine = []
    for (let burst = 0; burst < 30; burst++) {
      mine.push(...Array.from({ length: 10 }, (_, i) => store.recordInbound(makeInboundWrite({ at: FIXTURE_TIME + burst * 10 + i }))))
      await new Promise((resolve) => setImmediate(resolve))
    }
    await expect(Promise.all(mine)).resolves.toHaveLength(count)
    expect(await reported).toEqual({ written: count })
    await thread.terminate()
    expect((await store.listCases({ limit: 100 })).cases).toHaveLength(100)
    expect(await store.isOptedOut('sms', `+8613800${count - 1}`)).toBe(true)
  })

  it('a store in another thread fails its writes once the main thread has closed the store, rather than waiting for ever', async () => {
    const file = nextFile()
    const store = sqliteStore({ file, writer: 'thread' })
    await store.migrate()
    const { thread, next } = writerClientThread({ file, count: 10, busyTimeoutMs: 5_000 })
    await expect(next()).resolves.toBe('ready')
    await store.close()
    const reported = next()
    thread.postMessage('go')
    expect(await reported).toEqual({ error: 'store_closed' })
    await thread.terminate()
  })

  it('starts its writer thread in a process run with V8 flags (a worker refuses them; `intake start` sets the heap\'s young generation)', async () => {
    const file = nextFile()
    const script = [
      `const { sqliteStore } = await import(${JSON.stringify(new URL('./index.ts', import.meta.url).href)})`,
      `const { makeInboundWrite } = await import(${JSON.stringify(new URL('../kit/index.ts', import.meta.url).href)})`,
      `const store = sqliteStore({ file: ${JSON.stringify(file)}, writer: 'thread' })`,
      'await store.migrate()',
      'console.log(JSON.stringify(await store.recordInbound(makeInboundWrite())))',
      'await store.close()',
    ].join('\n')
    const run = promisify(execFile)
    const { stdout } = await run(process.execPath, ['--max-semi-space-size=32', '--max-old-space-size=2048', '--stack-size=2000', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: dirname(fileURLToPath(import.meta.url)) })
    expect(JSON.parse(stdout.trim())).toEqual({ duplicate: false })
    const raw = new Database(file, { readonly: true })
    try {
      expect(raw.prepare('select count(*) from cases').pluck().get()).toBe(1)
    } finally {
      raw.close()
    }
  })

  describe.each(['inline', 'thread'] as const)('writing %s', (writer) => {
    it('refuses to work once closed', async () => {
      const store = sqliteStore({ file: nextFile(), writer })
      await store.migrate()
      await store.close()
      await expect(store.ping()).rejects.toThrow(/closed/)
      await expect(store.recordInbound(makeInboundWrite())).rejects.toMatchObject({ code: 'store_closed' })
      await expect(store.close()).resolves.toBeUndefined()
    })

    it('waits for another connection\'s write lock without blocking the event loop, and writes once it is free', async () => {
      const file = nextFile()
      const store = track(sqliteStore({ file, busyTimeoutMs: 5_000, writer }))
      await store.migrate()
      const other = new Database(file)
      other.exec('BEGIN IMMEDIATE')
      const order: string[] = []
      const write = makeInboundWrite({ at: FIXTURE_TIME })
      const recorded = store.recordInbound(write).then(() => order.push('recorded'))
      // With SQLite's own busy handler this timer would fire only after the write, the thread asleep.
      await new Promise((resolve) => setTimeout(resolve, 30))
      order.push('timer')
      other.exec('COMMIT')
      other.close()
      await recorded
      expect(order).toEqual(['timer', 'recorded'])
      expect(await store.getCase(write.newCase.id)).toBeDefined()
    })

    it('gives up with SQLITE_BUSY after the busy timeout, and writes again once the lock is free', async () => {
      const file = nextFile()
      const store = track(sqliteStore({ file, busyTimeoutMs: 50, writer }))
      await store.migrate()
      const other = new Database(file)
      other.exec('BEGIN IMMEDIATE')
      await expect(store.recordInbound(makeInboundWrite({ at: FIXTURE_TIME }))).rejects.toMatchObject({ code: 'SQLITE_BUSY' })
      other.exec('COMMIT')
      other.close()
      await expect(store.recordInbound(makeInboundWrite({ at: FIXTURE_TIME + 1 }))).resolves.toEqual({ duplicate: false })
    })
  })
})

describe('the audit chain in the SQLite file', () => {
  async function storeWithEvents() {
    const file = nextFile()
    const store = sqliteStore({ file })
    await store.migrate()
    for (let i = 0; i < 3; i++) await store.recordInbound(makeInboundWrite({ at: FIXTURE_TIME + i }))
    const verdict = await store.verifyAudit()
    expect(verdict.caseEvents).toMatchObject({ ok: true, rows: 9 })
    return { file, store }
  }

  it('names a row edited by hand in the file', async () => {
    const { file, store } = await storeWithEvents()
    const raw = new Database(file)
    raw.prepare(`update case_events set actor = 'someone-else' where id = 5`).run()
    raw.close()
    expect((await store.verifyAudit()).caseEvents).toMatchObject({ ok: false, id: 5, problem: 'edited' })
    await store.close()
  })

  it('names the row after one deleted by hand, and a row inserted out of order', async () => {
    const { file, store } = await storeWithEvents()
    const raw = new Database(file)
    raw.prepare(`delete from case_events where id = 4`).run()
    raw.close()
    expect((await store.verifyAudit()).caseEvents).toMatchObject({ ok: false, id: 5, problem: 'out_of_order' })
    const again = new Database(file)
    // Put it back with its own hashes, but after the head: the chain still breaks where it was taken out.
    again.prepare(`insert into case_events (id, case_id, at, type, actor, public, data, prev_hash, hash) select 100, case_id, at, type, actor, public, data, prev_hash, hash from case_events where id = 3`).run()
    again.close()
    expect((await store.verifyAudit()).caseEvents).toMatchObject({ ok: false, id: 5 })
    await store.close()
  })

  it('chains rows an older version wrote without hashes, once, at migrate; a hash removed later is reported', async () => {
    const { file, store } = await storeWithEvents()
    const raw = new Database(file)
    raw.prepare(`update case_events set prev_hash = null, hash = null`).run()
    raw.close()
    await store.migrate()
    expect((await store.verifyAudit()).caseEvents).toMatchObject({ ok: true, rows: 9 })
    const later = new Database(file)
    later.prepare(`update case_events set hash = null where id = 2`).run()
    later.close()
    await store.migrate()
    expect((await store.verifyAudit()).caseEvents).toMatchObject({ ok: false, id: 2, problem: 'unchained' })
    await store.close()
  })
})
