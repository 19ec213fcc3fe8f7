import { createHash } from 'node:crypto'
import type { BlobStore } from '../contracts/blob-store.ts'
import type { Attachment } from '../model/index.ts'
import { cleanImage } from './clean-image.ts'

export interface AttachmentBytes {
  bytes: Uint8Array
  /** What the provider or the citizen's device said the bytes are. */
  contentType: string
  filename: string
}

const IMAGE_MAGIC: Array<[number, number[]]> = [
  [0, [0xff, 0xd8, 0xff]], // JPEG
  [0, [0x89, 0x50, 0x4e, 0x47]], // PNG
  [0, [0x47, 0x49, 0x46, 0x38]], // GIF
  [8, [0x57, 0x45, 0x42, 0x50]], // WebP (RIFF....WEBP)
]
const looksLikeImage = (b: Uint8Array) => IMAGE_MAGIC.some(([at, magic]) => magic.every((x, i) => b[at + i] === x))
const EXTENSION: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' }

/**
 * Put a channel's attachment in the blob store, the same way for every channel. A photo (declared
 * as an image, or with an image's magic bytes) is decoded and encoded again without metadata
 * (`cleanImage`); one that does not decode is kept for staff as `application/octet-stream` with a
 * `.bin` name, so no console or status page ever shows it as an image. Other files (voice, video,
 * documents) are stored as they came.
 */
export async function storeAttachment(blobs: BlobStore, input: AttachmentBytes): Promise<Attachment> {
  let { bytes, contentType, filename } = input
  if (contentType.toLowerCase().startsWith('image/') || looksLikeImage(bytes)) {
    const cleaned = await cleanImage(bytes)
    if (cleaned.ok) {
      bytes = cleaned.bytes
      contentType = cleaned.contentType
      filename = withExtension(filename, EXTENSION[contentType]!)
    } else {
      contentType = 'application/octet-stream'
      filename = withExtension(filename, 'bin')
    }
  }
  const blobKey = await blobs.put(bytes)
  return { filename, contentType, size: bytes.byteLength, blobKey, sha256: createHash('sha256').update(bytes).digest('hex') }
}

function withExtension(name: string, extension: string): string {
  const base = name.replace(/\.[A-Za-z0-9]{1,5}$/, '')
  return `${base || 'attachment'}.${extension}`
}
