/**
 * How many supernodes to promote now. Two kinds of need, the larger wins:
 *
 * - Too few: fewer live than the configured minimum (none at all after a total loss): the gap.
 * - A capacity goal (capacityWanted below): capacity enough for the clients to sit at the target
 *   utilisation, the midpoint of the two thresholds (0.55 by default). Promoting only to just under
 *   0.7 would promote again at the next attach; 0.55 is as far from demotion as from promotion.
 *   The policy keeps a goal for a while once set (policy.ts GOAL_TTL_MS): each promotion lowers
 *   the utilisation at once (new capacity, no clients yet), so the trigger stops holding long
 *   before the goal is reached.
 *
 * Capacity is counted in supernodes of the typical size: the live set's mean capacity, or the last
 * mean seen when none is live, or the asking candidate's own capacity when nothing was ever seen.
 */
import type { SupernodeLoad, WindowSummary } from './load-history.js'

/** A drop of capacity this large, against the recent peak, is a loss to provision for at once. */
export const LOST_CAPACITY_SHARE = 0.25

export interface NeedInput {
  load: SupernodeLoad
  /** Over the promote window; undefined while the history is shorter than it. */
  sustained: WindowSummary | undefined
  /** Over the recall window. */
  recent: WindowSummary | undefined
  promoteAbove: number
  targetUtilisation: number
}

/**
 * The capacity the live set should have now (0: no goal). Two triggers:
 * - Sustained load: the clients held over the whole promote window (the least seen, so a spike
 *   does not count), over today's capacity, stayed above `promoteAbove`.
 * - Lost capacity (the 2010 cascade): live capacity fell by at least LOST_CAPACITY_SHARE of the
 *   most seen in the recall window, and the clients seen then would crowd what is left. The clients
 *   the dead supernodes held are orphans that come back to the survivors within their orphan
 *   window; waiting for the survivors to fill up and then for a sustained window would run them at
 *   their hard cap meanwhile. (A dead supernode was silent for the heartbeat timeout, 6 s, before
 *   it left the set: this is not one reading either.)
 */
export function capacityWanted (input: NeedInput): number {
  const { load, sustained, recent, promoteAbove, targetUtilisation } = input
  const busy = sustained !== undefined && utilisationOf(sustained.minClients, load.capacity) > promoteAbove
    ? sustained.minClients / targetUtilisation
    : 0
  const lost = recent !== undefined && load.capacity <= (1 - LOST_CAPACITY_SHARE) * recent.maxCapacity &&
    utilisationOf(recent.maxClients, load.capacity) > promoteAbove
    ? recent.maxClients / targetUtilisation
    : 0
  return Math.max(busy, lost)
}

export interface DeficitInput {
  load: SupernodeLoad
  /** capacityWanted, or a goal set earlier and still standing (0: none). */
  goalCapacity: number
  typicalCapacity: number
  minSupernodes: number
}

export function promotionDeficit (input: DeficitInput): number {
  const { load, goalCapacity, typicalCapacity, minSupernodes } = input
  const tooFew = Math.max(0, minSupernodes - load.count)
  const missing = goalCapacity - load.capacity
  const forGoal = missing > 0 ? Math.ceil(missing / Math.max(1, typicalCapacity)) : 0
  return Math.max(tooFew, forGoal)
}

/** Clients over capacity; no capacity at all is infinitely busy when there is anyone to serve. */
export function utilisationOf (clients: number, capacity: number): number {
  if (capacity > 0) return clients / capacity
  return clients > 0 ? Infinity : 0
}
