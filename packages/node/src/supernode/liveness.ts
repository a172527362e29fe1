/**
 * Which supernodes this supernode treats as alive, between registry heartbeats. The registry's
 * list lags a death by up to its heartbeat timeout (6 s); a killed supernode's TCP connections
 * close at once (RST), so a supernode keeps a connection to every other live one and treats a
 * lost connection as a death: the peer is suspected and left out of the live set (presence
 * ownership, routing, redirects) for SUSPECT_MS, longer than the registry needs to drop it, or
 * until it connects again (a restarted supernode, a transient drop). A frozen supernode keeps its
 * connections open and is not seen here (its clients' session keepalive sees it).
 */

/** Longer than the registry's heartbeat timeout (6 s), so its list has dropped the dead one by then. */
export const SUSPECT_MS = 10_000
/** Suspects remembered at most; the oldest are forgotten first (each expires anyway). */
export const MAX_SUSPECTS = 4096

export class SupernodeLiveness {
  private readonly suspects = new Map<string, number>()

  constructor (private readonly suspectMs = SUSPECT_MS) {}

  /** Its connection closed at `nowMs`. */
  suspect (peerId: string, nowMs: number): void {
    this.suspects.delete(peerId)
    this.suspects.set(peerId, nowMs + this.suspectMs)
    while (this.suspects.size > MAX_SUSPECTS) {
      const oldest = this.suspects.keys().next().value
      if (oldest === undefined) break
      this.suspects.delete(oldest)
    }
  }

  /** It connected again: alive. True when it was a suspect. */
  clear (peerId: string): boolean {
    return this.suspects.delete(peerId)
  }

  isSuspect (peerId: string, nowMs: number): boolean {
    const untilMs = this.suspects.get(peerId)
    if (untilMs === undefined) return false
    if (untilMs > nowMs) return true
    this.suspects.delete(peerId)
    return false
  }
}
