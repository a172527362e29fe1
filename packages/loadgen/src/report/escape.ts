/**
 * Text into HTML and XML. One function serves both: the five markup characters become entities
 * (safe in text and in quoted attributes alike), and characters XML 1.0 forbids anywhere (C0
 * controls other than tab, newline and return, lone surrogates, U+FFFE and U+FFFF) become U+FFFD,
 * so a process's stray output quoted in an error message cannot make junit.xml unreadable.
 * https://www.w3.org/TR/xml/#charsets
 */
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

export function escapeMarkup (text: string): string {
  return text.replace(NOT_XML_CHAR, '\uFFFD').replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c)
}
