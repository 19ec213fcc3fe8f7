/**
 * Data retention with the injected clock: a citizen's contact, address and words stay while the case
 * is worked and for the configured time after it is closed, then the gateway erases them — the case,
 * its events and its place in the figures stay. `intake export-citizen` gives a citizen their data.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import type { Case, CaseMessage } from '@intake/core'
import { demoGateway, type DemoGateway } from './support/gateway.ts'

const DAY = 86_400_000
let gw: DemoGateway | undefined
afterEach(() => gw?.close())

describe('retention: citizen data is erased the configured time after a case is closed', () => {
  it('keeps everything until then, erases contact, address and words after, keeps the case and its events', async () => {
    let clock = Date.parse('2026-01-05T10:00:00+08:00')
    gw = await demoGateway({ retention: { closedCasesAfter: '30 days' } }, { now: () => clock })
    const res = await gw.sendApi({
      id: 'retention-1',
      from: { id: 'resident-88', name: '阿依古丽' },
      contact: { phone: '13800138000', name: '阿依古丽' },
      text: '我家在巴仁镇幸福路12号，门口下水道堵了一个星期',
    })
    expect(res.status).toBe(201)
    const { caseId } = ((await res.json()) as { results: Array<{ caseId: string }> }).results[0]!
    for (const status of ['resolved', 'closed']) {
      expect((await gw.api(`/cases/${caseId}/status`, { method: 'POST', body: { status, actor: 'clerk-1' } })).status).toBe(200)
    }
    // The API masks the citizen's contact; the stored case shows what retention left of it.
    const details = async () => ({
      ...((await (await gw!.api(`/cases/${caseId}`)).json()) as { case: Case; messages: CaseMessage[]; events: Array<{ type: string }> }),
      case: (await gw!.intake.store.getCase(caseId))!,
    })

    clock += 29 * DAY
    expect(await gw.intake.retention!.sweep()).toBe(0)
    expect((await details()).case.contact).toEqual({ phone: '13800138000', name: '阿依古丽' })

    clock += 2 * DAY
    expect(await gw.intake.retention!.sweep()).toBe(1)
    const { case: kase, messages, events } = await details()
    expect(kase).toMatchObject({ status: 'closed', contact: null, summary: '[erased]' })
    expect(kase.citizen.id).toMatch(/^erased:/)
    expect(kase.citizen.displayName).toBeUndefined()
    expect(messages.map((m) => m.text)).toEqual(messages.map(() => ''))
    expect(JSON.stringify(await gw.intake.store.listOutbox({ caseId }))).not.toContain('resident-88')
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['received', 'routed', 'status_changed', 'erased']))
    expect(await gw.intake.retention!.sweep(), 'nothing left to erase').toBe(0)
  })

  it('erases nothing without a retention setting', async () => {
    gw = await demoGateway()
    expect(gw.intake.retention).toBeUndefined()
  })
})

describe('intake export-citizen', () => {
  it('prints every case of one citizen on one channel, with messages and events, as JSON', async () => {
    const root = join(import.meta.dirname, '..')
    const dataDir = mkdtempSync(join(tmpdir(), 'intake-export-'))
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', join(root, 'packages/core/src/cli/main.ts'), ...args, '--config', join(root, 'examples/county-hotline/intake.config.ts')], {
        cwd: root,
        env: { ...process.env, INTAKE_DATA_DIR: dataDir, INTAKE_LOG_LEVEL: 'warn' },
      })
    await run('send', '--channel', 'api', '--from', 'resident-5', '--text', '莎车县的河里有排污')
    await run('send', '--channel', 'api', '--from', 'resident-6', '--text', '疏勒县的路灯坏了')
    const { stdout } = await run('export-citizen', '--channel', 'api', '--id', 'resident-5')
    const exported = JSON.parse(stdout) as { channelId: string; citizenId: string; cases: Array<{ case: Case; messages: CaseMessage[] }> }
    expect(exported).toMatchObject({ channelId: 'api', citizenId: 'resident-5' })
    expect(exported.cases).toHaveLength(1)
    expect(exported.cases[0]!.messages.find((m) => m.direction === 'in')!.text).toBe('莎车县的河里有排污')
  }, 60_000)
})
