/**
 * The HTTP control port of a login load generator: POST /load starts a run (202; 409 while a job
 * is running), POST /register registers a range of accounts (e.g. a swarm's, before a storm),
 * GET /load returns the state and the last run's result, GET /status and /healthz say whether the
 * clients are connected and how many accounts were registered. Requests and replies are the
 * protocol package's schemas (swarm-api.ts), which the load generator parses with.
 */
import {
  LoadPlan, ReboundError, RegisterPlan, errorCodeOf, type Accepted, type HttpRoutes, type LoadStatus
} from '@rebound/protocol'
import type { LoginLoad } from './login-load.js'

/** Start a background job; 409 while another one runs. */
function startJob (start: () => void, runs: () => number): { status: number, body: unknown } {
  try {
    start()
  } catch (err) {
    if (errorCodeOf(err) === 'BUSY') return { status: 409, body: { code: 'BUSY', message: (err as Error).message } }
    throw err
  }
  const accepted: Accepted = { accepted: true, runs: runs() }
  return { status: 202, body: accepted }
}

export function loadRoutes (load: LoginLoad): HttpRoutes {
  const status = (): LoadStatus => ({
    state: load.state, error: load.error, connections: load.connections, registered: load.registered, runs: load.runs, pid: process.pid
  })
  return {
    'GET /healthz': () => ({ status: 200, body: { ok: load.state !== 'failed', ...status() } }),
    'GET /status': () => ({ status: 200, body: status() }),
    'GET /load': () => {
      const body: LoadStatus = { ...status(), result: load.result }
      return { status: 200, body }
    },
    'POST /load': ({ body }) => {
      const parsed = LoadPlan.safeParse(body)
      if (!parsed.success) throw new ReboundError('BAD_REQUEST', `bad load plan: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
      return startJob(() => { load.startRun(parsed.data) }, () => load.runs)
    },
    'POST /register': ({ body }) => {
      const parsed = RegisterPlan.safeParse(body)
      if (!parsed.success) throw new ReboundError('BAD_REQUEST', `bad user range: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
      return startJob(() => { load.startRegister(parsed.data) }, () => load.runs)
    }
  }
}
