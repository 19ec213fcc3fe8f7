import { parseTrackingCode } from '../tracking-code/index.ts'

/**
 * What an incoming message is, decided before it is joined to any case:
 * - `status_query`: the whole message asks for a status — "查询 K7F3-9Q2M", "进度 …", "status …",
 *   a bare code, Telegram's `/status`, a status button (intent). With `code` when a valid code was
 *   given, `mistyped` when what looks like a code fails its check, neither when there is no code.
 * - `text`: anything else (a report, a follow-up, a rating: the pipeline's own branches decide).
 */
export type MessageClass =
  | { kind: 'status_query'; code?: string; mistyped?: string }
  | { kind: 'text' }

// Words that ask for a status, alone or before a code. Longest first, so 查询进度 is not read as 查询 + 进度.
const QUERY_WORDS = [
  '查询办理进度', '查询进度', '办理进度', '查进度', '查询', '查詢', '进度', '進度', '状态', '狀態', '查',
  '/status', 'status', 'track', 'check',
]
const WORDS = QUERY_WORDS.map((w) => w.replace(/[/]/g, '\\/')).join('|')
// A code as written: 8 letters/digits, maybe split 4-4 by a dash or a space. Checked by parseTrackingCode.
const CODE = '([A-Za-z0-9]{4})[-\\s]?([A-Za-z0-9]{4})'
const FILLER = '[\\s:：,，.。!！?？]*'
const POLITE = '(?:请|請|please|pls)?'
const WITH_WORD = new RegExp(`^${FILLER}${POLITE}\\s*(?:${WORDS})(?:@[A-Za-z0-9_]+)?(?:一下)?${FILLER}(?:${CODE})?${FILLER}(?:一下)?${FILLER}$`, 'i')
// Alone, only the dashed form counts as a code: a bare eight-letter word is too often a word.
const BARE = new RegExp(`^${FILLER}([A-Za-z0-9]{4})-([A-Za-z0-9]{4})${FILLER}$`)

export function classifyMessage(text: string, intent?: 'status'): MessageClass {
  const t = text.normalize('NFKC')
  const m = WITH_WORD.exec(t) ?? BARE.exec(t)
  if (!m) {
    // A status button with words we do not read as a query still asks for the status.
    return intent === 'status' && !t.trim() ? { kind: 'status_query' } : intent === 'status' ? codeOnly(t) : { kind: 'text' }
  }
  const [a, b] = m.slice(1).filter((g) => g !== undefined)
  if (a === undefined || b === undefined) return { kind: 'status_query' }
  const parsed = parseTrackingCode(a + b)
  return parsed.ok ? { kind: 'status_query', code: parsed.code } : { kind: 'status_query', mistyped: `${a}-${b}`.toUpperCase() }
}

/** A status button pressed with text beside it: the first code-like token, if any. */
function codeOnly(t: string): MessageClass {
  const m = /(?<![A-Za-z0-9])([A-Za-z0-9]{4})-?([A-Za-z0-9]{4})(?![A-Za-z0-9])/.exec(t)
  if (!m) return { kind: 'status_query' }
  const parsed = parseTrackingCode(m[1]! + m[2]!)
  return parsed.ok ? { kind: 'status_query', code: parsed.code } : { kind: 'status_query', mistyped: `${m[1]}-${m[2]}`.toUpperCase() }
}
