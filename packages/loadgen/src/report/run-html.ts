/**
 * report.html of one run: the verdict and how to replay it, the objectives (failed ones first in
 * the eye: named under the title and marked in the table), recovery, totals, the history check,
 * and the timeline charts with the trigger marked.
 */
import { hostLine } from '../host-cpu.js'
import type { HistoryReport } from '../history-run.js'
import type { Report } from '../report.js'
import type { RecoveryFigures } from '../recovery.js'
import type { SoakReport } from '../scenarios/soak.js'
import type { WipeReport } from '../scenarios/wipe-report.js'
import { formatAttempts, formatMs, formatValue } from '../summary.js'
import { supernodeFailureLines } from '../supernode-summary.js'
import { runCharts } from './charts.js'
import { escapeMarkup } from './escape.js'
import { code, facts, heading, htmlPage, link, paragraph, raw, table, type Cell, type Html } from './html-page.js'
import { renderChart } from './svg-chart.js'
import { triggerAtS } from './trigger.js'

/** History problems listed as examples; the counts above them cover all. */
export const MAX_EXAMPLES_SHOWN = 10
/** Unexpected exits listed; the heading gives the count. */
export const MAX_EXITS_SHOWN = 50

export interface RunPageLinks {
  json: string
  junit: string
}

export function renderRunHtml (report: Report, links: RunPageLinks = { json: 'report.json', junit: 'junit.xml' }): string {
  return htmlPage(`rebound ${report.scenario} ${report.ok ? 'PASS' : 'FAIL'} (seed ${report.seed})`, [
    heading(1, `rebound ${report.scenario}`, report.ok),
    ...failedNames(report),
    header(report, links),
    heading(2, 'Objectives'),
    objectivesTable(report),
    heading(2, 'Recovery'),
    ...recovery(report),
    heading(2, 'Logins and messages'),
    totals(report),
    heading(2, 'History'),
    ...history(report.history),
    ...exits(report),
    heading(2, 'Timeline'),
    ...(report.timelineTruncated ? [paragraph('The run outlasted the timeline bound: only its first part is shown.', 'note')] : []),
    ...runCharts(report).map((spec) => raw(renderChart(spec)))
  ])
}

export function failedObjectives (report: Report): string[] {
  return report.objectives.filter((o) => !o.ok).map((o) => o.name)
}

function failedNames (report: Report): Html[] {
  const failed = failedObjectives(report)
  const lines: Html[] = []
  if (failed.length > 0) lines.push(paragraph(`Failed objectives: ${failed.join(', ')}`, 'failed-list'))
  if (report.error !== null) lines.push(paragraph(`Run error: ${report.error}`, 'failed-list'))
  return lines
}

function clusterText (report: Report): string {
  const { loginServers, supernodes, peers } = report.cluster
  const perProcess = report.peersPerProcess ?? 1
  const swarms = perProcess > 1 ? `, ${perProcess} peers per swarm process` : ''
  return `${loginServers} login servers, ${supernodes} supernodes, ${peers} peers${swarms}`
}

function header (report: Report, links: RunPageLinks): Html {
  const trigger = triggerAtS(report)
  return facts([
    ['scenario', report.scenario],
    ['profile', report.profile],
    ['seed', String(report.seed)],
    ['driver', report.driver],
    ['cluster', clusterText(report)],
    ...(report.host === undefined ? [] : [['host', hostLine(report.host, trigger !== null).replace(/^\s*host\s+/, '').replace(/\n\s*/, ' ')] as [string, string]]),
    ['started', report.startedAt],
    ['duration', formatMs(report.durationMs)],
    ['trigger', trigger === null ? 'not reached' : `${trigger} s after the start`],
    ...(report.scenarioFile === undefined ? [] : [['scenario file', report.scenarioFile.shipped ? `${report.scenarioFile.name} (shipped)` : report.scenarioFile.path] as [string, string]]),
    ['reproduce', code(report.reproduce)],
    ['files', raw(`${link(links.json, 'report.json').html} · ${link(links.junit, 'junit.xml').html} · logs in ${code(report.logsDir).html}`)]
  ])
}

function objectivesTable (report: Report): Html {
  return table(['objective', { text: 'value', className: 'num' }, { text: 'limit', className: 'num' }, 'result'], report.objectives.map((o) => ({
    cells: [o.name, { text: formatValue(o.name, o.value), className: 'num' }, { text: formatValue(o.name, o.limit), className: 'num' },
      { text: o.ok ? 'PASS' : 'FAIL', className: o.ok ? 'pass' : 'fail' }],
    ...(o.ok ? {} : { className: 'fail' })
  })))
}

function percentiles (figures: RecoveryFigures): Html {
  return table(['T50', 'T90', 'T99', 'T100'], [{ cells: [figures.t50Ms, figures.t90Ms, figures.t99Ms, figures.t100Ms].map(formatMs) }])
}

function recovery (report: Report): Html[] {
  const r = report.recovery
  const sf = report.supernodeFailure
  if (sf !== undefined) {
    return [paragraph('Re-homing of the orphans, from the trigger:'), percentiles(sf.rehoming),
      raw(`<pre>${supernodeFailureLines(sf, formatMs).map((l) => escapeMarkup(l.trimEnd())).join('\n')}</pre>`)]
  }
  if (report.soak !== undefined) return [...soakParts(report.soak), paragraph('Churned peers, from each kill until attached again:'), percentiles(r)]
  const wipe = report.wipe === undefined ? [] : wipeParts(report.wipe)
  if (report.wipe?.target === 'store') return wipe
  if (report.error !== null && r.kills.length === 0) return [paragraph('Not measured: the run ended before its trigger.', 'note')]
  return [
    ...wipe,
    paragraph('Time from each kill until the peer was attached again:'),
    percentiles(r),
    facts([
      ['killed / re-attached', `${r.killed} / ${r.reattached}`],
      ['processes killed', String(r.processKills?.length ?? r.kills.length)],
      ['logins during recovery', String(r.loginsOffered)],
      ['attempts per restarted peer', formatAttempts(r.attemptsPerClient)]
    ])
  ]
}

/** soak: the churn, and per role the growth of memory and descriptors (soak-growth.ts). */
function soakParts (soak: SoakReport): Html[] {
  return [
    facts([
      ['duration', formatMs(soak.durationMs)],
      ['churn', `a peer process every ${formatMs(soak.churnIntervalMs)}; ${soak.churned} distinct processes churned`],
      ['samples', `${soak.samples} (every 5 s); early window = the second fifth of the soak, late = the last fifth`]
    ]),
    table(['role', { text: 'RSS early (MiB/process)', className: 'num' }, { text: 'RSS late', className: 'num' }, { text: 'ratio', className: 'num' },
      { text: 'fds early (per process)', className: 'num' }, { text: 'fds late', className: 'num' }, { text: 'ratio', className: 'num' }],
    soak.growth.map((g) => ({
      cells: [g.role, { text: String(g.rssEarlyMiB), className: 'num' }, { text: String(g.rssLateMiB), className: 'num' }, { text: String(g.rssRatio), className: 'num' },
        { text: String(g.fdsEarly), className: 'num' }, { text: String(g.fdsLate), className: 'num' }, { text: String(g.fdRatio), className: 'num' }]
    })))
  ]
}

/** wipe: what was erased and how fast the devices were restored (wipe-report.ts). */
function wipeParts (w: WipeReport): Html[] {
  return [
    paragraph('Time from the wipe until each device followed was restored (holds nothing the store lacks, and the store nothing it lacks):'),
    percentiles(w.restore),
    facts([
      ['erased', w.target === 'store' ? `the store (${w.erased.length} files)` : `${w.erased.length} data directories`],
      ['devices restored', `${w.restore.reattached} of ${w.restore.killed}`],
      ['storeId', `${w.storeIdBefore ?? '-'} → ${w.storeIdAfter ?? '-'}`],
      ...(w.target === 'store' ? [['login servers back', formatMs(w.loginServersBackMs)] as [string, string]] : []),
      ['writes started at the trigger', `${w.writesAtTrigger.sends} sends, ${w.writesAtTrigger.contacts} contact changes`]
    ])
  ]
}

function totals (report: Report): Html {
  const { logins, messages } = report
  const codes = Object.entries(messages.failedByCode).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ')
  return facts([
    ['logins', `offered ${logins.offered}, accepted ${logins.accepted}, shed (rejected) ${logins.rejected}, failed ${logins.failed}`],
    ['messages', `sent ${messages.sent}, delivered ${messages.delivered}, failed ${messages.failed}${codes === '' ? '' : ` (${codes})`}`],
    ['delivery ratio', messages.counted > 0 ? (messages.delivered / messages.counted).toFixed(4) : '-']
  ])
}

/** A count of problems: marked when there are any. */
function problems (n: number): Cell {
  return n > 0 ? { text: String(n), className: 'fail' } : String(n)
}

function history (h: HistoryReport | undefined): Html[] {
  if (h === undefined) return [paragraph('Not checked: the run ended before its check.', 'note')]
  const settle = h.drained ? `settled in ${formatMs(h.settledMs)}, outboxes drained` : `not drained after ${formatMs(h.settledMs)}`
  const parts: Html[] = [table(
    ['operations', 'ok', 'lost', 'duplicated', 'unexpected', 'unknown (present / absent)', 'failed', 'unreadable', 'dropped'],
    [{
      cells: [String(h.operations), String(h.ok), problems(h.lost), problems(h.duplicated), problems(h.unexpected),
        `${h.unknown.present} / ${h.unknown.absent}`, String(h.failed), String(h.unreadable), String(h.dropped)]
    }]
  ), paragraph(settle)]
  const t = h.atTrigger
  if (t !== undefined) {
    parts.push(paragraph(`In flight at the trigger: ${t.send + t.contact} operations (sends ${t.send}, contact changes ${t.contact}); then ok ${t.outcomes.ok}, failed ${t.outcomes.failed}, unknown ${t.outcomes.unknown}.`))
  }
  if (h.examples.length > 0) {
    parts.push(paragraph(`First problems (${Math.min(h.examples.length, MAX_EXAMPLES_SHOWN)} of ${h.examples.length} kept):`))
    parts.push(table(['what', 'kind', 'where', 'user', 'id / contact', 'expected', 'got'], h.examples.slice(0, MAX_EXAMPLES_SHOWN).map((p) => ({
      cells: [p.what, p.kind ?? '-', p.where, p.user, p.id ?? p.contact ?? '-', p.expected, p.got]
    }))))
  }
  return parts
}

function exits (report: Report): Html[] {
  const list = report.unexpectedExits
  if (list.length === 0) return []
  return [heading(2, `Unexpected exits (${list.length})`), table(['process', 'pid', 'code', 'signal'],
    list.slice(0, MAX_EXITS_SHOWN).map((e) => ({ cells: [e.name, String(e.pid), String(e.code ?? '-'), e.signal ?? '-'], className: 'fail' })))]
}
