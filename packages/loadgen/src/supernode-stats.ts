/**
 * Pure figures of the supernode layer from the observer's statuses: who is orphaned when some
 * supernodes go (the peers attached to them in their last status), and how evenly the live
 * supernodes carry their clients (load = clients / capacity; max/mean says whether one survivor
 * took the orphans that the others did not, the start of a cascade).
 */

/** What a peer's last status said before the trigger. */
export interface PeerAttachment {
  name: string
  /** Its supernode's peer id, or null when it was not attached. */
  supernode: string | null
  attached: boolean
}

export interface Orphan {
  name: string
  /** The lost supernode's peer id. */
  supernode: string
}

/** The peers attached, in their last status, to one of the `lost` supernodes (peer ids), in input order. */
export function findOrphans (peers: readonly PeerAttachment[], lost: ReadonlySet<string>): Orphan[] {
  const orphans: Orphan[] = []
  for (const peer of peers) {
    if (peer.attached && peer.supernode !== null && lost.has(peer.supernode)) orphans.push({ name: peer.name, supernode: peer.supernode })
  }
  return orphans
}

export interface SupernodeLoad {
  name: string
  clients: number
  capacity: number
}

export interface LoadStats {
  supernodes: number
  clients: number
  /** Mean of clients / capacity over the supernodes. */
  meanLoad: number
  maxLoad: number
  /** maxLoad / meanLoad: 1 = perfectly even; null when no supernode has a client (nothing to spread). */
  maxOverMean: number | null
  /** The most loaded supernode. */
  busiest: string
}

/** Load figures of the live supernodes, or null when there is none. */
export function loadStats (loads: readonly SupernodeLoad[]): LoadStats | null {
  if (loads.length === 0) return null
  let sum = 0
  let clients = 0
  let busiest = loads[0] as SupernodeLoad
  let maxLoad = -1
  for (const l of loads) {
    // A capacity of 0 would make every client infinitely heavy: count it as 1, like the registry does.
    const load = l.clients / Math.max(1, l.capacity)
    sum += load
    clients += l.clients
    if (load > maxLoad) {
      maxLoad = load
      busiest = l
    }
  }
  const meanLoad = sum / loads.length
  return { supernodes: loads.length, clients, meanLoad, maxLoad, maxOverMean: meanLoad > 0 ? maxLoad / meanLoad : null, busiest: busiest.name }
}

/** Round a ratio for the report: 4 decimals say all there is to say about a load. */
export function roundRatio (value: number): number {
  return Math.round(value * 10_000) / 10_000
}

/** Slack for binary fractions: 0.7 x 10 is 7.000000000000001 in floating point, and must hit 7. */
const FRACTION_EPSILON = 1e-9

/** How many supernodes to hit: ceil(fraction x count) (as patch-tuesday counts its processes), at most all. */
export function victimCount (fraction: number, count: number): number {
  return Math.max(0, Math.min(count, Math.ceil(fraction * count - FRACTION_EPSILON)))
}
