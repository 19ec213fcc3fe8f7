import { describe, expect, it } from 'vitest'
import { turns } from './turns.ts'

describe('turns', () => {
  it('lets `limit` holders in at once, the next in order as each ends, and refuses one that waited too long', async () => {
    const t = turns(2)
    const a = (await t.take(1_000))!
    const b = (await t.take(1_000))!
    expect(t.active).toBe(2)
    const order: string[] = []
    const c = t.take(1_000).then((done) => (order.push('c'), done))
    const d = t.take(1_000).then((done) => (order.push('d'), done))
    const late = t.take(10)
    expect(t.waiting).toBe(3)
    expect(await late).toBeUndefined()
    expect(t.waiting).toBe(2)
    a()
    a() // ending a turn twice frees one place, not two
    const doneC = await c
    expect(order).toEqual(['c'])
    expect(t.active).toBe(2)
    b()
    const doneD = await d
    expect(order).toEqual(['c', 'd'])
    doneC!()
    doneD!()
    expect(t.active).toBe(0)
  })

  it('refuses a limit that is not a whole number of at least one', () => {
    expect(() => turns(0)).toThrow(/limit/)
    expect(() => turns(1.5)).toThrow(/limit/)
  })
})
