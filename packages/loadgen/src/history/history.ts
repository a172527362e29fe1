/**
 * The history of a run (docs/durability.md, "The history and its checker"): every operation the
 * workload issues, in invocation order, with its outcome. The checker (checker.ts) compares it
 * with what the devices and the store hold at the end, as Jepsen's set checker does (`set-full` in
 * https://github.com/jepsen-io/jepsen/blob/main/jepsen/src/jepsen/checker.clj). No I/O here: the
 * workload records, the checker reads, and both are unit-testable.
 */

/** Upper bound of recorded operations (~200 bytes each: some 40 MB at the bound). */
export const MAX_HISTORY_OPERATIONS = 200_000

/** A chat message; `id` is unique across the run (the workload's prefix and sequence). */
export interface SendOp {
  kind: 'send'
  id: string
  from: string
  to: string
}

/** A change to `user`'s contact list (POST /contacts); add and rename carry the name they write. */
export type ContactOp = { kind: 'contact', user: string, contact: string } &
  ({ op: 'add' | 'rename', name: string } | { op: 'remove' })

export type Operation = SendOp | ContactOp
export type OperationKind = Operation['kind']

/**
 * ok: acknowledged (docs/durability.md, the acknowledgement rule). failed: a definite refusal,
 * nothing was stored. unknown: it may or may not have happened (timeout, `pending: true`, the
 * connection reset, the process killed under it).
 */
export type Outcome = 'ok' | 'failed' | 'unknown'

export interface OperationRecord {
  /** Position in invocation order over the whole run (0, 1, 2 ...). */
  readonly index: number
  readonly op: Operation
  readonly invokedAtMs: number
  /** null while in flight; the checker takes an operation never completed as unknown. */
  outcome: Outcome | null
  completedAtMs: number | null
  /** Why it failed or is unknown (the node's code, TIMEOUT, PENDING, SENDER_KILLED ...). */
  code: string | null
}

/** What the workload holds for an operation in flight: call exactly one of these, once. */
export interface OperationHandle {
  ok: () => void
  failed: (code: string) => void
  unknown: (code: string) => void
}

export interface HistoryInit {
  maxOperations?: number
}

export interface HistoryDeps {
  nowMs: () => number
}

/** What operations past the bound touched, so that the checker does not blame the cluster for them. */
export interface DroppedScope {
  /** Recipients of dropped sends: an unrecorded id in their reads may be one of those. */
  readonly recipients: ReadonlySet<string>
  /** Per user, contacts a dropped operation changed: their final value cannot be judged. */
  readonly contacts: ReadonlyMap<string, ReadonlySet<string>>
}

/** Past the bound every handle is this one: the operation is counted as dropped, not recorded. */
const DROPPED_HANDLE: OperationHandle = { ok: () => {}, failed: () => {}, unknown: () => {} }

export class History {
  private readonly maxOperations: number
  private readonly deps: HistoryDeps
  private readonly records: OperationRecord[] = []
  private readonly droppedByKind: Record<OperationKind, number> = { send: 0, contact: 0 }
  private readonly droppedRecipients = new Set<string>()
  private readonly droppedContacts = new Map<string, Set<string>>()

  constructor (init: HistoryInit = {}, deps: HistoryDeps = { nowMs: Date.now }) {
    const maxOperations = init.maxOperations ?? MAX_HISTORY_OPERATIONS
    if (!Number.isInteger(maxOperations) || maxOperations < 0) throw new RangeError(`maxOperations must be an integer >= 0, got ${maxOperations}`)
    this.maxOperations = maxOperations
    this.deps = deps
  }

  /** Record `op` as invoked now. Past the bound it is dropped (counted) and the handle does nothing. */
  invoke (op: Operation): OperationHandle {
    if (this.records.length >= this.maxOperations) {
      this.drop(op)
      return DROPPED_HANDLE
    }
    const record: OperationRecord = {
      index: this.records.length,
      op,
      invokedAtMs: this.deps.nowMs(),
      outcome: null,
      completedAtMs: null,
      code: null
    }
    this.records.push(record)
    return {
      ok: () => { this.complete(record, 'ok', null) },
      failed: (code) => { this.complete(record, 'failed', code) },
      unknown: (code) => { this.complete(record, 'unknown', code) }
    }
  }

  /** Every recorded operation in invocation order. */
  operations (): ReadonlyArray<Readonly<OperationRecord>> {
    return this.records
  }

  dropped (): Readonly<Record<OperationKind, number>> {
    return this.droppedByKind
  }

  droppedScope (): DroppedScope {
    return { recipients: this.droppedRecipients, contacts: this.droppedContacts }
  }

  private complete (record: OperationRecord, outcome: Outcome, code: string | null): void {
    // A second outcome is a bug in the workload: it would make the history say two things.
    if (record.outcome !== null) throw new Error(`operation ${record.index} completed twice (${record.outcome}, then ${outcome})`)
    record.outcome = outcome
    record.completedAtMs = this.deps.nowMs()
    record.code = code
  }

  // The scope sets are bounded by the cluster's users and their contacts (MAX_CONTACTS each).
  private drop (op: Operation): void {
    this.droppedByKind[op.kind]++
    if (op.kind === 'send') {
      this.droppedRecipients.add(op.to)
      return
    }
    let contacts = this.droppedContacts.get(op.user)
    if (contacts === undefined) {
      contacts = new Set()
      this.droppedContacts.set(op.user, contacts)
    }
    contacts.add(op.contact)
  }
}
