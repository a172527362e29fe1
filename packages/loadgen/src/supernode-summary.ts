/**
 * The run summary's lines for decapitate and freeze: which supernodes were hit, how fast their
 * orphans re-homed, what the survivors carried, how messages fared afterwards, and what became of
 * thawed, restarted and added supernodes.
 */
import type { SupernodeFailureReport } from './scenarios/supernode-failure-report.js'
import { survivorsOverCap } from './scenarios/supernode-objectives.js'

/** Supernode names listed in one line before "...". */
const MAX_NAMES = 8

function names (list: readonly string[]): string {
  return list.length <= MAX_NAMES ? list.join(', ') : `${list.slice(0, MAX_NAMES).join(', ')}, ... (${list.length})`
}

function seconds (ms: number | null): string {
  return ms === null ? 'never' : `${(ms / 1000).toFixed(1)} s`
}

function loadLine (label: string, what: string, load: SupernodeFailureReport['loadAfter']): string {
  if (load === null) return `  ${label.padEnd(10)}  no ${what} supernode`
  const ratio = load.maxOverMean === null ? '-' : load.maxOverMean.toFixed(2)
  return `  ${label.padEnd(10)}  ${load.supernodes} ${what}, ${load.clients} clients: mean ${load.meanLoad.toFixed(3)}, max ${load.maxLoad.toFixed(3)} (${load.busiest}), max/mean ${ratio}`
}

export function supernodeFailureLines (sf: SupernodeFailureReport, formatMs: (ms: number | null) => string): string[] {
  const lines: string[] = []
  const hit = sf.affected.map((a) => a.name)
  const freeze = sf.freezeMs === null ? '' : ` for ${seconds(sf.freezeMs)}`
  const bound = sf.freezeRehomeBoundMs === null ? '' : ` (silence + W: ${seconds(sf.freezeRehomeBoundMs)})`
  lines.push(`  supernodes  ${sf.trigger} ${hit.length} of ${sf.supernodesBefore}${freeze} (fraction ${sf.fraction}): ${names(hit)}; orphan window W up to ${sf.orphanWindowMs} ms${bound}`)
  const rehomed = sf.orphans.filter((o) => o.rehomedAtMs !== null).length
  lines.push(`  orphans     ${sf.orphans.length}, re-homed ${rehomed}`)
  const cells = [['T50', sf.rehoming.t50Ms], ['T90', sf.rehoming.t90Ms], ['T99', sf.rehoming.t99Ms], ['T100', sf.rehoming.t100Ms]] as const
  lines.push('              ' + cells.map(([label]) => label.padEnd(10)).join(''))
  lines.push('              ' + cells.map(([, ms]) => formatMs(ms).padEnd(10)).join(''))
  if (sf.survivors.length > 0) {
    const peak = sf.survivors.reduce((a, b) => (b.maxClients / Math.max(1, b.capacity) > a.maxClients / Math.max(1, a.capacity) ? b : a))
    lines.push(`  survivors   ${sf.survivors.length}; busiest ${peak.name} peaked at ${peak.maxClients}/${peak.capacity} clients; over cap ${survivorsOverCap(sf)}`)
  } else {
    lines.push('  survivors   none')
  }
  lines.push(loadLine('load after', 'live', sf.loadAfter))
  if (sf.survivors.length > 0) lines.push(loadLine('survivors', 'live', sf.survivorLoadAfter))
  const m = sf.afterRecovery
  const ratio = m.deliveryRatio === null ? '-' : m.deliveryRatio.toFixed(4)
  const restarts = m.membershipChanges > 0 ? ` (restarted by ${m.membershipChanges} membership change${m.membershipChanges === 1 ? '' : 's'})` : ''
  lines.push(`  after       ${seconds(m.toMs - m.fromMs)} window from ${seconds(m.fromMs - sf.triggerAtMs)} after the trigger${restarts}: sent ${m.sent}, delivered ${m.delivered}, failed ${m.failed}, ratio ${ratio}`)
  const l = sf.lookups
  lines.push(`  lookups     ${l.online} online users via ${l.via} supernodes: right ${l.correct}, wrong ${l.wrong}, not found ${l.notFound}, unanswered ${l.unanswered}, ratio ${l.ratio === null ? '-' : l.ratio.toFixed(4)}`)
  for (const a of sf.affected) {
    const revivedAtMs = a.thawedAtMs ?? a.restartedAtMs
    if (revivedAtMs === null) continue
    const how = a.thawedAtMs !== null ? 'thawed' : 'restarted'
    lines.push(`  ${how.padEnd(10)}  ${a.name} at ${seconds(revivedAtMs - sf.triggerAtMs)}; listed again ${a.backAtMs === null ? 'never' : `${seconds(a.backAtMs - revivedAtMs)} later`}`)
  }
  for (const s of sf.added) {
    const certified = s.certifiedAtMs === null ? 'never certified' : `certified ${seconds(s.certifiedAtMs - sf.triggerAtMs)} after the trigger`
    lines.push(`  added       ${s.name} (${s.ip}) started ${seconds(s.startedAtMs === null ? null : s.startedAtMs - sf.triggerAtMs)} after the trigger, ${certified}, took up to ${s.maxClients} clients`)
  }
  if (sf.elected.length > 0) {
    const first = Math.min(...sf.elected.map((e) => e.servingAtMs ?? Number.POSITIVE_INFINITY))
    const serving = sf.elected.filter((e) => e.clientsAfter !== null).length
    const firstAt = Number.isFinite(first) ? seconds(first - sf.triggerAtMs) : 'never'
    lines.push(`  elected     ${sf.elected.length} peers served as supernodes (first seen ${firstAt} after the trigger), ${serving} still at the end: ${names(sf.elected.map((e) => e.name))}`)
  }
  lines.push(`  registry    live supernodes at the end: ${sf.registryLiveAtEnd ?? '-'}`)
  return lines
}
