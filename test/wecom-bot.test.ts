/**
 * A village group on WeCom end to end on the county-hotline demo: a resident mentions the agency's
 * intelligent bot in the group, WeCom's encrypted callback reaches the gateway, the case is routed,
 * and the acknowledgement and the staff answer reach the group through its message-push webhook
 * (a loopback stand-in speaking WeCom's wire format), mentioning the resident.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { wecomBot } from '@intake/channels/wecom-bot'
import { botCallback, botText, startWecomApiServer, type WecomApiServer } from '@intake/channels/wecom-bot/wecom-api-server'
import { API_KEY, BASE, demoGateway, type DemoGateway } from './support/gateway.ts'

const TOKEN = 'jiashiVillageBot26'
const AES_KEY = 'kWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C'
const GROUP = 'wrkSFfCgAAjiashiVillage'
const GROUP_KEY = '5e1b7c1a-94d2-4bc4-97a0-0ec2sifa5a01'
const RESIDENT = 'wmResidentAhmatjan01'

let api: WecomApiServer
let gw: DemoGateway
beforeAll(async () => {
  api = await startWecomApiServer({ keys: [GROUP_KEY] })
})
afterAll(() => api.close())
beforeEach(async () => {
  api.groupPosts.length = 0
  gw = await demoGateway({ channels: { village: wecomBot({ token: TOKEN, encodingAESKey: AES_KEY, groups: { [GROUP]: GROUP_KEY }, apiBaseUrl: api.url }) } })
})
afterEach(async () => {
  const leaks = [TOKEN, AES_KEY, GROUP_KEY, API_KEY].filter((s) => gw.lines.some((l) => l.includes(s)))
  await gw.close()
  expect(leaks).toEqual([])
})

const say = (content: string, userid = RESIDENT) =>
  Promise.resolve(gw.intake.app.fetch(botCallback(`${BASE}/channels/village/callback`, botText(content, { chatid: GROUP, userid }), { token: TOKEN, encodingAESKey: AES_KEY })))

describe('a resident in a village group on WeCom', () => {
  it('opens a case, is acknowledged in the group by mention, and hears the staff answer there', async () => {
    const res = await say('@村务助手 伽师县检察院：我们村的公益诉讼线索，河道被非法采砂破坏。')
    expect(res.status).toBe(200)
    const { cases } = await gw.intake.store.listCases({ limit: 10 })
    expect(cases).toHaveLength(1)
    const kase = cases[0]!
    expect(kase).toMatchObject({ officeId: 'jiashi-procuratorate', channelId: 'village', citizen: { id: `${GROUP}:${RESIDENT}` } })

    await gw.intake.outbox.drain()
    expect(api.groupPosts).toHaveLength(1)
    expect(api.groupPosts[0]).toMatchObject({ key: GROUP_KEY, mentioned: [RESIDENT] })
    expect(api.groupPosts[0]!.content).toContain(kase.trackingCode)

    const staff = await gw.api(`/cases/${kase.id}/replies`, { method: 'POST', body: { text: '已派员核查，采砂船已扣押。', author: 'prosecutor-3' } })
    expect(staff.status).toBe(201)
    await gw.intake.outbox.drain()
    expect(api.groupPosts).toHaveLength(2)
    expect(api.groupPosts[1]!.content).toContain('已派员核查，采砂船已扣押。')
    expect(api.groupPosts[1]!.mentioned).toEqual([RESIDENT])

    // A neighbour in the same group has their own case.
    await say('@村务助手 疏勒县的路灯坏了', 'wmResidentNeighbour02')
    expect((await gw.intake.store.listCases({ limit: 10 })).cases).toHaveLength(2)
  })
})
