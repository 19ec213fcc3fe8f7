/**
 * HTML reduced to readable text, for mails whose only body is HTML inside a multipart (mailparser
 * converts a root text/html part itself, but leaves `text` empty for an HTML part nested in
 * multipart/related or multipart/mixed). Block elements become line breaks; scripts, styles and
 * comments go; entities are decoded.
 */
/** HTML 4 Latin-1 and the common typographic entities (what mail clients actually write). */
const NAMED: Record<string, string> = { AElig: 'Æ', Aacute: 'Á', Acirc: 'Â', Agrave: 'À', Aring: 'Å', Atilde: 'Ã', Auml: 'Ä', Ccedil: 'Ç', Dagger: '‡', ETH: 'Ð', Eacute: 'É', Ecirc: 'Ê', Egrave: 'È', Euml: 'Ë', Iacute: 'Í', Icirc: 'Î', Igrave: 'Ì', Iuml: 'Ï', Ntilde: 'Ñ', OElig: 'Œ', Oacute: 'Ó', Ocirc: 'Ô', Ograve: 'Ò', Oslash: 'Ø', Otilde: 'Õ', Ouml: 'Ö', Scaron: 'Š', THORN: 'Þ', Uacute: 'Ú', Ucirc: 'Û', Ugrave: 'Ù', Uuml: 'Ü', Yacute: 'Ý', Yuml: 'Ÿ', aacute: 'á', acirc: 'â', acute: '´', aelig: 'æ', agrave: 'à', amp: '&', apos: "'", aring: 'å', atilde: 'ã', auml: 'ä', bdquo: '„', brvbar: '¦', bull: '•', ccedil: 'ç', cedil: '¸', cent: '¢', copy: '©', curren: '¤', dagger: '†', deg: '°', divide: '÷', eacute: 'é', ecirc: 'ê', egrave: 'è', emsp: '\u2003', ensp: '\u2002', eth: 'ð', euml: 'ë', euro: '€', frac12: '½', frac14: '¼', frac34: '¾', gt: '>', hellip: '…', iacute: 'í', icirc: 'î', iexcl: '¡', igrave: 'ì', iquest: '¿', iuml: 'ï', laquo: '«', ldquo: '“', lsaquo: '‹', lsquo: '‘', lt: '<', macr: '¯', mdash: '—', micro: 'µ', middot: '·', nbsp: ' ', ndash: '–', not: '¬', ntilde: 'ñ', oacute: 'ó', ocirc: 'ô', oelig: 'œ', ograve: 'ò', ordf: 'ª', ordm: 'º', oslash: 'ø', otilde: 'õ', ouml: 'ö', para: '¶', permil: '‰', plusmn: '±', pound: '£', quot: '"', raquo: '»', rdquo: '”', reg: '®', rsaquo: '›', rsquo: '’', sbquo: '‚', scaron: 'š', sect: '§', shy: '\xad', sup1: '¹', sup2: '²', sup3: '³', szlig: 'ß', thinsp: '\u2009', thorn: 'þ', times: '×', trade: '™', uacute: 'ú', ucirc: 'û', ugrave: 'ù', uml: '¨', uuml: 'ü', yacute: 'ý', yen: '¥', yuml: 'ÿ', zwj: '\u200d', zwnj: '\u200c' }

export function htmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<!--[\s\S]*?-->/g, '')
      .replace(/<(script|style|head|title)\b[\s\S]*?<\/\1\s*>/gi, '')
      .replace(/<br\s*\/?>/gi, '\n')
      .replace(/<\/(p|div|li|tr|h[1-6]|blockquote|table|section|article)\s*>/gi, '\n')
      .replace(/<(p|div|li|tr|h[1-6]|blockquote|table)\b[^>]*>/gi, '\n')
      .replace(/<[^>]*>/g, ''),
  )
    .replace(/[ \t\u00a0]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const cp = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10)
      return cp > 0 && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : whole
    }
    return NAMED[ref] ?? NAMED[ref.toLowerCase()] ?? whole
  })
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Plain text as a simple HTML part: escaped, line breaks kept, http(s) links clickable. */
export function textToHtml(text: string): string {
  const escaped = text.replace(/[&<>"']/g, (c) => ESCAPES[c]!)
  const linked = escaped.replace(/https?:\/\/[^\s<>"']+/g, (url) => `<a href="${url}">${url}</a>`)
  return `<!doctype html><html><body><div style="white-space:pre-wrap;font-family:sans-serif">${linked}</div></body></html>`
}
