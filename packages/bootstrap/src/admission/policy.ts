/**
 * Who waits where, for how long, per profile. Classes in priority order (DESIGN "Surviving a
 * storm"): a login holding a due waiting-room slot, then a plain login, then a registration
 * (shed first: a new account can wait, a returning user should not). Renewals never queue: they
 * cost no hash (renewal.ts). Every queue is bounded by a named constant.
 */
import { availableParallelism } from 'node:os'
import type { Profile } from '@rebound/protocol'

/** Highest priority first. */
export const ADMISSION_CLASSES = ['slot', 'login', 'register'] as const
export type AdmissionClass = typeof ADMISSION_CLASSES[number]

export interface QueuePolicy {
  /** Waiters at most; a request finding the queue full is refused at once. */
  capacity: number
  /** CoDel on sojourn, with LIFO while it reports a standing queue; otherwise FIFO. */
  codel: boolean
  /** Without CoDel: the longest a waiter may queue; undefined waits until served. */
  maxWaitMs: number | undefined
}

export interface AdmissionPolicy {
  queues: Record<AdmissionClass, QueuePolicy>
  /** Every class waits in the login queue, first come first served (naive). */
  singleQueue: boolean
  /** Refuse work whose deadline passed before it could start (DEADLINE). */
  dropExpired: boolean
}

/**
 * Slot holders were admitted by the waiting room at 0.9 mu, so their queue is short by
 * construction; it is FIFO (LIFO would invert the schedule) and not under CoDel: a holder arriving
 * while every hash is busy must be able to wait for one hash (~50 ms), longer than CoDel's 10 ms.
 */
export const MAX_QUEUED_SLOT_LOGINS = 256
/** Jitter in the holders' return (U(0, 1 s) at the client) can stack a few service times deep. */
export const SLOT_QUEUE_MAX_WAIT_MS = 2000
/** ~100 ms (CoDel's interval) of arrivals at 5000 logins/s; CoDel sheds long before it fills. */
export const MAX_QUEUED_LOGINS = 512
export const MAX_QUEUED_REGISTRATIONS = 64

/**
 * The naive server's queue is "unbounded": this constant only keeps a runaway test from exhausting
 * memory. At ~50 ms a hash it is hours of work, i.e. effectively no bound, which is the point.
 */
export const NAIVE_MAX_QUEUED = 1_000_000
/** The 2007 server: as many hashes as libuv has threads, whatever the cores can take. */
export const NAIVE_CONCURRENCY = 4

/** The AIMD limit starts at the core count (at most libuv's 4 threads) and adapts from there. */
export const INITIAL_CONCURRENCY = Math.max(1, Math.min(4, availableParallelism()))

export function admissionPolicy (profile: Profile): AdmissionPolicy {
  if (profile === 'naive') {
    const fifo: QueuePolicy = { capacity: NAIVE_MAX_QUEUED, codel: false, maxWaitMs: undefined }
    return { queues: { slot: fifo, login: fifo, register: fifo }, singleQueue: true, dropExpired: false }
  }
  return {
    queues: {
      slot: { capacity: MAX_QUEUED_SLOT_LOGINS, codel: false, maxWaitMs: SLOT_QUEUE_MAX_WAIT_MS },
      login: { capacity: MAX_QUEUED_LOGINS, codel: true, maxWaitMs: undefined },
      register: { capacity: MAX_QUEUED_REGISTRATIONS, codel: true, maxWaitMs: undefined }
    },
    singleQueue: false,
    dropExpired: true
  }
}
