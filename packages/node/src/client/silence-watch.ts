/**
 * Tells a silent supernode from a starved client. A session's read deadline is a timer; when this
 * process's event loop is blocked for seconds (hundreds of peers in one swarm process on a
 * saturated machine), the timer and the supernode's pongs are both pending when the loop wakes,
 * and timers run first: the session would end on a silence that was ours. 500 clients in two
 * processes, 30% of supernodes frozen: half the healthy sessions ended that way and the re-homing
 * storm that followed took 80 s to settle. So the watch judges only on time: a tick that itself
 * came late (the loop was blocked) lets the queued frames be read before judging, unless the
 * silence has lasted so long (STARVED_SILENCE_FACTOR x the bound) that a frozen supernode must not
 * hide behind a persistently busy loop.
 */

export const WATCH_INTERVAL_MS = 250
/** A tick later than its interval by more than this means the loop was blocked. */
export const LATE_TICK_MS = 500
export const STARVED_SILENCE_FACTOR = 2

export interface SilenceVerdictInput {
  nowMs: number
  lastHeardAtMs: number
  lastTickAtMs: number
  silenceMs: number
}

/** Whether the supernode has been silent for too long, as judged at this tick. */
export function isSilent ({ nowMs, lastHeardAtMs, lastTickAtMs, silenceMs }: SilenceVerdictInput): boolean {
  const silentForMs = nowMs - lastHeardAtMs
  if (silentForMs <= silenceMs) return false
  const late = nowMs - lastTickAtMs > WATCH_INTERVAL_MS + LATE_TICK_MS
  return !late || silentForMs > STARVED_SILENCE_FACTOR * silenceMs
}
