/**
 * report.html of `rebound compare`: the side-by-side table of compare.json, a link to each run's
 * own report, and every measure of the timelines with one line per profile on the same chart.
 */
import type { CompareReport } from '../compare.js'
import type { Report } from '../report.js'
import { compareCharts } from './charts.js'
import { escapeMarkup } from './escape.js'
import { facts, heading, htmlPage, link, paragraph, raw, table, type Cell, type Html } from './html-page.js'
import { failedObjectives } from './run-html.js'
import { renderChart } from './svg-chart.js'

export interface CompareRun {
  report: Report
  /** The run's report.html, relative to the compare page. */
  htmlHref: string
}

/** A cell of the table: a failing result or objective is marked. */
function cellOf (text: string): Cell {
  return text.startsWith('FAIL') ? { text, className: 'fail' } : text
}

export function renderCompareHtml (compare: CompareReport, runs: readonly CompareRun[]): string {
  const reports = runs.map((r) => r.report)
  const runLinks = runs.map((r) => link(r.htmlHref, `${r.report.profile} run`).html + escapeMarkup(r.report.ok ? '' : ` (${failureOf(r.report)})`))
  const parts: Html[] = [
    heading(1, `rebound compare ${compare.scenario}`, compare.ok),
    paragraph("The defended run's objectives decide the verdict; the naive run is the 2007 baseline and is expected to fail."),
    facts([
      ['scenario', compare.scenario],
      ['seed', String(compare.seed)],
      ['profiles', compare.profiles.join(' then ')],
      ['runs', raw(runLinks.join(' · '))]
    ]),
    heading(2, 'Side by side'),
    table(['', ...compare.profiles], compare.rows.map((row) => ({ cells: [row.label, ...row.cells.map(cellOf)] }))),
    heading(2, 'Timelines')
  ]
  if (reports.length === 0) parts.push(paragraph('No run finished.', 'note'))
  else parts.push(...compareCharts(reports).map((spec) => raw(renderChart(spec))))
  return htmlPage(`rebound compare ${compare.scenario} ${compare.ok ? 'PASS' : 'FAIL'} (seed ${compare.seed})`, parts)
}

/** Why a run failed, in a few words: its failed objectives, else its error. */
function failureOf (report: Report): string {
  const failed = failedObjectives(report)
  if (failed.length > 0) return `failed: ${failed.join(', ')}`
  return `error: ${report.error ?? 'unknown'}`
}
