/**
 * A token bucket: `ratePerS` tokens a second, at most `burst` saved up. Refilled lazily from the
 * injected clock, so it costs two multiplications per call and no timer.
 */
export class TokenBucket {
  private tokens: number
  private lastMs: number
  private readonly burst: number

  constructor (private readonly ratePerS: number, burst: number, private readonly clock: () => number) {
    this.burst = Math.max(1, burst)
    this.tokens = this.burst
    this.lastMs = clock()
  }

  tryTake (): boolean {
    this.refill()
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Milliseconds until the next token (0 when one is there): the retry hint for a refusal. */
  msUntilNext (): number {
    this.refill()
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.ratePerS)
  }

  private refill (): void {
    const nowMs = this.clock()
    // A clock that steps back (tests, NTP) refills nothing rather than draining the bucket.
    const elapsedMs = Math.max(0, nowMs - this.lastMs)
    this.lastMs = nowMs
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs * this.ratePerS) / 1000)
  }
}
