/**
 * The live supernode list handed out with tickets and heartbeat replies. Live = heard from within
 * the heartbeat timeout and holding an unexpired certificate. The store is shared by every login
 * server, so a supernode heartbeating to one server is listed by all of them.
 *
 * The candidate rows are cached for a short while: a login storm asks for the list thousands of
 * times a second, and a quarter-second of staleness is far below the heartbeat period.
 */
import { MAX_SUPERNODE_LIST, type SupernodeEntry } from '@rebound/protocol'
import type { Store, SupernodeRecord, SupernodeLoad } from './store.js'

/** How long one read of the registry table serves every request. */
export const LIVE_LIST_CACHE_MS = 250
/** Rows read per refresh: enough for every tie at the cut-off to have a chance of being picked. */
export const MAX_LIVE_CANDIDATES = 512

export interface LiveSupernodesInit {
  heartbeatTimeoutMs: number
  cacheMs?: number
}

export interface LiveSupernodesDeps {
  store: Store
  clock: () => number
  /** In [0, 1); breaks ties between equally loaded supernodes. */
  random?: () => number
}

interface Snapshot {
  fetchedAtMs: number
  candidates: SupernodeRecord[]
  totals: SupernodeLoad
  /** The elected supernode a demotion would drain first (election/policy.ts). */
  leastLoadedElected: SupernodeRecord | undefined
}

export class LiveSupernodes {
  private readonly heartbeatTimeoutMs: number
  private readonly cacheMs: number
  private readonly deps: LiveSupernodesDeps
  private readonly random: () => number
  private snapshot: Snapshot | undefined

  constructor (init: LiveSupernodesInit, deps: LiveSupernodesDeps) {
    this.heartbeatTimeoutMs = init.heartbeatTimeoutMs
    this.cacheMs = init.cacheMs ?? LIVE_LIST_CACHE_MS
    this.deps = deps
    this.random = deps.random ?? Math.random
  }

  /** The MAX_SUPERNODE_LIST least loaded live supernodes, equally loaded ones in random order. */
  list (): SupernodeEntry[] {
    const nowMs = this.deps.clock()
    const keyed = this.current(nowMs).candidates
      .filter((r) => r.expiresAtMs > nowMs)
      .map((r) => ({ r, load: r.clients / Math.max(r.capacity, 1), tie: this.random() }))
    keyed.sort((a, b) => a.load - b.load || a.tie - b.tie)
    return keyed.slice(0, MAX_SUPERNODE_LIST).map(({ r }) => ({
      peerId: r.peerId, addrs: r.addrs, class: r.class, clients: r.clients, capacity: r.capacity, certificate: r.certificate
    }))
  }

  /** How many supernodes are live (not capped by the list size). */
  count (): number {
    return this.current(this.deps.clock()).totals.count
  }

  /** Count, operators, clients and capacity of every live supernode (the election's input). */
  totals (): SupernodeLoad {
    return this.current(this.deps.clock()).totals
  }

  /** Mean utilisation of the live set (sum clients / sum capacity), 0 when none is live. */
  utilisation (): number {
    const { clients, capacity } = this.totals()
    return capacity > 0 ? clients / capacity : 0
  }

  leastLoadedElected (): SupernodeRecord | undefined {
    return this.current(this.deps.clock()).leastLoadedElected
  }

  /** Forget the cached rows, e.g. after certifying a new supernode, so that it is listed at once. */
  invalidate (): void {
    this.snapshot = undefined
  }

  private current (nowMs: number): Snapshot {
    const cached = this.snapshot
    if (cached !== undefined && nowMs - cached.fetchedAtMs < this.cacheMs && nowMs >= cached.fetchedAtMs) return cached
    const seenSinceMs = nowMs - this.heartbeatTimeoutMs
    const fresh: Snapshot = {
      fetchedAtMs: nowMs,
      candidates: this.deps.store.liveSupernodes(nowMs, seenSinceMs, MAX_LIVE_CANDIDATES),
      totals: this.deps.store.supernodeTotals(nowMs, seenSinceMs),
      leastLoadedElected: this.deps.store.leastLoadedElected(nowMs, seenSinceMs)
    }
    this.snapshot = fresh
    return fresh
  }
}
