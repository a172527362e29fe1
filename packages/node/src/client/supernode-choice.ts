/**
 * Power of two choices over the cached supernode list: pick two at random, take the less loaded.
 * Nearly as good as picking the least loaded, without every client stampeding the same one.
 */
import type { SupernodeEntry } from '@rebound/protocol'

export function utilisation (entry: SupernodeEntry): number {
  return entry.clients / entry.capacity
}

/** The order in which to try supernodes: repeated two-choice draws without replacement. */
export function attachOrder (entries: readonly SupernodeEntry[], random: () => number): SupernodeEntry[] {
  const pool = [...entries]
  const order: SupernodeEntry[] = []
  while (pool.length > 0) {
    const i = Math.floor(random() * pool.length)
    const j = Math.floor(random() * pool.length)
    const a = pool[i]
    const b = pool[j]
    if (a === undefined || b === undefined) break
    const pick = utilisation(b) < utilisation(a) ? j : i
    order.push(pool[pick] as SupernodeEntry)
    pool.splice(pick, 1)
  }
  return order
}
