/**
 * The HTTP API of a rebound-swarm process (docs/interfaces.md), in both its modes: a swarm of
 * peers (GET /status) and a login load generator (`--login-load`: POST /load, POST /register,
 * GET /load, GET /status). Shared by the swarm that answers and the load generator that asks, so
 * the two cannot drift apart. Requests are strict (a misspelt field is a 400, not a default);
 * replies are not (an older client ignores fields it does not know).
 */
import { z } from 'zod'
import { NodeStatus } from './http-api.js'

export const SwarmStatus = z.object({
  count: z.number(),
  started: z.number(),
  failed: z.number(),
  /** Every started member, in member order. */
  members: z.array(NodeStatus)
})
export type SwarmStatus = z.infer<typeof SwarmStatus>

/** Highest aggregate rate accepted: far above what one login server on this machine can take. */
export const MAX_RATE_PER_S = 5000
export const MAX_PHASES = 16
export const MAX_CONCURRENCY = 2000
/** Longest run accepted (phases together). */
export const MAX_RUN_MS = 10 * 60_000
/** Accounts one POST /register may create. */
export const MAX_REGISTER_USERS = 100_000

const LoadPhase = z.strictObject({
  ratePerS: z.number().min(0).max(MAX_RATE_PER_S),
  durationMs: z.number().int().min(100).max(MAX_RUN_MS)
})

/**
 * POST /load: open loop (a fixed aggregate rate per phase, whatever the server does) or closed
 * loop (C logins always outstanding, to measure capacity).
 */
export const LoadPlan = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('open'), phases: z.array(LoadPhase).min(1).max(MAX_PHASES) })
    .refine((p) => p.phases.reduce((sum, phase) => sum + phase.durationMs, 0) <= MAX_RUN_MS, `phases together at most ${MAX_RUN_MS} ms`),
  z.strictObject({ mode: z.literal('closed'), concurrency: z.number().int().min(1).max(MAX_CONCURRENCY), durationMs: z.number().int().min(1000).max(MAX_RUN_MS) })
])
export type LoadPlan = z.infer<typeof LoadPlan>

/** POST /register: accounts named like a swarm's members, `${prefix}${first + i, zero-padded to digits}`. */
export const RegisterPlan = z.strictObject({
  prefix: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,15}$/),
  first: z.number().int().min(0),
  count: z.number().int().min(1).max(MAX_REGISTER_USERS),
  digits: z.number().int().min(1).max(12)
})
export type RegisterPlan = z.infer<typeof RegisterPlan>

/** 202 to POST /load and POST /register: the job is the `runs`-th; it has ended once GET /load shows runs >= that and state is no longer running. */
export const Accepted = z.object({ accepted: z.literal(true), runs: z.number() })
export type Accepted = z.infer<typeof Accepted>

const nullableMs = z.number().nullable()

/**
 * Logins of a run by outcome: sent, admitted (a ticket before the deadline), rejected (an error
 * reply), timed out (no reply before the deadline: a late ticket is a failure too) or failed
 * otherwise.
 */
export const LoginCounts = z.object({ sent: z.number(), ok: z.number(), rejected: z.number(), timeouts: z.number(), failed: z.number() })
export type LoginCounts = z.infer<typeof LoginCounts>

/** One phase of a run; latencies (p50/p99/max) are of admitted logins. */
export const PhaseResult = LoginCounts.extend({
  /** Open loop only. */
  ratePerS: z.number().nullable(),
  /** Closed loop only. */
  concurrency: z.number().nullable(),
  durationMs: z.number(),
  /** Arrivals not sent: every connection already had its maximum of streams in flight. */
  dropped: z.number(),
  /** Arrivals skipped after a stall of the generator itself. */
  missed: z.number(),
  /**
   * Admitted logins completed inside the phase's own window, per second of it: a steady-state
   * rate (requests of the phase that completed after it ended do not inflate it).
   */
  goodputPerS: z.number(),
  /** Outcomes other than admitted, by error code. */
  byCode: z.record(z.string(), z.number()),
  p50Ms: nullableMs,
  p99Ms: nullableMs,
  maxMs: nullableMs,
  rejectP50Ms: nullableMs
})
export type PhaseResult = z.infer<typeof PhaseResult>

/** One second of a run; outcomes are counted in the second they completed, `sent` in the second it was sent. */
export const SecondRow = LoginCounts.extend({
  /** Second since the run started. */
  t: z.number(),
  p99Ms: nullableMs
})
export type SecondRow = z.infer<typeof SecondRow>

export const LoadResult = z.object({
  mode: z.enum(['open', 'closed']),
  startedAtMs: z.number(),
  endedAtMs: z.number(),
  connections: z.number(),
  /** CPU seconds of the load process during the run (it shares the machine with the server). */
  loadCpuS: z.number(),
  phases: z.array(PhaseResult),
  seconds: z.array(SecondRow)
})
export type LoadResult = z.infer<typeof LoadResult>

export const LoadState = z.enum(['preparing', 'ready', 'running', 'failed', 'stopped'])
export type LoadState = z.infer<typeof LoadState>

/** GET /load (with `result`: the last run's, null before any) and GET /status (without). */
export const LoadStatus = z.object({
  state: LoadState,
  /** Why preparing or the last failed job failed; null while nothing has. */
  error: z.string().nullable(),
  connections: z.number(),
  registered: z.number(),
  /** Jobs (runs and registrations) started so far. */
  runs: z.number(),
  pid: z.number(),
  result: LoadResult.nullable().optional()
})
export type LoadStatus = z.infer<typeof LoadStatus>
