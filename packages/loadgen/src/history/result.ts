/**
 * What the history checker reports (report.json `history`), and the tally that builds it: counts
 * per operation kind plus the first problems as examples, so that a failed run names a user and an
 * id to look up in the logs.
 */
import type { OperationKind } from './history.js'

/** Problems kept as examples; the counts cover every problem. */
export const MAX_HISTORY_EXAMPLES = 20

/** The failure domain a read came from (docs/durability.md): the user's device or the login servers' store. */
export type Where = 'device' | 'store'

export interface Problem {
  what: 'lost' | 'duplicated' | 'unexpected' | 'unreadable'
  /** Absent for `unreadable`: a read that failed says nothing of one kind. */
  kind?: OperationKind
  where: Where
  user: string
  /** A message id (sends). */
  id?: string
  /** A contact of `user` (contact changes). */
  contact?: string
  expected: string
  got: string
}

export interface KindCounts {
  /** Acknowledged operations. */
  ok: number
  /** Definitely refused operations. */
  failed: number
  /** Acknowledged and missing from a read (one per place missing it). */
  lost: number
  /** Present more than once in one read (one per id, or contact, per read). */
  duplicated: number
  /** Present in a read but never written there (never sent, sent to someone else, refused, a contact value no operation wrote). */
  unexpected: number
  /** Outcome unknown: seen in a final read (it happened) or not. Not an error either way. */
  unknown: { present: number, absent: number }
  /** Places (a user's device or store) that could not be read, so were not checked. */
  unreadable: number
  /** Operations past the history bound: neither recorded nor checked. */
  dropped: number
}

/**
 * Top-level counts are the sums over the kinds, except `unreadable`, which counts places: a place
 * that could not be read is missing for both kinds at once.
 */
export interface HistoryCheck extends KindCounts {
  perKind: Record<OperationKind, KindCounts>
  examples: Problem[]
}

export function emptyCounts (): KindCounts {
  return { ok: 0, failed: 0, lost: 0, duplicated: 0, unexpected: 0, unknown: { present: 0, absent: 0 }, unreadable: 0, dropped: 0 }
}

/** Accumulates counts and the first MAX_HISTORY_EXAMPLES problems while the checks run. */
export class Tally {
  readonly perKind: Record<OperationKind, KindCounts> = { send: emptyCounts(), contact: emptyCounts() }
  private readonly examples: Problem[] = []
  private unreadablePlaces = 0

  /** A lost, duplicated or unexpected operation of `kind`. */
  problem (problem: Problem & { kind: OperationKind, what: 'lost' | 'duplicated' | 'unexpected' }): void {
    this.perKind[problem.kind][problem.what]++
    this.example(problem)
  }

  unreadable (user: string, where: Where): void {
    this.unreadablePlaces++
    for (const counts of Object.values(this.perKind)) counts.unreadable++
    this.example({ what: 'unreadable', where, user, expected: 'a read', got: 'none' })
  }

  result (): HistoryCheck {
    const { send, contact } = this.perKind
    return {
      ok: send.ok + contact.ok,
      failed: send.failed + contact.failed,
      lost: send.lost + contact.lost,
      duplicated: send.duplicated + contact.duplicated,
      unexpected: send.unexpected + contact.unexpected,
      unknown: {
        present: send.unknown.present + contact.unknown.present,
        absent: send.unknown.absent + contact.unknown.absent
      },
      unreadable: this.unreadablePlaces,
      dropped: send.dropped + contact.dropped,
      perKind: { send: cloneCounts(send), contact: cloneCounts(contact) },
      examples: [...this.examples]
    }
  }

  private example (problem: Problem): void {
    if (this.examples.length < MAX_HISTORY_EXAMPLES) this.examples.push(problem)
  }
}

function cloneCounts (counts: KindCounts): KindCounts {
  return { ...counts, unknown: { ...counts.unknown } }
}
