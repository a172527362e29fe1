/**
 * `rebound compare <scenario>`: the same scenario with the same seed, first with every process in
 * the `naive` profile (the 2007 behaviour), then `defended`, one run folder each, and a table with
 * a column per profile, and a report.html with both runs on the same charts. The exit code is the
 * defended run's: the naive run is expected to fail.
 * Not with `--driver docker`: see DOCKER_REFUSAL.
 */
import { randomInt } from 'node:crypto'
import { join, resolve } from 'node:path'
import { ReboundError, describeError, writeFileDurable, type Profile } from '@rebound/protocol'
import type { CompareOptions } from './options.js'
import { MAX_SEED } from './prng.js'
import type { Report } from './report.js'
import { writeCompareHtml } from './report/write.js'
import { EXIT_INTERRUPTED, runScenario, type RunResult } from './run.js'
import type { Scenario } from './scenarios/scenario.js'
import { formatAttempts, formatMs, formatValue } from './summary.js'

/** Naive first: its collapse is the baseline the defended run is read against. */
export const COMPARE_ORDER: readonly Profile[] = ['naive', 'defended']
export const COMPARE_FILE = 'compare.json'
/**
 * Why compare refuses the docker driver. Each process reads its profile from REBOUND_PROFILE once,
 * at its start; a compose container gets it when compose creates it, and a restart starts the same
 * container with the same environment. The docker driver attaches to a project and never creates
 * or removes a container (it does not own the compose file), so it cannot turn a running cluster
 * naive, then defended; and the second run would need fresh volumes anyway, since the history check
 * judges a run's writes against data that only that run wrote.
 */
export const DOCKER_REFUSAL = 'compare --driver docker: the profile is fixed in each container\'s environment (REBOUND_PROFILE) when compose creates it, ' +
  'and the docker driver attaches to a running project without recreating its containers, so one project cannot run naive then defended. ' +
  'Instead run `rebound run <scenario> --driver docker --profile naive` against a project brought up with REBOUND_PROFILE=naive, ' +
  'then with --profile defended against one brought up with REBOUND_PROFILE=defended (fresh volumes each: `down -v` between), with the same --seed'

export interface CompareInit {
  scenario: Scenario
  options: CompareOptions
  argv: readonly string[]
  env: NodeJS.ProcessEnv
  print: (line: string) => void
  /** print goes to a terminal: each run's progress is redrawn in place. */
  tty?: boolean
}

export interface CompareRow {
  label: string
  /** One cell per profile, in COMPARE_ORDER. */
  cells: string[]
}

export interface CompareReport {
  scenario: string
  seed: number
  profiles: readonly Profile[]
  runs: Array<{ profile: Profile, reportPath: string, ok: boolean, exitCode: number }>
  rows: CompareRow[]
  /** The defended run's objectives held. */
  ok: boolean
}

export interface CompareResult {
  compare: CompareReport
  path: string
  exitCode: number
}

function timestamp (date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
}

export async function runCompare (init: CompareInit): Promise<CompareResult> {
  if (init.options.driver === 'docker') throw new ReboundError('BAD_CONFIG', DOCKER_REFUSAL)
  const seed = init.options.seed ?? randomInt(0, MAX_SEED + 1)
  const outDir = resolve(init.options.out ?? join('runs', `compare-${init.scenario.name}-${timestamp(new Date())}-${seed}`))
  init.print(`rebound compare ${init.scenario.name}: seed ${seed}, profiles ${COMPARE_ORDER.join(' then ')}, out ${outDir}`)
  const results: Array<{ profile: Profile, result: RunResult }> = []
  for (const profile of COMPARE_ORDER) {
    const result = await runScenario({
      scenario: init.scenario,
      options: { ...init.options, seed, profile, out: join(outDir, profile) },
      argv: [...init.argv, '--profile', profile],
      env: init.env,
      print: init.print,
      tty: init.tty === true
    })
    results.push({ profile, result })
    if (result.exitCode === EXIT_INTERRUPTED) break
  }
  const rows = compareRows(results.map((r) => r.result.report))
  const defended = results.find((r) => r.profile === 'defended')
  const compare: CompareReport = {
    scenario: init.scenario.name,
    seed,
    profiles: results.map((r) => r.profile),
    runs: results.map((r) => ({ profile: r.profile, reportPath: r.result.reportPath, ok: r.result.report.ok, exitCode: r.result.exitCode })),
    rows,
    ok: defended?.result.report.ok === true
  }
  const path = join(outDir, COMPARE_FILE)
  await writeFileDurable(path, JSON.stringify(compare, null, 2) + '\n', 0o644)
  // compare.json is the record; a renderer bug must not cost the comparison its exit code.
  const html = await writeCompareHtml(outDir, compare, results.map((r) => ({ profile: r.profile, report: r.result.report })))
    .then((htmlPath) => `both runs on the same charts: ${htmlPath}`, (err: unknown) => `report.html not written: ${describeError(err)}`)
  init.print(formatCompare(compare.profiles, rows))
  init.print(`compare: ${compare.ok ? 'PASS' : 'FAIL'} (the defended run's objectives decide), ${path}`)
  init.print(`         ${html}`)
  const interrupted = results.some((r) => r.result.exitCode === EXIT_INTERRUPTED)
  return { compare, path, exitCode: interrupted ? EXIT_INTERRUPTED : defended?.result.exitCode ?? 1 }
}

function ratio (delivered: number, counted: number): string {
  return counted > 0 ? (delivered / counted).toFixed(4) : '-'
}

/** The rows of the side-by-side table, one cell per report (reports in profile order). */
export function compareRows (reports: readonly Report[]): CompareRow[] {
  const row = (label: string, cell: (r: Report) => string): CompareRow => ({ label, cells: reports.map(cell) })
  const rows: CompareRow[] = [
    row('result', (r) => (r.ok ? 'PASS' : 'FAIL') + (r.error === null ? '' : ' (error)')),
    row('killed / re-attached', (r) => `${r.recovery.killed} / ${r.recovery.reattached}`),
    row('recovery T50', (r) => formatMs(r.recovery.t50Ms)),
    row('recovery T90', (r) => formatMs(r.recovery.t90Ms)),
    row('recovery T99', (r) => formatMs(r.recovery.t99Ms)),
    row('recovery T100', (r) => formatMs(r.recovery.t100Ms)),
    row('logins offered', (r) => String(r.logins.offered)),
    row('logins accepted', (r) => String(r.logins.accepted)),
    row('logins rejected', (r) => String(r.logins.rejected)),
    row('logins during recovery', (r) => String(r.recovery.loginsOffered)),
    row('attempts per client', (r) => formatAttempts(r.recovery.attemptsPerClient)),
    row('messages sent', (r) => String(r.messages.sent)),
    row('messages delivered', (r) => String(r.messages.delivered)),
    row('messages failed', (r) => String(r.messages.failed)),
    row('delivery ratio', (r) => ratio(r.messages.delivered, r.messages.counted))
  ]
  // Objectives by name, in the order of their first appearance (the same scenario gives the same list).
  const names = [...new Set(reports.flatMap((r) => r.objectives.map((o) => o.name)))]
  for (const name of names) {
    rows.push(row(`objective ${name}`, (r) => {
      const o = r.objectives.find((x) => x.name === name)
      return o === undefined ? '-' : `${o.ok ? 'PASS' : 'FAIL'} ${formatValue(o.name, o.value)}`
    }))
  }
  return rows
}

/** A plain-text table: a label column, then one column per profile. */
export function formatCompare (profiles: readonly string[], rows: readonly CompareRow[]): string {
  const header = ['', ...profiles]
  const body = rows.map((r) => [r.label, ...r.cells])
  const widths = header.map((_, col) => Math.max(...[header, ...body].map((cells) => (cells[col] ?? '').length)))
  const line = (cells: readonly string[]): string => cells.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join('  ').trimEnd()
  return ['', line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), ''].join('\n')
}
