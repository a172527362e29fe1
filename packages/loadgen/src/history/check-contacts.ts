/**
 * The check of contact lists: per user and contact, the final record on the device and in the
 * store, each on its own, must hold a value the history allows (contact-register.ts). A change lost
 * in either failure domain is the 2009 Sidekick failure this project exists to prevent.
 */
import type { ContactRecord } from '@rebound/protocol'
import { PLACES, readOf, type FinalState } from './final-state.js'
import {
  describeValue, expectationOf, judge, sameValue, valueRead, valueWritten,
  type ContactRecordOp, type ContactValue, type Expectation
} from './contact-register.js'
import type { Tally, Where } from './result.js'

/** Per contact, its changes in invocation order. */
type OpsByContact = ReadonlyMap<string, readonly ContactRecordOp[]>

/**
 * `ops` in invocation order. `droppedContacts`: per user, contacts changed past the history bound;
 * their final value cannot be judged from the recorded changes alone.
 */
export function checkContacts (
  ops: readonly ContactRecordOp[], state: FinalState, droppedContacts: ReadonlyMap<string, ReadonlySet<string>>, tally: Tally
): void {
  const counts = tally.perKind.contact
  for (const op of ops) {
    if (op.outcome === 'ok') counts.ok++
    else if (op.outcome === 'failed') counts.failed++
  }
  const byUser = groupByUser(ops)
  // Sorted, so that the examples are the same for the same run.
  const users = [...new Set([...byUser.keys(), ...state.keys()])].sort()
  for (const user of users) checkUser(user, byUser.get(user) ?? new Map(), state, droppedContacts.get(user), tally)
}

function groupByUser (ops: readonly ContactRecordOp[]): Map<string, Map<string, ContactRecordOp[]>> {
  const byUser = new Map<string, Map<string, ContactRecordOp[]>>()
  for (const op of ops) {
    let byContact = byUser.get(op.op.user)
    if (byContact === undefined) {
      byContact = new Map()
      byUser.set(op.op.user, byContact)
    }
    const list = byContact.get(op.op.contact)
    if (list === undefined) byContact.set(op.op.contact, [op])
    else list.push(op)
  }
  return byUser
}

function checkUser (user: string, opsByContact: OpsByContact, state: FinalState, dropped: ReadonlySet<string> | undefined, tally: Tally): void {
  const finals: Record<Where, ReadonlyMap<string, ContactRecord> | null> = {
    device: finalRecords(user, 'device', state, tally),
    store: finalRecords(user, 'store', state, tally)
  }
  const contacts = new Set(opsByContact.keys())
  for (const where of PLACES) for (const contact of finals[where]?.keys() ?? []) contacts.add(contact)
  for (const contact of [...contacts].sort()) {
    const ops = opsByContact.get(contact) ?? []
    const expectation = expectationOf(ops)
    const observed: ContactValue[] = []
    for (const where of PLACES) {
      const records = finals[where]
      if (records === null) continue
      const got = valueRead(records.get(contact))
      observed.push(got)
      if (dropped?.has(contact) !== true) judgePlace({ user, contact, where, expectation, got }, tally)
    }
    countUnknown(ops, expectation, observed, tally)
  }
}

/** The place's record of each contact; a contact listed twice is a duplicate. */
function finalRecords (user: string, where: Where, state: FinalState, tally: Tally): ReadonlyMap<string, ContactRecord> | null {
  const read = readOf(state, user, where)
  if (read === null) return null
  const kept = new Map<string, ContactRecord>()
  const copies = new Map<string, number>()
  for (const record of read.contacts) {
    copies.set(record.contact, (copies.get(record.contact) ?? 0) + 1)
    const other = kept.get(record.contact)
    // Of two records of one contact, judge the highest rev: the one every merge keeps.
    if (other === undefined || record.rev > other.rev) kept.set(record.contact, record)
  }
  for (const [contact, count] of copies) {
    if (count > 1) tally.problem({ what: 'duplicated', kind: 'contact', where, user, contact, expected: '1 record', got: `${count} records` })
  }
  return kept
}

interface PlaceValue {
  user: string
  contact: string
  where: Where
  expectation: Expectation
  got: ContactValue
}

function judgePlace ({ user, contact, where, expectation, got }: PlaceValue, tally: Tally): void {
  const verdict = judge(expectation, got)
  if (verdict === 'ok') return
  const expected = expectation.allowed.map(describeValue).join(' or ')
  tally.problem({ what: verdict, kind: 'contact', where, user, contact, expected, got: describeValue(got) })
}

/**
 * A change of unknown outcome is present when a final read shows its value. One that an
 * acknowledged change followed can no longer show anywhere: it counts as absent (not observed).
 */
function countUnknown (ops: readonly ContactRecordOp[], expectation: Expectation, observed: readonly ContactValue[], tally: Tally): void {
  const counts = tally.perKind.contact
  for (const op of ops) {
    if (op.outcome === 'ok' || op.outcome === 'failed') continue
    const written = valueWritten(op.op)
    const present = expectation.observable.includes(op) && observed.some((value) => sameValue(value, written))
    if (present) counts.unknown.present++
    else counts.unknown.absent++
  }
}
