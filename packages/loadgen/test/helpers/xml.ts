/**
 * A strict reader for the XML this project writes (junit.xml): an optional declaration, one root
 * element, attributes in quotes, the five predefined entities and character references, text.
 * Anything else (a stray `<` or `&`, mismatched or unclosed tags, a duplicate attribute, a control
 * character, comments, CDATA, DOCTYPE) throws, naming the offset: the well-formedness rules of
 * https://www.w3.org/TR/xml/ for that subset. Returns the element tree with text decoded.
 */

export interface XmlElement {
  name: string
  attrs: Record<string, string>
  children: XmlElement[]
  text: string
}

const NAME = /[A-Za-z_:][\w.:-]*/y
const SPACE = /[ \t\r\n]*/y
const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }
/** Control characters other than tab, newline and return may not appear at all, even as references. */
const BAD_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/

class Reader {
  pos = 0
  constructor (readonly src: string) {}

  fail (what: string): never {
    throw new Error(`not well-formed XML at offset ${this.pos}: ${what} (near ${JSON.stringify(this.src.slice(this.pos, this.pos + 30))})`)
  }

  match (re: RegExp): string | undefined {
    re.lastIndex = this.pos
    const m = re.exec(this.src)
    if (m === null) return undefined
    this.pos += m[0].length
    return m[0]
  }

  expect (literal: string): void {
    if (!this.src.startsWith(literal, this.pos)) this.fail(`expected ${JSON.stringify(literal)}`)
    this.pos += literal.length
  }

  space (): void {
    this.match(SPACE)
  }

  name (): string {
    return this.match(NAME) ?? this.fail('expected a name')
  }

  /** Text up to `end` (exclusive) with references decoded; `<` never allowed in it. */
  chars (end: string): string {
    let out = ''
    while (this.pos < this.src.length && !this.src.startsWith(end, this.pos)) {
      const c = this.src[this.pos] ?? ''
      if (c === '<') this.fail('raw < in text or attribute')
      if (end === '<' && this.src.startsWith(']]>', this.pos)) this.fail(']]> in text')
      if (c === '&') {
        out += this.reference()
        continue
      }
      out += c
      this.pos++
    }
    return out
  }

  reference (): string {
    const m = /&(?:#(\d+)|#x([0-9A-Fa-f]+)|([A-Za-z]+));/y
    m.lastIndex = this.pos
    const found = m.exec(this.src) ?? this.fail('bad reference (a raw &?)')
    this.pos += found[0].length
    if (found[3] !== undefined) return ENTITIES[found[3]] ?? this.fail(`unknown entity &${found[3]};`)
    const code = found[1] !== undefined ? Number(found[1]) : parseInt(found[2] ?? '', 16)
    const char = String.fromCodePoint(code)
    if (BAD_CHAR.test(char)) this.fail('reference to a character XML forbids')
    return char
  }

  element (): XmlElement {
    this.expect('<')
    const name = this.name()
    const attrs: Record<string, string> = {}
    for (;;) {
      const before = this.pos
      this.space()
      if (this.src.startsWith('/>', this.pos)) {
        this.pos += 2
        return { name, attrs, children: [], text: '' }
      }
      if (this.src.startsWith('>', this.pos)) break
      if (this.pos === before) this.fail('expected space before an attribute')
      const attr = this.name()
      if (attr in attrs) this.fail(`duplicate attribute ${attr}`)
      this.space(); this.expect('='); this.space()
      const quote = this.src[this.pos]
      if (quote !== '"' && quote !== "'") this.fail('attribute value not quoted')
      this.pos++
      attrs[attr] = this.chars(quote)
      this.expect(quote)
    }
    this.expect('>')
    const children: XmlElement[] = []
    let text = ''
    for (;;) {
      text += this.chars('<')
      if (this.pos >= this.src.length) this.fail(`<${name}> not closed`)
      if (this.src.startsWith('</', this.pos)) break
      if (this.src.startsWith('<!', this.pos) || this.src.startsWith('<?', this.pos)) this.fail('comments, CDATA and processing instructions are not expected')
      children.push(this.element())
    }
    this.expect('</')
    const closing = this.name()
    if (closing !== name) this.fail(`</${closing}> closes <${name}>`)
    this.space()
    this.expect('>')
    return { name, attrs, children, text }
  }
}

export function parseXml (src: string): XmlElement {
  if (BAD_CHAR.test(src)) throw new Error('not well-formed XML: a control character XML forbids')
  const r = new Reader(src)
  if (src.startsWith('<?xml')) {
    const end = src.indexOf('?>')
    if (end < 0) r.fail('unterminated declaration')
    r.pos = end + 2
  }
  r.space()
  const root = r.element()
  r.space()
  if (r.pos !== src.length) r.fail('content after the root element')
  return root
}

/** Every element named `name` under (and including) `root`, in document order. */
export function findAll (root: XmlElement, name: string): XmlElement[] {
  return [...(root.name === name ? [root] : []), ...root.children.flatMap((c) => findAll(c, name))]
}
