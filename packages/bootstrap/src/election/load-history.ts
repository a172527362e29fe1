/**
 * A bounded history of the live supernode set's load, so that the election judges what the load
 * *stayed* at over a window, not one reading: a supernode's heartbeat is one sample every 2 s, and
 * a burst of attaches or a single stale row must not promote or demote anybody.
 */
import type { SupernodeLoad } from '../store.js'

export type { SupernodeLoad }

/** Samples at least this far apart; a reading in between updates the newest sample's values. */
export const SAMPLE_SPACING_MS = 250
/** 256 samples at >= 250 ms cover >= 64 s: the longest window asked of the history (RECALL_MS). */
export const MAX_SAMPLES = 256

interface Sample extends SupernodeLoad {
  atMs: number
}

/** Over a window: the least and most clients seen, and the most capacity. */
export interface WindowSummary {
  minClients: number
  maxClients: number
  maxCapacity: number
}

export class LoadHistory {
  /** Oldest first; at most MAX_SAMPLES. */
  private readonly samples: Sample[] = []

  record (nowMs: number, load: SupernodeLoad): void {
    const last = this.samples.at(-1)
    // Keep the newest reading current between samples, so a window always ends with "now".
    if (last !== undefined && nowMs - last.atMs < SAMPLE_SPACING_MS && nowMs >= last.atMs) {
      Object.assign(last, load)
      return
    }
    this.samples.push({ atMs: nowMs, ...load })
    if (this.samples.length > MAX_SAMPLES) this.samples.shift()
  }

  /**
   * The load held over the whole of the last `windowMs`: from the newest sample at least that old
   * up to now. Undefined while the history is younger than the window (just started, or every
   * sample in it was taken since): no verdict on too little evidence.
   */
  sustained (windowMs: number, nowMs: number): WindowSummary | undefined {
    let start = -1
    for (let i = this.samples.length - 1; i >= 0; i--) {
      if ((this.samples[i]?.atMs ?? Infinity) <= nowMs - windowMs) {
        start = i
        break
      }
    }
    return start < 0 ? undefined : summarise(this.samples.slice(start))
  }

  /** Everything seen in the last `windowMs` (undefined when nothing was). */
  recent (windowMs: number, nowMs: number): WindowSummary | undefined {
    const inWindow = this.samples.filter((s) => s.atMs >= nowMs - windowMs)
    return inWindow.length === 0 ? undefined : summarise(inWindow)
  }

  /** Mean capacity of one supernode at the newest sample that had any (undefined if none did). */
  lastMeanCapacity (): number | undefined {
    for (let i = this.samples.length - 1; i >= 0; i--) {
      const s = this.samples[i]
      if (s !== undefined && s.count > 0 && s.capacity > 0) return s.capacity / s.count
    }
    return undefined
  }
}

function summarise (samples: Sample[]): WindowSummary {
  let minClients = Infinity
  let maxClients = 0
  let maxCapacity = 0
  for (const s of samples) {
    minClients = Math.min(minClients, s.clients)
    maxClients = Math.max(maxClients, s.clients)
    maxCapacity = Math.max(maxCapacity, s.capacity)
  }
  return { minClients: Number.isFinite(minClients) ? minClients : 0, maxClients, maxCapacity }
}
