/**
 * The HTTP control port of a login load generator: POST /load starts a run (202; 409 while a job
 * is running), POST /register registers a range of accounts (e.g. a swarm's, before a storm),
 * GET /load returns the state and the last run's result, GET /status and /healthz say whether the
 * clients are connected and how many accounts were registered.
 */
import { z } from 'zod'
import { ReboundError, errorCodeOf, type HttpRoutes } from '@rebound/protocol'
import { MAX_REGISTER_USERS, MAX_RUN_MS, type LoginLoad } from './login-load.js'

/** Highest aggregate rate accepted: far above what one login server on this machine can take. */
export const MAX_RATE_PER_S = 5000
export const MAX_PHASES = 16
export const MAX_CONCURRENCY = 2000

const Phase = z.strictObject({
  ratePerS: z.number().min(0).max(MAX_RATE_PER_S),
  durationMs: z.number().int().min(100).max(MAX_RUN_MS)
})

export const LoadPlanSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('open'), phases: z.array(Phase).min(1).max(MAX_PHASES) })
    .refine((p) => p.phases.reduce((sum, phase) => sum + phase.durationMs, 0) <= MAX_RUN_MS, `phases together at most ${MAX_RUN_MS} ms`),
  z.strictObject({ mode: z.literal('closed'), concurrency: z.number().int().min(1).max(MAX_CONCURRENCY), durationMs: z.number().int().min(1000).max(MAX_RUN_MS) })
])

export const RegisterPlanSchema = z.strictObject({
  prefix: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,15}$/),
  first: z.number().int().min(0),
  count: z.number().int().min(1).max(MAX_REGISTER_USERS),
  digits: z.number().int().min(1).max(12)
})

/** Start a background job; 409 while another one runs. */
function startJob (start: () => void, runs: () => number): { status: number, body: unknown } {
  try {
    start()
  } catch (err) {
    if (errorCodeOf(err) === 'BUSY') return { status: 409, body: { code: 'BUSY', message: (err as Error).message } }
    throw err
  }
  return { status: 202, body: { accepted: true, runs: runs() } }
}

export function loadRoutes (load: LoginLoad): HttpRoutes {
  const status = (): Record<string, unknown> => ({
    state: load.state, error: load.error, connections: load.connections, registered: load.registered, runs: load.runs, pid: process.pid
  })
  return {
    'GET /healthz': () => ({ status: 200, body: { ok: load.state !== 'failed', ...status() } }),
    'GET /status': () => ({ status: 200, body: status() }),
    'GET /load': () => ({ status: 200, body: { ...status(), result: load.result } }),
    'POST /load': ({ body }) => {
      const parsed = LoadPlanSchema.safeParse(body)
      if (!parsed.success) throw new ReboundError('BAD_REQUEST', `bad load plan: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
      return startJob(() => { load.startRun(parsed.data) }, () => load.runs)
    },
    'POST /register': ({ body }) => {
      const parsed = RegisterPlanSchema.safeParse(body)
      if (!parsed.success) throw new ReboundError('BAD_REQUEST', `bad user range: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
      return startJob(() => { load.startRegister(parsed.data) }, () => load.runs)
    }
  }
}
