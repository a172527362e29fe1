/**
 * `rebound report DIR`: report.html and junit.xml written again from the JSON of a run or a
 * comparison (after a change of the renderer, or for a report copied from CI).
 */
import { join } from 'node:path'
import { ReboundError } from '@rebound/protocol'
import { COMPARE_FILE, type CompareReport } from '../compare.js'
import { REPORT_FILE } from '../report.js'
import { asCompare, asReport, readJsonIfExists } from './load.js'
import { writeCompareHtml, writeRunArtifacts, type ComparedRun } from './write.js'

export interface Rerendered {
  kind: 'run' | 'compare'
  /** Every file written, the comparison's page last. */
  written: string[]
  ok: boolean
}

/** Render again from DIR/compare.json (with each run's report.json) or DIR/report.json. */
export async function rerenderDir (dir: string): Promise<Rerendered> {
  const comparePath = join(dir, COMPARE_FILE)
  const compareJson = await readJsonIfExists(comparePath)
  if (compareJson !== undefined) return await rerenderCompare(dir, asCompare(comparePath, compareJson))
  const reportPath = join(dir, REPORT_FILE)
  const reportJson = await readJsonIfExists(reportPath)
  if (reportJson === undefined) throw new ReboundError('BAD_CONFIG', `no ${REPORT_FILE} or ${COMPARE_FILE} in ${dir}`)
  const report = asReport(reportPath, reportJson)
  const paths = await writeRunArtifacts(dir, report)
  return { kind: 'run', written: [paths.html, paths.junit], ok: report.ok }
}

async function rerenderCompare (dir: string, compare: CompareReport): Promise<Rerendered> {
  const runs: ComparedRun[] = []
  const written: string[] = []
  for (const run of compare.runs) {
    // From the run's place under DIR, not run.reportPath: the directory may have been moved or copied.
    const runDir = join(dir, run.profile)
    const path = join(runDir, REPORT_FILE)
    const json = await readJsonIfExists(path)
    if (json === undefined) throw new ReboundError('BAD_CONFIG', `${COMPARE_FILE} lists a ${run.profile} run but ${path} is missing`)
    const report = asReport(path, json)
    const paths = await writeRunArtifacts(runDir, report)
    written.push(paths.html, paths.junit)
    runs.push({ profile: run.profile, report })
  }
  written.push(await writeCompareHtml(dir, compare, runs))
  return { kind: 'compare', written, ok: compare.ok }
}
