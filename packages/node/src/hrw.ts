/**
 * Rendezvous (highest random weight) hashing: the owners of a key are the k live supernodes with
 * the highest hash(key, node). When a supernode joins or leaves, only the keys it owned move.
 */
import { createHash } from 'node:crypto'

function weight (key: string, node: string): bigint {
  return createHash('sha256').update(key).update('\u0000').update(node).digest().readBigUInt64BE(0)
}

export function rendezvousOwners (key: string, nodes: readonly string[], k: number): string[] {
  return [...nodes]
    .map((node) => ({ node, w: weight(key, node) }))
    .sort((a, b) => (a.w === b.w ? 0 : a.w > b.w ? -1 : 1))
    .slice(0, k)
    .map((x) => x.node)
}

/**
 * The keys whose k owners under `after` include a node that was not among them under `before`:
 * the only records a change of the node set obliges anyone to publish again (a key whose owners
 * merely lost one still has the others, and gains the next in line, which is new to it).
 */
export function keysWithNewOwners (keys: Iterable<string>, before: readonly string[], after: readonly string[], k: number): string[] {
  const moved: string[] = []
  for (const key of keys) {
    const old = new Set(rendezvousOwners(key, before, k))
    if (rendezvousOwners(key, after, k).some((node) => !old.has(node))) moved.push(key)
  }
  return moved
}
