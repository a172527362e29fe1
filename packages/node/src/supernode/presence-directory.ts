/**
 * The share of the presence directory this supernode owns: user -> the supernode holding that
 * user's session. Owners are chosen by rendezvous hashing over the live supernodes, with
 * PRESENCE_REPLICAS copies; the newest record (by attach time) wins.
 */
import { setNewest } from '@rebound/protocol'

export const PRESENCE_REPLICAS = 3
/** Records held at most; beyond it the oldest are evicted (re-published on the next change). */
export const MAX_PRESENCE_RECORDS = 200_000

export interface PresenceRecord {
  user: string
  supernode: string
  addrs: string[]
  sinceMs: number
}

export class PresenceDirectory {
  private readonly records = new Map<string, PresenceRecord>()

  get size (): number {
    return this.records.size
  }

  put (record: PresenceRecord): void {
    const existing = this.records.get(record.user)
    if (existing !== undefined && existing.sinceMs > record.sinceMs) return
    setNewest(this.records, record.user, record, MAX_PRESENCE_RECORDS)
  }

  /** Remove the user's record only if it still points at `supernode` (a newer one may exist). */
  remove (user: string, supernode: string): void {
    if (this.records.get(user)?.supernode === supernode) this.records.delete(user)
  }

  get (user: string): PresenceRecord | undefined {
    return this.records.get(user)
  }

  /** Drop records pointing at supernodes outside `live` (those no one lists any more). */
  retainSupernodes (live: ReadonlySet<string>): number {
    let dropped = 0
    for (const [user, record] of this.records) {
      if (!live.has(record.supernode)) {
        this.records.delete(user)
        dropped++
      }
    }
    return dropped
  }
}
