/**
 * The final verdicts of the benchmark against overload.md's targets, from whatever parts ran.
 */
import type { CapacityResult } from './capacity.js'
import type { HysteresisResult } from './hysteresis.js'
import { target, type Target } from './bench-stats.js'
import type { ByProfile } from './bench-tables.js'
import { mib, ms, sec } from './bench-tables.js'
import type { StormResult } from './storm.js'

export const GOODPUT_AT_10X_MIN = 0.9
export const P99_AT_10X_MAX_FACTOR = 2
export const STORM_T99_MAX_FACTOR = 1.3
export const ATTEMPTS_PER_CLIENT_MAX = 2.5
/** overload.md section 5: R <= 1.1% keeps 90% goodput at 10 x load. */
export const REJECTION_COST_MAX = 0.011
export const NAIVE_GOODPUT_COLLAPSE = 0.5
export const NAIVE_T99_COLLAPSE_FACTOR = 5
/** Peak RSS under 10 x load over the RSS before it: bounded memory means no more than this. */
export const PEAK_RSS_MAX_FACTOR = 2
/**
 * A defended server keeps no backlog through an overload (its queue is bounded and expired work
 * is dropped), so it should be back within one client deadline of the load falling.
 */
export const RECOVERY_MAX_S = 10

export interface BenchResults {
  capacity: ByProfile<CapacityResult>
  storm: ByProfile<StormResult>
  hysteresis: ByProfile<HysteresisResult>
}

/**
 * The capacity goodput is judged against: the best of the closed loop's mu and every level's
 * goodput. A defended server sheds part of a 32-deep closed loop, so its closed-loop mu can sit
 * below what it delivers at 2 x; judging against that would flatter the 10 x goodput.
 */
export function peakGoodput (r: CapacityResult): number {
  return Math.max(r.muPerS, ...r.levels.map((l) => l.phase.goodputPerS))
}

function level (r: CapacityResult | undefined, multiple: number): CapacityResult['levels'][number] | undefined {
  return r?.levels.find((l) => l.multiple === multiple)
}

export function evaluateTargets (results: BenchResults): Target[] {
  const cap = results.capacity.defended
  const naiveCap = results.capacity.naive
  const at10 = level(cap, 10)
  const at05 = level(cap, 0.5)
  const storm = results.storm.defended
  const naiveStorm = results.storm.naive
  const hys = results.hysteresis.defended
  const t99 = storm?.first.login.t99Ms ?? null
  const naiveT99 = naiveStorm?.first.login.t99Ms
  const naiveGoodput = naiveCap === undefined ? null : (level(naiveCap, 10)?.phase.goodputPerS ?? 0) / peakGoodput(naiveCap)
  // A naive storm that never reached T99 collapsed as far as this run could see.
  const naiveT99Factor = naiveT99 === undefined || t99 === null || t99 <= 0 ? null : naiveT99 === null ? Infinity : naiveT99 / t99
  const naiveCollapsed = naiveGoodput === null && naiveT99Factor === null
    ? null
    : (naiveGoodput !== null && naiveGoodput < NAIVE_GOODPUT_COLLAPSE) || (naiveT99Factor !== null && naiveT99Factor >= NAIVE_T99_COLLAPSE_FACTOR) ? 1 : 0
  return [
    target('defended goodput at 10 x mu', at10 === undefined || cap === undefined ? null : at10.phase.goodputPerS / peakGoodput(cap), '>=', GOODPUT_AT_10X_MIN, 'x peak',
      cap === undefined ? '' : `peak goodput ${peakGoodput(cap).toFixed(1)}/s (closed-loop mu ${cap.muPerS.toFixed(1)}/s)`),
    target('defended admitted p99 at 10 x mu', at10?.phase.p99Ms == null || at05?.phase.p99Ms == null ? null : at10.phase.p99Ms / at05.phase.p99Ms, '<=', P99_AT_10X_MAX_FACTOR,
      'x unloaded', `${ms(at10?.phase.p99Ms)} ms vs ${ms(at05?.phase.p99Ms)} ms at 0.5 x mu`),
    target('defended rejection cost R at 10 x mu', at10?.rejectionCostRatio ?? null, '<=', REJECTION_COST_MAX, 'x login',
      'whole server CPU: stream, framing and reply included'),
    target('defended storm login T99', storm?.idealMs == null ? null : t99 === null ? Infinity : t99 / storm.idealMs, '<=', STORM_T99_MAX_FACTOR, 'x N/mu',
      storm === undefined ? '' : `T99 ${sec(t99)}, N/mu ${sec(storm.idealMs)}`),
    target('defended storm attempts per client', storm?.first.attemptsPerClient ?? null, '<=', ATTEMPTS_PER_CLIENT_MAX, ''),
    target('naive goodput at 10 x mu', naiveGoodput, '<', NAIVE_GOODPUT_COLLAPSE, 'x peak'),
    target('naive storm T99 / defended T99', naiveT99Factor, '>=', NAIVE_T99_COLLAPSE_FACTOR, 'x'),
    target('naive collapses (either of the two above)', naiveCollapsed, '>=', 1, '', '1 = yes'),
    target('login server peak RSS at 10 x mu', hys?.peakRssBytes == null || hys.rssBeforeBytes == null ? null : hys.peakRssBytes / hys.rssBeforeBytes, '<=', PEAK_RSS_MAX_FACTOR,
      'x before', hys === undefined ? '' : `${mib(hys.peakRssBytes)} peak, ${mib(hys.rssBeforeBytes)} before`),
    target('defended recovers after 10 x mu', hys === undefined ? null : hys.recoveryS ?? Infinity, '<=', RECOVERY_MAX_S, 's',
      'goodput >= 0.9 x offered and p99 <= 2 x unloaded, 3 s in a row; never = Infinity')
  ]
}
