/**
 * A small, bounded XML reader for WeChat pushes. WeChat's XML is flat: one `<xml>` root whose
 * children carry text or CDATA (a few events nest one or two levels, e.g. ScanCodeInfo). So the
 * reader supports elements, text, CDATA, comments and the XML declaration — and nothing that can
 * make a small body expensive or reach outside it:
 *   - a DOCTYPE (and with it every ENTITY declaration) is refused outright: no internal entities
 *     means no "billion laughs", no external entities means no XXE (file:// or http:// reads);
 *   - only the five predefined entities and numeric character references are decoded; any other
 *     `&name;` is an error, never a lookup;
 *   - depth, element count and input size are capped, and the scan is one linear pass.
 */

export type XmlErrorCode = 'xml_doctype_forbidden' | 'xml_malformed' | 'xml_undefined_entity' | 'xml_too_deep' | 'xml_too_large' | 'xml_too_many_elements'

export class XmlError extends Error {
  constructor(
    readonly code: XmlErrorCode,
    message: string,
  ) {
    super(message)
  }
}

export interface XmlElement {
  name: string
  /** Text and CDATA directly inside the element, concatenated. */
  text: string
  children: XmlElement[]
}

export interface XmlLimits {
  /** Largest input, in UTF-16 code units (the route's byte limit already applies first). */
  maxLength?: number
  maxDepth?: number
  maxElements?: number
}

const NAME = /[A-Za-z_][A-Za-z0-9_.:-]*/y
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

/** Parse a document into its root element, or throw an XmlError saying why not. */
export function parseXml(input: string, { maxLength = 256 * 1024, maxDepth = 8, maxElements = 512 }: XmlLimits = {}): XmlElement {
  if (input.length > maxLength) throw new XmlError('xml_too_large', `the document is longer than ${maxLength} characters`)
  let pos = input.charCodeAt(0) === 0xfeff ? 1 : 0
  let elements = 0
  const fail = (code: XmlErrorCode, message: string): never => {
    throw new XmlError(code, `${message} (at offset ${pos})`)
  }

  const skipSpace = () => {
    while (pos < input.length && /\s/.test(input[pos]!)) pos++
  }
  const expect = (literal: string) => {
    if (!input.startsWith(literal, pos)) fail('xml_malformed', `expected "${literal}"`)
    pos += literal.length
  }
  const readName = (): string => {
    NAME.lastIndex = pos
    const m = NAME.exec(input)
    if (!m) return fail('xml_malformed', 'expected an element name')
    pos += m[0].length
    return m[0]
  }
  const skipComment = () => {
    const end = input.indexOf('-->', pos + 4)
    if (end < 0) fail('xml_malformed', 'unterminated comment')
    pos = end + 3
  }
  /** Comments and whitespace between markup; anything declaring a DTD is refused. */
  const skipMisc = () => {
    for (;;) {
      skipSpace()
      if (input.startsWith('<!--', pos)) skipComment()
      else if (input.startsWith('<!', pos) && !input.startsWith('<![CDATA[', pos)) {
        // <!DOCTYPE, <!ENTITY, <!ELEMENT...: a push from WeChat never carries one.
        fail('xml_doctype_forbidden', 'DOCTYPE and ENTITY declarations are not accepted')
      } else if (input.startsWith('<?', pos)) fail('xml_malformed', 'processing instructions are not accepted')
      else return
    }
  }
  const decode = (raw: string): string =>
    raw.indexOf('&') < 0
      ? raw
      : raw.replace(/&([^;&\s]{0,12});?/g, (whole, ref: string) => {
          if (!whole.endsWith(';')) fail('xml_malformed', 'a bare "&" in text')
          if (ref in PREDEFINED) return PREDEFINED[ref]!
          const num = /^#x([0-9a-fA-F]{1,6})$/.exec(ref) ?? /^#([0-9]{1,7})$/.exec(ref)
          if (num) {
            const code = parseInt(num[1]!, ref[1] === 'x' ? 16 : 10)
            if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) || code === 0) fail('xml_malformed', `invalid character reference &${ref};`)
            return String.fromCodePoint(code)
          }
          return fail('xml_undefined_entity', `undefined entity &${ref}; (only the predefined entities are accepted)`)
        })

  const readElement = (depth: number): XmlElement => {
    if (depth > maxDepth) fail('xml_too_deep', `elements nest deeper than ${maxDepth} levels`)
    if (++elements > maxElements) fail('xml_too_many_elements', `more than ${maxElements} elements`)
    expect('<')
    const name = readName()
    // Attributes: WeChat sends none; skip them with their quoted values, refusing a stray "<".
    for (;;) {
      const c = input[pos]
      if (c === undefined) fail('xml_malformed', `unterminated start tag <${name}>`)
      if (c === '"' || c === "'") {
        const end = input.indexOf(c, pos + 1)
        if (end < 0) fail('xml_malformed', 'unterminated attribute value')
        if (input.slice(pos, end).includes('<')) fail('xml_malformed', '"<" inside an attribute value')
        pos = end + 1
      } else if (c === '<') fail('xml_malformed', `unterminated start tag <${name}>`)
      else if (c === '/' && input[pos + 1] === '>') {
        pos += 2
        return { name, text: '', children: [] }
      } else if (c === '>') {
        pos++
        break
      } else pos++
    }
    let text = ''
    const children: XmlElement[] = []
    for (;;) {
      const lt = input.indexOf('<', pos)
      if (lt < 0) fail('xml_malformed', `unclosed element <${name}>`)
      if (lt > pos) {
        text += decode(input.slice(pos, lt))
        pos = lt
      }
      if (input.startsWith('<![CDATA[', pos)) {
        const end = input.indexOf(']]>', pos + 9)
        if (end < 0) fail('xml_malformed', 'unterminated CDATA section')
        text += input.slice(pos + 9, end)
        pos = end + 3
      } else if (input.startsWith('</', pos)) {
        pos += 2
        const closing = readName()
        if (closing !== name) fail('xml_malformed', `</${closing}> closes <${name}>`)
        skipSpace()
        expect('>')
        return { name, text, children }
      } else if (input.startsWith('<!--', pos)) skipComment()
      else if (input.startsWith('<!', pos)) fail('xml_doctype_forbidden', 'DOCTYPE and ENTITY declarations are not accepted')
      else if (input.startsWith('<?', pos)) fail('xml_malformed', 'processing instructions are not accepted')
      else children.push(readElement(depth + 1))
    }
  }

  if (input.startsWith('<?xml', pos)) {
    const end = input.indexOf('?>', pos)
    if (end < 0) fail('xml_malformed', 'unterminated XML declaration')
    pos = end + 2
  }
  skipMisc()
  if (pos >= input.length) fail('xml_malformed', 'the body is empty')
  if (input[pos] !== '<') fail('xml_malformed', 'the body is not XML')
  const root = readElement(1)
  skipMisc()
  if (pos < input.length) fail('xml_malformed', 'content after the root element')
  return root
}

/**
 * The root's leaf children as a record (`{ MsgType: 'text', Content: '...' }`), the shape every
 * WeChat push has. Elements with children of their own are left out; a repeated name keeps the first.
 */
export function leafFields(root: XmlElement): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const child of root.children) {
    if (child.children.length === 0 && !(child.name in fields)) fields[child.name] = child.text
  }
  return fields
}

// XML 1.0 refuses most C0 controls even inside CDATA; a citizen's pasted text can carry them.
const NOT_XML_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g

/** A CDATA section holding any text: "]]>" is split across two sections, controls are dropped. */
export function cdata(text: string): string {
  return `<![CDATA[${text.replace(NOT_XML_CHAR, '').split(']]>').join(']]]]><![CDATA[>')}]]>`
}

/** `<xml>` with one child per entry, in order: strings as CDATA, numbers as plain text (WeChat's own layout). */
export function writeXml(fields: ReadonlyArray<readonly [string, string | number]>): string {
  return `<xml>${fields.map(([name, value]) => `<${name}>${typeof value === 'number' ? String(value) : cdata(value)}</${name}>`).join('')}</xml>`
}
