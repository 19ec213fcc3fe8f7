/**
 * A WeChat Official Account end to end on the county-hotline demo: WeChat pushes signed XML to the
 * gateway, the acknowledgement with the tracking code goes back as the passive reply, staff answer
 * through the API and the reply reaches WeChat's customer-service API (a loopback stand-in speaking
 * its wire format), and the citizen's next message joins the same case.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { cdata, leafFields, parseXml, wechatChannel, wechatSignature } from '@intake/channels/wechat'
import { startWechatApiServer, type WechatApiServer } from '@intake/channels/wechat/wechat-api-server'
import { BASE, demoGateway, type DemoGateway } from './support/gateway.ts'

const TOKEN = 'countyHotlineWx2026'
const APP_ID = 'wx2c2769f8efd9abc2'
const APP_SECRET = 'county-hotline-app-secret-000001'
const ACCOUNT = 'gh_10f6c3c3ac5a'
const OPENID = 'oyORnuP8q7ou2gfYjqLzSIWZf0rs'

let api: WechatApiServer
let gw: DemoGateway
beforeAll(async () => {
  api = await startWechatApiServer({ appId: APP_ID, appSecret: APP_SECRET })
})
afterAll(() => api.close())
beforeEach(async () => {
  api.sent.length = 0
  gw = await demoGateway({ channels: { wechat: wechatChannel({ token: TOKEN, appId: APP_ID, appSecret: APP_SECRET, apiBaseUrl: api.url }) } })
})
afterEach(async () => {
  // The token, the AppSecret and every access token WeChat handed out stay out of the logs.
  const leaks = [TOKEN, APP_SECRET, ...api.issuedTokens].filter((s) => gw.lines.some((l) => l.includes(s)))
  await gw.close()
  expect(leaks).toEqual([])
})

let msgId = 6054768590064713728n
const nextMsgId = () => String(++msgId)

const textXml = (content: string, { id = nextMsgId(), from = OPENID } = {}) =>
  `<xml><ToUserName><![CDATA[${ACCOUNT}]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>${cdata(content)}</Content><MsgId>${id}</MsgId></xml>`

/** POST the XML as WeChat does: signature = sha1(sort(token, timestamp, nonce)) in the query string. */
function push(xml: string, token = TOKEN) {
  const timestamp = String(Math.floor(Date.now() / 1000))
  const nonce = String(Math.floor(Math.random() * 1e9))
  const q = new URLSearchParams({ signature: wechatSignature(token, timestamp, nonce), timestamp, nonce, openid: OPENID })
  return Promise.resolve(gw.intake.app.request(`${BASE}/channels/wechat/messages?${q}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: xml }))
}

async function passiveReply(res: Response) {
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/xml/)
  return leafFields(parseXml(await res.text()))
}

const caseCount = async () => (await gw.intake.store.listCases({ limit: 100 })).cases.length

describe('a WeChat follower through a case', () => {
  it('acknowledges in the passive reply, routes, carries a staff reply to WeChat, and joins the next message to the case', async () => {
    const reply = await passiveReply(await push(textXml('伽师县检察院：我们村的公益诉讼线索，河道被非法采砂破坏。')))
    expect(reply).toMatchObject({ ToUserName: OPENID, FromUserName: ACCOUNT, MsgType: 'text' })
    const code = /编号 ([2-9A-Z]{4}-[2-9A-Z]{4})/.exec(reply.Content!)?.[1]
    expect(code, reply.Content).toBeDefined()
    expect(reply.Content).toContain('伽师县人民检察院')

    const kase = (await (await gw.api(`/cases/by-tracking-code/${code}`)).json()) as { id: string; officeId: string; citizen: { id: string } }
    expect(kase.officeId).toBe('jiashi-procuratorate')
    // The API masks the citizen's address; the stored case has it whole.
    expect((await gw.intake.store.getCase(kase.id))!.citizen.id).toBe(OPENID)

    const staff = await gw.api(`/cases/${kase.id}/replies`, { method: 'POST', body: { text: '线索已收到，检察官将于三日内联系您。', author: 'prosecutor-3' } })
    expect(staff.status).toBe(201)
    await gw.intake.outbox.drain()
    expect(api.sent).toHaveLength(1)
    expect(api.sent[0]).toMatchObject({ touser: OPENID, msgtype: 'text' })
    expect(api.sent[0]!.text!.content).toContain('线索已收到，检察官将于三日内联系您。')
    expect(api.sent[0]!.text!.content).toContain(code)

    const again = await passiveReply(await push(textXml('补充：采砂船晚上十点以后来。')))
    expect(again.Content).toContain(code)
    expect(again.Content).toContain(`${BASE}/status/${code}`)
    const { messages } = (await (await gw.api(`/cases/${kase.id}`)).json()) as { messages: Array<{ direction: string; text: string }> }
    expect(messages.filter((m) => m.direction === 'in').map((m) => m.text)).toEqual(['伽师县检察院：我们村的公益诉讼线索，河道被非法采砂破坏。', '补充：采砂船晚上十点以后来。'])
    expect(await caseCount()).toBe(1)
  })

  it('after the 48-hour window closes, dead-letters the reply with the reason and points the citizen to the status page on their next message', async () => {
    const first = await passiveReply(await push(textXml('疏勒县的路灯坏了一个月了。')))
    const code = /编号 ([2-9A-Z]{4}-[2-9A-Z]{4})/.exec(first.Content!)![1]!
    const kase = (await (await gw.api(`/cases/by-tracking-code/${code}`)).json()) as { id: string }

    api.failNextSend({ errcode: 45015 })
    await gw.api(`/cases/${kase.id}/replies`, { method: 'POST', body: { text: '已安排维修。', author: 'clerk-1' } })
    await gw.intake.outbox.drain()
    const [dead] = await gw.intake.store.listOutbox({ status: 'dead' })
    expect(dead?.lastError).toMatch(/rejected.*48-hour/s)
    expect(api.sent).toEqual([])

    // The follow-up acknowledgement (core's followUp template) carries the status page link, where the reply is.
    const next = await passiveReply(await push(textXml('请问修好了吗？')))
    expect(next.Content).toContain(`${BASE}/status/${code}`)
    const page = await gw.intake.app.request(`${BASE}/status/${code}?lang=zh`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('已安排维修。')
  })

  it('takes a voice message with WeChat’s recognition as its text', async () => {
    const voice = `<xml><ToUserName><![CDATA[${ACCOUNT}]]></ToUserName><FromUserName><![CDATA[oVoiceCitizen01]]></FromUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[media_id]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[伽师县巴仁镇的自来水停了三天了]]></Recognition><MsgId>${nextMsgId()}</MsgId></xml>`
    const reply = await passiveReply(await push(voice))
    const code = /编号 ([2-9A-Z]{4}-[2-9A-Z]{4})/.exec(reply.Content!)![1]!
    const kase = (await (await gw.api(`/cases/by-tracking-code/${code}`)).json()) as { id: string; citizen: { id: string } }
    expect((await gw.intake.store.getCase(kase.id))!.citizen.id).toBe('oVoiceCitizen01')
    const { messages } = (await (await gw.api(`/cases/${kase.id}`)).json()) as { messages: Array<{ direction: string; text: string; attachments: unknown[] }> }
    expect(messages[0]).toMatchObject({ direction: 'in', text: '伽师县巴仁镇的自来水停了三天了', attachments: [] })
  })
})

describe('what WeChat never sends', () => {
  it('refuses a forged signature with 401 and stores nothing', async () => {
    const res = await push(textXml('伽师县检察院：伪造的消息'), 'notTheRealToken1')
    expect(res.status).toBe(401)
    expect(await caseCount()).toBe(0)
    expect(await gw.intake.store.listOutbox({})).toEqual([])
  })

  it('refuses an XML bomb with 400 and stores nothing', async () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">${Array.from({ length: 8 }, (_, i) => `<!ENTITY a${i + 1} "${`&a${i || ''};`.repeat(10)}">`).join('')}]><xml><ToUserName>${ACCOUNT}</ToUserName><FromUserName>${OPENID}</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&a8;</Content><MsgId>1</MsgId></xml>`
    const res = await push(bomb)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: { code: 'xml_doctype_forbidden' } })
    expect(await caseCount()).toBe(0)
  })
})
