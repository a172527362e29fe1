/**
 * Tells a silent supernode from a starved client. A session's read deadline is a timer; when this
 * process's event loop is blocked for seconds (hundreds of peers in one swarm process on a
 * saturated machine), the timer and the supernode's pongs are both pending when the loop wakes,
 * and timers run first: the session would end on a silence that was ours. 500 clients in two
 * processes, 30% of supernodes frozen: half the healthy sessions ended that way and the re-homing
 * storm that followed took 80 s to settle. So the watch judges only on time: a tick that itself
 * came late (the loop was blocked) lets the queued frames be read before judging, unless the
 * silence has lasted so long (STARVED_SILENCE_FACTOR x the bound) that a frozen supernode must not
 * hide behind a persistently busy loop.
 */

export const WATCH_INTERVAL_MS = 250
/** A tick later than its interval by more than this means the loop was blocked. */
export const LATE_TICK_MS = 500
export const STARVED_SILENCE_FACTOR = 2

export interface SilenceVerdictInput {
  nowMs: number
  lastHeardAtMs: number
  lastTickAtMs: number
  silenceMs: number
}

/** Whether the supernode has been silent for too long, as judged at this tick. */
export function isSilent ({ nowMs, lastHeardAtMs, lastTickAtMs, silenceMs }: SilenceVerdictInput): boolean {
  const silentForMs = nowMs - lastHeardAtMs
  if (silentForMs <= silenceMs) return false
  const late = nowMs - lastTickAtMs > WATCH_INTERVAL_MS + LATE_TICK_MS
  return !late || silentForMs > STARVED_SILENCE_FACTOR * silenceMs
}

/**
 * How long a silence must last before it counts, adapted to this supernode's own rhythm, as TCP's
 * retransmission timeout is (RFC 6298: smoothed gap + 4 x its mean deviation) and as phi-accrual
 * detectors are. A supernode that answers every ping promptly keeps the floor (2 s: a freeze
 * is noticed 1-2 s after it happens); one whose frames come irregularly (its process is busy, as an
 * elected supernode in a 250-client swarm process is) earns a longer bound, up to the ceiling.
 * On 500 peers, where the machine was saturated for 150 s, a fixed 2 s bound ended 456 sessions
 * with healthy supernodes as silent, each orphan re-homing for nothing. The adaptive bound cannot
 * save a prompt supernode whose process then stalls for seconds without warning (83 such endings
 * in a 500-peer run that was 99% busy); on 200 peers there were none either way.
 */
export const SILENCE_CEILING_MS = 4000
/** RFC 6298's gains: 1/8 for the smoothed gap, 1/4 for its deviation. */
const GAP_GAIN = 1 / 8
const DEVIATION_GAIN = 1 / 4
const DEVIATIONS = 4

export class SilenceBound {
  private gapMs: number
  private deviationMs = 0

  /** `expectedGapMs`: the ping interval (a pong a ping). */
  constructor (expectedGapMs: number, private readonly floorMs: number, private readonly ceilingMs = SILENCE_CEILING_MS) {
    this.gapMs = expectedGapMs
  }

  /** A frame arrived `gapMs` after the previous one. */
  observe (gapMs: number): void {
    this.deviationMs += DEVIATION_GAIN * (Math.abs(gapMs - this.gapMs) - this.deviationMs)
    this.gapMs += GAP_GAIN * (gapMs - this.gapMs)
  }

  /** The silence that counts now. */
  get ms (): number {
    return Math.round(Math.min(this.ceilingMs, Math.max(this.floorMs, this.gapMs + DEVIATIONS * this.deviationMs)))
  }
}
