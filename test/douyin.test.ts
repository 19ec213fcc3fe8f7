/**
 * A Douyin enterprise account end to end on the county-hotline demo: the open platform's signed
 * webhook brings a private message and a video comment, each becomes a case routed to its office;
 * the private message is acknowledged and answered in its conversation, the comment under the
 * comment with nothing but the tracking code and the status link — all through a loopback stand-in
 * that speaks Douyin's open API.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { douyinChannel } from '@intake/channels/douyin'
import { imMessage, signedEvent, startDouyinApiServer, videoComment, type DouyinApiServer } from '@intake/channels/douyin/douyin-api-server'
import { API_KEY, BASE, demoGateway, type DemoGateway } from './support/gateway.ts'

const CLIENT_SECRET = 'countyDouyinClientSecret01234567'
const ACCOUNT = '_000accountOpenId0001'
const TOKEN = 'act.countyDouyinAccessToken012345'

let api: DouyinApiServer
let gw: DemoGateway
beforeAll(async () => {
  api = await startDouyinApiServer({ accessToken: TOKEN, accountOpenId: ACCOUNT })
})
afterAll(() => api.close())
beforeEach(async () => {
  api.privateMessages.length = 0
  api.commentReplies.length = 0
  const douyin = douyinChannel({ clientKey: 'awdouyinclientkey01', clientSecret: CLIENT_SECRET, accountOpenId: ACCOUNT, accessToken: TOKEN, apiBaseUrl: api.url, comments: { mode: 'mentions', name: '喀什检察' } })
  gw = await demoGateway({ channels: { douyin } })
})
afterEach(async () => {
  const leaks = [CLIENT_SECRET, TOKEN, API_KEY].filter((s) => gw.lines.some((l) => l.includes(s)))
  await gw.close()
  expect(leaks).toEqual([])
})
const deliver = (e: unknown) => Promise.resolve(gw.intake.app.fetch(signedEvent(`${BASE}/channels/douyin/webhook`, e, CLIENT_SECRET)))

describe('a Douyin enterprise account', () => {
  it('turns a private message into a routed case, acknowledges and answers it in the conversation', async () => {
    expect((await deliver(imMessage('伽师县检察院：我们村的公益诉讼线索，河道被非法采砂破坏。', { id: '7290000000000070001' }))).status).toBe(200)
    const [kase] = (await gw.intake.store.listCases({ limit: 10 })).cases
    expect(kase).toMatchObject({ officeId: 'jiashi-procuratorate', channelId: 'douyin' })
    await gw.intake.outbox.drain()
    expect(api.privateMessages).toHaveLength(1)
    expect(api.privateMessages[0]!.text).toContain(kase!.trackingCode)

    const staff = await gw.api(`/cases/${kase!.id}/replies`, { method: 'POST', body: { text: '已派员核查，采砂船已扣押。', author: 'prosecutor-3' } })
    expect(staff.status).toBe(201)
    await gw.intake.outbox.drain()
    expect(api.privateMessages).toHaveLength(2)
    expect(api.privateMessages[1]).toMatchObject({ conversationId: '7290000000000000999', toUserId: '_000citizenOpenId0001' })
    expect(api.privateMessages[1]!.text).toContain('已派员核查，采砂船已扣押。')
  })

  it('answers a commenter only under the comment, revealing the tracking code and status link and nothing else', async () => {
    await deliver(videoComment('@喀什检察 疏勒县拖欠工资三个月了，我叫王五', { id: '@c-70002' }))
    const [kase] = (await gw.intake.store.listCases({ limit: 10 })).cases
    expect(kase!.officeId).toBe('shule-labour')
    await gw.api(`/cases/${kase!.id}/replies`, { method: 'POST', body: { text: '王五您好，已约谈用人单位。', author: 'labour-1' } })
    await gw.intake.outbox.drain()
    expect(api.privateMessages).toHaveLength(0)
    expect(api.commentReplies.map((r) => r.content)).toEqual([
      `已收到，编号 ${kase!.trackingCode}，进度：${BASE}/status/${kase!.trackingCode}`,
      `您的诉求有新进展，编号 ${kase!.trackingCode}，进度：${BASE}/status/${kase!.trackingCode}`,
    ])
  })
})
