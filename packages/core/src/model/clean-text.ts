/**
 * Text as it may be stored: what a channel hands over is cleaned here, at the one boundary every
 * channel goes through (the InboundMessage schema), so no adapter has to remember it.
 *
 * - NUL and the other C0/C1 control characters are dropped (PostgreSQL refuses NUL in text, a NUL
 *   cuts a C string short in the tools staff open exports with, and none of them is anything a
 *   citizen typed), except tab, line feed and carriage return.
 * - A lone UTF-16 surrogate (half of a character: a mangled emoji, a truncated provider payload)
 *   becomes U+FFFD, so the text is valid Unicode and encodes to UTF-8 without loss or error.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

export function cleanText(text: string): string {
  return text.replace(CONTROL, '').replace(LONE_SURROGATE, '\ufffd')
}
