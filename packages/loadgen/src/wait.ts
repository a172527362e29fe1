/**
 * Waiting for conditions with deadlines (no fixed sleeps), failing early when a process the wait
 * depends on has died, with the end of its log in the error so the cause is on screen.
 */
import { open } from 'node:fs/promises'
import { ReboundError, sleep } from '@rebound/protocol'

export const WAIT_POLL_MS = 250
/** Bytes read from the end of a log for an error message. */
const LOG_TAIL_BYTES = 4096
const LOG_TAIL_LINES = 6

export interface WaitOptions {
  /** What is awaited, for the timeout message ("2 supernodes certified"). */
  what: string
  timeoutMs: number
  signal: AbortSignal
  pollMs?: number
  /** A problem that makes waiting pointless (e.g. "sn1 exited"), or undefined. */
  failFast?: () => Promise<string | undefined> | string | undefined
  /** Shown after the timeout message, e.g. which processes are still missing. */
  progress?: () => string
}

export async function waitFor (check: () => boolean | Promise<boolean>, options: WaitOptions): Promise<void> {
  const deadlineMs = Date.now() + options.timeoutMs
  const pollMs = options.pollMs ?? WAIT_POLL_MS
  // Bounded by the deadline (and the abort signal).
  for (;;) {
    if (options.signal.aborted) throw new ReboundError('CLOSED', `interrupted while waiting for ${options.what}`)
    if (await check()) return
    const problem = await options.failFast?.()
    if (problem !== undefined) throw new ReboundError('UNAVAILABLE', `while waiting for ${options.what}: ${problem}`)
    if (Date.now() >= deadlineMs) {
      const detail = options.progress?.()
      throw new ReboundError('TIMEOUT', `timed out after ${options.timeoutMs} ms waiting for ${options.what}${detail === undefined ? '' : ` (${detail})`}`)
    }
    await sleep(Math.min(pollMs, Math.max(0, deadlineMs - Date.now())), options.signal)
  }
}

/** The last lines of a log file, indented for an error message ('' when unreadable). */
export async function tailLog (path: string): Promise<string> {
  try {
    const handle = await open(path, 'r')
    try {
      const { size } = await handle.stat()
      const length = Math.min(size, LOG_TAIL_BYTES)
      const buffer = Buffer.alloc(length)
      await handle.read(buffer, 0, length, size - length)
      const lines = buffer.toString('utf8').split('\n').filter((line) => line.trim() !== '')
      return lines.slice(-LOG_TAIL_LINES).map((line) => `    ${line}`).join('\n')
    } finally {
      await handle.close()
    }
  } catch {
    return ''
  }
}
