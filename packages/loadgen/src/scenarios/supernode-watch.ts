/**
 * Follows a set of supernodes through the observer's statuses, one sample per check: the most
 * clients each held (a survivor over its hard cap is the start of a cascade, and a peak can be
 * gone again by the end), when each was first seen certified, and each one's peer id (to name the
 * supernode a re-homed orphan went to).
 */
import type { Observer } from '../observer.js'
import type { SupernodeLoad } from '../supernode-stats.js'

interface Followed {
  peerId: string | null
  capacity: number
  maxClients: number
  certifiedAtMs: number | null
}

export class SupernodeWatch {
  private readonly observer: Observer
  private readonly followed = new Map<string, Followed>()

  constructor (observer: Observer, names: readonly string[]) {
    this.observer = observer
    for (const name of names) this.follow(name)
  }

  follow (name: string): void {
    if (!this.followed.has(name)) this.followed.set(name, { peerId: null, capacity: 0, maxClients: 0, certifiedAtMs: null })
  }

  /** Certified and answering now: running, reachable, role supernode, attached to the registry. */
  isLive (name: string): boolean {
    return this.observer.isAttached(name) && this.observer.node(name)?.status?.role === 'supernode'
  }

  sample (nowMs: number): void {
    for (const [name, f] of this.followed) {
      const status = this.observer.node(name)?.status
      if (status === undefined) continue
      f.peerId = status.peerId
      if (!this.isLive(name)) continue
      f.certifiedAtMs ??= nowMs
      f.capacity = status.capacity ?? f.capacity
      f.maxClients = Math.max(f.maxClients, status.clients ?? 0)
    }
  }

  maxClients (name: string): number {
    return this.followed.get(name)?.maxClients ?? 0
  }

  capacity (name: string): number {
    return this.followed.get(name)?.capacity ?? 0
  }

  certifiedAtMs (name: string): number | null {
    return this.followed.get(name)?.certifiedAtMs ?? null
  }

  /** Client count now, or null when it is not live. */
  clientsNow (name: string): number | null {
    return this.isLive(name) ? (this.observer.node(name)?.status?.clients ?? 0) : null
  }

  /** The followed supernode with this peer id, or null. */
  nameOf (peerId: string | null): string | null {
    if (peerId === null) return null
    for (const [name, f] of this.followed) if (f.peerId === peerId) return name
    return null
  }

  /** Loads of the followed supernodes that are live now. */
  liveLoads (): SupernodeLoad[] {
    const loads: SupernodeLoad[] = []
    for (const name of this.followed.keys()) {
      const status = this.observer.node(name)?.status
      if (status === undefined || !this.isLive(name)) continue
      loads.push({ name, clients: status.clients ?? 0, capacity: status.capacity ?? 0 })
    }
    return loads
  }

  liveCount (): number {
    return [...this.followed.keys()].filter((name) => this.isLive(name)).length
  }
}
