/**
 * The waiting room's schedule (overload.md, "Rejections"; Cloudflare Waiting Room): every refused
 * login gets the next place, `next = max(now, next) + 1/(0.9 mu)`, due at `next`. Places are
 * handed out at 90% of measured capacity, so the holders coming back find a server with room to
 * spare, and the remaining 10% serves fresh logins and the jitter in the holders' return times.
 * The schedule is bounded: a place further ahead than MAX_AHEAD is not promised at all.
 */

/** Fraction of measured capacity handed out as places (overload.md: ~0.9; Cloudflare: 0.75). */
export const WAITING_ROOM_FILL_RATIO = 0.9
/** The furthest ahead a place is given; beyond it, the refusal carries only a retry hint. */
export const WAITING_ROOM_MAX_AHEAD_MS = 120_000

export interface WaitingRoomInit {
  fillRatio?: number
  maxAheadMs?: number
}

export class WaitingRoom {
  private readonly fillRatio: number
  private readonly maxAheadMs: number
  /** Due time of the last place handed out. */
  private nextMs = -Infinity

  constructor (init: WaitingRoomInit = {}) {
    this.fillRatio = init.fillRatio ?? WAITING_ROOM_FILL_RATIO
    this.maxAheadMs = init.maxAheadMs ?? WAITING_ROOM_MAX_AHEAD_MS
  }

  /** Milliseconds of places already promised beyond `nowMs`. */
  backlogMs (nowMs: number): number {
    return Math.max(0, this.nextMs - nowMs)
  }

  /**
   * The due time of a new place (whole milliseconds, as slots carry it), or undefined when it
   * would lie beyond the horizon. The schedule itself keeps the fraction, so the pace is exact.
   */
  schedule (nowMs: number, capacityPerS: number): number | undefined {
    const spacingMs = 1000 / (this.fillRatio * capacityPerS)
    const dueAtMs = Math.max(nowMs, this.nextMs) + spacingMs
    if (dueAtMs - nowMs > this.maxAheadMs) return undefined
    this.nextMs = dueAtMs
    return Math.ceil(dueAtMs)
  }
}
