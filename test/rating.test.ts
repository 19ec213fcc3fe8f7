/**
 * The loop closes with the citizen's rating: the resolution notice asks for 1–5, and that answer
 * (on the same channel, from the same sender) rates and closes the case instead of reopening it or
 * opening a new one.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ratingIn } from '@intake/core'
import { demoGateway, type DemoGateway } from './support/gateway.ts'

let gw: DemoGateway | undefined
afterEach(async () => {
  await gw?.close()
  gw = undefined
})

async function resolvedCase(citizen: string) {
  gw = await demoGateway()
  const g = gw
  const res = await g.sendApi({ id: `${citizen}-1`, from: { id: citizen }, text: '伽师县巴仁镇的路灯坏了一个月了' })
  const { results } = (await res.json()) as { results: Array<{ caseId: string }> }
  const caseId = results[0]!.caseId
  expect((await g.api(`/cases/${caseId}/status`, { method: 'POST', body: { status: 'resolved', actor: 'clerk-1' } })).status).toBe(200)
  let n = 1
  return {
    g,
    caseId,
    say: async (text: string) => (await (await g.sendApi({ id: `${citizen}-${++n}`, from: { id: citizen }, text })).json()) as { results: Array<{ caseId: string; followUp: boolean }> },
  }
}

describe('rating a resolved case', () => {
  it('"5" from the citizen rates and closes the case, on the record and the status page, and thanks them', async () => {
    const { g, caseId, say } = await resolvedCase('citizen-r1')
    const answer = await say('5')
    expect(answer.results[0]).toMatchObject({ caseId, followUp: true })
    const kase = (await g.intake.store.getCase(caseId))!
    expect(kase).toMatchObject({ status: 'closed', rating: 5 })
    const events = await g.intake.store.listEvents(caseId)
    expect(events.find((e) => e.type === 'rated')).toMatchObject({ data: { rating: 5, satisfied: true } })
    expect(events.at(-1)).toMatchObject({ type: 'status_changed', data: { from: 'resolved', to: 'closed', transition: 'close', reason: 'rated' } })
    const outbox = await g.intake.store.listOutbox({ caseId })
    expect(outbox[0]!.payload.text).toContain('感谢您的评价（5 分）')
    expect((await g.intake.store.listCases({})).cases).toHaveLength(1)
  })

  it('takes "４分" (full-width); a rated case is not rated twice', async () => {
    const { g, caseId, say } = await resolvedCase('citizen-r2')
    await say('４分')
    expect((await g.intake.store.getCase(caseId))!.rating).toBe(4)
    // A second digit no longer finds a resolved, unrated case: it is a new message, not a new rating.
    await say('2')
    expect((await g.intake.store.getCase(caseId))!.rating).toBe(4)
  })

  it('a digit on a case still open is a follow-up, and a sentence that starts with a digit is not a rating', async () => {
    gw = await demoGateway()
    const first = (await (await gw.sendApi({ id: 'o-1', from: { id: 'citizen-r3' }, text: '莎车县有工地拖欠工资' })).json()) as { results: Array<{ caseId: string }> }
    await gw.sendApi({ id: 'o-2', from: { id: 'citizen-r3' }, text: '5' })
    const kase = (await gw.intake.store.getCase(first.results[0]!.caseId))!
    expect(kase).toMatchObject({ rating: null })
    expect(kase.status).not.toBe('closed')
    expect(ratingIn('5 people have not been paid')).toBeUndefined()
    expect(ratingIn('3 stars')).toBe(3)
    expect(ratingIn(' 1。')).toBe(1)
    expect(ratingIn('6')).toBeUndefined()
  })

  it('a provider retry of the rating is one rating and one thank-you', async () => {
    const { g, caseId } = await resolvedCase('citizen-r4')
    for (let i = 0; i < 2; i++) await g.sendApi({ id: 'citizen-r4-rate', from: { id: 'citizen-r4' }, text: '5' })
    expect((await g.intake.store.listEvents(caseId)).filter((e) => e.type === 'rated')).toHaveLength(1)
    expect((await g.intake.store.listOutbox({ caseId })).filter((o) => o.payload.text.includes('感谢您的评价'))).toHaveLength(1)
  })
})
