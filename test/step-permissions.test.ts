/**
 * One rule for who may take which step on a case: for every role, at the handling office and at the
 * office above it, on a case in every status (with and without an extension request waiting), the
 * steps the console's case page offers are exactly the steps the API carries out — each tried on a
 * case of its own, through the API with that person's token. A step the console shows and the API
 * refuses (or the reverse) fails here, whichever table drifted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addUser, CaseStatus, issueToken, RETURN_REASONS, type LifecycleStep, type Role } from '@intake/core'
import { BASE } from './support/gateway.ts'
import { consoleGateway, signIn, STAFF_PASSWORD, type ConsoleGateway } from './support/console.ts'

const T0 = Date.UTC(2026, 11, 1, 2, 0)
let clock = T0
let gw: ConsoleGateway
const tokens: Record<string, string> = {}

/** Each role at the case's office (伽师县) and at the prefecture above it (喀什地区). */
const PEOPLE = (['caseworker', 'lead', 'supervisor', 'admin'] as const).flatMap((role: Role) =>
  ['jiashi', 'kashgar'].map((officeId) => ({ login: `steps.${officeId}.${role}`, officeId, role })),
)
const STEPS: readonly LifecycleStep[] = ['dispatch', 'transfer', 'return', 'accept', 'start', 'answer', 'resolve', 'close', 'reopen', 'request_extension', 'decide_extension']

/** The API call that takes each step. */
const CALLS: Record<LifecycleStep, [path: string, body: Record<string, unknown>]> = {
  dispatch: ['dispatch', { officeId: 'jiashi-bairen' }],
  transfer: ['transfer', { officeId: 'shule', reason: '属疏勒县' }],
  return: ['return', { reason: RETURN_REASONS[0] }],
  accept: ['accept', {}],
  start: ['start', {}],
  answer: ['replies', { text: '您好，已收到' }],
  resolve: ['resolve', {}],
  close: ['close', {}],
  reopen: ['reopen', {}],
  request_extension: ['extension', { reason: '需要协调供电公司', within: '3 working days' }],
  decide_extension: ['extension/decision', { approved: false, note: '不同意' }],
}

let citizen = 0
/** A fresh case at 伽师县, dispatched there by the prefecture, put in `status` (and with an extension request waiting). */
async function caseIn(status: CaseStatus, pending: boolean): Promise<string> {
  clock += 1000
  expect((await gw.sms(`+86139${String(++citizen).padStart(8, '0')}`, `伽师县第${citizen}号路灯不亮`)).status).toBe(200)
  // The newest case is this one (the clock moved on).
  const kase = (await gw.intake.store.listCases({ limit: 1 })).cases[0]!
  expect(kase).toMatchObject({ officeId: 'jiashi', createdAt: clock })
  const at = clock
  await gw.intake.store.applyCaseChange({
    caseId: kase.id,
    at,
    patch: { status, ...(status === 'resolved' || status === 'closed' ? { resolvedAt: at, acceptedAt: at } : {}) },
    events: [
      { caseId: kase.id, at, type: 'dispatched', actor: 'test', public: false, data: { from: 'kashgar', to: 'jiashi' } },
      ...(pending ? [{ caseId: kase.id, at, type: 'extension_requested' as const, actor: 'test', public: false, data: { reason: '协调', deadlineAt: T0 + 30 * 86_400_000, officeId: 'jiashi' } }] : []),
    ],
  })
  return kase.id
}

/** What the case page offers this person: the step buttons and the step forms. */
function offered(html: string, id: string): Set<LifecycleStep> {
  const out = new Set<LifecycleStep>([...html.matchAll(/name="transition" value="(\w+)"/g)].map((m) => m[1] as LifecycleStep))
  const forms: Array<[string, LifecycleStep]> = [['dispatch', 'dispatch'], ['transfer', 'transfer'], ['return', 'return'], ['reply', 'answer'], ['extension', 'request_extension'], ['extension/decision', 'decide_extension']]
  for (const [action, step] of forms) if (html.includes(`action="/console/cases/${id}/${action}"`)) out.add(step)
  return out
}

beforeAll(async () => {
  gw = await consoleGateway({}, { now: () => clock })
  for (const p of PEOPLE) {
    await addUser(gw.intake.store, gw.intake.offices, { ...p, name: p.login, password: STAFF_PASSWORD }, 'test', 1)
    tokens[p.login] = (await issueToken(gw.intake.store, { userId: p.login }, 'test', 1, `t-${p.login}`)).secret
  }
}, 60_000)
afterAll(async () => {
  await gw?.close()
})

describe('the console offers exactly the steps the API allows', () => {
  for (const pending of [false, true]) {
    it(`every role at the office and above, every status, ${pending ? 'an extension request waiting' : 'no extension request'}`, { timeout: 120_000 }, async () => {
      // With a request waiting only the extension's two steps differ from the run without one.
      const steps = pending ? (['request_extension', 'decide_extension'] as const) : STEPS
      const mismatches: string[] = []
      /** What each person may do on a received case, for the rule's spot checks below. */
      const onReceived: Record<string, LifecycleStep[]> = {}
      for (const person of PEOPLE) {
        const console_ = await signIn(gw.intake.app, person.login)
        for (const status of CaseStatus.options) {
          const shown = await caseIn(status, pending)
          const page = await console_.get(`/console/cases/${shown}`)
          expect(page.status).toBe(200)
          const offers = offered(await page.text(), shown)
          for (const step of steps) {
            const id = await caseIn(status, pending)
            const [path, body] = CALLS[step]
            const res = await gw.intake.app.request(`${BASE}/api/v1/cases/${id}/${path}`, {
              method: 'POST',
              headers: { authorization: `Bearer ${tokens[person.login]}`, 'content-type': 'application/json' },
              body: JSON.stringify(body),
            })
            const allowed = res.status < 300
            if (!allowed) expect([403, 409], `${person.login} ${step} on ${status}: ${await res.clone().text()}`).toContain(res.status)
            if (allowed && status === 'received') (onReceived[person.login] ??= []).push(step)
            if (allowed !== offers.has(step)) mismatches.push(`${person.role} of ${person.officeId}, ${step} on a ${status} case: console ${offers.has(step) ? 'offers' : 'hides'} it, API answers ${res.status}`)
          }
        }
      }
      expect(mismatches).toEqual([])
      // The rule itself: a caseworker works the case, a lead also dispatches, transfers, returns and
      // approves, a supervisor decides extensions of the offices below and nothing else, on any office.
      if (!pending) {
        expect(onReceived['steps.jiashi.caseworker']).toEqual(['accept', 'start', 'answer', 'resolve', 'request_extension'])
        expect(onReceived['steps.jiashi.lead']).toEqual(['dispatch', 'transfer', 'return', 'accept', 'start', 'answer', 'resolve', 'request_extension'])
        expect(onReceived['steps.kashgar.supervisor']).toBeUndefined()
      } else {
        expect(onReceived['steps.kashgar.supervisor']).toEqual(['decide_extension'])
        expect(onReceived['steps.jiashi.lead']).toBeUndefined()
      }
    })
  }
})
