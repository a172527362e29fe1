/**
 * The registry's election of supernodes (DESIGN, "Surviving a storm: Supernode"): promote a
 * candidate when the overlay needs capacity, tell the others when to ask again, and pick the
 * elected supernode to demote when capacity has stayed idle. Pure: the clock and randomness are
 * injected, the live set's load is handed in; the registry service does the I/O.
 *
 * Each login server runs its own policy over the shared store, so the live set is the same for
 * all of them; budgets and windows are per server (with N servers, N x --promotion-rate at most).
 */
import { TokenBucket } from '@rebound/protocol'
import { CandidateWindow, type CandidateOffer } from './candidate-window.js'
import { capacityWanted, promotionDeficit, utilisationOf } from './deficit.js'
import { LoadHistory, type SupernodeLoad } from './load-history.js'

/** Utilisation must stay above --promote-above this long: 2.5 heartbeat periods, >= 2 readings of every supernode. */
export const PROMOTE_WINDOW_MS = 5000
/** ...and below --demote-below this long. Demotion costs the clients a re-homing: be slow to do it. */
export const DEMOTE_WINDOW_MS = 30_000
/** How far back a lost supernode's clients are remembered (deficit.ts: "lost capacity"). */
export const RECALL_MS = 60_000
/**
 * A capacity goal stands this long after its trigger last held: long enough for the budget to
 * promote the burst and ~40 more, and for candidates told "1-5 s" to come back several times;
 * short enough that a need which went away (clients logged off) stops electing within half a
 * minute. What it over-elects, the demotion rule takes back.
 */
export const GOAL_TTL_MS = 30_000
/**
 * One demotion in the whole cluster at a time: none within this long of the last one, so that the
 * drained clients (orphan window 10 s) have re-homed and the load is judged again with them.
 */
export const DEMOTE_COOLDOWN_MS = 30_000
/** W told to a demoted supernode's clients (the DESIGN/notes default orphan window). */
export const DEMOTE_ORPHAN_WINDOW_MS = 10_000
/** Promotions saved up at most. A mass loss promotes this many at once, then --promotion-rate a second. */
export const MAX_PROMOTION_BURST = 10
/** "Not now" while capacity is needed: back in 1-5 s (the budget refills, better peers get their turn). */
export const RETRY_NEEDED_MS: readonly [number, number] = [1000, 5000]
/** "Not now" while nothing is needed: back in 30-60 s, spread so candidates do not ask in step. */
export const RETRY_IDLE_MS: readonly [number, number] = [30_000, 60_000]

export interface ElectionInit {
  /** Never demote below this many live supernodes; promote while fewer are live. */
  minSupernodes: number
  promoteAbove: number
  demoteBelow: number
  promotionRatePerS: number
  /**
   * false in the naive profile: every candidate is promoted while there is any need (no budget,
   * no choice of the best), and "not now" is a fixed 1 s or 30 s without jitter.
   */
  admissionControl: boolean
}

export interface ElectionDeps {
  /** Monotonic or wall milliseconds; only differences are used. */
  clock: () => number
  /** In [0, 1), for the jitter of "not now". */
  random: () => number
}

export type CandidateVerdict =
  | { kind: 'promote', deficit: number }
  | { kind: 'not-now', retryAfterMs: number, reason: NotNowReason, deficit: number }
export type NotNowReason = 'no-need' | 'not-best' | 'budget'

/** The elected supernode the registry would drain first: the least loaded one. */
export interface ElectedLoad {
  peerId: string
  clients: number
  capacity: number
}

export interface DemotionQuery {
  peerId: string
  load: SupernodeLoad
  leastLoadedElected: ElectedLoad | undefined
  /** The last demotion by any login server (store), if one is remembered; read only when it matters. */
  lastDemotionMs: () => number | undefined
}

export class ElectionPolicy {
  private readonly init: ElectionInit
  private readonly deps: ElectionDeps
  private readonly history = new LoadHistory()
  private readonly candidates = new CandidateWindow()
  private readonly budget: TokenBucket
  private goal: { capacity: number, untilMs: number } | undefined
  /** Midway between the thresholds: promotions aim here, and a demotion must not push above it. */
  readonly targetUtilisation: number

  constructor (init: ElectionInit, deps: ElectionDeps) {
    if (!(init.demoteBelow < init.promoteAbove)) throw new RangeError('demoteBelow must be below promoteAbove')
    this.init = init
    this.deps = deps
    this.budget = new TokenBucket(init.promotionRatePerS, MAX_PROMOTION_BURST, deps.clock)
    this.targetUtilisation = (init.promoteAbove + init.demoteBelow) / 2
  }

  /** Feed a reading of the live set (every heartbeat and candidate request does). */
  observe (load: SupernodeLoad): void {
    this.history.record(this.deps.clock(), load)
  }

  /** Supernodes to promote now (0: none needed). `fallbackCapacity` sizes them when none was ever seen. */
  deficit (load: SupernodeLoad, fallbackCapacity = 1): number {
    const nowMs = this.deps.clock()
    const wanted = capacityWanted({
      load,
      sustained: this.history.sustained(PROMOTE_WINDOW_MS, nowMs),
      recent: this.history.recent(RECALL_MS, nowMs),
      promoteAbove: this.init.promoteAbove,
      targetUtilisation: this.targetUtilisation
    })
    const standing = this.goal !== undefined && this.goal.untilMs > nowMs ? this.goal.capacity : 0
    if (wanted > 0) this.goal = { capacity: Math.max(wanted, standing), untilMs: nowMs + GOAL_TTL_MS }
    return promotionDeficit({
      load,
      goalCapacity: Math.max(wanted, standing),
      typicalCapacity: load.count > 0 ? load.capacity / load.count : this.history.lastMeanCapacity() ?? fallbackCapacity,
      minSupernodes: this.init.minSupernodes
    })
  }

  /** Decide on one candidate. A "promote" has spent a unit of budget: the caller must promote it. */
  decide (offer: CandidateOffer, load: SupernodeLoad): CandidateVerdict {
    this.observe(load)
    // Every candidate is remembered, needed or not: that is how the window knows the population
    // before a loss.
    this.candidates.record(offer, this.deps.clock())
    const deficit = this.deficit(load, offer.capacity)
    if (deficit === 0) return this.notNow('no-need', deficit)
    if (this.init.admissionControl) {
      if (!this.candidates.isAmongBest(offer.peerId, deficit)) return this.notNow('not-best', deficit)
      if (!this.budget.tryTake()) return this.notNow('budget', deficit)
    }
    this.candidates.forget(offer.peerId)
    return { kind: 'promote', deficit }
  }

  /**
   * Whether the elected supernode `peerId` should drain now. Only the least loaded elected one is
   * ever chosen (its clients are the fewest to re-home), only one in the cluster at a time, never
   * an operator (they are not in `leastLoadedElected`), never down to fewer than the minimum, and
   * only when the clients would still fit under the target utilisation without it.
   */
  shouldDemote (query: DemotionQuery): boolean {
    const { load, leastLoadedElected: least } = query
    this.observe(load)
    const nowMs = this.deps.clock()
    if (least === undefined || least.peerId !== query.peerId) return false
    if (load.count <= this.init.minSupernodes) return false
    const lastMs = query.lastDemotionMs()
    if (lastMs !== undefined && nowMs - lastMs < DEMOTE_COOLDOWN_MS) return false
    const held = this.history.sustained(DEMOTE_WINDOW_MS, nowMs)
    if (held === undefined || utilisationOf(held.maxClients, load.capacity) >= this.init.demoteBelow) return false
    return utilisationOf(held.maxClients, load.capacity - least.capacity) <= this.targetUtilisation
  }

  private notNow (reason: NotNowReason, deficit: number): CandidateVerdict {
    const needed = deficit > 0
    const [lowMs, highMs] = needed ? RETRY_NEEDED_MS : RETRY_IDLE_MS
    if (!this.init.admissionControl) return { kind: 'not-now', retryAfterMs: lowMs, reason, deficit }
    // Out of budget: not before the next unit is there (it may be later than 1 s at a low rate).
    const floorMs = reason === 'budget' ? Math.max(lowMs, this.budget.msUntilNext()) : lowMs
    const spanMs = Math.max(0, highMs - floorMs)
    return { kind: 'not-now', retryAfterMs: Math.round(floorMs + this.deps.random() * spanMs), reason, deficit }
  }
}
