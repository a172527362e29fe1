/**
 * Full-jitter exponential backoff: wait U(0, min(cap, base * 2^n)) after the n-th consecutive
 * failure (Brooker, "Exponential Backoff And Jitter", AWS 2015). A server's retryAfterMs, when
 * given, is obeyed as a floor.
 */
export const BACKOFF_BASE_MS = 1000
export const BACKOFF_CAP_MS = 30_000

export class Backoff {
  private failures = 0
  constructor (
    private readonly random: () => number,
    private readonly baseMs = BACKOFF_BASE_MS,
    private readonly capMs = BACKOFF_CAP_MS
  ) {}

  get attempts (): number {
    return this.failures
  }

  /** Record a failure and return how long to wait before the next attempt. */
  fail (retryAfterMs?: number): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.failures, 30))
    this.failures++
    const jittered = Math.floor(this.random() * ceiling)
    return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered)
  }

  reset (): void {
    this.failures = 0
  }
}
