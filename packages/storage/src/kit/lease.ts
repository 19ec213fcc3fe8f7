/**
 * Conformance cases for Store.tryHoldLease: one holder at a time, per name, until it lets go.
 * Run by `testStore` with its own `test`.
 */
import { expect } from 'vitest'
import type { Store } from '@intake/core'

export function leaseCases(test: (title: string, fn: () => Promise<void>) => void, store: () => Store): void {
  test('a lease has one holder at a time: refused while held, taken again once released; names are independent', async () => {
    const first = await store().tryHoldLease('channel-listeners')
    expect(first).toBeDefined()
    expect(await store().tryHoldLease('channel-listeners')).toBeUndefined()
    const other = await store().tryHoldLease('another-lease')
    expect(other).toBeDefined()
    await first!.release()
    const second = await store().tryHoldLease('channel-listeners')
    expect(second).toBeDefined()
    expect(await store().tryHoldLease('channel-listeners')).toBeUndefined()
    await second!.release()
    await other!.release()
  })
}
