/**
 * Cutting the quoted history and the signature off a citizen's reply, so a follow-up on a case
 * reads as what they added, not as our own acknowledgement quoted back. Mail clients mark the
 * history in their own ways; the markers below are the ones of the clients citizens use here
 * (Gmail, Outlook, Apple Mail, Thunderbird, QQ Mail / Foxmail, NetEase 163/126, mobile clients).
 * The whole mail is kept in the blob store, so nothing cut here is lost.
 */

/** A line that opens the quoted history on its own ("-----Original Message-----", QQ Mail's "------------------ 原始邮件 ------------------"). */
const HISTORY_RULE = /^[-_=\s]*-{2,}\s*(?:original message|original|forwarded message from|原始邮件|原始郵件|原始信息|原始資訊|原邮件|邮件原件|郵件原件|回复的原邮件|原文)\s*-{2,}[-\s]*$/i

/** The attribution line before a quote: "On Fri, 20 Nov 2026 … wrote:", Gmail zh "…于2026年11月20日周五 10:00写道：". */
const ATTRIBUTION_END = /(?:\bwrote|\bschrieb|a écrit|escribió|ha scritto|schreef|skrev|写道|寫道)\s*[:：]\s*$/i
const ATTRIBUTION_START = /^(?:on|am|le|el|il|op|den|在)\s|[于於]\s*\d{4}\s*年|^\d{4}[-/年]/i

/** Outlook's and Chinese clients' header block: "From: …" followed within a few lines by "Sent: …". */
const HEADER_FROM = /^\*?(?:from|发件人|寄件者|寄件人|von|de|van)\s*\*?\s*[:：]/i
const HEADER_SENT = /^\*?(?:sent|date|发送时间|发送日期|日期|時間|寄件日期|gesendet|datum|envoyé|enviado)\s*\*?\s*[:：]/i
const OUTLOOK_RULE = /^_{10,}\s*$/

/** RFC 3676 §4.3: the signature separator is "-- " on a line of its own (many clients drop the space). */
const SIGNATURE = /^--\s?$/
/** Mobile clients' trailing tag, which is a signature without a separator. */
const MOBILE_TAG = /^(?:sent from my .{1,40}|get outlook for .{1,20}|发自我的.{1,20}|从我的.{1,20}发送|來自我的.{1,20}|envoyé de mon .{1,30}|von meinem .{1,30} gesendet)$/i

/** Longest run after a separator we still take for a signature (a long tail is more likely the message). */
const MAX_SIGNATURE_LINES = 12

/**
 * Remove quoted history and the signature from a reply. Returns the text unchanged when stripping
 * would leave nothing (a reply that only forwards something is better kept whole).
 *
 * @example
 * stripQuoted('Thanks!\n\nOn Fri, 20 Nov 2026, Hotline <h@x> wrote:\n> Your case K7F3-9Q28…')  // 'Thanks!'
 */
export function stripQuoted(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n')
  let end = historyStart(lines)
  let kept = lines.slice(0, end)
  // Interleaved answers (bottom-posting, inline replies) keep the citizen's own lines between quotes.
  kept = dropQuotedLines(kept)
  end = kept.length
  const sig = kept.findIndex((l, i) => SIGNATURE.test(l) && kept.length - i - 1 <= MAX_SIGNATURE_LINES)
  if (sig >= 0) end = sig
  kept = kept.slice(0, end)
  while (kept.length && (MOBILE_TAG.test(kept[kept.length - 1]!.trim()) || kept[kept.length - 1]!.trim() === '')) kept.pop()
  const out = kept
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
  return out.length > 0 ? out : text.trim()
}

/** Index of the first line of the quoted history, or lines.length when there is none. */
function historyStart(lines: string[]): number {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (!line) continue
    if (HISTORY_RULE.test(line)) return i
    if (HEADER_FROM.test(line) && lines.slice(i + 1, i + 5).some((l) => HEADER_SENT.test(l.trim()))) {
      return i > 0 && OUTLOOK_RULE.test(lines[i - 1]!.trim()) ? i - 1 : i
    }
    if (OUTLOOK_RULE.test(line) && HEADER_FROM.test((lines[i + 1] ?? '').trim())) return i
    // An attribution may wrap over two lines ("On …, Name <\naddr> wrote:").
    if (ATTRIBUTION_END.test(line) && (ATTRIBUTION_START.test(line) || looksLikeAttribution(line))) return i
    const joined = `${line} ${(lines[i + 1] ?? '').trim()}`
    if (ATTRIBUTION_START.test(line) && !ATTRIBUTION_END.test(line) && ATTRIBUTION_END.test(joined) && looksLikeAttribution(joined)) return i
  }
  return lines.length
}

/** "Name <a@b> wrote:" without a date first still names someone who wrote. */
function looksLikeAttribution(line: string): boolean {
  return /@|<|\d{1,2}:\d{2}/.test(line)
}

function dropQuotedLines(lines: string[]): string[] {
  const out: string[] = []
  for (const line of lines) {
    if (line.trimStart().startsWith('>')) continue
    out.push(line)
  }
  return out
}
