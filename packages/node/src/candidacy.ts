/**
 * An eligible peer's standing offer to serve as an elected supernode (issue 4, DESIGN "Supernode"):
 * it asks the registry, which answers "promoted" with a certificate, or "not now, ask again in
 * retryAfterMs" (30-60 s while nothing is needed, 1-5 s while supernodes are short). The peer
 * decides nothing itself: the registry sees the whole live set and picks the best candidates.
 *
 * A peer that has lost its supernode, or cannot attach anywhere, is exactly the one that knows
 * capacity just went away: `nudge()` cuts its current wait short (to U(0, NUDGE_MAX_MS)), so that
 * after a mass loss the orphans offer themselves at once instead of in 30-60 s, and keep asking
 * every few seconds for a minute (VIGILANT_MS). Waits are bounded on both sides; a failed ask
 * backs off with full jitter.
 */
import { ReboundError, describeError, errorCodeOf, type Logger } from '@rebound/protocol'
import { Backoff } from './backoff.js'
import type { CandidateOffer, RegistryClient } from './supernode/registry-client.js'

/** First offer after start: spread over this window, so a cluster's peers do not ask in step. */
export const FIRST_OFFER_WINDOW_MS = 5000
/** A nudged wait ends within this. */
export const NUDGE_MAX_MS = 1000
/** Bounds on the registry's retryAfterMs as obeyed here. */
export const MIN_WAIT_MS = 500
export const MAX_WAIT_MS = 3600_000
/**
 * For this long after a nudge, a "not now" parks the peer for at most U(MIN_WAIT_MS,
 * VIGILANT_MAX_WAIT_MS): the registry learns that supernodes died from missed heartbeats, seconds
 * after their orphans, and a "not now, 30-60 s" answered in that gap left a cluster with every
 * supernode killed on one elected supernode (full) for 50 s, its other candidates parked.
 */
export const VIGILANT_MS = 60_000
export const VIGILANT_MAX_WAIT_MS = 5000

export interface CandidacyDeps {
  registry: RegistryClient
  /** The offer as of now, or undefined while the peer has no ticket yet (not logged in). */
  offer: () => CandidateOffer | undefined
  /** Promoted: the owner starts the supernode role with this certificate. */
  onPromoted: (certificate: string) => Promise<void>
  log: Logger
  random: () => number
  now: () => number
}

export class Candidacy {
  private readonly backoff: Backoff
  private readonly stopController = new AbortController()
  private loop: Promise<void> | undefined
  private wake: (() => void) | undefined
  private waitEndsAtMs = 0
  private vigilantUntilMs = 0

  constructor (private readonly deps: CandidacyDeps) {
    this.backoff = new Backoff(deps.random, 1000, 30_000)
  }

  /** Start offering after `delayMs` (default: U(0, FIRST_OFFER_WINDOW_MS)). */
  start (delayMs = Math.floor(this.deps.random() * FIRST_OFFER_WINDOW_MS)): void {
    this.loop ??= this.run(delayMs, this.stopController.signal)
  }

  async stop (): Promise<void> {
    this.stopController.abort()
    this.wake?.()
    this.deps.registry.close()
    await this.loop
  }

  /** Capacity may just have gone away (orphaned, or no supernode would take us): ask soon. */
  nudge (): void {
    this.vigilantUntilMs = this.deps.now() + VIGILANT_MS
    const soonMs = Math.floor(this.deps.random() * NUDGE_MAX_MS)
    if (this.wake === undefined || this.waitEndsAtMs - this.deps.now() <= soonMs) return
    const wake = this.wake
    this.waitEndsAtMs = this.deps.now() + soonMs
    setTimeout(wake, soonMs).unref()
  }

  private async run (firstDelayMs: number, signal: AbortSignal): Promise<void> {
    let waitMs = firstDelayMs
    while (!signal.aborted) {
      await this.sleep(waitMs)
      if (signal.aborted) return
      waitMs = await this.offerOnce(signal)
      if (waitMs < 0) return // promoted
    }
  }

  /** One offer; returns how long to wait before the next, or -1 once promoted. */
  private async offerOnce (signal: AbortSignal): Promise<number> {
    const offer = this.deps.offer()
    if (offer === undefined) return MIN_WAIT_MS * 4 // not logged in yet
    try {
      const answer = await this.deps.registry.candidate(offer)
      this.backoff.reset()
      // Between offers the peer holds no login-server connection (it may be one of thousands).
      this.deps.registry.close()
      if (!answer.promoted) return this.waitAfterNotNow(answer.retryAfterMs)
      if (signal.aborted) return -1
      this.deps.log.info({ capacity: offer.capacity, uptimeMs: offer.uptimeMs }, 'promoted to elected supernode')
      await this.deps.onPromoted(answer.certificate)
      return -1
    } catch (err) {
      const waitMs = this.backoff.fail((err as ReboundError).meta?.retryAfterMs as number | undefined)
      this.deps.log.debug({ code: errorCodeOf(err), err: describeError(err), waitMs }, 'candidate offer failed')
      return waitMs
    }
  }

  /** The registry's retryAfterMs, bounded; shorter (jittered) while vigilant after a nudge. */
  private waitAfterNotNow (retryAfterMs: number): number {
    const told = Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, retryAfterMs))
    if (this.deps.now() >= this.vigilantUntilMs) return told
    return Math.min(told, MIN_WAIT_MS + Math.floor(this.deps.random() * (VIGILANT_MAX_WAIT_MS - MIN_WAIT_MS)))
  }

  /** Sleep until the wait ends, a nudge shortens it, or stop. */
  private async sleep (ms: number): Promise<void> {
    this.waitEndsAtMs = this.deps.now() + ms
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      timer.unref()
      function done (): void {
        clearTimeout(timer)
        resolve()
      }
      this.wake = done
    })
    this.wake = undefined
  }
}
