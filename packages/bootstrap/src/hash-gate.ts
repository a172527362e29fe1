/**
 * Admission for expensive work (scrypt). At most `concurrency` jobs run at once; the rest wait in
 * a bounded FIFO. A job whose caller's deadline passed while it waited is refused with TIMEOUT
 * before it costs anything: in a login storm, hashing for a client that already gave up only
 * delays the clients still waiting. A full queue refuses at once with OVERLOADED.
 */
import { ReboundError } from '@rebound/protocol'

export interface HashGateInit {
  /** Jobs running at once. scrypt runs on libuv's pool (4 threads by default). */
  concurrency: number
  /** Jobs waiting at most; beyond it a request is refused. */
  maxQueued: number
  /** Suggested wait before retrying after OVERLOADED. */
  retryAfterMs: number
}

interface Waiter {
  deadlineAtMs: number
  start: () => void
}

export class HashGate {
  private readonly init: HashGateInit
  private readonly clock: () => number
  private running = 0
  private readonly queue: Waiter[] = []

  constructor (init: HashGateInit, clock: () => number) {
    this.init = init
    this.clock = clock
  }

  get queued (): number {
    return this.queue.length
  }

  /** Run `job` when a slot is free, unless `deadlineAtMs` has passed by then. */
  async run<T> (deadlineAtMs: number, job: () => Promise<T>): Promise<T> {
    if (this.running >= this.init.concurrency) {
      if (this.queue.length >= this.init.maxQueued) {
        throw new ReboundError('OVERLOADED', 'login server is overloaded', { retryAfterMs: this.init.retryAfterMs })
      }
      await new Promise<void>((resolve) => { this.queue.push({ deadlineAtMs, start: resolve }) })
    } else {
      this.running++
    }
    // A slot is ours now (handed over by release(), or taken above); it must be given back.
    try {
      if (this.clock() >= deadlineAtMs) throw new ReboundError('TIMEOUT', 'request deadline passed before it could be served')
      return await job()
    } finally {
      this.release()
    }
  }

  private release (): void {
    const next = this.queue.shift()
    if (next === undefined) {
      this.running--
      return
    }
    // Hand the slot straight to the next waiter so that a new arrival cannot jump the queue.
    next.start()
  }
}
