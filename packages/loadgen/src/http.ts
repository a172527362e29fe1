/**
 * Small HTTP helpers over the global fetch, each with its own deadline. A process that is killed,
 * frozen or not yet listening simply fails to answer; callers get a typed failure, never a hang.
 */
import type { z } from 'zod'

/** Largest response body read (a /metrics page is tens of KB; a 1000-member swarm's /status ~0.7 MB). */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024

export type FetchOutcome<T> =
  | { ok: true, value: T }
  /**
   * `kind`: no answer at all (refused, reset, timeout), a non-2xx status (`status` says which), or a
   * body that did not parse.
   */
  | { ok: false, kind: 'unreachable' | 'timeout' | 'status' | 'schema', message: string, status?: number }

/** Extra request headers (e.g. the operator token of a login server's GET /data). */
export interface RequestOptions {
  headers?: Record<string, string>
}

async function readBody (res: Response): Promise<string> {
  const text = await res.text()
  if (text.length > MAX_RESPONSE_BYTES) throw new Error(`response over ${MAX_RESPONSE_BYTES} bytes`)
  return text
}

function statusFailure (status: number, text: string): FetchOutcome<never> {
  return { ok: false, kind: 'status', message: `HTTP ${status}: ${text.slice(0, 200)}`, status }
}

function failure (err: unknown): FetchOutcome<never> {
  const name = (err as { name?: unknown } | null)?.name
  if (name === 'TimeoutError' || name === 'AbortError') return { ok: false, kind: 'timeout', message: 'timed out' }
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause?.code
  return { ok: false, kind: 'unreachable', message: typeof cause === 'string' ? cause : String((err as Error).message ?? err) }
}

export async function getText (url: string, timeoutMs: number, options: RequestOptions = {}): Promise<FetchOutcome<string>> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), ...(options.headers === undefined ? {} : { headers: options.headers }) })
    const text = await readBody(res)
    if (!res.ok) return statusFailure(res.status, text)
    return { ok: true, value: text }
  } catch (err) {
    return failure(err)
  }
}

function parseWith<S extends z.ZodType> (text: string, schema: S): FetchOutcome<z.infer<S>> {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { ok: false, kind: 'schema', message: `not JSON: ${text.slice(0, 200)}` }
  }
  const result = schema.safeParse(json)
  if (!result.success) {
    const issues = result.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    return { ok: false, kind: 'schema', message: issues.join('; ') }
  }
  return { ok: true, value: result.data }
}

export async function getJson<S extends z.ZodType> (url: string, schema: S, timeoutMs: number, options: RequestOptions = {}): Promise<FetchOutcome<z.infer<S>>> {
  const text = await getText(url, timeoutMs, options)
  return text.ok ? parseWith(text.value, schema) : text
}

/** POST JSON; like the node's API, a 200 carries the outcome, anything else is a failure. */
export async function postJson<S extends z.ZodType> (url: string, body: unknown, schema: S, timeoutMs: number): Promise<FetchOutcome<z.infer<S>>> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs)
    })
    const text = await readBody(res)
    if (!res.ok) return statusFailure(res.status, text)
    return parseWith(text, schema)
  } catch (err) {
    return failure(err)
  }
}
