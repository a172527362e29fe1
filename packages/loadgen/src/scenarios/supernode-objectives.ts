/**
 * The objectives of decapitate and freeze (issue 4's targets), judged on `supernodeFailure`.
 */
import type { Objective, RunFacts } from './scenario.js'
import type { SupernodeFailureReport } from './supernode-failure-report.js'

/** Every orphan re-homed within W + this (W = the supernodes' orphan window). */
export const REHOME_GRACE_MS = 10_000
/** With every supernode gone: this share of the orphans (all attached peers) attached again ... */
export const ALL_LOST_ATTACHED_PERCENT = 99 as const
/** ... within this, by elected supernodes, with no operator action. */
export const ALL_LOST_ATTACH_LIMIT_MS = 60_000
/** The objective judged instead of orphans-rehomed-ms when no supernode survived. */
export const ALL_LOST_OBJECTIVE = `attached-${ALL_LOST_ATTACHED_PERCENT}pct-ms` as const
/** No cascade: the busiest survivor at most this much above the survivors' mean load once re-homing is done. */
export const MAX_LOAD_OVER_MEAN = 1.3
/** Messages between attached users after recovery. */
export const MIN_DELIVERY_AFTER_RECOVERY = 0.99
/** Share of the online users the directory finds (at their real supernode) 10 s after the last change. */
export const MIN_LOOKUP_RATIO = 0.999
/** A frozen supernode's clients re-homed within this of the SIGSTOP. */
export const FREEZE_REHOME_LIMIT_MS = 5000

const NOT_MEASURED: Objective = { name: 'supernode-failure-measured', ok: false, value: null, limit: 1 }

/**
 * The limits a scenario file may set (docs/scenarios.md), by objective name; one left out keeps its
 * default. Times are absolute, in ms. The other objectives' limits are counts (0 over cap, every
 * thawed supernode back, no unexpected exit).
 */
export interface DecapitateLimits {
  /** By default W + REHOME_GRACE_MS (W = the supernodes' orphan window). */
  'orphans-rehomed-ms'?: number
  [ALL_LOST_OBJECTIVE]?: number
  'lookups-after-recovery'?: number
  'load-max-over-mean'?: number
  'delivery-after-recovery'?: number
}

export interface FreezeLimits {
  'frozen-clients-rehomed-ms'?: number
  'lookups-after-recovery'?: number
}

export function decapitateLimits (orphanWindowMs: number, limits: DecapitateLimits = {}): Required<DecapitateLimits> {
  return {
    'orphans-rehomed-ms': limits['orphans-rehomed-ms'] ?? orphanWindowMs + REHOME_GRACE_MS,
    [ALL_LOST_OBJECTIVE]: limits[ALL_LOST_OBJECTIVE] ?? ALL_LOST_ATTACH_LIMIT_MS,
    'lookups-after-recovery': limits['lookups-after-recovery'] ?? MIN_LOOKUP_RATIO,
    'load-max-over-mean': limits['load-max-over-mean'] ?? MAX_LOAD_OVER_MEAN,
    'delivery-after-recovery': limits['delivery-after-recovery'] ?? MIN_DELIVERY_AFTER_RECOVERY
  }
}

export function freezeLimits (limits: FreezeLimits = {}): Required<FreezeLimits> {
  return {
    'frozen-clients-rehomed-ms': limits['frozen-clients-rehomed-ms'] ?? FREEZE_REHOME_LIMIT_MS,
    'lookups-after-recovery': limits['lookups-after-recovery'] ?? MIN_LOOKUP_RATIO
  }
}

/** Nobody online (nothing to find) is a failure too: the sweep runs after every orphan re-homed. */
function lookups (sf: SupernodeFailureReport, minRatio: number): Objective {
  const ratio = sf.lookups.ratio
  return { name: 'lookups-after-recovery', ok: ratio !== null && ratio >= minRatio, value: ratio, limit: minRatio }
}

function noUnexpectedExits (facts: RunFacts): Objective {
  return { name: 'no-unexpected-exits', ok: facts.unexpectedExits === 0, value: facts.unexpectedExits, limit: 0 }
}

/** Over cap at any sample from the trigger to the end of the after-recovery window. */
export function survivorsOverCap (sf: SupernodeFailureReport): number {
  return sf.survivors.filter((s) => s.capacity > 0 && s.maxClients > s.capacity).length
}

export function decapitateObjectives (facts: RunFacts, limits: DecapitateLimits = {}): Objective[] {
  const sf = facts.outcome.supernodeFailure
  if (sf === undefined) return [NOT_MEASURED]
  const { rehoming } = sf
  const limit = decapitateLimits(sf.orphanWindowMs, limits)
  const rehomeLimitMs = limit['orphans-rehomed-ms']
  const allLostLimitMs = limit[ALL_LOST_OBJECTIVE]
  // With survivors the orphans re-home to them; with none, only elected supernodes can take them.
  const reattach: Objective = sf.survivors.length > 0
    ? { name: 'orphans-rehomed-ms', ok: rehoming.t100Ms !== null && rehoming.t100Ms <= rehomeLimitMs, value: rehoming.t100Ms, limit: rehomeLimitMs }
    : { name: ALL_LOST_OBJECTIVE, ok: rehoming.t99Ms !== null && rehoming.t99Ms <= allLostLimitMs, value: rehoming.t99Ms, limit: allLostLimitMs }
  const maxOverMean = sf.survivorLoadAfter?.maxOverMean ?? null
  const maxLoadOverMean = limit['load-max-over-mean']
  const ratio = sf.afterRecovery.deliveryRatio
  const minDelivery = limit['delivery-after-recovery']
  // The balance target is the partial loss's (issue 4: no cascade through the survivors). After a
  // total loss the new layer is elected one supernode at a time and the first ones take the early
  // orphans; its balance is in the report (loadAfter) but decides nothing.
  const balance: Objective[] = sf.survivors.length === 0
    ? []
    // Not measured (no live supernode carries a client) is a failure: there is no layer to balance.
    : [{ name: 'load-max-over-mean', ok: maxOverMean !== null && maxOverMean <= maxLoadOverMean, value: maxOverMean, limit: maxLoadOverMean }]
  return [
    reattach,
    { name: 'survivors-over-cap', ok: survivorsOverCap(sf) === 0, value: survivorsOverCap(sf), limit: 0 },
    noUnexpectedExits(facts),
    lookups(sf, limit['lookups-after-recovery']),
    ...balance,
    {
      name: 'delivery-after-recovery',
      // No send between attached users in the window while the workload runs means no working overlay.
      ok: ratio === null ? facts.options.messageRate === 0 : ratio >= minDelivery,
      value: ratio,
      limit: minDelivery
    }
  ]
}

export function freezeObjectives (facts: RunFacts, limits: FreezeLimits = {}): Objective[] {
  const sf = facts.outcome.supernodeFailure
  if (sf === undefined) return [NOT_MEASURED]
  const back = sf.affected.filter((a) => a.backAtMs !== null).length
  const limit = freezeLimits(limits)
  const rehomeLimitMs = limit['frozen-clients-rehomed-ms']
  return [
    { name: 'frozen-clients-rehomed-ms', ok: sf.rehoming.t100Ms !== null && sf.rehoming.t100Ms <= rehomeLimitMs, value: sf.rehoming.t100Ms, limit: rehomeLimitMs },
    { name: 'thawed-listed-again', ok: back === sf.affected.length, value: back, limit: sf.affected.length },
    lookups(sf, limit['lookups-after-recovery']),
    noUnexpectedExits(facts)
  ]
}
