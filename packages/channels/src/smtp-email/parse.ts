/**
 * One raw mail (RFC 5322 bytes, from the SMTP listener or an IMAP mailbox) → an InboundMessage, or
 * the reason it opens no case (auto-replies, bounces, reports: answering them would start a mail
 * loop). Parsing never throws: a mail mailparser cannot read, or whose text cannot be decoded, is
 * still stored — with a flag, a note for staff and the original attached — so nothing is lost.
 */
import { createHash } from 'node:crypto'
import { simpleParser, type AddressObject, type EmailAddress, type HeaderValue, type ParsedMail as MailparserMail } from 'mailparser'
import type { Attachment, BlobStore, InboundMessageInput } from '@intake/core'
import { htmlToText } from './html-text.ts'
import { stripQuoted } from './quotes.ts'

export interface MailEnvelope {
  /** SMTP MAIL FROM: '' for the null reverse-path `<>`; absent for mail fetched over IMAP. */
  mailFrom?: string
  rcptTo: string[]
}

export interface ParseMailOptions {
  channelId: string
  /** The agency's addresses (lowercase): mail from them is our own, looped back. */
  addresses: ReadonlySet<string>
  blobs: BlobStore
  now: () => number
  source: 'smtp' | 'imap'
  envelope?: MailEnvelope
}

/**
 * Why a stored message needs a person's eye. `undecodable_text`, `unparseable`, `no_body` and
 * `truncated` attach the original as original.eml and add a note to the text.
 */
export type MailFlag =
  | 'undecodable_text'
  | 'charset_mislabelled'
  | 'unparseable'
  | 'no_body'
  | 'truncated'
  | 'attachments_dropped'
  | 'no_message_id'
  | 'no_sender'

export type ParsedMail =
  | { kind: 'message'; message: InboundMessageInput; flags: MailFlag[]; blobKey: string }
  | { kind: 'ignored'; reason: string; messageId?: string; from?: string; blobKey: string }

/** What the pipeline keeps in the inbox row for audit and replay (the bytes are in the blob store). */
export interface MailRaw {
  source: 'smtp' | 'imap'
  messageId: string | null
  /** Blob key of the whole mail as received. */
  blobKey: string
  bytes: number
  envelope?: MailEnvelope
  flags: MailFlag[]
}

const MAX_TEXT = 19_000 // InboundMessage.text allows 20,000; leave room for the note.
const MAX_SUBJECT = 1000
const MAX_ATTACHMENTS = 20
const MAX_REFS = 50
const REVIEW_FLAGS: readonly MailFlag[] = ['undecodable_text', 'unparseable', 'no_body', 'truncated']
const NOTES: Partial<Record<MailFlag, string>> = {
  undecodable_text: 'part of this mail could not be decoded / 部分内容无法解码',
  unparseable: 'this mail could not be read / 邮件无法解析',
  no_body: 'this mail has no text / 邮件没有正文',
  truncated: 'this mail was shortened / 邮件过长已截断',
}
/** Precedence values set by lists and autoresponders (RFC 2076 §3.9; RFC 3834 §3.1.8 says not to answer them). */
const BULK_PRECEDENCE = new Set(['bulk', 'junk', 'list', 'auto_reply'])
const MESSAGE_ID = /<[^<>\s]{1,250}>/g
const REPLY_SUBJECT = /^\s*(?:re|aw|sv|vs|antw|回复|回覆|答复|答覆)\s*(?:\[\d+\])?\s*[:：]/i

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex')

export async function parseMail(raw: Buffer, options: ParseMailOptions): Promise<ParsedMail> {
  const blobKey = await options.blobs.put(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength))
  let mail: MailparserMail | undefined
  try {
    mail = await simpleParser(raw, { skipImageLinks: true, skipTextLinks: true, skipTextToHtml: true, maxHtmlLengthToParse: 2_000_000 })
  } catch {
    mail = undefined
  }
  if (!mail) return unparseable(raw, blobKey, options)

  const from = firstAddress(mail.from)
  const automated = automatedReason(mail, options.envelope, from?.address, options.addresses)
  if (automated) return { kind: 'ignored', reason: automated, messageId: mail.messageId, from: from?.address, blobKey }

  const flags: MailFlag[] = []
  let text = (mail.text ?? '').trim()
  if (!text && typeof mail.html === 'string') text = htmlToText(mail.html)
  if (text.includes('\ufffd')) {
    const repaired = utf8Body(raw)
    if (repaired !== undefined) {
      text = repaired
      flags.push('charset_mislabelled')
    } else flags.push('undecodable_text')
  }
  let subject = mail.subject?.trim() || undefined
  if (subject?.includes('\ufffd') && !flags.includes('undecodable_text')) flags.push('undecodable_text')
  if (subject && subject.length > MAX_SUBJECT) subject = subject.slice(0, MAX_SUBJECT - 1) + '…'

  const threadRefs = refsOf(mail)
  // Only a reply carries history to cut: a first mail may forward a letter that is the complaint itself.
  if (threadRefs.length > 0 || (subject && REPLY_SUBJECT.test(subject))) text = stripQuoted(text)
  if (text.length > MAX_TEXT) {
    text = text.slice(0, MAX_TEXT).replace(/[\ud800-\udbff]$/, '')
    flags.push('truncated')
  }

  const attachments: Attachment[] = []
  for (const part of mail.attachments) {
    if (attachments.length >= MAX_ATTACHMENTS - 1) {
      flags.push('attachments_dropped')
      break
    }
    const bytes = new Uint8Array(part.content.buffer, part.content.byteOffset, part.content.byteLength)
    attachments.push({
      filename: part.filename ? safeFilename(part.filename) : undefined,
      contentType: part.contentType || 'application/octet-stream',
      size: bytes.byteLength,
      blobKey: await options.blobs.put(bytes),
      sha256: sha256(bytes),
    })
  }
  if (!text && attachments.length === 0) {
    flags.push('no_body')
    text = subject ?? ''
  }

  const envelopeFrom = options.envelope?.mailFrom?.toLowerCase()
  let citizen = from
  if (!citizen?.address) {
    flags.push('no_sender')
    // Without a From the envelope sender is who the MTA would bounce to; `.invalid` (RFC 2606) marks "nobody".
    citizen = { address: envelopeFrom || 'unknown-sender@sender.invalid', name: '' }
  }
  const messageId = mail.messageId?.trim()
  let externalId: string
  if (messageId && messageId.length <= 200 && /^<[^<>\s]+>$/.test(messageId)) externalId = messageId
  else {
    flags.push('no_message_id')
    // A retried delivery is byte-identical, so the hash keeps intake idempotent without a Message-ID.
    externalId = `sha256:${messageId ? sha256(messageId) : sha256(raw)}`
  }
  return finish({ raw, blobKey, options, flags, text, subject, attachments, externalId, messageId, threadRefs, citizen, to: officeAddress(mail, options) })
}

interface Draft {
  raw: Buffer
  blobKey: string
  options: ParseMailOptions
  flags: MailFlag[]
  text: string
  subject?: string
  attachments: Attachment[]
  externalId: string
  messageId?: string
  threadRefs: string[]
  citizen: { address?: string; name?: string }
  to?: string
}

function finish(d: Draft): ParsedMail {
  const review = d.flags.filter((f) => REVIEW_FLAGS.includes(f))
  let { text } = d
  const attachments = [...d.attachments]
  if (review.length) {
    const notes = review.map((f) => NOTES[f]).join('; ')
    text = `${text}\n\n[Intake: ${notes} — original.eml]`.trim()
    attachments.push({ filename: 'original.eml', contentType: 'message/rfc822', size: d.raw.byteLength, blobKey: d.blobKey, sha256: sha256(d.raw) })
  }
  const raw: MailRaw = {
    source: d.options.source,
    messageId: d.messageId ?? null,
    blobKey: d.blobKey,
    bytes: d.raw.byteLength,
    ...(d.options.envelope ? { envelope: d.options.envelope } : {}),
    flags: d.flags,
  }
  const { channelId } = d.options
  return {
    kind: 'message',
    flags: d.flags,
    blobKey: d.blobKey,
    message: {
      channelId,
      externalId: d.externalId,
      from: { channelId, id: d.citizen.address!.toLowerCase(), displayName: d.citizen.name?.trim() || undefined },
      to: d.to,
      subject: d.subject,
      text,
      attachments,
      threadRefs: d.threadRefs,
      receivedAt: d.options.now(),
      raw,
    },
  }
}

/** mailparser gave up: keep the bytes, open a case for a person to read the original. */
function unparseable(raw: Buffer, blobKey: string, options: ParseMailOptions): ParsedMail {
  const from = options.envelope?.mailFrom
  if (from === '') return { kind: 'ignored', reason: 'null_sender', blobKey }
  return finish({
    raw,
    blobKey,
    options,
    flags: ['unparseable', 'no_message_id', ...(from ? [] : (['no_sender'] as const))],
    text: '',
    attachments: [],
    externalId: `sha256:${sha256(raw)}`,
    threadRefs: [],
    citizen: { address: from || 'unknown-sender@sender.invalid' },
    to: options.envelope?.rcptTo[0],
  })
}

/**
 * Why this mail must not be answered, or undefined for a person's mail. RFC 3834 §2 lists what an
 * automatic responder must not answer; bounces are recognised by their null reverse-path
 * (RFC 5321 §4.5.5) or their MIME type (RFC 6522 multipart/report, RFC 3464 delivery-status).
 */
export function automatedReason(
  mail: Pick<MailparserMail, 'headers' | 'headerLines'>,
  envelope: MailEnvelope | undefined,
  fromAddress: string | undefined,
  own: ReadonlySet<string>,
): string | undefined {
  if (envelope?.mailFrom === '') return 'null_sender'
  // Over IMAP the envelope is gone; the delivering MTA wrote it into Return-Path.
  if (!envelope && mail.headerLines.some((h) => h.key === 'return-path' && /:\s*<\s*>\s*$/.test(h.line))) return 'null_sender'
  const auto = headerText(mail.headers.get('auto-submitted'))?.split(';')[0]?.trim().toLowerCase()
  if (auto && auto !== 'no') return `auto_submitted:${auto}`
  const precedence = headerText(mail.headers.get('precedence'))?.trim().toLowerCase()
  if (precedence && BULK_PRECEDENCE.has(precedence)) return `precedence:${precedence}`
  for (const h of ['x-autoreply', 'x-autorespond', 'x-autoresponder', 'x-autogenerated']) {
    if (mail.headers.has(h)) return h.replace(/-/g, '_')
  }
  const ctype = mail.headers.get('content-type')
  if (ctype && typeof ctype === 'object' && 'params' in ctype && !Array.isArray(ctype)) {
    if (ctype.value.toLowerCase() === 'multipart/report') return `report:${(ctype.params['report-type'] ?? 'unknown').toLowerCase()}`
  }
  for (const sender of [fromAddress, envelope?.mailFrom]) {
    const local = sender?.split('@')[0]?.toLowerCase()
    if (local === 'mailer-daemon' || local === 'postmaster') return `${local.replace('-', '_')}_sender`
  }
  if (fromAddress && own.has(fromAddress.toLowerCase())) return 'own_address'
  return undefined
}

function headerText(value: HeaderValue | undefined): string | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return headerText(value[0] as HeaderValue | undefined)
  if (value instanceof Date) return value.toISOString()
  if ('value' in value && typeof value.value === 'string') return value.value
  if ('text' in value) return value.text
  return undefined
}

function flatten(list: EmailAddress[]): EmailAddress[] {
  return list.flatMap((a) => (a.group ? flatten(a.group) : [a]))
}

function addressesOf(field: AddressObject | AddressObject[] | undefined): EmailAddress[] {
  if (!field) return []
  return flatten((Array.isArray(field) ? field : [field]).flatMap((f) => f.value)).filter((a) => a.address && a.address.includes('@'))
}

function firstAddress(field: AddressObject | undefined): { address?: string; name?: string } | undefined {
  const a = addressesOf(field)[0]
  return a ? { address: a.address!.toLowerCase(), name: a.name } : undefined
}

/** The office address the mail was for: the accepted envelope recipient, else an agency address in To/Cc. */
function officeAddress(mail: MailparserMail, options: ParseMailOptions): string | undefined {
  const rcpt = options.envelope?.rcptTo.find((r) => options.addresses.has(r.toLowerCase()))
  if (rcpt) return rcpt.toLowerCase()
  const listed = [...addressesOf(mail.to), ...addressesOf(mail.cc)].map((a) => a.address!.toLowerCase())
  return listed.find((a) => options.addresses.has(a)) ?? options.envelope?.rcptTo[0] ?? listed[0]
}

/** In-Reply-To then References, each id once, most recent last (RFC 5322 §3.6.4). */
function refsOf(mail: MailparserMail): string[] {
  const refs = Array.isArray(mail.references) ? mail.references.join(' ') : (mail.references ?? '')
  const ids = [...`${refs} ${mail.inReplyTo ?? ''}`.matchAll(MESSAGE_ID)].map((m) => m[0])
  const own = mail.messageId?.trim()
  return [...new Set(ids)].filter((id) => id !== own).slice(-MAX_REFS)
}

/**
 * A single-part text mail labelled with one charset but written in UTF-8 (a mislabelling client
 * or a gateway that re-encoded the body): decoding as labelled gives U+FFFD, the bytes are valid
 * UTF-8. Only tried for an 8bit/7bit single part, where the body bytes are the text.
 */
function utf8Body(raw: Buffer): string | undefined {
  const split = raw.indexOf('\r\n\r\n') >= 0 ? raw.indexOf('\r\n\r\n') + 4 : raw.indexOf('\n\n') >= 0 ? raw.indexOf('\n\n') + 2 : -1
  if (split < 0) return undefined
  const head = raw.subarray(0, split).toString('latin1').replace(/\r?\n[ \t]+/g, ' ')
  const ctype = /^content-type:\s*([^;\r\n]+)/im.exec(head)?.[1]?.trim().toLowerCase() ?? 'text/plain'
  const cte = /^content-transfer-encoding:\s*([^\s;]+)/im.exec(head)?.[1]?.toLowerCase() ?? '7bit'
  if (!ctype.startsWith('text/') || !['7bit', '8bit', 'binary'].includes(cte)) return undefined
  try {
    const body = new TextDecoder('utf-8', { fatal: true }).decode(raw.subarray(split))
    return (ctype === 'text/html' ? htmlToText(body) : body).trim()
  } catch {
    return undefined
  }
}

function safeFilename(name: string): string {
  const base = name.replace(/[\\/\u0000-\u001f]/g, '_').trim()
  return base.length > 255 ? base.slice(0, 255) : base
}
