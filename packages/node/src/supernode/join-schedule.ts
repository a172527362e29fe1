/**
 * When a supernode tells a refused join to come back: the next free place in a schedule that runs
 * at SCHEDULE_SHARE of the join rate, after the places already handed out (the waiting room of
 * the login servers, for joins). A bare "retry when the next token is due" (~50 ms at 20 joins/s)
 * sent a whole resumption storm back at once, to be refused again with growing backoff: 250
 * clients took 36 s to attach where 12.5 s was the rate's ideal. The places are not reserved
 * (that would need a signed token for a cheap request): the share left over serves newcomers,
 * and a client that finds no token gets a new place. Bounded: no place is further than
 * MAX_AHEAD_MS away.
 */

/** Of the join rate, the part handed out as places; the rest serves joins that hold none. */
export const SCHEDULE_SHARE = 0.9
export const MAX_AHEAD_MS = 60_000

export class JoinSchedule {
  private nextFreeMs = 0
  private readonly spacingMs: number

  constructor (joinRatePerS: number, private readonly maxAheadMs = MAX_AHEAD_MS) {
    this.spacingMs = 1000 / (joinRatePerS * SCHEDULE_SHARE)
  }

  /** A place for a refused join: milliseconds from `nowMs`, at least `notBeforeMs`. */
  place (nowMs: number, notBeforeMs: number): number {
    const atMs = Math.min(Math.max(this.nextFreeMs, nowMs + notBeforeMs), nowMs + this.maxAheadMs)
    this.nextFreeMs = atMs + this.spacingMs
    return Math.ceil(atMs - nowMs)
  }
}
