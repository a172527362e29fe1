/**
 * What a person watching the terminal sees at the end of a run: a summary with a PASS/FAIL per
 * objective (the live progress before it is progress.ts).
 */
import { hostLine } from './host-cpu.js'
import type { HistoryReport } from './history-run.js'
import type { InFlightAtTrigger } from './history/in-flight.js'
import type { Report } from './report.js'
import { supernodeFailureLines } from './supernode-summary.js'
import { soakLines } from './scenarios/soak.js'
import { wipeLines } from './scenarios/wipe-report.js'

export function formatMs (ms: number | null): string {
  if (ms === null) return 'never'
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`
}

export function formatAttempts (value: number | null): string {
  return value === null ? '-' : value.toFixed(2)
}

export function formatValue (name: string, value: number | null): string {
  if (value === null) return '-'
  return name.endsWith('-ms') ? `${value} ms` : String(value)
}

/** The history check: acknowledged operations, then what the checker found, then how the settle went. */
export function historyLines (h: HistoryReport | undefined): string[] {
  if (h === undefined) return ['  history     not checked (the run ended before its check)']
  const { send, contact } = h.perKind
  const settled = h.drained
    ? `settled in ${formatMs(h.settledMs)} (outboxes drained)`
    : `not drained after ${formatMs(h.settledMs)} (pending ${h.left.pending}, unarchived ${h.left.unarchived}, unfetched ${h.left.unfetched}, unanswered ${h.left.unanswered}, unsynced ${h.left.unsynced})`
  const unchecked = [h.unreadable > 0 ? `unreadable ${h.unreadable}` : '', h.dropped > 0 ? `dropped ${h.dropped}` : ''].filter((s) => s !== '')
  return [
    `  history     ok ${h.ok} of ${h.operations} operations acknowledged (sends ${send.ok}, contact changes ${contact.ok}), failed ${h.failed}`,
    `              lost ${h.lost}, duplicated ${h.duplicated}, unexpected ${h.unexpected}, unknown ${h.unknown.present + h.unknown.absent} (present ${h.unknown.present}, absent ${h.unknown.absent})`,
    `              ${settled}${unchecked.length === 0 ? '' : `; ${unchecked.join(', ')}`}`,
    ...(h.atTrigger === undefined ? [] : [inFlightLine(h.atTrigger)])
  ]
}

function inFlightLine (t: InFlightAtTrigger): string {
  const { ok, failed, unknown } = t.outcomes
  return `              in flight at the trigger ${t.send + t.contact} (sends ${t.send}, contact changes ${t.contact}): then ok ${ok}, failed ${failed}, unknown ${unknown}`
}

/** The files a run writes beside report.json (report/write.ts); absent when they could not be written. */
export interface SummaryArtifacts {
  html: string
  junit: string
}

export function formatSummary (report: Report, reportPath: string, artifacts?: SummaryArtifacts): string {
  const { recovery, logins, messages, cluster } = report
  const lines: string[] = []
  lines.push('')
  lines.push(`rebound ${report.scenario}: ${report.ok ? 'PASS' : 'FAIL'}   (seed ${report.seed}, driver ${report.driver}, profile ${report.profile}, ${formatMs(report.durationMs)})`)
  if (report.error !== null) lines.push(`  error       ${report.error.split('\n').join('\n              ')}`)
  const perProcess = report.peersPerProcess ?? 1
  const swarmCount = Math.ceil(cluster.peers / perProcess)
  const swarms = perProcess > 1 ? ` in ${swarmCount} swarm process${swarmCount === 1 ? '' : 'es'} (${perProcess} per process)` : ''
  lines.push(`  cluster     ${cluster.loginServers} login servers, ${cluster.supernodes} supernodes, ${cluster.peers} peers${swarms}`)
  if (report.host !== undefined) lines.push(hostLine(report.host, report.triggerAtS !== null && report.triggerAtS !== undefined))
  if (report.supernodeFailure !== undefined) {
    lines.push(...supernodeFailureLines(report.supernodeFailure, formatMs))
  } else if (report.wipe?.target === 'store') {
    // Nothing was killed but the login servers: what counts is the store's restoration.
  } else if (report.error !== null && recovery.kills.length === 0) {
    lines.push('  recovery    not measured (the run ended before its trigger)')
  } else {
    const swarmsKilled = recovery.processKills?.length ?? 0
    const killedProcesses = perProcess > 1 ? ` (with ${swarmsKilled} swarm process${swarmsKilled === 1 ? '' : 'es'})` : ''
    lines.push(`  recovery    killed ${recovery.killed}${killedProcesses}, re-attached ${recovery.reattached}`)
    const cells = [['T50', recovery.t50Ms], ['T90', recovery.t90Ms], ['T99', recovery.t99Ms], ['T100', recovery.t100Ms]] as const
    lines.push('              ' + cells.map(([label]) => label.padEnd(10)).join(''))
    lines.push('              ' + cells.map(([, ms]) => formatMs(ms).padEnd(10)).join(''))
    lines.push(`              logins during recovery ${recovery.loginsOffered}, attempts per restarted peer ${formatAttempts(recovery.attemptsPerClient)}`)
  }
  if (report.wipe !== undefined) lines.push(...wipeLines(report.wipe, formatMs))
  if (report.soak !== undefined) lines.push(...soakLines(report.soak, formatMs))
  lines.push(`  logins      offered ${logins.offered}, accepted ${logins.accepted}, rejected ${logins.rejected}, failed ${logins.failed}`)
  const codes = Object.entries(messages.failedByCode).sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ${n}`).join(', ')
  lines.push(`  messages    sent ${messages.sent}, delivered ${messages.delivered}, failed ${messages.failed}${codes === '' ? '' : ` (${codes})`}`)
  lines.push(...historyLines(report.history))
  if (report.unexpectedExits.length > 0) {
    lines.push(`  exits       unexpected: ${report.unexpectedExits.map((e) => `${e.name} (code ${e.code ?? '-'}, signal ${e.signal ?? '-'})`).join(', ')}`)
  }
  lines.push('  objectives')
  for (const o of report.objectives) {
    lines.push(`    ${o.ok ? 'PASS' : 'FAIL'}  ${o.name.padEnd(24)} ${formatValue(o.name, o.value)} (limit ${formatValue(o.name, o.limit)})`)
  }
  lines.push(`  report      ${reportPath}`)
  if (artifacts !== undefined) {
    lines.push(`              ${artifacts.html} (open in a browser)`)
    lines.push(`              ${artifacts.junit}`)
  }
  lines.push(`  logs        ${report.logsDir}`)
  lines.push(`  reproduce   ${report.reproduce}`)
  lines.push('')
  return lines.join('\n')
}
