/**
 * An open-loop arrival schedule: arrivals at a fixed rate per phase, independent of how fast the
 * server answers (a closed loop would slow down with the server and hide its collapse). Arrival k
 * of a phase is due at phaseStart + k / rate. After a stall of the generator's own event loop at
 * most `maxCatchUp` overdue arrivals are released at once; the rest are counted as missed rather
 * than sent in a burst the server would never have seen from real clients.
 */

export const DEFAULT_MAX_CATCH_UP = 50

export interface LoadPhase {
  ratePerS: number
  durationMs: number
}

export interface Arrival {
  phase: number
  /** When it was due, ms since the schedule started. */
  dueMs: number
}

export class OpenLoopSchedule {
  /** Per phase: arrivals skipped because they were overdue by more than the catch-up bound. */
  readonly missed: number[]
  private phase = 0
  private nextInPhase = 0
  private readonly phaseStartsMs: number[] = []
  readonly totalMs: number

  constructor (private readonly phases: readonly LoadPhase[], private readonly maxCatchUp = DEFAULT_MAX_CATCH_UP) {
    let at = 0
    for (const p of phases) {
      if (!(p.ratePerS >= 0) || !Number.isFinite(p.ratePerS)) throw new RangeError(`bad rate ${p.ratePerS}`)
      if (!(p.durationMs > 0) || !Number.isFinite(p.durationMs)) throw new RangeError(`bad duration ${p.durationMs}`)
      this.phaseStartsMs.push(at)
      at += p.durationMs
    }
    if (!(maxCatchUp >= 1)) throw new RangeError('maxCatchUp must be at least 1')
    this.totalMs = at
    this.missed = phases.map(() => 0)
  }

  done (): boolean {
    return this.phase >= this.phases.length
  }

  /** Arrivals due by `elapsedMs` (ms since start), oldest first, at most maxCatchUp of them. */
  take (elapsedMs: number): Arrival[] {
    const due: Arrival[] = []
    // Bounded: each pass either releases or skips one arrival, or moves to the next phase; the
    // number of arrivals in a phase is rate * duration.
    while (this.phase < this.phases.length) {
      const p = this.phases[this.phase] as LoadPhase
      const start = this.phaseStartsMs[this.phase] ?? 0
      const dueMs = p.ratePerS === 0 ? Infinity : start + (this.nextInPhase * 1000) / p.ratePerS
      if (dueMs >= start + p.durationMs) {
        this.phase++
        this.nextInPhase = 0
        continue
      }
      if (dueMs > elapsedMs) break
      this.nextInPhase++
      if (due.length < this.maxCatchUp) due.push({ phase: this.phase, dueMs })
      else this.missed[this.phase] = (this.missed[this.phase] ?? 0) + 1
    }
    return due
  }
}
