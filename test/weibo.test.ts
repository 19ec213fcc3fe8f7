/**
 * A Weibo matrix end to end on the county-hotline demo: two offices each run a Weibo account, each
 * account is its own channel, `byChannelOwner` routes each account's private messages to its owner.
 * The platform's signed push reaches the gateway, the acknowledgement goes back as the passive reply
 * on the same account, and a staff answer reaches the citizen through the reply API (a loopback
 * stand-in speaking Weibo's wire format), sent with that account's token.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { byChannelOwner } from '@intake/routing'
import { weiboChannel } from '@intake/channels/weibo'
import { signedPush, startWeiboApiServer, weiboText, type WeiboApiServer } from '@intake/channels/weibo/weibo-api-server'
import { demoRouting } from '../examples/county-hotline/routing.ts'
import { API_KEY, BASE, demoGateway, type DemoGateway } from './support/gateway.ts'

const APP_SECRET = 'countyMatrixAppSecret0123456789'
const JIASHI = { uid: '1902538057', token: '2.00JiashiProcuratorateToken01' }
const SHULE = { uid: '1902538058', token: '2.00ShuleLabourBureauToken0001' }
const CITIZEN = '2489518277'

let api: WeiboApiServer
let gw: DemoGateway
beforeAll(async () => {
  api = await startWeiboApiServer({ accounts: { [JIASHI.token]: JIASHI.uid, [SHULE.token]: SHULE.uid } })
})
afterAll(() => api.close())
beforeEach(async () => {
  api.replies.length = 0
  const account = (a: typeof JIASHI) => weiboChannel({ appSecret: APP_SECRET, accessToken: a.token, accountUid: a.uid, apiBaseUrl: api.url })
  gw = await demoGateway({
    channels: { 'weibo-jiashi': account(JIASHI), 'weibo-shule': account(SHULE) },
    routing: [byChannelOwner({ channels: { 'weibo-jiashi': 'jiashi-procuratorate', 'weibo-shule': 'shule-labour' } }), ...demoRouting()],
  })
})
afterEach(async () => {
  const leaks = [APP_SECRET, JIASHI.token, SHULE.token, API_KEY].filter((s) => gw.lines.some((l) => l.includes(s)))
  await gw.close()
  expect(leaks).toEqual([])
})

const dm = (channel: string, account: string, text: string) =>
  Promise.resolve(gw.intake.app.fetch(signedPush(`${BASE}/channels/${channel}/push`, weiboText(text, { sender: CITIZEN, receiver: account }), { appSecret: APP_SECRET })))

describe('a Weibo account matrix', () => {
  it('routes each account to its owner, acknowledges on the same account, and answers through the reply API', async () => {
    const res = await dm('weibo-jiashi', JIASHI.uid, '我要反映一个问题，河道被非法采砂。')
    expect(res.status).toBe(200)
    const passive = await res.json()
    expect(passive).toMatchObject({ result: true, sender_id: Number(JIASHI.uid), receiver_id: Number(CITIZEN), type: 'text' })
    await dm('weibo-shule', SHULE.uid, '老板拖欠工资三个月了。')

    const { cases } = await gw.intake.store.listCases({ limit: 10 })
    const byChannel = Object.fromEntries(cases.map((c) => [c.channelId, c]))
    expect(byChannel['weibo-jiashi']).toMatchObject({ officeId: 'jiashi-procuratorate', citizen: { id: CITIZEN } })
    expect(byChannel['weibo-shule']).toMatchObject({ officeId: 'shule-labour' })
    expect(JSON.parse(decodeURIComponent(passive.data)).text).toContain(byChannel['weibo-jiashi']!.trackingCode)

    const staff = await gw.api(`/cases/${byChannel['weibo-shule']!.id}/replies`, { method: 'POST', body: { text: '已约谈用人单位，工资本周发放。', author: 'labour-1' } })
    expect(staff.status).toBe(201)
    await gw.intake.outbox.drain()
    expect(api.replies).toHaveLength(1)
    expect(api.replies[0]).toMatchObject({ from: SHULE.uid, to: CITIZEN })
    expect(api.replies[0]!.text).toContain('已约谈用人单位，工资本周发放。')
  })
})
