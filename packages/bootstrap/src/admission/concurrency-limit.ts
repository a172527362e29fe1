/**
 * How many password hashes may run at once. scrypt runs on libuv's pool (4 threads by default),
 * but the pool is not the bottleneck on a 2-core machine: the cores are, and past them a parallel
 * hash only takes longer. The AIMD limit finds that point from the hashes' own latency instead of
 * trusting a core count (overload.md section 2, Netflix concurrency-limits' AIMD): +1 while the
 * limit is in use and latency stays near its floor, x0.9 when a hash takes over twice the floor.
 */

export interface ConcurrencyLimit {
  /** Hashes allowed to run at once (an integer >= 1). */
  readonly current: number
  /** A finished hash: its service time and how many hashes were running when it ended (itself included). */
  onSample: (latencyMs: number, inflight: number, nowMs: number) => void
}

/** The naive profile's limit: the pool size, whatever the latency says. */
export class FixedLimit implements ConcurrencyLimit {
  readonly current: number
  constructor (limit: number) {
    this.current = Math.max(1, Math.floor(limit))
  }

  onSample (): void {}
}

export const AIMD_MIN_LIMIT = 1
/** Twice libuv's 4 threads: enough headroom to see the latency rise, never a runaway pool queue. */
export const AIMD_MAX_LIMIT = 8
/** Multiplicative decrease, as Netflix's AIMD (backoffRatio 0.9). */
export const AIMD_BACKOFF_RATIO = 0.9
/** A hash slower than this multiple of the observed minimum means the cores are oversubscribed. */
export const AIMD_LATENCY_TOLERANCE = 2
/**
 * The minimum is taken over the last one to two windows of this length, so that a machine that
 * became slower for good (a noisy neighbour, a bigger --scrypt-n) does not pin the limit at 1.
 */
export const AIMD_MIN_LATENCY_WINDOW_MS = 30_000

export interface AimdLimitInit {
  initial: number
  min?: number
  max?: number
}

export class AimdLimit implements ConcurrencyLimit {
  private readonly min: number
  private readonly max: number
  private limit: number
  /** Minimum latency of the current and the previous window. */
  private currentMinMs = Infinity
  private previousMinMs = Infinity
  private windowStartMs: number | undefined

  constructor (init: AimdLimitInit) {
    this.min = init.min ?? AIMD_MIN_LIMIT
    this.max = init.max ?? AIMD_MAX_LIMIT
    this.limit = Math.min(this.max, Math.max(this.min, init.initial))
  }

  get current (): number {
    return Math.floor(this.limit)
  }

  /** The latency floor the limit compares against (Infinity before the first sample). */
  get minLatencyMs (): number {
    return Math.min(this.currentMinMs, this.previousMinMs)
  }

  onSample (latencyMs: number, inflight: number, nowMs: number): void {
    this.rotate(nowMs)
    const floorMs = this.minLatencyMs
    if (latencyMs < this.currentMinMs) this.currentMinMs = latencyMs
    if (latencyMs > AIMD_LATENCY_TOLERANCE * floorMs) {
      this.limit = Math.max(this.min, this.limit * AIMD_BACKOFF_RATIO)
    } else if (inflight >= this.limit / 2) {
      // Only a limit in use proves anything: growing an idle limit would allow a burst later.
      this.limit = Math.min(this.max, this.limit + 1)
    }
  }

  private rotate (nowMs: number): void {
    if (this.windowStartMs === undefined) {
      this.windowStartMs = nowMs
      return
    }
    if (nowMs - this.windowStartMs < AIMD_MIN_LATENCY_WINDOW_MS) return
    this.previousMinMs = this.currentMinMs
    this.currentMinMs = Infinity
    this.windowStartMs = nowMs
  }
}
