import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * WeChat's signatures and message encryption (消息加解密, the WXBizMsgCrypt scheme), shared by the
 * WeChat Official Account adapter and the WeCom bot adapter — WeCom uses the same scheme with the
 * CorpID (or, for an intelligent bot, "") where WeChat puts the AppID:
 * https://developers.weixin.qq.com/doc/subscription/guide/dev/push/encryption.html
 * https://developer.work.weixin.qq.com/document/path/101033 (WeCom intelligent bot: 回调和回复的加解密方案)
 *
 * - signature      = sha1(sort([token, timestamp, nonce]).join(''))            hex, lowercase
 * - msg_signature  = sha1(sort([token, timestamp, nonce, Encrypt]).join(''))
 * - AES key        = base64decode(EncodingAESKey + '='), 32 bytes; IV = key[0..16]; AES-256-CBC
 * - plaintext      = 16 random bytes ‖ uint32 big-endian length of msg ‖ msg ‖ appid
 * - padding        = PKCS#7 to a multiple of 32 bytes (not AES's 16: WeChat's sample code pads to 32)
 */

/** sha1 over the lexicographically sorted parts, as WeChat signs. */
export function wechatSignature(...parts: string[]): string {
  return createHash('sha1').update([...parts].sort().join('')).digest('hex')
}

/** Constant-time comparison of a presented signature with the expected hex digest. */
export function signatureMatches(expected: string, presented: string | null | undefined): boolean {
  if (!presented) return false
  const a = Buffer.from(expected)
  const b = Buffer.from(presented.toLowerCase())
  return a.length === b.length && timingSafeEqual(a, b)
}

const ENCODING_AES_KEY = /^[A-Za-z0-9]{43}$/

/** The AES key an EncodingAESKey stands for; throws on anything but 43 base64 characters. */
export function aesKeyFrom(encodingAESKey: string): Buffer {
  if (!ENCODING_AES_KEY.test(encodingAESKey)) throw new Error('an EncodingAESKey is 43 letters and digits')
  const key = Buffer.from(encodingAESKey + '=', 'base64')
  if (key.length !== 32) throw new Error('an EncodingAESKey decodes to 32 bytes')
  return key
}

const BLOCK = 32

/** Encrypt a message for WeChat: the base64 `Encrypt` value. */
export function encryptMessage(key: Buffer, appId: string, message: string, random: Buffer = randomBytes(16)): string {
  if (random.length !== 16) throw new Error('the random prefix is 16 bytes')
  const body = Buffer.from(message, 'utf8')
  const length = Buffer.alloc(4)
  length.writeUInt32BE(body.length, 0)
  const plain = Buffer.concat([random, length, body, Buffer.from(appId, 'utf8')])
  const pad = BLOCK - (plain.length % BLOCK)
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false)
  return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64')
}

export class DecryptError extends Error {}

/** Decrypt an `Encrypt` value: the message and the appid it was sealed for. Throws DecryptError. */
export function decryptMessage(key: Buffer, encrypted: string): { message: string; appId: string } {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encrypted)) throw new DecryptError('the ciphertext is not base64')
  const data = Buffer.from(encrypted, 'base64')
  if (data.length === 0 || data.length % 16 !== 0) throw new DecryptError('the ciphertext is not a whole number of AES blocks')
  let plain: Buffer
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false)
    plain = Buffer.concat([decipher.update(data), decipher.final()])
  } catch {
    throw new DecryptError('the ciphertext does not decrypt')
  }
  const pad = plain[plain.length - 1]!
  if (pad < 1 || pad > BLOCK || pad > plain.length || !plain.subarray(plain.length - pad).every((b) => b === pad)) {
    throw new DecryptError('bad padding: wrong key, or the ciphertext was altered')
  }
  const content = plain.subarray(16, plain.length - pad)
  if (content.length < 4) throw new DecryptError('the plaintext is too short')
  const length = content.readUInt32BE(0)
  if (length > content.length - 4) throw new DecryptError('the message length is out of range')
  return {
    message: content.subarray(4, 4 + length).toString('utf8'),
    appId: content.subarray(4 + length).toString('utf8'),
  }
}
