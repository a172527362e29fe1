/**
 * Presence publication with retries. When the live set changes, every session's record may have
 * new owners; publishing them all at once (hundreds of mesh requests in one burst) made many time
 * out on a busy machine, and a record that never reached its owners made its user "not found"
 * (500 clients, 30% of supernodes killed: 42 of 500 lookups failed 10 s after the last change).
 * So users to publish wait in a set (one entry per user), are published PUBLISH_CONCURRENCY at a
 * time by a PeriodicTask (kicked when users are queued), and failed ones stay queued for the
 * task's backoff retry. Every REFRESH_MS all sessions are queued again (anti-entropy: an owner
 * that restarted, or a record dropped on a brief suspicion, is repaired without anyone noticing
 * it first).
 */
import { ReboundError, mapBounded, type Logger } from '@rebound/protocol'
import { PeriodicTask } from '../periodic-task.js'

export const PUBLISH_CONCURRENCY = 16
export const REFRESH_MS = 60_000

export interface PublishQueueDeps {
  /** Publish this user's record to its owners; true when every owner took it (or it is gone). */
  publish: (user: string) => Promise<boolean>
  /** The users to publish on a refresh: every local session. */
  everyone: () => Iterable<string>
  now: () => number
  random: () => number
  log: Logger
}

export class PublishQueue {
  private readonly queued = new Set<string>()
  private readonly task: PeriodicTask
  private nextRefreshAtMs: number

  constructor (private readonly deps: PublishQueueDeps) {
    this.nextRefreshAtMs = deps.now() + REFRESH_MS
    this.task = new PeriodicTask({ name: 'presence-publish', intervalMs: REFRESH_MS, run: async () => await this.drain(), log: deps.log, random: deps.random })
  }

  /** Queue users (at most one entry each: the set is bounded by the sessions) and publish soon. */
  add (users: Iterable<string>): void {
    for (const user of users) this.queued.add(user)
    if (this.queued.size > 0) this.task.kick()
  }

  get size (): number {
    return this.queued.size
  }

  start (): void {
    this.task.start()
  }

  async stop (): Promise<void> {
    await this.task.stop()
  }

  /** One run: everything queued (plus everyone when a refresh is due); failures stay queued. */
  private async drain (): Promise<boolean> {
    if (this.deps.now() >= this.nextRefreshAtMs) {
      for (const user of this.deps.everyone()) this.queued.add(user)
      this.nextRefreshAtMs = this.deps.now() + REFRESH_MS
    }
    const batch = [...this.queued]
    this.queued.clear()
    const taken = await mapBounded(batch, PUBLISH_CONCURRENCY, async (user) => await this.deps.publish(user).catch(() => false))
    const failed = batch.filter((_, i) => taken[i] !== true)
    if (failed.length === 0) return false
    for (const user of failed) this.queued.add(user)
    // The task retries after its backoff: the owners that failed are busy or just changed.
    throw new ReboundError('UNAVAILABLE', `${failed.length} presence records not taken by their owners`)
  }
}
