/**
 * The history checker (docs/durability.md, "The history and its checker"): compares every
 * operation of the run with the final reads of both failure domains and counts lost, duplicated,
 * unexpected and unknown operations, as Jepsen's set checker does. Pure: the reads are given.
 */
import type { Objective } from '../scenarios/scenario.js'
import { checkContacts } from './check-contacts.js'
import { checkSends, type SendRecord } from './check-sends.js'
import type { ContactRecordOp } from './contact-register.js'
import { PLACES, readOf, type FinalState } from './final-state.js'
import type { History, OperationRecord } from './history.js'
import { Tally, type HistoryCheck } from './result.js'

export const NO_LOST_WRITES = 'no-lost-writes'

export function checkHistory (history: History, finalState: FinalState): HistoryCheck {
  const tally = new Tally()
  const sends: SendRecord[] = []
  const contacts: ContactRecordOp[] = []
  for (const record of history.operations()) {
    if (isSend(record)) sends.push(record)
    else if (isContact(record)) contacts.push(record)
  }
  const dropped = history.dropped()
  tally.perKind.send.dropped = dropped.send
  tally.perKind.contact.dropped = dropped.contact
  countUnreadable(neededUsers(sends, contacts, finalState), finalState, tally)
  const scope = history.droppedScope()
  checkSends(sends, finalState, scope.recipients, tally)
  checkContacts(contacts, finalState, scope.contacts, tally)
  return tally.result()
}

/**
 * The run kept every acknowledged write, and nothing else, everywhere. A place that could not be
 * read, or operations past the history's bound, fail it too: what was not checked was not shown
 * to be kept.
 */
export function historyObjective (result: HistoryCheck): Objective {
  const problems = result.lost + result.duplicated + result.unexpected
  return { name: NO_LOST_WRITES, ok: problems === 0 && result.unreadable === 0 && result.dropped === 0, value: problems, limit: 0 }
}

function isSend (record: Readonly<OperationRecord>): record is SendRecord {
  return record.op.kind === 'send'
}

function isContact (record: Readonly<OperationRecord>): record is ContactRecordOp {
  return record.op.kind === 'contact'
}

/** Every user read, and every user the history expects something of (recipients, contact owners). */
function neededUsers (sends: readonly SendRecord[], contacts: readonly ContactRecordOp[], state: FinalState): string[] {
  const users = new Set(state.keys())
  for (const send of sends) users.add(send.op.to)
  for (const change of contacts) users.add(change.op.user)
  return [...users].sort()
}

// Counted once per place, not once per operation there: the count says how much went unchecked.
function countUnreadable (users: readonly string[], state: FinalState, tally: Tally): void {
  for (const user of users) {
    for (const where of PLACES) if (readOf(state, user, where) === null) tally.unreadable(user, where)
  }
}
