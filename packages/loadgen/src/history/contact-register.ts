/**
 * One contact of one user as a register (docs/durability.md: a last-writer-wins map with one
 * writer): which final values its history allows. The device numbers a user's changes in the order
 * the workload issues them, one at a time, so invocation order is rev order and the applied change
 * with the highest rev is the final value everywhere.
 */
import type { ContactRecord } from '@rebound/protocol'
import type { ContactOp, OperationRecord } from './history.js'

/** A contact's value: never written (no record), removed (a tombstone), or a display name. */
export type ContactValue = { state: 'absent' } | { state: 'removed' } | { state: 'named', name: string }

export const ABSENT: ContactValue = { state: 'absent' }

export type ContactRecordOp = Readonly<OperationRecord> & { readonly op: ContactOp }

export type Verdict = 'ok' | 'lost' | 'unexpected'

/** What the history allows as the final value of one contact. */
export interface Expectation {
  /** The value after the last acknowledged change, or after any later change of unknown outcome. */
  allowed: ContactValue[]
  /** Values the last acknowledged change replaced: seeing one means that change was lost. */
  older: ContactValue[]
  /** Changes of unknown outcome after the last acknowledged one: the only ones a read can show. */
  observable: ContactRecordOp[]
}

export function valueWritten (op: ContactOp): ContactValue {
  return op.op === 'remove' ? { state: 'removed' } : { state: 'named', name: op.name }
}

export function valueRead (record: ContactRecord | undefined): ContactValue {
  if (record === undefined) return ABSENT
  return record.deleted ? { state: 'removed' } : { state: 'named', name: record.name }
}

export function sameValue (a: ContactValue, b: ContactValue): boolean {
  if (a.state === 'named' && b.state === 'named') return a.name === b.name
  return a.state === b.state
}

export function describeValue (value: ContactValue): string {
  return value.state === 'named' ? JSON.stringify(value.name) : value.state
}

/** `ops`: the changes of one user to one contact, in invocation order. */
export function expectationOf (ops: readonly ContactRecordOp[]): Expectation {
  const lastOk = ops.findLastIndex((op) => op.outcome === 'ok')
  // A change never completed by the end may still be applied (it is pending on the device): unknown.
  const observable = ops.slice(lastOk + 1).filter((op) => op.outcome !== 'failed')
  const acknowledged = ops[lastOk]
  const allowed = [acknowledged === undefined ? ABSENT : valueWritten(acknowledged.op), ...observable.map((op) => valueWritten(op.op))]
  // Before the last acknowledged change: no contact yet, and whatever earlier changes (acknowledged
  // or maybe applied) wrote. A refused change wrote nothing, so its value is not among them.
  const older = acknowledged === undefined
    ? []
    : [ABSENT, ...ops.slice(0, lastOk).filter((op) => op.outcome !== 'failed').map((op) => valueWritten(op.op))]
  return { allowed, older, observable }
}

/**
 * A final value the history allows is ok; one the last acknowledged change replaced is lost (an
 * absent record included: without its tombstone an older copy brings a removed contact back); any
 * other value no change ever wrote, or only a refused one did: unexpected.
 */
export function judge (expectation: Expectation, got: ContactValue): Verdict {
  if (expectation.allowed.some((value) => sameValue(value, got))) return 'ok'
  if (expectation.older.some((value) => sameValue(value, got))) return 'lost'
  return 'unexpected'
}
