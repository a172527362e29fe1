/**
 * The human and CI outputs written next to report.json: report.html and junit.xml for a run, and a
 * report.html for a comparison (next to compare.json).
 */
import { join } from 'node:path'
import { writeFileDurable } from '@rebound/protocol'
import type { CompareReport } from '../compare.js'
import { REPORT_FILE, type Report } from '../report.js'
import { renderCompareHtml } from './compare-html.js'
import { renderJunit } from './junit.js'
import { renderRunHtml } from './run-html.js'

export const HTML_FILE = 'report.html'
export const JUNIT_FILE = 'junit.xml'
const FILE_MODE = 0o644

export interface RunArtifacts {
  html: string
  junit: string
}

export async function writeRunArtifacts (outDir: string, report: Report): Promise<RunArtifacts> {
  const paths = { html: join(outDir, HTML_FILE), junit: join(outDir, JUNIT_FILE) }
  await writeFileDurable(paths.html, renderRunHtml(report, { json: REPORT_FILE, junit: JUNIT_FILE }), FILE_MODE)
  await writeFileDurable(paths.junit, renderJunit(report), FILE_MODE)
  return paths
}

/** Each run of a comparison lives in `<compare dir>/<profile>/` (compare.ts). */
export interface ComparedRun {
  profile: string
  report: Report
}

export async function writeCompareHtml (outDir: string, compare: CompareReport, runs: readonly ComparedRun[]): Promise<string> {
  const path = join(outDir, HTML_FILE)
  const html = renderCompareHtml(compare, runs.map((r) => ({ report: r.report, htmlHref: `${r.profile}/${HTML_FILE}` })))
  await writeFileDurable(path, html, FILE_MODE)
  return path
}
