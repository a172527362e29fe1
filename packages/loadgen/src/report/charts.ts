/**
 * Which charts a report shows, as data (ChartSpec) for svg-chart.ts: for one run, the population,
 * the login and message rates and CPU and memory by role; for a comparison, one chart per measure
 * with a line per profile. Colours are fixed per meaning (a role keeps its colour on every chart).
 */
import type { Report } from '../report.js'
import type { TimelineSample } from '../timeline.js'
import { USAGE_ROLES, type UsageRole } from '../proc-usage.js'
import type { ChartSpec, Marker, Point, Series } from './svg-chart.js'
import { triggerAtS } from './trigger.js'

/** The tab10 palette, without its pink: that is the trigger's (svg-chart MARKER_COLOR). */
export const COLORS = {
  blue: '#1f77b4',
  orange: '#ff7f0e',
  green: '#2ca02c',
  red: '#d62728',
  purple: '#9467bd',
  brown: '#8c564b',
  olive: '#bcbd22',
  cyan: '#17becf'
} as const

export const ROLE_COLORS: Readonly<Record<UsageRole, string>> = {
  'login-server': COLORS.purple,
  supernode: COLORS.orange,
  peer: COLORS.blue,
  swarm: COLORS.cyan
}

const ROLE_LABELS: Readonly<Record<UsageRole, string>> = {
  'login-server': 'login servers',
  supernode: 'supernodes',
  peer: 'peers',
  swarm: 'swarm processes'
}

/** Red for the 2007 behaviour, blue for the defences; other profiles take the rest in order. */
const PROFILE_COLORS: Readonly<Record<string, string>> = { naive: COLORS.red, defended: COLORS.blue }
const SPARE_COLORS = [COLORS.green, COLORS.purple, COLORS.brown, COLORS.cyan]

const NO_USAGE = 'not measured: no /proc on the machine that ran it, or a report older than CPU and memory sampling'
const SINCE_START = 'seconds since the run started'
const SINCE_TRIGGER = 'seconds from the trigger'

type RateField = 'peersOnline' | 'supernodes' | 'loginsOffered' | 'loginsAccepted' | 'loginsRejected' | 'loginsFailed' |
  'messagesSent' | 'messagesDelivered' | 'messagesFailed'
type UsageMetric = 'cpuCores' | 'rssMiB'

function fieldPoints (samples: readonly TimelineSample[], field: RateField, shiftS: number): Point[] {
  return samples.map((s) => [s.t + shiftS, s[field]] as const)
}

/** A sample without usage was not measured (a gap); one without the role had none of it running (0). */
function usagePoints (samples: readonly TimelineSample[], role: UsageRole, metric: UsageMetric, shiftS: number): Point[] {
  return samples.map((s) => s.usage === undefined ? null : [s.t + shiftS, s.usage[role]?.[metric] ?? 0] as const)
}

/** The roles that ran in any sample, in USAGE_ROLES order. */
function rolesSeen (samples: readonly TimelineSample[]): UsageRole[] {
  return USAGE_ROLES.filter((role) => samples.some((s) => s.usage?.[role] !== undefined))
}

function triggerMarkers (report: Report): Marker[] {
  const at = triggerAtS(report)
  return at === null ? [] : [{ t: at, label: 'trigger' }]
}

export function runCharts (report: Report): ChartSpec[] {
  const samples = report.timeline
  const markers = triggerMarkers(report)
  const chart = (title: string, unit: string, series: Series[], emptyNote?: string): ChartSpec =>
    ({ title, unit, xLabel: SINCE_START, series, markers, ...(emptyNote === undefined ? {} : { emptyNote }) })
  const field = (label: string, color: string, f: RateField, dashed = false): Series => ({ label, color, points: fieldPoints(samples, f, 0), ...(dashed ? { dashed } : {}) })
  const byRole = (metric: UsageMetric): Series[] => rolesSeen(samples).map((role) => ({
    label: ROLE_LABELS[role], color: ROLE_COLORS[role], points: usagePoints(samples, role, metric, 0)
  }))
  return [
    chart('Peers online and supernodes', 'count', [
      field('peers online', COLORS.blue, 'peersOnline'),
      field('supernodes', COLORS.orange, 'supernodes')
    ]),
    // The totals (offered, sent) dashed: drawn over their parts, they show where they equal one.
    chart('Logins', 'per second', [
      field('offered', COLORS.brown, 'loginsOffered', true),
      field('accepted', COLORS.green, 'loginsAccepted'),
      field('shed (rejected)', COLORS.olive, 'loginsRejected'),
      field('failed', COLORS.red, 'loginsFailed')
    ]),
    chart('Messages', 'per second', [
      field('sent', COLORS.blue, 'messagesSent', true),
      field('delivered', COLORS.green, 'messagesDelivered'),
      field('failed', COLORS.red, 'messagesFailed')
    ]),
    chart('CPU by role', 'cores', byRole('cpuCores'), NO_USAGE),
    chart('Memory by role', 'MiB resident', byRole('rssMiB'), NO_USAGE)
  ]
}

interface Measure {
  title: string
  unit: string
  points: (samples: readonly TimelineSample[], shiftS: number) => Point[]
}

function compareMeasures (reports: readonly Report[]): Measure[] {
  const field = (title: string, unit: string, f: RateField): Measure => ({ title, unit, points: (s, shift) => fieldPoints(s, f, shift) })
  const roles = USAGE_ROLES.filter((role) => reports.some((r) => rolesSeen(r.timeline).includes(role)))
  const usage = (metric: UsageMetric, what: string, unit: string): Measure[] => roles.map((role) => ({
    title: `${what} of the ${ROLE_LABELS[role]}`, unit, points: (s, shift) => usagePoints(s, role, metric, shift)
  }))
  return [
    field('Peers online', 'count', 'peersOnline'),
    field('Supernodes', 'count', 'supernodes'),
    field('Logins offered', 'per second', 'loginsOffered'),
    field('Logins accepted', 'per second', 'loginsAccepted'),
    field('Logins shed (rejected)', 'per second', 'loginsRejected'),
    field('Messages delivered', 'per second', 'messagesDelivered'),
    field('Messages failed', 'per second', 'messagesFailed'),
    ...usage('cpuCores', 'CPU', 'cores'),
    ...usage('rssMiB', 'Memory', 'MiB resident')
  ]
}

export function profileColor (profile: string, index: number): string {
  return PROFILE_COLORS[profile] ?? SPARE_COLORS[index % SPARE_COLORS.length] ?? COLORS.green
}

/**
 * Both runs on each chart. When every run reached its trigger, time is counted from it, so the two
 * storms line up although the clusters took different times to start; otherwise from each start.
 */
export function compareCharts (reports: readonly Report[]): ChartSpec[] {
  const triggers = reports.map(triggerAtS)
  const aligned = triggers.every((t) => t !== null)
  const markers: Marker[] = aligned
    ? [{ t: 0, label: 'trigger' }]
    : reports.flatMap((r, i) => {
      const t = triggers[i]
      return t === null || t === undefined ? [] : [{ t, label: `trigger (${r.profile})` }]
    })
  return compareMeasures(reports).map((m) => ({
    title: m.title,
    unit: m.unit,
    xLabel: aligned ? SINCE_TRIGGER : SINCE_START,
    markers,
    series: reports.map((r, i) => ({
      label: r.profile,
      color: profileColor(r.profile, i),
      points: m.points(r.timeline, aligned ? -(triggers[i] ?? 0) : 0),
      // Dashed, so drawn on top: where both runs agree, both colours still show.
      ...(r.profile === 'naive' ? { dashed: true } : {})
    }))
  }))
}
