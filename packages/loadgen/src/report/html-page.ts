/**
 * The frame of a report page and its building blocks. Everything a page needs is in the one file
 * (inline style, inline SVG, system fonts): it opens offline, from a CI artifact or a mail.
 * Every helper here takes plain text and escapes it; only already-built HTML is passed as `Html`.
 */
import { escapeMarkup } from './escape.js'

/** Markup built by these helpers (already escaped), as opposed to text. */
export interface Html {
  html: string
}

export function raw (html: string): Html {
  return { html }
}

/** A table cell: text, or text with a class (e.g. `fail`). */
export type Cell = string | { text: string, className: string }

/** FAIL's colour (#a61e4d) is far from every series colour, so text never reads as a chart line. */
const STYLE = `
body { font-family: system-ui, sans-serif; color: #222; max-width: 1120px; margin: 24px auto; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; color: #fff; font-weight: bold; }
.verdict.pass { background: #2b8a3e; } .verdict.fail { background: #a61e4d; }
.failed-list { color: #a61e4d; font-weight: bold; }
table { border-collapse: collapse; margin: 8px 0; } td, th { padding: 3px 12px 3px 0; text-align: left; vertical-align: top; }
th { border-bottom: 1px solid #ccc; font-weight: 600; } td.num, th.num { text-align: right; }
tr.fail td { background: #fff0f0; } td.fail { color: #a61e4d; font-weight: bold; } td.pass { color: #2b8a3e; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; } dt { color: #666; } dd { margin: 0; }
code { background: #f4f4f4; padding: 1px 4px; border-radius: 3px; word-break: break-all; }
figure.chart { margin: 18px 0; } figcaption { font-weight: 600; margin-bottom: 4px; } .unit { color: #777; font-weight: normal; }
ul.legend { list-style: none; padding: 0; margin: 2px 0 0 60px; display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 13px; }
.swatch { display: inline-block; width: 16px; margin-right: 6px; vertical-align: middle; }
p.empty, .note { color: #777; font-style: italic; }
`

export function htmlPage (title: string, body: readonly Html[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${escapeMarkup(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    ...body.map((part) => part.html),
    '</body>',
    '</html>',
    ''
  ].join('\n')
}

export function heading (level: 1 | 2, text: string, verdict?: boolean): Html {
  const badge = verdict === undefined ? '' : ` <span class="verdict ${verdict ? 'pass' : 'fail'}">${verdict ? 'PASS' : 'FAIL'}</span>`
  return raw(`<h${level}>${escapeMarkup(text)}${badge}</h${level}>`)
}

export function paragraph (text: string, className?: string): Html {
  return raw(`<p${className === undefined ? '' : ` class="${escapeMarkup(className)}"`}>${escapeMarkup(text)}</p>`)
}

/** Label and value pairs; a value may be HTML (a link, code). */
export function facts (pairs: ReadonlyArray<readonly [string, string | Html]>): Html {
  const items = pairs.map(([label, value]) => `<dt>${escapeMarkup(label)}</dt><dd>${typeof value === 'string' ? escapeMarkup(value) : value.html}</dd>`)
  return raw(`<dl>${items.join('')}</dl>`)
}

export function code (text: string): Html {
  return raw(`<code>${escapeMarkup(text)}</code>`)
}

export function link (href: string, text: string): Html {
  return raw(`<a href="${escapeMarkup(href)}">${escapeMarkup(text)}</a>`)
}

function cell (tag: 'td' | 'th', c: Cell): string {
  return typeof c === 'string' ? `<${tag}>${escapeMarkup(c)}</${tag}>` : `<${tag} class="${escapeMarkup(c.className)}">${escapeMarkup(c.text)}</${tag}>`
}

/** A table; a row may carry a class (`fail` colours it). */
export function table (head: readonly Cell[], rows: ReadonlyArray<{ cells: readonly Cell[], className?: string }>): Html {
  const headHtml = `<tr>${head.map((c) => cell('th', c)).join('')}</tr>`
  const body = rows.map((r) => `<tr${r.className === undefined ? '' : ` class="${escapeMarkup(r.className)}"`}>${r.cells.map((c) => cell('td', c)).join('')}</tr>`)
  return raw(`<table>${headHtml}\n${body.join('\n')}</table>`)
}
