/**
 * Every mail in fixtures/ (public corpora of hard encodings and broken MIME, plus generated CJK
 * ones; see fixtures/SOURCES.md) goes through the real SMTP listener into a gateway. Each one must
 * end as a case with readable text, as a case flagged for a person with the original attached, or
 * as a recorded "ignored" (auto-replies, bounces, list mail) — and the listener must stay up.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createTransport } from 'nodemailer'
import { kitGateway, type KitGateway } from '../kit/index.ts'
import { smtpEmailChannel, type SmtpEmailAdapter } from './index.ts'
import { composeMail, deliverRaw } from './smtp-client.ts'

const ROOT = join(import.meta.dirname, 'fixtures')
const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]))
const FILES = walk(ROOT)
  .filter((f) => /\.(eml|raw)$/.test(f))
  .map((f) => relative(ROOT, f))
  .sort()

interface Expected {
  ignored?: string
  subject?: string | RegExp
  /** The stored text equals this (string) or matches it (RegExp). */
  text?: string | RegExp
  /** Flagged for a person: the note is in the text and the original is attached. */
  flagged?: boolean
}

/** Checked by reading each mail: what a clerk must see. Fixtures not listed get the generic checks only. */
const EXPECTED: Record<string, Expected> = {
  'generated/gbk-qq-reply.eml': { subject: '回复：您的来信已受理 [K7F3-9Q28]', text: '好的，谢谢。补充一下：朱镕喆家门口的路灯也坏了。' },
  'generated/gb18030-8bit.eml': { subject: '𠮷野家门口积水', text: '伽师县巴仁镇𠮷野家门口积水三天了。' },
  'generated/big5-base64.eml': { subject: '路燈壞了', text: '巴仁鎮的路燈壞了一個月了。' },
  'generated/utf7.eml': { subject: '路灯坏了', text: '伽师县的路灯坏了 (street light broken)' },
  'generated/iso-2022-jp.eml': { subject: '街灯の故障', text: '駅前の街灯が壊れています。' },
  'generated/outlook-reply-cp1252.eml': { subject: 'RE: Reply to your message [K7F3-9Q28]', text: 'Thank you – the light works again. Café owners are happy too.' },
  // Mailing-list copies carry the list's "Precedence: bulk": recorded, never answered (see the "as the author sent it" cases below).
  'lkml_cjk/lkml_big5_base64_headers_trimmed.eml': { ignored: 'precedence:bulk' },
  'lkml_cjk/lkml_gb2312_8bit_as_indexed_utf8body.eml': { ignored: 'precedence:bulk' },
  'lkml_cjk/lkml_gb2312_8bit_reconstructed.eml': { ignored: 'precedence:bulk' },
  'ruby-mail/multi_charset/japanese.eml': { subject: 'まみむめも', text: /^かきくえこ/ },
  'ruby-mail/multi_charset/japanese_iso_2022.eml': { subject: 'まみむめも', text: 'すみません。' },
  'ruby-mail/multi_charset/japanese_shift_jis.eml': { text: /^あいうえお\n+このメールはテスト用のメールです。/ },
  'ruby-mail/multi_charset/ks_c_5601-1987.eml': { text: '스티해' },
  'ruby-mail/multi_charset/japanese_attachment_long_name.eml': { subject: 'まみむめも'.repeat(10) },
  'enmime/html-only-inline.raw': { text: /^Test of HTML section/ },
  'enmime/non-mime-html-charset-header-only.raw': { text: /Test Müller/ },
  'enmime/qp-utf8-header.raw': { subject: 'MIME UTF8 Test ¢ More Text' },
  'enmime/mime-bad-content-transfer-encoding.raw': { flagged: true },
  'enmime/erroneous.raw': { flagged: true },
  'enmime/header-only.raw': { flagged: true, subject: 'Attachment' },
  'enmime/multipart-wo-boundary.raw': { ignored: 'report:unknown' },
  'mailparser/spam.eml': { text: /als „asozialer Penner“ beschimpft/ },
  'mailparser/nodemailer.eml': { subject: /^Nodemailer is unicode friendly ✔/ },
  'mailparser/delivery-status.eml': { ignored: 'report:delivery-status' },
  'mailparser/htmllargecallstack.eml': { flagged: true },
  'postal-mime/arf.eml': { ignored: 'report:feedback-report' },
  'postal-mime/bounce.eml': { ignored: 'auto_submitted:auto-replied' },
  'postal-mime/calendar-event.eml': { text: /^Test event ⏰/ },
  'ruby-mail/error_emails/bad_date_header.eml': { ignored: 'precedence:junk' },
  'ruby-mail/error_emails/invalid_subject_characters.eml': { flagged: true },
  'ruby-mail/error_emails/must_supply_encoding.eml': { flagged: true },
  'ruby-mail/error_emails/content_transfer_encoding_empty.eml': { flagged: true },
  'ruby-mail/error_emails/missing_body.eml': { flagged: true, subject: 'REDACTED' },
  'ruby-mail/mime_emails/raw_email_with_mimepart_without_content_type.eml': { ignored: 'auto_submitted:auto-generated (warning-timeout)' },
}

const ADDRESS = 'hotline@intake.example'
let gw: KitGateway | undefined
let adapter: SmtpEmailAdapter
const start = async () => {
  adapter = smtpEmailChannel({ addresses: [ADDRESS], listen: { port: 0, closeTimeoutMs: 500 }, maxBytes: 2 * 1024 * 1024 })
  gw = await kitGateway(adapter, 'mail')
  return gw
}
afterEach(async () => {
  await gw?.close()
  gw = undefined
})

const outcome = async (g: KitGateway) => {
  const { cases } = await g.intake.store.listCases({ limit: 10 })
  const ignored = g.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'inbound mail ignored')
  const messages = cases.length ? (await g.intake.store.listMessages(cases[0]!.id)).filter((m) => m.direction === 'in') : []
  return { cases, ignored, message: messages[0] }
}

describe('smtp-email fixtures through the listener', () => {
  it('has the fixtures (SOURCES.md names where each comes from)', () => {
    expect(FILES.length).toBeGreaterThan(120)
    expect(readFileSync(join(ROOT, 'SOURCES.md'), 'utf8')).toMatch(/enmime/)
    for (const name of Object.keys(EXPECTED)) expect(FILES, name).toContain(name)
  })

  for (const file of FILES) {
    it(file, async () => {
      const g = await start()
      const raw = readFileSync(join(ROOT, file))
      expect(await deliverRaw(adapter.smtpPort!, raw)).toMatch(/^250 /)
      const { cases, ignored, message } = await outcome(g)
      const want = EXPECTED[file] ?? {}
      expect(g.lines.filter((l) => l.includes('"level":"error"')), 'no error logged').toEqual([])

      if (want.ignored !== undefined || ignored.length) {
        expect(ignored.map((l) => l.reason)).toEqual([want.ignored])
        expect(cases).toHaveLength(0)
        return
      }
      expect(cases).toHaveLength(1)
      expect(message).toBeDefined()
      const original = message!.attachments.find((a) => a.filename === 'original.eml')
      const flagged = message!.text.includes('[Intake: ') && original !== undefined
      expect(flagged, 'flagged for a person').toBe(want.flagged ?? flagged)
      if (!flagged) {
        // Readable: no replacement characters from a charset that failed to decode.
        expect(message!.text).not.toContain('\ufffd')
        expect(message!.subject ?? '').not.toContain('\ufffd')
        expect(message!.text.trim().length + message!.attachments.length, 'text or an attachment').toBeGreaterThan(0)
      } else {
        expect(Buffer.from((await g.intake.blobs.get(original!.blobKey!))!).length).toBe(original!.size)
      }
      if (want.subject instanceof RegExp) expect(message!.subject).toMatch(want.subject)
      else if (want.subject !== undefined) expect(message!.subject).toBe(want.subject)
      if (want.text instanceof RegExp) expect(message!.text).toMatch(want.text)
      else if (want.text !== undefined) expect(message!.text).toBe(want.text)
    })
  }

  describe('the LKML CJK mails as the author sent them (before the list added Precedence: bulk)', () => {
    const asSent = (file: string) => Buffer.from(readFileSync(join(ROOT, file)).toString('latin1').replace(/^Precedence: bulk\r?\n/m, ''), 'latin1')
    const cjk: Array<[string, string, string | RegExp]> = [
      // Big5 subject (RFC 2047, base64); a bottom-posted answer between quoted blocks.
      ['lkml_cjk/lkml_big5_base64_headers_trimmed.eml', 'RE: 回复: 回复: Re: [PATCH v20 3/5] usb: misc: Add onboard_usb_hub driver', /^Hi Greg and mka,\n\nLet's make it clear/],
      // GB2312 8bit body; Outlook's "-----邮件原件-----" history cut.
      ['lkml_cjk/lkml_gb2312_8bit_reconstructed.eml', '回复: [PATCH] locking: fix kernel/locking/ inline asm error', 'Thanks your comments, \nAnd if any concern to apply it on upstream?\n\nYadi'],
      // Labelled gb2312 but the bytes are UTF-8: decoded as UTF-8 instead of mojibake.
      ['lkml_cjk/lkml_gb2312_8bit_as_indexed_utf8body.eml', '回复: [PATCH] locking: fix kernel/locking/ inline asm error', 'Thanks your comments, \nAnd if any concern to apply it on upstream?\n\nYadi'],
    ]
    for (const [file, subject, text] of cjk) {
      it(file, async () => {
        const g = await start()
        await deliverRaw(adapter.smtpPort!, asSent(file))
        const { message } = await outcome(g)
        expect(message!.subject).toBe(subject)
        if (text instanceof RegExp) expect(message!.text).toMatch(text)
        else expect(message!.text).toBe(text)
        expect(message!.text).not.toContain('\ufffd')
      })
    }
  })

  it('one listener takes every fixture in a row over pooled connections and still opens a case afterwards', async () => {
    const g = await start()
    const pool = createTransport({ pool: true, maxConnections: 3, host: '127.0.0.1', port: adapter.smtpPort!, secure: false, ignoreTLS: true, logger: false })
    try {
      const answers = await Promise.all(FILES.map((f) => pool.sendMail({ envelope: { from: 'citizen@example.net', to: [ADDRESS] }, raw: readFileSync(join(ROOT, f)) })))
      expect(answers.every((a) => /^250 /.test(a.response))).toBe(true)
    } finally {
      pool.close()
    }
    const before = (await g.intake.store.listCases({ limit: 500 })).cases.length
    await deliverRaw(adapter.smtpPort!, composeMail({ messageId: 'after-all-fixtures@example.net' }))
    expect((await g.intake.store.listCases({ limit: 500 })).cases.length).toBe(before + 1)
  })
})
