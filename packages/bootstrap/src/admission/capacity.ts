/**
 * Measured login capacity mu (logins per second): the rate at which hashes complete while work is
 * waiting, i.e. while the server runs as fast as it can. An EWMA of the gaps between consecutive
 * completions, counted only when the server was saturated at both ends of the gap; gaps while it
 * was idle measure the arrivals, not the server, and are ignored (so mu neither decays in a quiet
 * spell nor jumps when a lone hash finishes fast).
 *
 * Why not "limit / mean service time": that assumes `limit` hashes each progress at full speed.
 * On a 2-core machine shared with other processes it overstated mu 3x when few hashes ran (a lone
 * 50 ms hash said limit 6 -> 120/s) and understated it 2x when the limit had backed off during a
 * storm (9/s against ~22/s delivered). The waiting room schedules slots from this number, so both
 * errors cost the storm seconds: slots too dense bring clients back to be refused again, too
 * sparse leave the server idle while clients wait. It is floored and capped all the same.
 *
 * The floor is half the start-up estimate (the calibrated capacity of the idle machine): a
 * storm's first seconds starve the server of CPU (a thousand Noise handshakes, refusals, clients
 * starting on the same machine), and the gaps then measured 7 logins/s where the server went on to
 * deliver 20 once that passed. Slots are signed with their due times, so a schedule paced at the
 * starved rate held a thousand clients to it for two minutes while the server idled at a third of
 * its CPU. The floor bets that the server keeps at least half its machine; if it is wrong, early
 * slot holders are shed again and handed later slots (an attempt each), not lost.
 */

/** Weight of the newest gap: ~20 completions of memory, about a second in a storm. */
export const GAP_EWMA_ALPHA = 0.05
export const MIN_CAPACITY_PER_S = 1
export const MAX_CAPACITY_PER_S = 10_000
/** Of the start-up estimate, the least mu is believed to be (see above). */
export const FLOOR_SHARE_OF_INITIAL = 0.5

export class CapacityEstimator {
  private gapMs: number
  private readonly floorPerS: number
  private lastCompletionMs: number | undefined
  private lastSaturated = false

  /** `initialPerS`: the first estimate, from a calibration hash at start-up (login-server.ts). */
  constructor (initialPerS: number) {
    this.gapMs = 1000 / clamp(initialPerS)
    this.floorPerS = clamp(initialPerS * FLOOR_SHARE_OF_INITIAL)
  }

  /** A hash finished at `nowMs`; `saturated`: work was waiting, so the next hash starts at once. */
  onCompletion (nowMs: number, saturated: boolean): void {
    if (saturated && this.lastSaturated && this.lastCompletionMs !== undefined) {
      const gapMs = Math.max(0, nowMs - this.lastCompletionMs)
      this.gapMs += GAP_EWMA_ALPHA * (gapMs - this.gapMs)
    }
    this.lastCompletionMs = nowMs
    this.lastSaturated = saturated
  }

  get perSecond (): number {
    return Math.max(this.floorPerS, clamp(1000 / Math.max(this.gapMs, 1e-3)))
  }
}

function clamp (perS: number): number {
  return Math.min(MAX_CAPACITY_PER_S, Math.max(MIN_CAPACITY_PER_S, perS))
}
