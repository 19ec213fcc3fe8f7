/**
 * What core does for every adapter beyond intake: delivery reports, STOP/START, and the thread an
 * outbound message carries. Driven through a small adapter that records what it was asked to send.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ChannelAdapter, OutboundMessage, SendResult } from '@intake/core'
import { demoGateway, type DemoGateway } from './support/gateway.ts'

interface Probe {
  adapter: ChannelAdapter
  sent: OutboundMessage[]
  /** The next send answers this instead of ok. */
  failNext?: SendResult
}

function probeChannel(): Probe {
  const probe: Probe = {
    sent: [],
    adapter: {
      kind: 'probe',
      capabilities: { threading: true },
      routes: [
        {
          method: 'POST',
          path: '/in',
          async parse(req, ctx) {
            const body = JSON.parse(req.text()) as { id: string; from: string; text: string; refs?: string[]; command?: 'stop' | 'start' }
            if (body.command) {
              await ctx.setOptOut(body.from, body.command === 'stop')
              return { ignored: `opt-${body.command === 'stop' ? 'out' : 'in'}` }
            }
            return { messages: [{ channelId: ctx.channelId, externalId: body.id, from: { channelId: ctx.channelId, id: body.from }, text: body.text, threadRefs: body.refs ?? [], receivedAt: ctx.now() }] }
          },
        },
        {
          method: 'POST',
          path: '/inline',
          acknowledgesInline: true,
          async parse(req, ctx) {
            const body = JSON.parse(req.text()) as { id: string; from: string; text: string }
            return { messages: [{ channelId: ctx.channelId, externalId: body.id, from: { channelId: ctx.channelId, id: body.from }, text: body.text, receivedAt: ctx.now() }] }
          },
          respond: (handled) => new Response(handled.kind === 'messages' ? handled.results.map((r) => r.acknowledgement).join('\n') : ''),
        },
        {
          method: 'POST',
          path: '/status',
          async parse(req) {
            const body = JSON.parse(req.text()) as { id: string; status: 'sent' | 'delivered' | 'failed'; error?: string }
            return { reports: [{ providerId: body.id, status: body.status, error: body.error }] }
          },
        },
      ],
      async send(msg) {
        if (probe.failNext) {
          const result = probe.failNext
          probe.failNext = undefined
          return result
        }
        probe.sent.push(msg)
        return { ok: true, providerId: `probe-out-${probe.sent.length}` }
      },
    },
  }
  return probe
}

let gw: DemoGateway | undefined
afterEach(async () => {
  await gw?.close()
  gw = undefined
})

async function setup() {
  const probe = probeChannel()
  gw = await demoGateway({ channels: { probe: probe.adapter } })
  const post = (path: string, body: unknown) =>
    gw!.intake.app.request(`http://intake.test/channels/probe${path}`, { method: 'POST', body: JSON.stringify(body) })
  return { probe, gw, post }
}

const reply = (gw: DemoGateway, caseId: string, text: string) =>
  gw.api(`/cases/${caseId}/replies`, { method: 'POST', body: { text, author: 'clerk-1' } })

describe('delivery reports', () => {
  it('move the sent message forward to delivered, and a late "sent" does not undo it', async () => {
    const { probe, gw, post } = await setup()
    const res = await post('/in', { id: 'in-1', from: 'citizen-1', text: '伽师县的路灯坏了' })
    expect(res.status).toBe(201)
    await gw.intake.outbox.drain()
    expect(probe.sent).toHaveLength(1)
    const { cases } = await gw.intake.store.listCases({})
    const ackStatus = async () => (await gw.intake.store.listMessages(cases[0]!.id)).find((m) => m.direction === 'out')!.deliveryStatus
    expect(await ackStatus()).toBe('sent')

    expect(await (await post('/status', { id: 'probe-out-1', status: 'delivered' })).json()).toEqual({ updated: 1 })
    expect(await (await post('/status', { id: 'probe-out-1', status: 'sent' })).json()).toEqual({ updated: 0 })
    expect(await ackStatus()).toBe('delivered')
    // A report about a message we never sent changes nothing and is not an error.
    const unknown = await post('/status', { id: 'probe-out-404', status: 'failed', error: '30003' })
    expect(unknown.status).toBe(200)
    expect(await unknown.json()).toEqual({ updated: 0 })
  })
})

describe('STOP and START', () => {
  it('a stopped citizen receives nothing on that channel until START; the reply is dead-lettered as stopped', async () => {
    const { probe, gw, post } = await setup()
    await post('/in', { id: 'in-1', from: 'citizen-1', text: '莎车县欠薪' })
    await gw.intake.outbox.drain()
    const [kase] = (await gw.intake.store.listCases({})).cases
    expect(probe.sent).toHaveLength(1)

    expect(await (await post('/in', { id: 'in-2', from: 'citizen-1', command: 'stop' })).json()).toEqual({ ignored: 'opt-out' })
    expect((await reply(gw, kase!.id, '已安排人员核实')).status).toBe(201)
    await gw.intake.outbox.drain()
    expect(probe.sent).toHaveLength(1)
    const dead = await gw.intake.store.listOutbox({ status: 'dead' })
    expect(dead).toHaveLength(1)
    expect(dead[0]!.lastError).toMatch(/^stopped/)

    await post('/in', { id: 'in-3', from: 'citizen-1', command: 'start' })
    await reply(gw, kase!.id, '工资已于今日发放')
    await gw.intake.outbox.drain()
    expect(probe.sent.map((m) => m.kind)).toEqual(['acknowledgement', 'reply'])
    expect(probe.sent[1]!.text).toContain('工资已于今日发放')
  })

  it('a provider that answers "stopped" marks the address opted out for later replies', async () => {
    const { probe, gw, post } = await setup()
    probe.failNext = { ok: false, error: { code: 'stopped', retryable: false, message: 'recipient unsubscribed (21610)' } }
    await post('/in', { id: 'in-1', from: 'citizen-2', text: '疏勒县供暖不热' })
    await gw.intake.outbox.drain()
    expect(await gw.intake.store.isOptedOut('probe', 'citizen-2')).toBe(true)
    const [kase] = (await gw.intake.store.listCases({})).cases
    await reply(gw, kase!.id, '已联系供热公司')
    await gw.intake.outbox.drain()
    expect(probe.sent).toHaveLength(0)
  })
})

describe('threading', () => {
  it('an acknowledgement answers the citizen message; a staff reply answers their latest and refers to the whole conversation', async () => {
    const { probe, gw, post } = await setup()
    await post('/in', { id: 'in-1', from: 'citizen-3', text: '伽师县巴仁镇的水管漏水', refs: ['earlier-0'] })
    await gw.intake.outbox.drain()
    const ack = probe.sent[0]!
    expect(ack.inReplyTo).toBe('in-1')
    expect(ack.references).toEqual(['earlier-0', 'in-1'])
    expect(ack.office?.name).toBeTruthy()

    // The citizen answers the acknowledgement: the thread reference finds the case.
    await post('/in', { id: 'in-2', from: 'citizen-3b', text: '补充：漏了三天了', refs: ['probe-out-1'] })
    const { cases } = await gw.intake.store.listCases({})
    expect(cases).toHaveLength(1)
    await gw.intake.outbox.drain()
    await reply(gw, cases[0]!.id, '维修人员明天上午到')
    await gw.intake.outbox.drain()
    const staff = probe.sent.find((m) => m.kind === 'reply')!
    expect(staff.inReplyTo).toBe('in-2')
    expect(staff.references?.slice(0, 3)).toEqual(['in-1', 'probe-out-1', 'in-2'])
  })
})

describe('acknowledgement in the webhook answer', () => {
  it('answers with the acknowledgement, records it as sent, queues nothing — and answers a retry with the same text', async () => {
    const { probe, gw, post } = await setup()
    const first = await post('/inline', { id: 'wx-1', from: 'openid-1', text: '疏勒县的垃圾没人清运' })
    const text = await first.text()
    const [kase] = (await gw.intake.store.listCases({})).cases
    expect(text).toContain(kase!.trackingCode)
    await gw.intake.outbox.drain()
    expect(probe.sent).toHaveLength(0)
    const out = (await gw.intake.store.listMessages(kase!.id)).filter((m) => m.direction === 'out')
    expect(out.map((m) => [m.text, m.deliveryStatus])).toEqual([[text, 'sent']])

    const retry = await post('/inline', { id: 'wx-1', from: 'openid-1', text: '疏勒县的垃圾没人清运' })
    expect(await retry.text()).toBe(text)
    expect((await gw.intake.store.listCases({})).cases).toHaveLength(1)

    // A follow-up on the same case is acknowledged inline too.
    const more = await post('/inline', { id: 'wx-2', from: 'openid-1', text: '已经一周了' })
    expect(await more.text()).toContain(kase!.trackingCode)
    await gw.intake.outbox.drain()
    expect(probe.sent).toHaveLength(0)
  })
})
