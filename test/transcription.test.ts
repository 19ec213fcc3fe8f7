/**
 * Voice messages: transcribed at intake when the engine answers in time, otherwise left open as
 * "transcript pending" and retried by the worker, which then routes the case on its words.
 * The engines themselves (OpenAI-compatible API, offline) have their own tests; here a scripted
 * Transcriber stands for "the engine answered / failed / hung".
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ChannelAdapter, InboundRoute, Transcriber } from '@intake/core'
import { demoGateway, type DemoGateway } from './support/gateway.ts'

type Answer = string | Error | 'hang'

function scriptedTranscriber(answers: Answer[]): Transcriber & { heard: Array<{ bytes: number; contentType: string; language?: string }> } {
  const heard: Array<{ bytes: number; contentType: string; language?: string }> = []
  return {
    name: 'scripted-engine',
    heard,
    async transcribe(audio, { language, signal }) {
      heard.push({ bytes: audio.bytes.length, contentType: audio.contentType, language })
      const answer = answers.shift() ?? new Error('no scripted answer left')
      if (answer === 'hang') return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))))
      if (answer instanceof Error) throw answer
      return { text: answer, confidence: 0.82 }
    },
  }
}

/** A channel that takes a voice note as raw bytes, as a chat app's webhook would after download. */
const takeVoice: InboundRoute['parse'] = async (req, ctx) => {
  const blobKey = await ctx.blobs.put(req.body)
  return {
    messages: [
      {
        channelId: ctx.channelId,
        externalId: req.url.searchParams.get('id')!,
        from: { channelId: ctx.channelId, id: req.url.searchParams.get('from') ?? 'caller-1' },
        text: '',
        language: 'zh-CN',
        attachments: [{ contentType: 'audio/wav', size: req.body.length, blobKey }],
        receivedAt: ctx.now(),
      },
    ],
  }
}

const voiceChannel: ChannelAdapter = {
  kind: 'voice-probe',
  capabilities: { media: true },
  routes: [
    { method: 'POST', path: '/voice', parse: takeVoice },
    // Like WeChat's push or Twilio's record action: the provider waits for the acknowledgement.
    { method: 'POST', path: '/voice-inline', acknowledgesInline: true, parse: takeVoice, respond: (h) => new Response(h.kind === 'messages' ? h.results[0]!.acknowledgement : '') },
  ],
  send: async (msg) => ({ ok: true, providerId: `voice-out-${msg.id}` }),
}

let gw: DemoGateway | undefined
afterEach(async () => {
  await gw?.close()
  gw = undefined
})

async function setup(answers: Answer[], over: { timeoutMs?: number; inlineTimeoutMs?: number; maxAttempts?: number } = {}) {
  let clock = Date.UTC(2026, 10, 23, 2, 0)
  const transcriber = scriptedTranscriber(answers)
  gw = await demoGateway(
    { channels: { voice: voiceChannel }, transcriber, transcription: { timeoutMs: over.timeoutMs ?? 2_000, inlineTimeoutMs: over.inlineTimeoutMs, maxAttempts: over.maxAttempts ?? 3, baseDelayMs: 1_000, maxDelayMs: 1_000 } },
    { now: () => clock },
  )
  const g = gw
  return {
    transcriber,
    gw: g,
    advance: (ms: number) => (clock += ms),
    async sendVoice(id: string, status = 201) {
      const res = await g.intake.app.request(`http://intake.test/channels/voice/voice?id=${id}`, { method: 'POST', body: new Uint8Array(4_000).fill(7) })
      expect(res.status).toBe(status)
      const [kase] = (await g.intake.store.listCases({})).cases
      return kase!
    },
    async view(caseId: string) {
      return {
        kase: (await g.intake.store.getCase(caseId))!,
        text: (await g.intake.store.listMessages(caseId)).find((m) => m.direction === 'in')!.text,
        events: await g.intake.store.listEvents(caseId),
      }
    },
  }
}

describe('voice messages', () => {
  it('are transcribed at intake and routed on their words, the audio kept', async () => {
    const t = await setup(['我是伽师县巴仁镇的，我们村停水三天了'])
    const kase = await t.sendVoice('rec-1')
    const { text, events } = await t.view(kase.id)
    expect(text).toBe('我是伽师县巴仁镇的，我们村停水三天了')
    expect(t.gw.intake.offices.get(kase.officeId)?.intakeDesk).toBe(false)
    expect(events.find((e) => e.type === 'transcribed')?.data).toMatchObject({ confidence: 0.82 })
    expect(t.transcriber.heard).toEqual([{ bytes: 4_000, contentType: 'audio/wav', language: 'zh-CN' }])
    const inbound = (await t.gw.intake.store.listMessages(kase.id)).find((m) => m.direction === 'in')!
    expect(inbound.attachments.map((a) => a.contentType)).toEqual(['audio/wav'])
  })

  it('a failed transcription leaves the case open as "transcript pending"; the retry routes it on its words', async () => {
    const t = await setup([new Error('engine 503'), '伽师县巴仁镇停水三天了'])
    const kase = await t.sendVoice('rec-2')
    let view = await t.view(kase.id)
    expect(view.kase.status).toBe('received')
    expect(view.kase.summary).toMatch(/transcript pending/)
    expect(t.gw.intake.offices.get(view.kase.officeId)?.intakeDesk).toBe(true)
    expect(view.events.map((e) => e.type)).toContain('transcription_pending')
    // The acknowledgement still went out: the citizen has a tracking code while the engine is down.
    expect((await t.gw.intake.store.listOutbox({ caseId: kase.id })).map((o) => o.payload.kind)).toEqual(['acknowledgement'])

    expect(await t.gw.intake.transcriptions!.drain(), 'not due before the retry delay').toBe(0)
    t.advance(1_000)
    expect(await t.gw.intake.transcriptions!.drain()).toBe(1)
    view = await t.view(kase.id)
    expect(view.text).toBe('伽师县巴仁镇停水三天了')
    expect(view.kase.summary).toBe('伽师县巴仁镇停水三天了')
    expect(t.gw.intake.offices.get(view.kase.officeId)?.intakeDesk).toBe(false)
    const rerouted = view.events.filter((e) => e.type === 'routed').at(-1)!
    expect(rerouted.data).toMatchObject({ officeId: view.kase.officeId, after: 'transcript' })
  })

  it('an engine that hangs is cut off at the timeout; the case exists and the transcription is retried', async () => {
    const t = await setup(['hang', '疏勒县供暖不热'], { timeoutMs: 100 })
    const kase = await t.sendVoice('rec-3')
    expect((await t.view(kase.id)).events.find((e) => e.type === 'transcription_pending')?.data).toMatchObject({ error: expect.stringMatching(/within 100 ms/) })
    t.advance(1_000)
    await t.gw.intake.transcriptions!.drain()
    expect((await t.view(kase.id)).text).toBe('疏勒县供暖不热')
  })

  it('a route whose provider waits for the answer gets a shorter limit at intake; the worker then has the full one', async () => {
    const t = await setup(['hang', '疏勒县供暖不热'], { timeoutMs: 5_000, inlineTimeoutMs: 100 })
    const res = await t.gw.intake.app.request('http://intake.test/channels/voice/voice-inline?id=rec-6', { method: 'POST', body: new Uint8Array(4_000).fill(7) })
    const [kase] = (await t.gw.intake.store.listCases({})).cases
    expect(await res.text(), 'the provider still hears the tracking code in time').toContain(kase!.trackingCode)
    expect((await t.view(kase!.id)).events.find((e) => e.type === 'transcription_pending')?.data).toMatchObject({ error: expect.stringMatching(/within 100 ms/) })
    t.advance(1_000)
    await t.gw.intake.transcriptions!.drain()
    expect((await t.view(kase!.id)).text).toBe('疏勒县供暖不热')
  })

  it('after the last attempt the case stays with its audio for staff, and says so on the record', async () => {
    const t = await setup([new Error('e1'), new Error('e2'), new Error('e3')], { maxAttempts: 3 })
    const kase = await t.sendVoice('rec-4')
    for (let i = 0; i < 3; i++) {
      t.advance(1_000)
      await t.gw.intake.transcriptions!.drain()
    }
    const view = await t.view(kase.id)
    expect(view.events.filter((e) => e.type === 'transcription_failed')).toHaveLength(1)
    expect(view.events.find((e) => e.type === 'transcription_failed')?.data).toMatchObject({ attempts: 3, error: 'e3' })
    expect(view.kase.status).toBe('received')
    expect(t.transcriber.heard).toHaveLength(3)
  })

  it('a provider retry of the same voice message makes one case and one transcription', async () => {
    const t = await setup(['莎车县拖欠工资'])
    await t.sendVoice('rec-5')
    await t.sendVoice('rec-5', 200)
    expect((await t.gw.intake.store.listCases({})).cases).toHaveLength(1)
    expect(t.transcriber.heard).toHaveLength(1)
  })
})
