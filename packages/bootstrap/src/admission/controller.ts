/**
 * Admission control for password hashes, the expensive part of a login (~50 ms of scrypt).
 * At most `limit.current` hashes run (AIMD, concurrency-limit.ts); the rest wait in one bounded
 * queue per priority class (policy.ts), the highest non-empty class is served first; under CoDel
 * (codel.ts) a standing queue turns LIFO and sheds waiters older than 2 x target. Work whose
 * deadline passed is refused before it costs a hash. Every refusal is decided synchronously, with
 * no I/O and no crypto, and thrown as a ReboundError whose `meta.reason` says why; turning it into
 * a reply (with a waiting-room slot) is the caller's business (slot-desk.ts).
 */
import { ReboundError, type ErrorCode } from '@rebound/protocol'
import type { CapacityEstimator } from './capacity.js'
import { Codel, CODEL_TARGET_MS, type CodelInit } from './codel.js'
import type { ConcurrencyLimit } from './concurrency-limit.js'
import { Deque } from './deque.js'
import { ADMISSION_CLASSES, type AdmissionClass, type AdmissionPolicy, type QueuePolicy } from './policy.js'

/** Why admission refused a request; the label of rebound_login_rejected_total. */
export type RefusalReason = 'QUEUE_FULL' | 'CODEL' | 'QUEUE_TIMEOUT' | 'DEADLINE'

/** Queues are swept this often while non-empty, so a shed waiter hears so within ~a target. */
export const SWEEP_INTERVAL_MS = CODEL_TARGET_MS

const REFUSALS: Record<RefusalReason, { code: ErrorCode, message: string }> = {
  QUEUE_FULL: { code: 'OVERLOADED', message: 'login server is overloaded: queue full' },
  CODEL: { code: 'OVERLOADED', message: 'login server is overloaded: shed from a standing queue' },
  QUEUE_TIMEOUT: { code: 'OVERLOADED', message: 'login server is overloaded: waited too long for a hash' },
  DEADLINE: { code: 'TIMEOUT', message: 'request deadline passed before it could be served' }
}

/**
 * One immutable error per reason, thrown again and again: capturing a stack trace was a fifth of
 * a refusal's CPU (~10 us of ~45 us, measured with --cpu-prof), and the stack of a refusal says
 * nothing anyway.
 */
const REFUSAL_ERRORS = Object.fromEntries(Object.entries(REFUSALS).map(([reason, { code, message }]) => {
  const err = new ReboundError(code, message, Object.freeze({ reason }))
  err.stack = `ReboundError: ${message}`
  return [reason, Object.freeze(err)]
})) as Record<RefusalReason, ReboundError>

function refusal (reason: RefusalReason): ReboundError {
  return REFUSAL_ERRORS[reason]
}

/** The admission reason of a refusal thrown by `run`, or undefined for any other error. */
export function refusalReasonOf (err: unknown): RefusalReason | undefined {
  const reason = err instanceof ReboundError ? err.meta.reason : undefined
  return typeof reason === 'string' && reason in REFUSALS ? reason as RefusalReason : undefined
}

/** Runs `fn` after `ms`; returns a cancel function. Injected so that unit tests drive time. */
export type Scheduler = (fn: () => void, ms: number) => () => void

export const timerScheduler: Scheduler = (fn, ms) => {
  const timer = setTimeout(fn, ms)
  timer.unref()
  return () => { clearTimeout(timer) }
}

export interface AdmissionControllerInit {
  policy: AdmissionPolicy
  limit: ConcurrencyLimit
  capacity: CapacityEstimator
  codel?: CodelInit
}

export interface AdmissionControllerDeps {
  /** Monotonic milliseconds (performance.now in production): sojourn and service times. */
  clock: () => number
  schedule?: Scheduler
  /** A request got a hash slot after waiting `queueDelayMs` (0 when it did not queue). */
  onStart?: (cls: AdmissionClass, queueDelayMs: number) => void
}

interface Waiter {
  cls: AdmissionClass
  enqueuedAtMs: number
  deadlineAtMs: number
  start: () => void
  refuse: (err: ReboundError) => void
}

interface ClassQueue {
  policy: QueuePolicy
  waiters: Deque<Waiter>
  codel: Codel | undefined
}

export class AdmissionController {
  private readonly policy: AdmissionPolicy
  private readonly limit: ConcurrencyLimit
  private readonly capacity: CapacityEstimator
  private readonly clock: () => number
  private readonly schedule: Scheduler
  private readonly onStart: (cls: AdmissionClass, queueDelayMs: number) => void
  private readonly queues: Record<AdmissionClass, ClassQueue>
  /** Distinct queues in priority order (one, shared, in the naive profile). */
  private readonly order: ClassQueue[]
  private running = 0
  private queued = 0
  private cancelSweep: (() => void) | undefined
  private closed = false

  constructor (init: AdmissionControllerInit, deps: AdmissionControllerDeps) {
    this.policy = init.policy
    this.limit = init.limit
    this.capacity = init.capacity
    this.clock = deps.clock
    this.schedule = deps.schedule ?? timerScheduler
    this.onStart = deps.onStart ?? (() => {})
    const make = (cls: AdmissionClass): ClassQueue => {
      const policy = init.policy.queues[cls]
      return { policy, waiters: new Deque<Waiter>(), codel: policy.codel ? new Codel(init.codel) : undefined }
    }
    if (init.policy.singleQueue) {
      const shared = make('login')
      this.queues = { slot: shared, login: shared, register: shared }
      this.order = [shared]
    } else {
      this.queues = { slot: make('slot'), login: make('login'), register: make('register') }
      this.order = ADMISSION_CLASSES.map((cls) => this.queues[cls])
    }
  }

  get inflight (): number {
    return this.running
  }

  get concurrencyLimit (): number {
    return this.limit.current
  }

  /** Measured capacity mu, in hashes per second. */
  capacityPerS (): number {
    return this.capacity.perSecond
  }

  queueLength (cls: AdmissionClass): number {
    return this.policy.singleQueue && cls !== 'login' ? 0 : this.queues[cls].waiters.length
  }

  /** True while any CoDel queue is a standing queue. */
  overloaded (): boolean {
    const nowMs = this.clock()
    return this.order.some((q) => q.codel?.overloaded(nowMs) === true)
  }

  /**
   * Run `job` once admitted. `deadlineMs` is the client's budget counted from now (its arrival):
   * work not started by then is refused. Refusals (ReboundError with `meta.reason`) are decided
   * before the first await, i.e. synchronously inside this call, unless the request queued first.
   * A job that throws says nothing reliable about the hash cost and is not sampled.
   */
  async run<T> (cls: AdmissionClass, deadlineMs: number, job: () => Promise<T>): Promise<T> {
    const queued = this.admit(cls, deadlineMs)
    if (queued !== undefined) await queued
    const startedAtMs = this.clock()
    let ok = false
    try {
      const value = await job()
      ok = true
      return value
    } finally {
      this.finish(startedAtMs, ok)
    }
  }

  /** Shed what has waited too long and start what fits; the timer calls it while anyone waits. */
  sweep (): void {
    const nowMs = this.clock()
    for (const q of this.order) this.shed(q, nowMs)
    this.pump()
    this.armSweep()
  }

  /** Refuse every waiter (the server is stopping). Running jobs finish on their own. */
  close (): void {
    this.closed = true
    this.cancelSweep?.()
    this.cancelSweep = undefined
    const nowMs = this.clock()
    for (const q of this.order) {
      for (let w = this.take(q, 'front', nowMs); w !== undefined; w = this.take(q, 'front', nowMs)) {
        w.refuse(new ReboundError('UNAVAILABLE', 'login server is stopping'))
      }
    }
  }

  /** Start now (undefined), queue (a promise resolved at start) or throw a refusal. */
  private admit (cls: AdmissionClass, deadlineMs: number): Promise<void> | undefined {
    if (this.closed) throw new ReboundError('UNAVAILABLE', 'login server is stopping')
    const nowMs = this.clock()
    const deadlineAtMs = nowMs + deadlineMs
    if (this.policy.dropExpired && nowMs >= deadlineAtMs) throw refusal('DEADLINE')
    if (this.queued === 0 && this.running < this.limit.current) {
      this.running++
      this.onStart(cls, 0)
      return undefined
    }
    const q = this.queues[cls]
    if (q.waiters.length >= q.policy.capacity) {
      // Stale waiters may be holding the places a fresh request could use.
      this.shed(q, nowMs)
      if (q.waiters.length >= q.policy.capacity) throw refusal('QUEUE_FULL')
    }
    return new Promise<void>((resolve, reject) => {
      q.waiters.pushBack({ cls, enqueuedAtMs: nowMs, deadlineAtMs, start: resolve, refuse: reject })
      q.codel?.onLength(q.waiters.length, nowMs)
      this.queued++
      this.armSweep()
      // Only matters right after the limit grew: otherwise every hash slot is busy.
      this.pump()
    })
  }

  private finish (startedAtMs: number, sampled: boolean): void {
    const nowMs = this.clock()
    if (sampled) {
      this.limit.onSample(nowMs - startedAtMs, this.running, nowMs)
      this.capacity.onCompletion(nowMs, this.queued > 0)
    }
    this.running--
    this.pump()
  }

  /** Hand free hash slots to the best waiters: highest class first, LIFO within a standing queue. */
  private pump (): void {
    const nowMs = this.clock()
    for (const q of this.order) {
      if (this.running >= this.limit.current) return
      this.shed(q, nowMs)
      while (this.running < this.limit.current) {
        const lifo = q.codel?.overloaded(nowMs) === true
        const w = this.take(q, lifo ? 'back' : 'front', nowMs)
        if (w === undefined) break
        // LIFO may pick a waiter the head-only shedding above did not look at.
        if (this.policy.dropExpired && nowMs >= w.deadlineAtMs) {
          w.refuse(refusal('DEADLINE'))
          continue
        }
        this.running++
        this.onStart(w.cls, nowMs - w.enqueuedAtMs)
        w.start()
      }
    }
  }

  /**
   * Refuse waiters from the old end while they have queued too long (CoDel, or the class's fixed
   * bound) or their deadline passed. Queues are in arrival order, so it stops at the first fresh one.
   */
  private shed (q: ClassQueue, nowMs: number): void {
    for (;;) {
      const oldest = q.waiters.peekFront()
      if (oldest === undefined) return
      const maxWaitMs = q.codel?.maxSojournMs(nowMs) ?? q.policy.maxWaitMs
      const tooOld = maxWaitMs !== undefined && nowMs - oldest.enqueuedAtMs > maxWaitMs
      const expired = this.policy.dropExpired && nowMs >= oldest.deadlineAtMs
      if (!tooOld && !expired) return
      this.take(q, 'front', nowMs)
      oldest.refuse(refusal(expired ? 'DEADLINE' : q.codel !== undefined ? 'CODEL' : 'QUEUE_TIMEOUT'))
    }
  }

  private take (q: ClassQueue, end: 'front' | 'back', nowMs: number): Waiter | undefined {
    const w = end === 'front' ? q.waiters.popFront() : q.waiters.popBack()
    if (w === undefined) return undefined
    this.queued--
    q.codel?.onLength(q.waiters.length, nowMs)
    return w
  }

  private armSweep (): void {
    if (this.cancelSweep !== undefined || this.queued === 0 || this.closed) return
    this.cancelSweep = this.schedule(() => {
      this.cancelSweep = undefined
      this.sweep()
    }, SWEEP_INTERVAL_MS)
  }
}
