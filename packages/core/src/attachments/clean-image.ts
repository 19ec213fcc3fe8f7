import sharp from 'sharp'

/** Image types Intake stores a citizen's photo as, after decoding and encoding it again. */
export type CleanImageType = 'image/jpeg' | 'image/png' | 'image/webp'

export type CleanImageResult =
  | { ok: true; bytes: Uint8Array; contentType: CleanImageType; width: number; height: number }
  | { ok: false; reason: string }

export interface CleanImageOptions {
  /** Refuse images with more pixels than this (a decompression bomb decodes to gigabytes). Default 40 megapixels. */
  maxPixels?: number
}

const KEEP_FORMAT: Record<string, CleanImageType> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' }

/**
 * A photo as it may be stored: the whole image decoded (not only its first bytes: JPEG magic
 * followed by HTML is not a photo), turned upright by its EXIF orientation, and encoded again
 * without any metadata. EXIF carries the phone's GPS position, its serial number and the time;
 * the office gets the case's place from the citizen's words, not from the camera.
 * JPEG, PNG and WebP keep their format; anything else sharp decodes (GIF, TIFF, AVIF, HEIF where
 * libvips has it) becomes JPEG — or PNG when it has transparency.
 *
 * The image is given as bytes, or as `{ file }`, the path of a file holding them (an upload
 * streamed to disk), which spares holding the encoded image in memory beside its decoded pixels.
 *
 * @example
 * const cleaned = await cleanImage(bytes)
 * if (cleaned.ok) await blobs.put(cleaned.bytes)
 */
export async function cleanImage(input: Uint8Array | { file: string }, { maxPixels = 40_000_000 }: CleanImageOptions = {}): Promise<CleanImageResult> {
  try {
    // failOn 'error': a truncated or corrupt image is refused instead of decoded as far as it goes.
    const image = sharp(input instanceof Uint8Array ? input : input.file, { failOn: 'error', limitInputPixels: maxPixels, animated: false })
    const meta = await image.metadata()
    const target = KEEP_FORMAT[meta.format ?? ''] ?? (meta.hasAlpha ? 'image/png' : 'image/jpeg')
    // rotate() with no angle applies the EXIF orientation; sharp writes no metadata unless asked to.
    const upright = image.rotate()
    const encoded =
      target === 'image/jpeg' ? upright.jpeg({ quality: 88 }) : target === 'image/png' ? upright.png() : upright.webp({ quality: 88 })
    const { data, info } = await encoded.toBuffer({ resolveWithObject: true })
    return { ok: true, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), contentType: target, width: info.width, height: info.height }
  } catch (err) {
    return { ok: false, reason: `not a decodable image: ${(err as Error).message.split('\n')[0]}` }
  }
}
