/**
 * Presence publication with retries. When the live set changes, every session's record may have
 * new owners; publishing them all at once (hundreds of mesh requests in one burst) made many time
 * out on a busy machine, and a record that never reached its owners made its user "not found"
 * (500 clients, 30% of supernodes killed: 42 of 500 lookups failed 10 s after the last change).
 * So users to publish wait in a set (one entry per user: a newer reason replaces nothing), are
 * published PUBLISH_CONCURRENCY at a time, and a failed one comes back after RETRY_AFTER_MS. Every
 * REFRESH_MS the owner queues all its sessions again (anti-entropy: an owner that restarted, or a
 * record dropped on a brief suspicion, is repaired without anyone noticing it first).
 */
import { sleep } from '@rebound/protocol'

export const PUBLISH_CONCURRENCY = 16
export const RETRY_AFTER_MS = 1000
export const REFRESH_MS = 60_000

export interface PublishQueueDeps {
  /** Publish this user's record to its owners; true when every owner took it (or it is gone). */
  publish: (user: string) => Promise<boolean>
  /** The users to publish on a refresh: every local session. */
  everyone: () => Iterable<string>
  now: () => number
}

export class PublishQueue {
  private readonly queued = new Set<string>()
  private wake: (() => void) | undefined

  constructor (private readonly deps: PublishQueueDeps) {}

  /** Queue users (at most one entry each: the set is bounded by the sessions). */
  add (users: Iterable<string>): void {
    for (const user of users) this.queued.add(user)
    this.wake?.()
  }

  get size (): number {
    return this.queued.size
  }

  /** Until `signal` aborts: drain the queue, retry failures, refresh everyone every REFRESH_MS. */
  async run (signal: AbortSignal): Promise<void> {
    let nextRefreshAtMs = this.deps.now() + REFRESH_MS
    while (!signal.aborted) {
      if (this.deps.now() >= nextRefreshAtMs) {
        this.add(this.deps.everyone())
        nextRefreshAtMs = this.deps.now() + REFRESH_MS
      }
      if (this.queued.size === 0) {
        await this.idle(Math.max(0, nextRefreshAtMs - this.deps.now()), signal)
        continue
      }
      const batch = [...this.queued]
      this.queued.clear()
      const failed = await this.publishAll(batch)
      if (failed.length > 0) {
        // Back after a pause, not at once: the owners that failed are busy or just changed.
        await sleep(RETRY_AFTER_MS, signal)
        this.add(failed)
      }
    }
  }

  private async publishAll (users: string[]): Promise<string[]> {
    const failed: string[] = []
    let next = 0
    const worker = async (): Promise<void> => {
      // Bounded: each worker takes the next user until the batch is done.
      while (next < users.length) {
        const user = users[next++] as string
        if (!(await this.deps.publish(user).catch(() => false))) failed.push(user)
      }
    }
    await Promise.all(Array.from({ length: Math.min(PUBLISH_CONCURRENCY, users.length) }, worker))
    return failed
  }

  private async idle (ms: number, signal: AbortSignal): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      function done (): void {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      this.wake = done
      signal.addEventListener('abort', done, { once: true })
    })
    this.wake = undefined
  }
}
