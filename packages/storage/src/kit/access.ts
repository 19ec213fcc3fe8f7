/**
 * Conformance cases for staff access and the audit chain: scoped case reads, accounts, tokens,
 * sessions, and a chain that verifies. Run by `testStore` with its own `test` (skips with reasons).
 */
import { expect } from 'vitest'
import { StoreConflictError, type AccountEventInput, type Store, type StaffUser } from '@intake/core'
import { FIXTURE_TIME, makeInboundWrite } from './fixtures.ts'

const T = FIXTURE_TIME

export function staffUser(over: Partial<StaffUser> = {}): StaffUser {
  return { id: 'u-li', login: 'li.wei', name: '李伟', officeId: 'county-a', role: 'caseworker', passwordHash: 'scrypt$x', disabled: false, createdAt: T, updatedAt: T, ...over }
}
const added = (subject: string): AccountEventInput => ({ at: T, type: 'user_added', actor: 'cli', subject })

export function accessCases(test: (title: string, fn: () => Promise<void>) => void, store: () => Store): void {
  test('scopes case reads, lists and counts to an office subtree in the query', async () => {
    const a = makeInboundWrite({ case: { officeId: 'county-a', createdAt: T } })
    const b = makeInboundWrite({ case: { officeId: 'county-b', createdAt: T + 1 } })
    const town = makeInboundWrite({ case: { officeId: 'town-a1', createdAt: T + 2 } })
    for (const w of [a, b, town]) await store().recordInbound(w)
    const scope = { officeIds: ['county-a', 'town-a1'] }
    expect((await store().getCase(a.newCase!.id, scope))?.id).toBe(a.newCase!.id)
    expect(await store().getCase(b.newCase!.id, scope)).toBeUndefined()
    expect((await store().getCase(b.newCase!.id))?.id).toBe(b.newCase!.id)
    const listed = await store().listCases({ officeIds: scope.officeIds })
    expect(listed.cases.map((c) => c.id).sort()).toEqual([a.newCase!.id, town.newCase!.id].sort())
    expect(await store().countCases({ officeIds: scope.officeIds })).toBe(2)
    expect(await store().countCases({ officeIds: [] })).toBe(0)
    expect(await store().countCases({})).toBe(3)
    expect(await store().countCases({ officeIds: scope.officeIds }, 1)).toBe(1)
    // Paged one at a time across the subtree's offices: newest first, each once.
    const seen: string[] = []
    let cursor: string | undefined
    do {
      const page = await store().listCases({ officeIds: scope.officeIds, limit: 1, cursor })
      seen.push(...page.cases.map((c) => c.id))
      cursor = page.nextCursor
    } while (cursor)
    expect(seen).toEqual([town.newCase!.id, a.newCase!.id])
    const volumes = await store().caseVolumes({ scope, since: T - 1, until: T + 10, utcOffsetMinutes: 480 })
    expect(volumes.byOffice.map((r) => [r.officeId, r.count]).sort()).toEqual([['county-a', 1], ['town-a1', 1]])
  })

  test('keeps staff accounts with unique logins (any case) and their tokens and sessions', async () => {
    await store().saveUser(staffUser(), added('u-li'))
    expect((await store().findUserByLogin('LI.WEI'))?.id).toBe('u-li')
    await expect(store().saveUser(staffUser({ id: 'u-other', login: 'Li.Wei' }), added('u-other'))).rejects.toBeInstanceOf(StoreConflictError)
    await store().saveUser(staffUser({ disabled: true, updatedAt: T + 5 }), { at: T + 5, type: 'user_disabled', actor: 'admin', subject: 'u-li' })
    expect((await store().getUser('u-li'))?.disabled).toBe(true)
    expect((await store().listUsers({ officeIds: ['county-b'] })).length).toBe(0)

    const hash = 'a'.repeat(64)
    await store().saveApiToken({ id: 't1', hash, name: 'li', userId: 'u-li', officeId: null, scopes: [], createdAt: T, revokedAt: null }, { at: T, type: 'token_issued', actor: 'cli', subject: 't1' })
    expect((await store().findApiToken(hash))?.userId).toBe('u-li')
    expect(await store().findApiToken('b'.repeat(64))).toBeUndefined()

    const idHash = 'c'.repeat(64)
    await store().saveSession({ idHash, userId: 'u-li', csrfToken: 'csrf', createdAt: T, lastSeenAt: T, expiresAt: T + 1000 })
    await store().touchSession(idHash, T + 10)
    expect((await store().findSession(idHash))?.lastSeenAt).toBe(T + 10)
    await store().deleteSessions({ userId: 'u-li' })
    expect(await store().findSession(idHash)).toBeUndefined()

    const events = await store().listAccountEvents()
    expect(events.map((e) => e.type)).toEqual(['token_issued', 'user_disabled', 'user_added'])
  })

  test('the same new account saved at once from several connections (processes seeding their staff): one account, and a refusal is a StoreConflictError', async () => {
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => store().saveUser(staffUser({ id: 'u-seed', login: 'seed.user' }), added('u-seed'))))
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(StoreConflictError)
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true)
    expect((await store().listUsers()).filter((u) => u.login === 'seed.user')).toHaveLength(1)
    expect((await store().verifyAudit()).accountEvents).toMatchObject({ ok: true })
  })

  test('chains every event and verifies the chain', async () => {
    await store().recordInbound(makeInboundWrite({}))
    await store().saveUser(staffUser(), added('u-li'))
    const verdict = await store().verifyAudit()
    expect(verdict.caseEvents).toMatchObject({ ok: true })
    expect(verdict.caseEvents.rows).toBeGreaterThan(0)
    expect(verdict.accountEvents).toMatchObject({ ok: true, rows: 1 })
  })

  test('chains events whose words hold quotes, backslashes, control characters and any script, and verifies them', async () => {
    const write = makeInboundWrite({})
    await store().recordInbound(write)
    const awkward = ['say "no" \\ then \\n', 'line\nbreak\ttab\r\u0001\u001f\u007f', "it's 100% <b>&amp;</b>", '伽师县巴仁镇 🚧 \u2028 café', '']
    const caseId = write.newCase!.id
    await store().applyCaseChange({
      caseId,
      at: T + 1,
      events: awkward.map((text, i) => ({ caseId, at: T + 1 + i, type: 'note' as const, actor: `staff "${i}"\\`, public: i % 2 === 0, data: { text, n: i, nested: { text } } })),
    })
    expect((await store().listEvents(caseId)).filter((e) => e.type === 'note').map((e) => e.data.text)).toEqual(awkward)
    expect((await store().verifyAudit()).caseEvents).toMatchObject({ ok: true })
  })

  test("keeps offices' live settings with their account event; a saved roster ends its members' duty changes", async () => {
    expect(await store().listOfficeSettings()).toEqual([])
    await store().setOnDuty('s-wang', false, T)
    await store().setOnDuty('s-other', false, T)
    const settings = { officeId: 'county-a', contact: { phone: '0998-1234567', dutyPhone: '0998-7654321' }, updatedAt: T + 1, updatedBy: 'admin' }
    await store().saveOfficeSettings({ settings, event: { at: T + 1, type: 'office_changed', actor: 'admin', subject: 'county-a', data: { fields: ['contact'] } } })
    expect(await store().listOfficeSettings()).toEqual([settings])
    expect(await store().listDuty()).toEqual({ 's-wang': false, 's-other': false })

    const roster = { ...settings, staff: [{ id: 's-wang', name: '王', onDuty: true }], deadlines: { normal: '3 working days' }, updatedAt: T + 2 }
    await store().saveOfficeSettings({ settings: roster, event: { at: T + 2, type: 'office_changed', actor: 'admin', subject: 'county-a' }, resetDuty: ['s-wang'] })
    expect(await store().listOfficeSettings()).toEqual([roster])
    expect(await store().listDuty()).toEqual({ 's-other': false })
    const events = await store().listAccountEvents()
    expect(events.map((e) => [e.type, e.actor, e.subject])).toEqual([
      ['office_changed', 'admin', 'county-a'],
      ['office_changed', 'admin', 'county-a'],
    ])
    expect((await store().verifyAudit()).accountEvents).toMatchObject({ ok: true, rows: 2 })
  })
}
