/**
 * CoDel for a request queue, in the variant Facebook describes in "Fail at Scale" and ships in
 * folly's Codel (overload.md section 2): if the queue has not been empty for the last INTERVAL,
 * it is a standing queue and the server is overloaded; a request then may wait TARGET-derived
 * time at most (folly sheds after 2 x target), otherwise up to INTERVAL. A burst that drains is
 * absorbed; a queue that never drains is cut to a few milliseconds of waiting, so that the work
 * served is fresh (and, with LIFO, the client is still there).
 */

/** Acceptable standing queue delay (folly's default target). */
export const CODEL_TARGET_MS = 5
/** How long a queue may stay non-empty before it counts as a standing queue. */
export const CODEL_INTERVAL_MS = 100
/** While overloaded, waiters older than this are shed (folly: 2 x target). */
export const CODEL_SLOUGH_MS = 2 * CODEL_TARGET_MS

export interface CodelInit {
  targetMs?: number
  intervalMs?: number
}

export class Codel {
  private readonly intervalMs: number
  private readonly sloughMs: number
  /** When the queue last went from empty to non-empty; undefined while it is empty. */
  private nonEmptySinceMs: number | undefined

  constructor (init: CodelInit = {}) {
    this.intervalMs = init.intervalMs ?? CODEL_INTERVAL_MS
    this.sloughMs = 2 * (init.targetMs ?? CODEL_TARGET_MS)
  }

  /** Tell CoDel the queue's length after every change. */
  onLength (length: number, nowMs: number): void {
    if (length === 0) this.nonEmptySinceMs = undefined
    else this.nonEmptySinceMs ??= nowMs
  }

  overloaded (nowMs: number): boolean {
    return this.nonEmptySinceMs !== undefined && nowMs - this.nonEmptySinceMs >= this.intervalMs
  }

  /** The longest a waiter may have queued by now. */
  maxSojournMs (nowMs: number): number {
    return this.overloaded(nowMs) ? this.sloughMs : this.intervalMs
  }
}
