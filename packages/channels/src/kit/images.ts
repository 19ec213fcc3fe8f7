import { deflateSync } from 'node:zlib'

/**
 * A real PNG (8-bit RGB, one colour), built chunk by chunk so a test owns every byte: for adapters
 * that take photos (the web form, MMS, chat apps) and for their type sniffing.
 */
export function pngImage(width: number, height: number, [r, g, b]: [number, number, number]): Uint8Array {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    return c >>> 0
  })
  const crc32 = (bytes: Uint8Array) => {
    let c = 0xffffffff
    for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8)
    return (c ^ 0xffffffff) >>> 0
  }
  const chunk = (type: string, data: Uint8Array) => {
    const out = Buffer.alloc(12 + data.length)
    out.writeUInt32BE(data.length, 0)
    out.write(type, 4, 'ascii')
    out.set(data, 8)
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length)
    return out
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8) // bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace
  const row = [0, ...Array.from({ length: width }, () => [r, g, b]).flat()] // filter byte 0, then the pixels
  const pixels = Buffer.from(Array.from({ length: height }, () => row).flat())
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', header),
      chunk('IDAT', deflateSync(pixels)),
      chunk('IEND', new Uint8Array()),
    ]),
  )
}

/**
 * A real JPEG photo made with sharp, optionally carrying the EXIF a phone camera writes (its GPS
 * position and make), so a test can see that Intake stores photos without it.
 */
export async function jpegPhoto({ width = 64, height = 48, gps = false }: { width?: number; height?: number; gps?: boolean } = {}): Promise<Uint8Array> {
  const { default: sharp } = await import('sharp')
  let image = sharp({ create: { width, height, channels: 3, background: { r: 180, g: 120, b: 40 } } }).jpeg({ quality: 90 })
  if (gps) {
    image = image.withExif({
      IFD0: { Make: 'IntakeTestPhone', Model: 'Kit 1' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '39/1 27/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '76/1 59/1 0/1' },
    })
  }
  return new Uint8Array(await image.toBuffer())
}

/** What a stored image really is: its decoded format and size, and whether any EXIF (a GPS position) survived. */
export async function imageFacts(bytes: Uint8Array): Promise<{ format: string | undefined; width: number | undefined; height: number | undefined; exif: boolean }> {
  const { default: sharp } = await import('sharp')
  const meta = await sharp(bytes).metadata()
  return { format: meta.format, width: meta.width, height: meta.height, exif: meta.exif !== undefined }
}
