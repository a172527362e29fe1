/**
 * A fixed-rate tick loop for the workloads: `onTick` at `ratePerS` until `signal` aborts. After a
 * stall (a busy event loop) the missed ticks are skipped instead of burst, so a slow cluster is not
 * buried under a backlog the load generator itself built up.
 */
import { sleep } from '@rebound/protocol'

export async function runTicks (ratePerS: number, signal: AbortSignal, onTick: () => void): Promise<void> {
  if (ratePerS <= 0) return
  const intervalMs = 1000 / ratePerS
  const startMs = Date.now()
  let tick = 0
  // Bounded by the abort signal: the workload's stop() ends it.
  while (!signal.aborted) {
    await sleep(Math.max(0, startMs + tick * intervalMs - Date.now()), signal)
    if (signal.aborted) break
    onTick()
    tick = Math.max(tick + 1, Math.floor((Date.now() - startMs) / intervalMs))
  }
}
