/**
 * Measured login capacity mu (logins per second) = concurrency limit / mean hash service time.
 * The mean is an EWMA of recent hashes, so mu follows a machine that slows down under other load;
 * the limit is the adaptive one, so a server that learnt it has 2 usable cores does not promise 4.
 * The waiting room schedules slots from this number, so it is floored and capped: a wild sample
 * must not hand out a thousand slots per second, nor one per hour.
 */

/** Weight of the newest sample: ~10 samples of memory, a quarter-second in a storm. */
export const SERVICE_EWMA_ALPHA = 0.1
export const MIN_CAPACITY_PER_S = 1
export const MAX_CAPACITY_PER_S = 10_000

export class CapacityEstimator {
  private serviceMs: number

  /** `initialServiceMs`: a calibration hash measured at start-up (login-server.ts). */
  constructor (initialServiceMs: number) {
    this.serviceMs = Math.max(initialServiceMs, 0.01)
  }

  get meanServiceMs (): number {
    return this.serviceMs
  }

  onSample (serviceMs: number): void {
    this.serviceMs += SERVICE_EWMA_ALPHA * (Math.max(serviceMs, 0.01) - this.serviceMs)
  }

  perSecond (limit: number): number {
    const mu = (limit * 1000) / this.serviceMs
    return Math.min(MAX_CAPACITY_PER_S, Math.max(MIN_CAPACITY_PER_S, mu))
  }
}
