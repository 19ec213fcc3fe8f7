/** Cut text to a UTF-8 byte budget on a character boundary, ending with "…" and the link when given. */
export function fitText(text: string, maxBytes: number, link?: string): string {
  if (Buffer.byteLength(text) <= maxBytes) return text
  const tail = link ? `…\n${link}` : '…'
  const budget = maxBytes - Buffer.byteLength(tail)
  let out = ''
  let used = 0
  for (const ch of text) {
    const size = Buffer.byteLength(ch)
    if (used + size > budget) break
    out += ch
    used += size
  }
  return out + tail
}
