/**
 * When each followed device was first seen restored into the current store (settle.ts
 * deviceRestoredInto), from the observer's statuses: the wipe scenario's measure of how fast data
 * comes back to a wiped device, or back into a wiped store.
 */
import { deviceRestoredInto } from '../settle.js'
import type { Observer } from '../observer.js'

export class RestoreWatch {
  private readonly seenAt = new Map<string, number>()

  /**
   * `since`: statuses of processes started before it do not count (a wiped device's old process
   * was restored into the same store before it was wiped).
   */
  constructor (private readonly observer: Observer, readonly peers: readonly string[], private readonly since: { startedAfterMs?: number } = {}) {}

  /** Look at every followed peer not restored yet; true when all are. */
  check (storeId: string | null, nowMs: number): boolean {
    if (storeId === null) return false
    for (const name of this.peers) {
      if (this.seenAt.has(name)) continue
      const status = this.observer.node(name)?.status
      if (status?.data == null) continue
      if (this.since.startedAfterMs !== undefined && status.startedAtMs <= this.since.startedAfterMs) continue
      if (status.data.contactsReady && deviceRestoredInto(status.data, storeId)) this.seenAt.set(name, nowMs)
    }
    return this.seenAt.size === this.peers.length
  }

  /** When `name` was first seen restored, or null. */
  restoredAt (name: string): number | null {
    return this.seenAt.get(name) ?? null
  }

  /** Per followed peer, in order: ms from `fromMs` until restored, or null. */
  timesSince (fromMs: number): Array<number | null> {
    return this.peers.map((name) => {
      const at = this.seenAt.get(name)
      return at === undefined ? null : at - fromMs
    })
  }
}
