/**
 * The tables the benchmark prints: one per part (a column per profile where the part compares
 * them) and the final targets table. Pure functions of the results.
 */
import type { Profile } from '@rebound/protocol'
import type { CapacityResult } from './capacity.js'
import type { HysteresisResult } from './hysteresis.js'
import type { Percentiles, Target } from './bench-stats.js'
import type { StormPhase, StormResult } from './storm.js'

export type ByProfile<T> = Partial<Record<Profile, T>>

/** Columns padded to their widest cell, two spaces apart, a rule under the header. */
export function formatTable (title: string, header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((_, col) => Math.max(...[header, ...rows].map((cells) => (cells[col] ?? '').length)))
  const line = (cells: readonly string[]): string => cells.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join('  ').trimEnd()
  return ['', title, line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ''].join('\n')
}

export const num = (value: number | null | undefined, digits = 1): string => (value === null || value === undefined ? '-' : value.toFixed(digits))
export const ms = (value: number | null | undefined): string => (value === null || value === undefined ? '-' : `${Math.round(value)}`)
export const sec = (value: number | null | undefined): string => (value === null || value === undefined ? 'never' : `${(value / 1000).toFixed(1)} s`)
export const mib = (bytes: number | null | undefined): string => (bytes === null || bytes === undefined ? '-' : `${(bytes / 1048576).toFixed(0)} MiB`)

export function capacityTable (results: ByProfile<CapacityResult>): string {
  const header = ['profile', 'load', 'offered/s', 'sent/s', 'goodput/s', 'goodput/mu', 'p50 ms', 'p99 ms', 'rejected', 'timeouts', 'failed', 'dropped', 'server CPU s', 'reject CPU s', 'R', 'loadgen CPU s']
  const rows: string[][] = []
  for (const [profile, r] of Object.entries(results) as Array<[Profile, CapacityResult]>) {
    const c = r.closed
    rows.push([profile, `closed ${c.concurrency ?? '-'}`, '-', num(c.sent / (c.durationMs / 1000)), num(r.muPerS), '1.00', ms(c.p50Ms), ms(c.p99Ms),
      String(c.rejected), String(c.timeouts), String(c.failed), '-', num(r.closedServerCpuS), '-', '-', num(r.closedLoadCpuS)])
    for (const level of r.levels) {
      const p = level.phase
      rows.push([profile, `${level.multiple} x mu`, num(level.offeredPerS), num(p.sent / (p.durationMs / 1000)), num(p.goodputPerS), num(p.goodputPerS / r.muPerS, 2),
        ms(p.p50Ms), ms(p.p99Ms), String(p.rejected), String(p.timeouts), String(p.failed), String(p.dropped + p.missed), num(level.serverCpuS), num(level.rejectionCpuS, 2),
        level.rejectionCostRatio === null ? '-' : `${(level.rejectionCostRatio * 100).toFixed(1)}%`, num(level.loadCpuS)])
    }
  }
  return formatTable('Part 1: capacity and goodput vs offered load (one login server; R = whole-process CPU of a rejection / of a login)', header, rows)
}

function percentileCells (p: Percentiles | undefined): string[] {
  return [sec(p?.t50Ms ?? null), sec(p?.t90Ms ?? null), sec(p?.t99Ms ?? null), sec(p?.t100Ms ?? null)]
}

function stormRows (label: string, phases: ReadonlyArray<StormPhase | null | undefined>): string[][] {
  const cell = (f: (p: StormPhase) => string): string[] => phases.map((p) => (p === null || p === undefined ? '-' : f(p)))
  const pct = (which: 'login' | 'attach', i: number): string[] => phases.map((p) => (p === null || p === undefined ? '-' : percentileCells(p[which])[i] ?? '-'))
  return [
    [`${label} first login`, ...cell((p) => sec(p.login.firstMs))],
    [`${label} login T50`, ...pct('login', 0)], [`${label} login T90`, ...pct('login', 1)],
    [`${label} login T99`, ...pct('login', 2)], [`${label} login T100`, ...pct('login', 3)],
    [`${label} attach T50`, ...pct('attach', 0)], [`${label} attach T99`, ...pct('attach', 2)], [`${label} attach T100`, ...pct('attach', 3)],
    [`${label} attached`, ...cell((p) => `${p.attach.reached}/${p.attach.n}`)],
    [`${label} clients that logged in`, ...cell((p) => String(p.loggedIn))],
    [`${label} clients that resumed`, ...cell((p) => String(p.resumed))],
    [`${label} attempts per client`, ...cell((p) => num(p.attemptsPerClient, 2))],
    [`${label} logins offered (servers)`, ...cell((p) => (p.loginsOffered === null ? '-' : String(p.loginsOffered)))],
    [`${label} logins accepted`, ...cell((p) => (p.loginsAccepted === null ? '-' : String(p.loginsAccepted)))],
    [`${label} logins rejected`, ...cell((p) => (p.loginsRejected === null ? '-' : String(p.loginsRejected)))],
    [`${label} login server CPU s`, ...cell((p) => num(p.serverCpuS))],
    [`${label} supernodes / swarms CPU s`, ...cell((p) => `${num(p.supernodeCpuS)} / ${num(p.swarmCpuS)}`)],
    [`${label} duration`, ...cell((p) => sec(p.durationMs))]
  ]
}

export function stormTable (results: ByProfile<StormResult>): string {
  const profiles = Object.keys(results) as Profile[]
  const list = profiles.map((p) => results[p])
  const rows: string[][] = [
    ['clients N (swarms)', ...list.map((r) => (r === undefined ? '-' : `${r.clients} (${r.swarms})`))],
    ['login servers / supernodes', ...list.map((r) => (r === undefined ? '-' : `${r.loginServers} / ${r.supernodes}`))],
    ['accounts registered', ...list.map((r) => String(r?.registered ?? '-'))],
    ['mu x servers (logins/s)', ...list.map((r) => num(r?.muPerS))],
    ['ideal N/mu', ...list.map((r) => sec(r?.idealMs ?? null))],
    ...stormRows('storm:', list.map((r) => r?.first)),
    ['idle cores: login servers / supernodes / swarms', ...list.map((r) => (r?.idle == null
      ? '-'
      : `${num(r.idle.loginServerCores, 2)} / ${num(r.idle.supernodeCores, 2)} / ${num(r.idle.swarmCores, 2)}`))],
    ...stormRows('resumption:', list.map((r) => r?.resumption)),
    ['peak login server RSS', ...list.map((r) => mib(r?.peakServerRssBytes))]
  ]
  return formatTable('Part 2: mass-restart storm, then resumption storm (times from the spawn of the swarms / the SIGKILL)', ['', ...profiles], rows)
}

export function hysteresisTable (results: ByProfile<HysteresisResult>): string {
  const profiles = Object.keys(results) as Profile[]
  const list = profiles.map((p) => results[p])
  const phase = (i: number, f: (p: NonNullable<HysteresisResult['phases'][number]>) => string): string[] =>
    list.map((r) => { const p = r?.phases[i]; return p === undefined ? '-' : f(p) })
  const rows: string[][] = [
    ['mu (logins/s)', ...list.map((r) => num(r?.muPerS))],
    ['0.5 x mu: goodput/s, p99 ms (unloaded)', ...phase(0, (p) => `${num(p.goodputPerS)}, ${ms(p.p99Ms)}`)],
    ['10 x mu: goodput/s, p99 ms', ...phase(1, (p) => `${num(p.goodputPerS)}, ${ms(p.p99Ms)}`)],
    ['10 x mu: rejected, timeouts, dropped', ...phase(1, (p) => `${p.rejected}, ${p.timeouts}, ${p.dropped + p.missed}`)],
    ['0.8 x mu: goodput/s, p99 ms', ...phase(2, (p) => `${num(p.goodputPerS)}, ${ms(p.p99Ms)}`)],
    ['recovery after 10 x mu', ...list.map((r) => (r === undefined ? '-' : r.recoveryS === null ? 'not within the 0.8 x phase' : `${r.recoveryS} s`))],
    ['login server RSS before', ...list.map((r) => mib(r?.rssBeforeBytes))],
    ['login server peak RSS during 10 x', ...list.map((r) => mib(r?.peakRssBytes))]
  ]
  return formatTable('Part 3: hysteresis (0.5 x mu, 10 x mu, then 0.8 x mu; no restart)', ['', ...profiles], rows)
}

export function targetsTable (targets: readonly Target[]): string {
  const rows = targets.map((t) => [
    t.name, t.value === null ? '-' : `${num(t.value, 2)}${t.unit === '' ? '' : ` ${t.unit}`}`, `${t.rule} ${num(t.limit, 2)}${t.unit === '' ? '' : ` ${t.unit}`}`,
    t.met === null ? 'not measured' : t.met ? 'met' : 'NOT met', t.note
  ])
  return formatTable('Targets (overload.md); the bench reports, it does not fail', ['target', 'measured', 'limit', 'result', 'note'], rows)
}
