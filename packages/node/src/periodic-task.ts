/**
 * A background task run every `intervalMs` (give or take INTERVAL_JITTER), or at once when kicked (a ticket arrived, a session
 * attached, a store was wiped). One run at a time: a kick during a run makes one more run right
 * after it. A run that fails is retried after a full-jitter backoff (backoff.ts), capped at the
 * interval, so an outage costs one bounded retry stream, not a tight loop. A run that reports
 * more work (it stopped at its per-run bound) is followed by another after MORE_DELAY_MS.
 */
import { describeError, errorCodeOf, sleep, type Logger } from '@rebound/protocol'
import { Backoff } from './backoff.js'

/** Pause between runs while a task still has work beyond its per-run bound: lets others run. */
export const MORE_DELAY_MS = 20
/** Share of the interval by which each wait varies, either way. */
export const INTERVAL_JITTER = 0.25
/** Consecutive failures logged at debug before they are warnings. */
export const QUIET_FAILURES = 2
/** First retry after a failure waits up to this (then doubles, up to the interval). */
export const RETRY_BASE_MS = 500

export interface PeriodicTaskInit {
  name: string
  intervalMs: number
  /** Do a bounded amount of work; true when there is more to do right away. */
  run: () => Promise<boolean>
  log: Logger
  random: () => number
}

export class PeriodicTask {
  private readonly stopController = new AbortController()
  private readonly backoff: Backoff
  private wake: AbortController = new AbortController()
  private kicked = false
  private loop: Promise<void> | undefined

  constructor (private readonly init: PeriodicTaskInit) {
    this.backoff = new Backoff(init.random, RETRY_BASE_MS, init.intervalMs)
  }

  /** Consecutive failed runs (0 after a success). */
  get failures (): number {
    return this.backoff.attempts
  }

  start (): void {
    this.loop ??= this.runLoop()
  }

  /** Run as soon as the current run (if any) ends. */
  kick (): void {
    this.kicked = true
    this.wake.abort()
  }

  async stop (): Promise<void> {
    this.stopController.abort()
    this.wake.abort()
    await this.loop
  }

  private async runLoop (): Promise<void> {
    const stopped = this.stopController.signal
    while (!stopped.aborted) {
      this.kicked = false
      let waitMs: number
      try {
        const more = await this.init.run()
        this.backoff.reset()
        // Jittered (0.75-1.25 x): peers started together, as a swarm or after a mass restart,
        // would otherwise poll the login servers in lockstep.
        waitMs = more ? MORE_DELAY_MS : Math.floor(this.init.intervalMs * (1 - INTERVAL_JITTER + 2 * INTERVAL_JITTER * this.init.random()))
      } catch (err) {
        waitMs = this.backoff.fail()
        // One failure is routine (a login server restarting, a connection closed under a request);
        // failures in a row, or a bug, are worth a look.
        const level = errorCodeOf(err) === 'INTERNAL' ? 'error' : this.backoff.attempts >= QUIET_FAILURES ? 'warn' : 'debug'
        this.init.log[level]({ task: this.init.name, code: errorCodeOf(err), err: describeError(err), waitMs, failures: this.backoff.attempts }, 'background task failed, retrying')
      }
      if (this.kicked || stopped.aborted) continue
      this.wake = new AbortController()
      await sleep(waitMs, AbortSignal.any([stopped, this.wake.signal]))
    }
  }
}
