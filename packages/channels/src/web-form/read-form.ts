import { createWriteStream, type WriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { Busboy, type BusboyFileStream, type BusboyInstance } from '@fastify/busboy'

export interface FormReadLimits {
  /** Files with a name (or with bytes) in the photos field. */
  maxPhotos: number
  maxPhotoBytes: number
  /** Longest value of a text field, in bytes; a longer one arrives cut (`truncated`). */
  maxFieldBytes: number
  /** Text fields, of any name. */
  maxFields: number
}

export interface FormReadOptions {
  contentType: string
  limits: FormReadLimits
  /** The field that carries files. */
  photoField: string
  /** Where photos are written while the rest of the form arrives (a folder of their own inside it). */
  tempDir: string
  /**
   * Asked as each text field arrives, before the rest is read: true stops reading there (a text
   * over its limit need not wait for the photos behind it).
   */
  stopAt(name: string, value: string, truncated: boolean): boolean
  /** Asked with a photo's first bytes (at least 12 when it has them): false stops reading there. */
  looksLikePhoto(head: Uint8Array): boolean
}

/** A photo as received: on disk, not yet decoded. */
export interface ReceivedPhoto {
  /** The file name the citizen's device sent. */
  filename: string
  file: string
  size: number
}

export type FormStop =
  | { reason: 'malformed' }
  | { reason: 'field'; name: string }
  | { reason: 'text_in_photo_field' }
  | { reason: 'too_many_photos' }
  | { reason: 'photo_too_large'; filename: string }
  | { reason: 'not_a_photo'; filename: string; index: number }

export interface FormReading {
  /** The first value of each text field that arrived (all of them when `stopped` is undefined). */
  fields: Map<string, string>
  photos: ReceivedPhoto[]
  /** Why reading stopped before the end of the form, when it did. */
  stopped?: FormStop
  /** Remove the photos' files. Always call it, refused or not. */
  discard(): Promise<void>
}

const HEAD_BYTES = 12

/**
 * Read a form (multipart/form-data or urlencoded) as it arrives, with @fastify/busboy: text fields
 * into memory (each cut at `maxFieldBytes`), photos straight to files, and every limit applied as
 * the bytes come — the first photo past `maxPhotoBytes`, one photo too many, a text field the caller
 * refuses, or a photo whose first bytes are not an image stops the reading at once, with the rest of
 * the body unread. Rejects only with the body stream's own error (core's BodyTooLargeError or
 * ClientGoneError), after its files are gone.
 */
export async function readForm(body: Readable, options: FormReadOptions): Promise<FormReading> {
  const dir = await mkdtemp(join(options.tempDir, 'intake-upload-'))
  const discard = () => rm(dir, { recursive: true, force: true })
  const fields = new Map<string, string>()
  const photos: ReceivedPhoto[] = []
  const writes: Promise<void>[] = []
  const writers: WriteStream[] = []
  const { limits } = options

  let parser: BusboyInstance
  try {
    parser = Busboy({
      headers: { 'content-type': options.contentType },
      limits: {
        fileSize: limits.maxPhotoBytes,
        fieldSize: limits.maxFieldBytes,
        fields: limits.maxFields,
        // Files in other fields are skipped, but each is a part to parse: bound them too.
        parts: limits.maxPhotos + limits.maxFields + 1,
      },
    })
  } catch {
    // No boundary, or a content type busboy does not read.
    return { fields, photos, stopped: { reason: 'malformed' }, discard }
  }

  return new Promise<FormReading>((resolve, reject) => {
    let settled = false
    /** Stop reading, close what is being written, then settle. */
    const settle = async (outcome: { stopped?: FormStop; error?: unknown }) => {
      if (settled) return
      settled = true
      body.unpipe(parser)
      // Parts already in flight may still call back; nothing they say matters now.
      parser.on('error', () => {})
      for (const writer of writers) writer.destroy()
      await Promise.allSettled(writes)
      if (outcome.error !== undefined) {
        await discard()
        reject(outcome.error)
      } else resolve({ fields, photos, ...(outcome.stopped ? { stopped: outcome.stopped } : {}), discard })
    }
    const stop = (stopped: FormStop) => void settle({ stopped })

    parser.on('field', (name, value, _nameTruncated, valueTruncated) => {
      if (settled) return
      if (name === options.photoField) return stop({ reason: 'text_in_photo_field' })
      if (!fields.has(name)) fields.set(name, value)
      if (options.stopAt(name, value, valueTruncated)) stop({ reason: 'field', name })
    })
    parser.on('file', (name, stream: BusboyFileStream, filename) => {
      if (settled || name !== options.photoField) {
        stream.resume()
        return
      }
      receivePhoto(stream, filename)
    })
    parser.on('fieldsLimit', () => stop({ reason: 'malformed' }))
    parser.on('partsLimit', () => stop({ reason: 'malformed' }))
    parser.on('error', () => stop({ reason: 'malformed' }))
    parser.on('finish', () => {
      if (settled) return
      // Every part has been parsed; wait for the last photo to reach its file.
      void Promise.all(writes).then(
        () => settle({}),
        (error: unknown) => settle({ error }),
      )
    })
    body.on('error', (error) => void settle({ error }))
    // The body may have failed (too large, client gone) while the folder was being made.
    if (body.destroyed) return void settle(body.errored ? { error: body.errored } : { stopped: { reason: 'malformed' } })
    body.pipe(parser)

    let counted = 0
    function receivePhoto(stream: BusboyFileStream, filename: string) {
      const index = photos.length
      // An empty file input is still sent, as a part with no file name and no bytes: it is no photo.
      // A part counts when it has a name, or else from its first byte.
      let isCounted = false
      const count = () => {
        if (isCounted) return true
        isCounted = true
        if (++counted <= limits.maxPhotos) return true
        stop({ reason: 'too_many_photos' })
        return false
      }
      if (filename !== '' && !count()) return stream.resume()
      const photo: ReceivedPhoto = { filename, file: join(dir, `photo-${index}`), size: 0 }
      photos.push(photo)
      const writer = createWriteStream(photo.file)
      writers.push(writer)
      writes.push(
        new Promise<void>((done, fail) => {
          writer.once('finish', done).on('error', fail).once('close', done)
        }),
      )
      let head: Uint8Array = new Uint8Array()
      const checkHead = () => {
        if (!options.looksLikePhoto(head)) stop({ reason: 'not_a_photo', filename, index })
      }
      stream.on('data', (chunk: Buffer) => {
        if (settled || (photo.size === 0 && !count())) return
        photo.size += chunk.byteLength
        if (head.byteLength < HEAD_BYTES) {
          head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.byteLength)])
          if (head.byteLength >= HEAD_BYTES) checkHead()
        }
      })
      stream.once('limit', () => stop({ reason: 'photo_too_large', filename }))
      stream.once('end', () => {
        if (photo.size > 0 && head.byteLength < HEAD_BYTES) checkHead()
      })
      stream.pipe(writer)
    }
  })
}
