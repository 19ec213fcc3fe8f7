import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Case, Store } from '@intake/core'
import { FIXTURE_TIME, makeFollowUpWrite, makeInboundWrite, makeOutbound } from '../kit/index.ts'
import { postgresStore } from '../postgres/index.ts'
import { createTestDatabase, dropTestDatabases, postgresSuite } from '../postgres/test-database.ts'
import { sqliteStore } from '../sqlite/index.ts'
import { migrateStore } from './index.ts'

const dir = mkdtempSync(join(tmpdir(), 'intake-migrate-store-'))
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true })
  await dropTestDatabases()
}, 60_000)

const T = FIXTURE_TIME
const MINUTE = 60_000

/** A SQLite store with every kind of row the Store writes. */
async function populatedSqlite(file: string): Promise<{ caseIds: string[] }> {
  const store = sqliteStore({ file })
  await store.migrate()
  await store.saveOffices([
    {
      id: 'roads',
      name: '公路局',
      names: { en: 'Roads' },
      parentId: null,
      jurisdiction: { codes: ['653129'], places: [{ name: '伽师县', aliases: ['Jiashi'] }] },
      remit: ['potholes'],
      contact: { alert: '+8613800000000' },
      intakeDesk: true,
      staff: [{ id: 'clerk-ma', name: '马', onDuty: true }],
      assignment: 'round-robin',
    },
  ])
  const caseIds: string[] = []
  for (let i = 0; i < 30; i++) {
    const write = makeInboundWrite({
      at: T + i * MINUTE,
      channelId: i % 3 === 0 ? 'mail' : 'sms',
      case: { category: i % 2 ? 'potholes' : null, contact: i % 5 === 0 ? { email: `c${i}@example.org`, name: '阿依古丽' } : null, assigneeId: i % 4 === 0 ? 'clerk-ma' : null, anonymous: i % 7 === 0 },
      message: i % 6 === 0 ? { attachments: [{ id: `att-${i}`, filename: '照片.jpg', contentType: 'image/jpeg', size: 1234 + i, sha256: 'b'.repeat(64), blobKey: `blobs/att-${i}` }] } : {},
    })
    await store.recordInbound(i % 10 === 0 ? { ...write, transcription: { messageId: write.message.id, caseId: write.newCase.id, blobKey: 'c'.repeat(64), contentType: 'audio/ogg', attempts: 1, nextAttemptAt: T + HOUR, lastError: 'busy' } } : write)
    caseIds.push(write.newCase.id)
    if (i % 3 === 1) await store.recordInbound(makeFollowUpWrite(write.newCase, { at: T + i * MINUTE + 1, acknowledge: true }))
    if (i % 4 === 2) {
      await store.applyCaseChange({
        caseId: write.newCase.id,
        at: T + HOUR + i,
        patch: { status: 'resolved', resolvedAt: T + HOUR + i, deadlineAt: null },
        events: [{ caseId: write.newCase.id, at: T + HOUR + i, type: 'note', actor: 'staff-1', public: false, data: { 'z-last': 1, 'a-first': [2, { y: null }], '10': 'ten', '9': 'nine' } }],
        outbound: [makeOutbound(write.newCase, { kind: 'reply', at: T + HOUR + i, text: '已处理' })],
      })
    }
  }
  // Outbox rows in every state: sent, dead, pending, sending.
  const claimed = await store.claimOutbox(T + 2 * HOUR, 20, MINUTE)
  for (const [i, item] of claimed.entries()) {
    if (i % 3 === 0) await store.completeOutbox(item.id, `SM-${i}`, T + 2 * HOUR + 1)
    if (i % 3 === 1) await store.failOutbox(item.id, { dead: true, error: 'invalid number' }, T + 2 * HOUR + 1)
  }
  await store.updateDeliveryStatus('sms', 'SM-0', 'delivered', T + 3 * HOUR)
  await store.updateDeliveryStatus('sms', 'SM-not-yet', 'sent', T + 3 * HOUR)
  // A duplicate cluster (two cases matched at intake), and a closed case erased by the retention policy.
  const keys = { category: 'streetlights', placeKey: 'code:653129', lat: 39.47, lon: 76.73, text: '路灯坏了' }
  const first = makeInboundWrite({ at: T + 4 * HOUR, case: { category: 'streetlights' } })
  await store.recordInbound({ ...first, clusterKeys: keys })
  const second = makeInboundWrite({ at: T + 4 * HOUR + 1, case: { category: 'streetlights' } })
  await store.recordInbound({ ...second, clusterKeys: keys, joinCluster: { withCaseId: first.newCase.id, newClusterId: 'cluster-1' } })
  caseIds.push(first.newCase.id, second.newCase.id)
  await store.applyCaseChange({ caseId: caseIds[3]!, at: T + 5 * HOUR, patch: { status: 'closed' }, events: [] })
  await store.eraseCitizenData(caseIds[3]!, T + 6 * HOUR, 'retention')
  await store.setOptOut('sms', '+15550100', true, T)
  await store.setOnDuty('clerk-ma', false, T)
  await store.close()
  return { caseIds }
}
const HOUR = 60 * MINUTE

/** Everything a Store says about these cases, to compare the two sides through the contract. */
async function readBack(store: Store, caseIds: string[]) {
  const cases: Case[] = []
  let cursor: string | undefined
  do {
    const page = await store.listCases({ limit: 7, ...(cursor ? { cursor } : {}) })
    cases.push(...page.cases)
    cursor = page.nextCursor
  } while (cursor)
  const perCase = []
  for (const id of caseIds) perCase.push({ messages: await store.listMessages(id), events: await store.listEvents(id) })
  return {
    cases,
    perCase,
    offices: await store.listOffices(),
    outbox: await store.listOutbox({ limit: 500 }),
    duty: await store.listDuty(),
    optedOut: await store.isOptedOut('sms', '+15550100'),
    cluster: await store.getCluster('cluster-1'),
    toErase: await store.listCasesToErase(T + 100 * HOUR, 100),
  }
}

await postgresSuite(describe, it, 'intake migrate-store (SQLite → PostgreSQL)', () => {
  it('copies every kind of row: equal counts and content hashes per table, and the same answers through the Store', async () => {
    const file = join(dir, 'deployment.db')
    const { caseIds } = await populatedSqlite(file)
    const url = await createTestDatabase()

    const report = await migrateStore({ from: file, to: url })
    const byTable = Object.fromEntries(report.map((r) => [r.table, r]))
    for (const table of ['offices', 'cases', 'messages', 'case_events', 'inbox', 'outbox', 'attachments', 'opt_outs', 'transcriptions', 'staff_duty', 'held_delivery_reports', 'clusters', 'cluster_keys', 'case_stats']) {
      expect(byTable[table], table).toBeDefined()
      expect(byTable[table]!.rows, table).toBeGreaterThan(0)
      expect(byTable[table]!.targetHash, table).toBe(byTable[table]!.sourceHash)
    }
    expect(byTable.cases!.rows).toBe(32)

    const before = sqliteStore({ file })
    const after = postgresStore({ url })
    try {
      expect(await readBack(after, caseIds)).toEqual(await readBack(before, caseIds))
      // The audit trail's hash chain verifies on both sides, to the same head.
      const chain = (await before.verifyAudit()).caseEvents
      expect(chain).toMatchObject({ ok: true })
      expect((await after.verifyAudit()).caseEvents).toEqual(chain)
      // The moved deployment carries on: transcriptions still due, a new case's events numbered after the copied ones.
      expect((await after.claimTranscriptions(T + 2 * HOUR, 10, MINUTE)).length).toBe(3)
      const next = makeInboundWrite({ at: T + 5 * HOUR })
      await expect(after.recordInbound(next)).resolves.toEqual({ duplicate: false })
      const copiedIds = (await before.listEvents(caseIds.at(-1)!)).map((e) => e.id!)
      expect((await after.listEvents(next.newCase.id))[0]!.id).toBeGreaterThan(Math.max(...copiedIds))
      // A provider's retry of a moved message is still a duplicate.
      const original = (await before.listMessages(caseIds[0]!))[0]!
      const retry = makeInboundWrite({ channelId: original.channelId, externalId: original.externalId! })
      expect(await after.recordInbound(retry)).toMatchObject({ duplicate: true, caseId: caseIds[0] })
    } finally {
      await before.close()
      await after.close()
    }
  })

  it('refuses a target that already holds cases, and writes nothing', async () => {
    const file = join(dir, 'second.db')
    await populatedSqlite(file)
    const url = await createTestDatabase()
    const target = postgresStore({ url })
    await target.migrate()
    const existing = makeInboundWrite()
    await target.recordInbound(existing)
    await expect(migrateStore({ from: file, to: url })).rejects.toMatchObject({ code: 'target_not_empty' })
    expect((await target.listCases()).cases.map((c) => c.id)).toEqual([existing.newCase.id])
    await target.close()
  })
})
