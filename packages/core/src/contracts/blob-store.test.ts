import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { fileBlobStore } from './blob-store.ts'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('fileBlobStore', () => {
  it('stores the same bytes written many times at once as one file, every write succeeding', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'intake-blobs-'))
    dirs.push(dir)
    const blobs = fileBlobStore(dir)
    const photo = new Uint8Array(256 * 1024).map((_, i) => (i * 31) % 251)
    // Many citizens sending one photo in the same millisecond: each write must land, none may 500.
    const keys = await Promise.all(Array.from({ length: 40 }, () => blobs.put(photo)))
    expect(new Set(keys).size).toBe(1)
    expect(await blobs.get(keys[0]!)).toEqual(photo)
    const fanOut = readdirSync(join(dir, keys[0]!.slice(0, 2)))
    expect(fanOut).toEqual([keys[0]])
  })

  it('answers undefined for a key that is not stored or not a key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'intake-blobs-'))
    dirs.push(dir)
    const blobs = fileBlobStore(dir)
    expect(await blobs.get('0'.repeat(64))).toBeUndefined()
    expect(await blobs.get('../etc/passwd')).toBeUndefined()
  })
})
