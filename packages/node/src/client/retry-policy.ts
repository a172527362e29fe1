/**
 * When a client tries again after a failed login or attach.
 *
 * defended: full-jitter backoff (base 1 s, cap 30 s); a server's retryAfterMs is a floor; a
 * waiting-room slot is honoured (come back at its due time plus U(0, 1 s), so that the holders of
 * one instant do not arrive in the same millisecond). The next allowed attempt is persisted by the
 * agent, so a crash loop cannot reset it.
 *
 * naive: the 2007 client: retry every second, in lockstep, forgetting everything on restart.
 */
import type { Profile } from '@rebound/protocol'
import { Backoff } from '../backoff.js'

export const NAIVE_RETRY_INTERVAL_MS = 1000
/** Spread added to a slot's due time (overload.md: "wait until the slot plus U(0, 1 s)"). */
export const SLOT_JITTER_MS = 1000

export interface FailureHints {
  retryAfterMs?: number
  /** Due time of a waiting-room slot, when the server gave one. */
  slotDueAtMs?: number
}

export interface RetryPolicy {
  readonly profile: Profile
  /** Consecutive failures so far. */
  readonly failures: number
  /** How long to wait before the next attempt. */
  onFailure: (hints: FailureHints, nowMs: number) => number
  onSuccess: () => void
  /** Restore the failure count of a previous life (defended only). */
  restore: (failures: number) => void
}

export function createRetryPolicy (profile: Profile, random: () => number): RetryPolicy {
  return profile === 'naive' ? new NaiveRetry() : new DefendedRetry(random)
}

class DefendedRetry implements RetryPolicy {
  readonly profile = 'defended'
  private readonly backoff: Backoff

  constructor (private readonly random: () => number) {
    this.backoff = new Backoff(random)
  }

  get failures (): number {
    return this.backoff.attempts
  }

  onFailure (hints: FailureHints, nowMs: number): number {
    if (hints.slotDueAtMs !== undefined) {
      // A slot is the server's schedule: obey it instead of growing the backoff.
      return Math.max(0, hints.slotDueAtMs - nowMs) + Math.floor(this.random() * SLOT_JITTER_MS)
    }
    return this.backoff.fail(hints.retryAfterMs)
  }

  onSuccess (): void {
    this.backoff.reset()
  }

  restore (failures: number): void {
    this.backoff.reset()
    for (let i = 0; i < failures; i++) this.backoff.fail()
  }
}

class NaiveRetry implements RetryPolicy {
  readonly profile = 'naive'
  failures = 0

  onFailure (): number {
    this.failures++
    return NAIVE_RETRY_INTERVAL_MS
  }

  onSuccess (): void {
    this.failures = 0
  }

  restore (): void {}
}
