/**
 * Talking to a login load generator (`rebound-swarm --login-load`, docs/interfaces.md) over its
 * control port. Its replies are validated with the protocol package's schemas (swarm-api.ts),
 * the same ones the generator is typed against.
 */
import {
  Accepted, LoadStatus, ReboundError, sleep, type LoadPlan, type LoadResult, type RegisterPlan
} from '@rebound/protocol'
import { getJson, postJson } from '../http.js'
import { waitFor } from '../wait.js'

const POLL_MS = 500
const REQUEST_TIMEOUT_MS = 3000
/** A run ends at most this long after its phases (the generator drains within 10 s + 2 s). */
const RUN_SLACK_MS = 30_000
export const LOAD_READY_TIMEOUT_MS = 120_000


async function state (url: string): Promise<LoadStatus | undefined> {
  const outcome = await getJson(`${url}/load`, LoadStatus, REQUEST_TIMEOUT_MS)
  return outcome.ok ? outcome.value : undefined
}

/** Wait until the generator is ready (connected, own accounts registered); fails on its failure. */
export async function waitLoadReady (url: string, signal: AbortSignal, isRunning: () => boolean): Promise<void> {
  let last: LoadStatus | undefined
  await waitFor(async () => {
    last = await state(url)
    if (last?.state === 'failed') throw new ReboundError('UNAVAILABLE', `login load failed: ${last.error ?? '?'}`)
    return last?.state === 'ready'
  }, {
    what: 'login load ready', timeoutMs: LOAD_READY_TIMEOUT_MS, signal,
    failFast: () => (isRunning() ? undefined : 'the load process exited'),
    progress: () => `state ${last?.state ?? 'no answer'}`
  })
}

/** Start a job (POST `path`) and wait until the generator is ready again; returns its last state. */
async function job (url: string, path: string, body: LoadPlan | RegisterPlan, timeoutMs: number, signal: AbortSignal): Promise<LoadStatus> {
  const accepted = await postJson(`${url}${path}`, body, Accepted, REQUEST_TIMEOUT_MS)
  if (!accepted.ok) throw new ReboundError('UNAVAILABLE', `POST ${path} refused: ${accepted.message}`)
  const runs = accepted.value.runs
  const deadlineMs = Date.now() + timeoutMs
  // Bounded by the deadline: the job's own duration plus slack.
  while (Date.now() < deadlineMs && !signal.aborted) {
    await sleep(POLL_MS, signal)
    const s = await state(url)
    if (s !== undefined && s.runs >= runs && s.state !== 'running') return s
  }
  throw new ReboundError('TIMEOUT', `load job ${path} did not finish within ${timeoutMs} ms`)
}

export function planMs (plan: LoadPlan): number {
  return plan.mode === 'open' ? plan.phases.reduce((sum, p) => sum + p.durationMs, 0) : plan.durationMs
}

export async function runLoad (url: string, plan: LoadPlan, signal: AbortSignal): Promise<LoadResult> {
  const startedMs = Date.now()
  const s = await job(url, '/load', plan, planMs(plan) + RUN_SLACK_MS, signal)
  if (s.result === undefined || s.result === null || s.result.startedAtMs < startedMs - 1000) {
    throw new ReboundError('INTERNAL', `load run left no result${s.error === null ? '' : `: ${s.error}`}`)
  }
  return s.result
}

/** Register accounts u<first>..u<first+count-1> (a swarm's); returns how many the generator has registered in all. */
export async function registerUsers (url: string, range: RegisterPlan, timeoutMs: number, signal: AbortSignal): Promise<number> {
  const s = await job(url, '/register', range, timeoutMs, signal)
  return s.registered
}
