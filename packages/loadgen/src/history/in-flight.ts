/**
 * The writes a trigger caught in flight: operations invoked before it and not completed by then.
 * Their outcomes show what the trigger did to them (acknowledged before it all came down, refused,
 * or unknown); the checker judges each like any other, so a loss among them is counted as lost.
 */
import type { History, OperationKind, Outcome } from './history.js'

export interface InFlightAtTrigger {
  atMs: number
  /** In flight at `atMs`, per kind. */
  send: number
  contact: number
  /** What became of them; an operation never completed counts as unknown. */
  outcomes: Record<Outcome, number>
}

export function inFlightAt (history: History, atMs: number): InFlightAtTrigger {
  const counts: Record<OperationKind, number> = { send: 0, contact: 0 }
  const outcomes: Record<Outcome, number> = { ok: 0, failed: 0, unknown: 0 }
  for (const record of history.operations()) {
    if (record.invokedAtMs > atMs) continue
    if (record.completedAtMs !== null && record.completedAtMs <= atMs) continue
    counts[record.op.kind]++
    outcomes[record.outcome ?? 'unknown']++
  }
  return { atMs, ...counts, outcomes }
}
