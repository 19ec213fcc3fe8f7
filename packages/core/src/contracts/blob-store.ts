import { createHash, randomUUID } from 'node:crypto'
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Where attachment bytes live. Content-addressed: the key is the SHA-256 of the bytes,
 * so storing the same photo twice (a provider retry) keeps one copy.
 *
 * @example
 * const key = await blobs.put(bytes)
 * const back = await blobs.get(key)
 */
export interface BlobStore {
  put(bytes: Uint8Array): Promise<string>
  get(key: string): Promise<Uint8Array | undefined>
}

const KEY = /^[0-9a-f]{64}$/

/** Files under a directory, two levels of fan-out. Writes go to a temp name first so a crash leaves no half file. */
export function fileBlobStore(dir: string): BlobStore {
  const pathOf = (key: string) => join(dir, key.slice(0, 2), key)
  return {
    async put(bytes) {
      const key = createHash('sha256').update(bytes).digest('hex')
      const path = pathOf(key)
      await mkdir(join(dir, key.slice(0, 2)), { recursive: true })
      // A name of its own per write: two citizens sending the same photo at once (or a provider's
      // retry racing its original) must not write to, and rename away, each other's temp file.
      const tmp = `${path}.${randomUUID()}.tmp`
      await writeFile(tmp, bytes)
      await rename(tmp, path)
      return key
    },
    async get(key) {
      if (!KEY.test(key)) return undefined
      try {
        return new Uint8Array(await readFile(pathOf(key)))
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw err
      }
    },
  }
}

export function memoryBlobStore(): BlobStore {
  const blobs = new Map<string, Uint8Array>()
  return {
    async put(bytes) {
      const key = createHash('sha256').update(bytes).digest('hex')
      blobs.set(key, bytes)
      return key
    },
    async get(key) {
      return blobs.get(key)
    },
  }
}
