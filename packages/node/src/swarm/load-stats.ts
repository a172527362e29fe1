/**
 * What the login load generator measured: per phase and per second, how many logins were sent,
 * admitted (a ticket before the deadline), rejected (an error reply), timed out (no reply before
 * the deadline: a late ticket is a failure too) or failed otherwise, and the latency of admitted
 * logins. Latencies kept are bounded; beyond the bound only counts grow. The shapes reported are
 * the protocol package's (swarm-api.ts).
 */
import type { LoginCounts, PhaseResult, SecondRow } from '@rebound/protocol'

export type Outcome = 'ok' | 'rejected' | 'timeout' | 'failed'
/** Latency samples kept per phase (a 20 s phase at 1000/s fits). */
export const MAX_LATENCIES_PER_PHASE = 50_000
/** Per-second rows kept (an hour). */
export const MAX_SECONDS = 3600

type Percentiles = Pick<PhaseResult, 'p50Ms' | 'p99Ms' | 'maxMs'>

/** Nearest-rank percentile of sorted values; null when empty. */
export function percentileOfSorted (sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100))
  return sorted[Math.min(rank, sorted.length) - 1] ?? null
}

function percentiles (values: number[]): Percentiles {
  const sorted = values.slice().sort((a, b) => a - b)
  return { p50Ms: percentileOfSorted(sorted, 50), p99Ms: percentileOfSorted(sorted, 99), maxMs: sorted.at(-1) ?? null }
}

const zero = (): LoginCounts => ({ sent: 0, ok: 0, rejected: 0, timeouts: 0, failed: 0 })

function bump (c: LoginCounts, outcome: Outcome): void {
  if (outcome === 'ok') c.ok++
  else if (outcome === 'rejected') c.rejected++
  else if (outcome === 'timeout') c.timeouts++
  else c.failed++
}

interface PhaseAcc extends LoginCounts {
  okInWindow: number
  dropped: number
  latencies: number[]
  rejectLatencies: number[]
  byCode: Record<string, number>
}

/** A phase's window, ms since the run started. */
export interface PhaseWindow {
  startMs: number
  endMs: number
}

/** Consecutive windows of the given lengths from 0. */
export function phaseWindows (durationsMs: readonly number[]): PhaseWindow[] {
  let at = 0
  return durationsMs.map((d) => { const w = { startMs: at, endMs: at + d }; at += d; return w })
}

export class LoadRecorder {
  private readonly phases: PhaseAcc[]
  private readonly seconds: Array<LoginCounts & { latencies: number[] }> = []

  constructor (private readonly windows: readonly PhaseWindow[]) {
    this.phases = windows.map(() => ({ ...zero(), okInWindow: 0, dropped: 0, latencies: [], rejectLatencies: [], byCode: {} }))
  }

  sent (phase: number): void {
    const acc = this.phases[phase]
    if (acc !== undefined) acc.sent++
  }

  dropped (phase: number): void {
    const acc = this.phases[phase]
    if (acc !== undefined) acc.dropped++
  }

  /** `elapsedMs`: completion time since the run started. */
  completed (phase: number, outcome: Outcome, code: string, latencyMs: number, elapsedMs: number): void {
    const acc = this.phases[phase]
    if (acc === undefined) return
    bump(acc, outcome)
    const window = this.windows[phase]
    if (outcome === 'ok' && window !== undefined && elapsedMs >= window.startMs && elapsedMs < window.endMs) acc.okInWindow++
    if (outcome !== 'ok') acc.byCode[code] = (acc.byCode[code] ?? 0) + 1
    if (outcome === 'ok' && acc.latencies.length < MAX_LATENCIES_PER_PHASE) acc.latencies.push(latencyMs)
    if (outcome === 'rejected' && acc.rejectLatencies.length < MAX_LATENCIES_PER_PHASE) acc.rejectLatencies.push(latencyMs)
    const second = Math.floor(elapsedMs / 1000)
    if (second < 0 || second >= MAX_SECONDS) return
    // Bounded by MAX_SECONDS.
    while (this.seconds.length <= second) this.seconds.push({ ...zero(), latencies: [] })
    const row = this.seconds[second]
    if (row === undefined) return
    bump(row, outcome)
    if (outcome === 'ok' && row.latencies.length < MAX_LATENCIES_PER_PHASE) row.latencies.push(latencyMs)
  }

  /** Count a send in the second it was sent (offered load per second). */
  sentAt (elapsedMs: number): void {
    const second = Math.floor(elapsedMs / 1000)
    if (second < 0 || second >= MAX_SECONDS) return
    while (this.seconds.length <= second) this.seconds.push({ ...zero(), latencies: [] })
    const row = this.seconds[second]
    if (row !== undefined) row.sent++
  }

  phaseResults (specs: ReadonlyArray<{ ratePerS: number | null, concurrency: number | null, durationMs: number, missed: number }>): PhaseResult[] {
    return this.phases.map((acc, i) => {
      const spec = specs[i] ?? { ratePerS: null, concurrency: null, durationMs: 0, missed: 0 }
      const rejects = acc.rejectLatencies.slice().sort((a, b) => a - b)
      return {
        ratePerS: spec.ratePerS,
        concurrency: spec.concurrency,
        durationMs: spec.durationMs,
        sent: acc.sent,
        ok: acc.ok,
        rejected: acc.rejected,
        timeouts: acc.timeouts,
        failed: acc.failed,
        dropped: acc.dropped,
        missed: spec.missed,
        goodputPerS: spec.durationMs > 0 ? acc.okInWindow / (spec.durationMs / 1000) : 0,
        byCode: { ...acc.byCode },
        ...percentiles(acc.latencies),
        rejectP50Ms: percentileOfSorted(rejects, 50)
      }
    })
  }

  secondRows (): SecondRow[] {
    return this.seconds.map((row, t) => {
      const sorted = row.latencies.slice().sort((a, b) => a - b)
      return { t, sent: row.sent, ok: row.ok, rejected: row.rejected, timeouts: row.timeouts, failed: row.failed, p99Ms: percentileOfSorted(sorted, 99) }
    })
  }
}
