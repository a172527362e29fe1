/**
 * Frozen-supernode detection (issue 4: a SIGSTOPped supernode noticed in at most 2 s). A frozen
 * process keeps its TCP connections open, so only silence shows it. Each supernode probes its
 * MONITORED_SUCCESSORS successors on the ring of live supernode ids (sorted), every
 * PROBE_INTERVAL_MS over a kept mesh stream (one probe in flight per target); every supernode is
 * thus watched by that many others, and a probe costs one frame, whatever the cluster's size
 * (all-pairs probing would cost N^2).
 *
 * The verdict is on silence, not on a probe's deadline: a target is declared dead when it has
 * answered nothing for SILENCE_MS while a probe has waited ANSWER_WAIT_MS unanswered (or after
 * MIN_FAILED_PROBES failed ones). A short per-probe deadline did the same for a frozen target, but
 * on a loaded machine it also cut live ones' slow answers short, aborted the kept stream, and the
 * fresh stream the next probe needed made the next answer later still: at 450 ms, 500 peers on two
 * cores had every supernode declared dead 20 to 30 times while it came up. Now a live target slower
 * than SILENCE_MS is the only false verdict, and it refutes it over gossip (liveness.ts). Detection
 * of a freeze: SILENCE_MS plus at most one tick, 1.3-1.6 s. As with a client's session watch
 * (client/silence-watch.ts), a tick that came late means this process's own loop was blocked and
 * the answers may be waiting unread (timers run before I/O): it judges only a silence past
 * STARVED_SILENCE_FACTOR x SILENCE_MS (an elected supernode in a busy swarm process took every
 * other supernode for dead, one after the other, and answered lookups from a live set of one).
 *
 * The supernode tells the others (a gossip `suspect` notice), who take its word: the sender is a
 * certified supernode, and a wrong suspicion costs a short absence, not a loss.
 */

import { LATE_TICK_MS, STARVED_SILENCE_FACTOR } from '../client/silence-watch.js'

export const PROBE_INTERVAL_MS = 250
/** A probe's own deadline: long, so that a slow answer is read rather than its stream torn down. */
export const PROBE_DEADLINE_MS = 5000
/** Silence before a verdict. */
export const SILENCE_MS = 1300
/** ...while a probe has waited this long unanswered (a target need not answer faster than this). */
export const ANSWER_WAIT_MS = 1000
/** ...or this many probes failed outright (the stream or the dial broke). */
export const MIN_FAILED_PROBES = 2
export const MONITORED_SUCCESSORS = 3

/** The `k` ids after `self` on the sorted ring of `live` (self excluded). */
export function ringSuccessors (live: Iterable<string>, self: string, k = MONITORED_SUCCESSORS): string[] {
  const ids = [...new Set(live)].filter((id) => id !== self).sort()
  if (ids.length <= k) return ids
  const start = ids.findIndex((id) => id > self)
  const from = start < 0 ? 0 : start
  return Array.from({ length: k }, (_, i) => ids[(from + i) % ids.length] as string)
}

interface Watch {
  /** Last answer, or when watching began. */
  lastOkMs: number
  /** When the probe in flight was sent; undefined when none is. */
  sentAtMs: number | undefined
  failures: number
}

/** Bookkeeping of the probes; the supernode sends them and acts on `verdicts`. */
export class RingWatch {
  private readonly watched = new Map<string, Watch>()

  /** Watch exactly `targets` from now on (new ones start with a clean slate). */
  setTargets (targets: readonly string[], nowMs: number): void {
    for (const id of [...this.watched.keys()]) if (!targets.includes(id)) this.watched.delete(id)
    for (const id of targets) if (!this.watched.has(id)) this.watched.set(id, { lastOkMs: nowMs, sentAtMs: undefined, failures: 0 })
  }

  targets (): string[] {
    return [...this.watched.keys()]
  }

  /** Targets with no probe in flight: probe them now. */
  idle (): string[] {
    return [...this.watched].filter(([, w]) => w.sentAtMs === undefined).map(([id]) => id)
  }

  onSent (id: string, nowMs: number): void {
    const w = this.watched.get(id)
    if (w !== undefined) w.sentAtMs = nowMs
  }

  onAnswer (id: string, nowMs: number): void {
    const w = this.watched.get(id)
    if (w !== undefined) { w.lastOkMs = nowMs; w.sentAtMs = undefined; w.failures = 0 }
  }

  /** A probe failed (error or its own deadline): the next tick sends another. */
  onFailure (id: string): void {
    const w = this.watched.get(id)
    if (w !== undefined) { w.sentAtMs = undefined; w.failures++ }
  }

  /**
   * Targets now to be declared dead; they are no longer watched. `lastTickAtMs`: when the previous
   * tick ran (a late tick judges only the longest silences, see above).
   */
  verdicts (nowMs: number, lastTickAtMs: number): string[] {
    const late = nowMs - lastTickAtMs > PROBE_INTERVAL_MS + LATE_TICK_MS
    const silenceMs = late ? STARVED_SILENCE_FACTOR * SILENCE_MS : SILENCE_MS
    const dead: string[] = []
    for (const [id, w] of this.watched) {
      if (nowMs - w.lastOkMs < silenceMs) continue
      const waited = w.sentAtMs !== undefined && nowMs - w.sentAtMs >= ANSWER_WAIT_MS
      if (waited || w.failures >= MIN_FAILED_PROBES) dead.push(id)
    }
    for (const id of dead) this.watched.delete(id)
    return dead
  }
}
