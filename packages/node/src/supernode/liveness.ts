/**
 * Which supernodes this supernode treats as alive, between registry heartbeats. The registry's
 * list lags a death by up to its heartbeat timeout (6 s); a killed supernode's TCP connections
 * close at once (RST), so a supernode keeps a connection to every other live one and treats a
 * lost connection as a death: the peer is suspected and left out of the live set (presence
 * ownership, routing, redirects) for SUSPECT_MS, longer than the registry needs to drop it, or
 * until it connects again (a restarted supernode, a transient drop). A frozen supernode keeps its
 * connections open; its ring probes see it (ring-monitor.ts), and a suspicion heard over gossip
 * counts the same. A suspect that announces itself over gossip (a signed message it published)
 * at least REFUTE_AFTER_MS after the suspicion was alive after all (a busy moment, not a freeze),
 * and is cleared.
 */

import { setNewest } from '@rebound/protocol'

/** Longer than the registry's heartbeat timeout (6 s), so its list has dropped the dead one by then. */
export const SUSPECT_MS = 10_000
/** Suspects remembered at most; the oldest are forgotten first (each expires anyway). */
export const MAX_SUSPECTS = 4096
/**
 * One announcement period: an announcement that was already on its way when the suspicion was
 * raised (sent before a freeze, read late) proves nothing; one sent a period later does.
 */
export const REFUTE_AFTER_MS = 1000
/**
 * A supernode may refute once in this long: one that keeps going silent (an overloaded process)
 * then stays out for the whole SUSPECT_MS instead of flapping in and out, each flap moving
 * presence records.
 */
export const REFUTE_COOLDOWN_MS = 30_000

/**
 * A suspicion heard over gossip is acted on once this many distinct supernodes voiced it within
 * ACCUSATION_WINDOW_MS. One is not enough: a supernode whose own process is starved (an elected
 * one in a busy swarm) takes everyone for dead, and taking its word had every supernode drop
 * healthy ones. A frozen supernode is watched by MONITORED_SUCCESSORS others (ring-monitor.ts),
 * whose verdicts land within a few hundred milliseconds of each other.
 */
export const ACCUSERS_NEEDED = 2
export const ACCUSATION_WINDOW_MS = 3000

interface Suspicion { sinceMs: number, untilMs: number }

export class SupernodeLiveness {
  private readonly suspects = new Map<string, Suspicion>()
  private readonly refutedAtMs = new Map<string, number>()
  private readonly accusations = new Map<string, Map<string, number>>()

  constructor (private readonly suspectMs = SUSPECT_MS) {}

  /** Its connection closed at `nowMs`. */
  suspect (peerId: string, nowMs: number): void {
    setNewest(this.suspects, peerId, { sinceMs: nowMs, untilMs: nowMs + this.suspectMs }, MAX_SUSPECTS)
  }

  /** It connected again: alive. True when it was a suspect. */
  clear (peerId: string): boolean {
    return this.suspects.delete(peerId)
  }

  /**
   * `accuser` says `accused` went silent (a gossip notice, or this supernode's own probes). True
   * once ACCUSERS_NEEDED distinct accusers said so within ACCUSATION_WINDOW_MS: act on it then.
   */
  accuse (accused: string, accuser: string, nowMs: number): boolean {
    const byAccuser = this.accusations.get(accused) ?? new Map<string, number>()
    for (const [who, atMs] of byAccuser) if (nowMs - atMs > ACCUSATION_WINDOW_MS) byAccuser.delete(who)
    byAccuser.set(accuser, nowMs)
    setNewest(this.accusations, accused, byAccuser, MAX_SUSPECTS)
    return byAccuser.size >= ACCUSERS_NEEDED
  }

  /** It announced itself at `nowMs`: cleared if that is REFUTE_AFTER_MS past the suspicion. True when cleared. */
  refute (peerId: string, nowMs: number): boolean {
    const suspicion = this.suspects.get(peerId)
    if (suspicion === undefined || nowMs - suspicion.sinceMs < REFUTE_AFTER_MS) return false
    const lastMs = this.refutedAtMs.get(peerId)
    if (lastMs !== undefined && nowMs - lastMs < REFUTE_COOLDOWN_MS) return false
    setNewest(this.refutedAtMs, peerId, nowMs, MAX_SUSPECTS)
    return this.suspects.delete(peerId)
  }

  isSuspect (peerId: string, nowMs: number): boolean {
    const suspicion = this.suspects.get(peerId)
    if (suspicion === undefined) return false
    if (suspicion.untilMs > nowMs) return true
    this.suspects.delete(peerId)
    return false
  }
}
