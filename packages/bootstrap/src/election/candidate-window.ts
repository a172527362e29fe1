/**
 * The scores of the candidates that asked recently, one per peer, so that a promotion goes to one
 * of the best peers on offer rather than to whoever asked first after a mass loss. Candidates told
 * "not now" come back within 30-60 s when there is no need, so a window of 90 s already knows the
 * population when a loss happens.
 */

/**
 * Uptime counts up to 30 min: peers that have been up long tend to stay up longer (session
 * lengths in P2P networks are heavy-tailed: Stutzbach and Rejaie, "Understanding Churn in
 * Peer-to-Peer Networks", IMC 2006), and past half an hour the difference stops mattering here.
 */
export const UPTIME_CAP_MS = 30 * 60_000
/** Below this a peer counts as up for 1 s: capacity still ranks peers that all just booted. */
export const UPTIME_FLOOR_MS = 1000
/** How long a score is remembered: longer than the longest "not now" (60 s) plus its jitter. */
export const SCORE_WINDOW_MS = 90_000
/** Peers remembered at most; the oldest are forgotten first. */
export const MAX_SCORES = 256
/** "The top part of what was seen": the best quarter, or as many as are needed if more. */
export const TOP_SHARE = 0.25

export interface CandidateOffer {
  peerId: string
  capacity: number
  uptimeMs: number
}

/** Capacity times capped uptime (in seconds): what the peer can hold, weighted by how likely it is to stay. */
export function candidateScore (offer: Pick<CandidateOffer, 'capacity' | 'uptimeMs'>): number {
  return offer.capacity * Math.min(Math.max(offer.uptimeMs, UPTIME_FLOOR_MS), UPTIME_CAP_MS) / 1000
}

export class CandidateWindow {
  /** Insertion order is time order: a peer asking again is moved to the end. */
  private readonly scores = new Map<string, { score: number, atMs: number }>()

  /** Remember `offer` (replacing the peer's previous score) and forget expired ones. */
  record (offer: CandidateOffer, nowMs: number): number {
    const score = candidateScore(offer)
    this.scores.delete(offer.peerId)
    this.scores.set(offer.peerId, { score, atMs: nowMs })
    for (const [peerId, entry] of this.scores) {
      if (this.scores.size <= MAX_SCORES && entry.atMs > nowMs - SCORE_WINDOW_MS) break
      this.scores.delete(peerId)
    }
    return score
  }

  /**
   * Whether `peerId` is among the best `max(needed, TOP_SHARE of the window)` peers remembered.
   * Ties count in its favour (only strictly better scores rank above it), so a crowd of equal
   * peers is not starved.
   */
  isAmongBest (peerId: string, needed: number): boolean {
    const own = this.scores.get(peerId)
    if (own === undefined) return false
    let better = 0
    for (const entry of this.scores.values()) if (entry.score > own.score) better++
    return better < Math.max(needed, Math.ceil(TOP_SHARE * this.scores.size))
  }

  /** A promoted peer no longer competes (it would otherwise hold a top place for 90 s). */
  forget (peerId: string): void {
    this.scores.delete(peerId)
  }

  get size (): number {
    return this.scores.size
  }
}
