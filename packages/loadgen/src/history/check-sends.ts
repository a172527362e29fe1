/**
 * The set check of chat messages: an acknowledged message must be in its recipient's device inbox
 * and in the store's mailbox (the server copy of every inbox, docs/durability.md); nothing may be
 * there twice, and nothing may be there that was not sent to that user.
 */
import type { OperationRecord, SendOp } from './history.js'
import { PLACES, readOf, type FinalState } from './final-state.js'
import type { Tally, Where } from './result.js'

export type SendRecord = Readonly<OperationRecord> & { readonly op: SendOp }

/** Per place, per user read there, the ids read. A user absent from a map was not readable there. */
type Seen = Record<Where, Map<string, ReadonlySet<string>>>

/**
 * `sends` in invocation order. `droppedRecipients`: users that were sent messages past the history
 * bound; an id the history does not know in their reads is not blamed on the cluster.
 */
export function checkSends (sends: readonly SendRecord[], state: FinalState, droppedRecipients: ReadonlySet<string>, tally: Tally): void {
  const byId = new Map<string, SendRecord>()
  // Ids are unique by construction (the workload's prefix and sequence); the first one wins.
  for (const send of sends) if (!byId.has(send.op.id)) byId.set(send.op.id, send)
  const seen: Seen = { device: new Map(), store: new Map() }
  // Sorted, so that the examples are the same for the same run.
  for (const user of [...state.keys()].sort()) {
    for (const where of PLACES) {
      const read = readOf(state, user, where)
      if (read === null) continue
      seen[where].set(user, scanRead(read.messageIds, { user, where, byId, droppedRecipients, tally }))
    }
  }
  for (const send of sends) judgeSend(send, seen, tally)
}

interface ReadContext {
  user: string
  where: Where
  byId: ReadonlyMap<string, SendRecord>
  droppedRecipients: ReadonlySet<string>
  tally: Tally
}

/** Counts duplicates and unexpected ids of one read; returns the ids it holds. */
function scanRead (ids: readonly string[], ctx: ReadContext): Set<string> {
  const copies = new Map<string, number>()
  for (const id of ids) copies.set(id, (copies.get(id) ?? 0) + 1)
  const { user, where, tally } = ctx
  for (const [id, count] of copies) {
    if (count > 1) tally.problem({ what: 'duplicated', kind: 'send', where, user, id, expected: '1 copy', got: `${count} copies` })
    const expected = unexpectedBecause(ctx.byId.get(id), ctx)
    if (expected !== null) tally.problem({ what: 'unexpected', kind: 'send', where, user, id, expected, got: 'present' })
  }
  return new Set(copies.keys())
}

/** Why an id read at `ctx.user` should not be there (the expectation), or null when it may be. */
function unexpectedBecause (send: SendRecord | undefined, ctx: ReadContext): string | null {
  if (send === undefined) return ctx.droppedRecipients.has(ctx.user) ? null : 'absent: never sent'
  if (send.op.to !== ctx.user) return `absent: sent to ${send.op.to}`
  // A definite refusal stored nothing: finding it means the refusal was a lie.
  if (send.outcome === 'failed') return `absent: refused (${send.code ?? 'no code'})`
  return null
}

function judgeSend (send: SendRecord, seen: Seen, tally: Tally): void {
  const counts = tally.perKind.send
  const { id, to } = send.op
  // Never completed by the end: the workload gave up on it, which says nothing of the cluster.
  const outcome = send.outcome ?? 'unknown'
  if (outcome === 'failed') {
    counts.failed++
  } else if (outcome === 'ok') {
    counts.ok++
    for (const where of PLACES) {
      // An unreadable place is counted once as unreadable, not once per message as lost.
      const ids = seen[where].get(to)
      if (ids !== undefined && !ids.has(id)) tally.problem({ what: 'lost', kind: 'send', where, user: to, id, expected: 'present', got: 'missing' })
    }
  } else if (PLACES.some((where) => seen[where].get(to)?.has(id) === true)) {
    counts.unknown.present++
  } else {
    // Includes a recipient that could not be read anywhere: not seen, and flagged as unreadable.
    counts.unknown.absent++
  }
}
