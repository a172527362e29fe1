/**
 * Follows a set of supernodes through the observer's statuses, one sample per check: the most
 * clients each held (a survivor over its hard cap is the start of a cascade, and a peak can be
 * gone again by the end), when each was first seen certified, and each one's peer id (to name the
 * supernode a re-homed orphan went to). Peers the registry elected are followed from the first
 * sample that shows them serving: after losing every operator supernode they are the whole layer,
 * and its load is theirs.
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
  private readonly electedNames = new Set<string>()

  constructor (observer: Observer, names: readonly string[]) {
    this.observer = observer
    for (const name of names) this.follow(name)
  }

  follow (name: string): void {
    if (!this.followed.has(name)) this.followed.set(name, { peerId: null, capacity: 0, maxClients: 0, certifiedAtMs: null })
  }

  /**
   * Certified and answering now: running, reachable, role supernode, and (operator) attached to
   * the registry. An elected one is certified from its promotion on; its state is its user's
   * session, which says nothing about the role.
   */
  isLive (name: string): boolean {
    const status = this.observer.node(name)?.status
    if (status?.role !== 'supernode') return false
    return status.supernodeClass === 'elected' ? this.observer.isAnswering(name) : this.observer.isAttached(name)
  }

  /** Peers seen serving as elected supernodes since the watch began, in the order first seen. */
  elected (): string[] {
    return [...this.electedNames]
  }

  sample (nowMs: number): void {
    for (const view of this.observer.nodes()) {
      if (view.role !== 'peer' || view.status?.supernodeClass !== 'elected' || !this.isLive(view.name)) continue
      this.electedNames.add(view.name)
      this.follow(view.name)
    }
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

  /** Loads of the followed supernodes (or of those of them in `among`) that are live now. */
  liveLoads (among?: readonly string[]): SupernodeLoad[] {
    const loads: SupernodeLoad[] = []
    for (const name of among ?? this.followed.keys()) {
      const status = this.observer.node(name)?.status
      if (status === undefined || !this.isLive(name)) continue
      loads.push({ name, clients: status.clients ?? 0, capacity: status.capacity ?? 0 })
    }
    return loads
  }

  /** The followed supernodes live now. */
  liveNames (): string[] {
    return [...this.followed.keys()].filter((name) => this.isLive(name))
  }

  liveCount (): number {
    return this.liveNames().length
  }
}
