import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { ContactRecord } from '@rebound/protocol'
import { inFlightAt } from '../../src/history/in-flight.js'
import { History, type ContactOp, type SendOp } from '../../src/history/history.js'
import { checkHistory, historyObjective } from '../../src/history/checker.js'
import type { FinalState, PlaceRead, UserFinalState } from '../../src/history/final-state.js'
import { MAX_HISTORY_EXAMPLES, type HistoryCheck } from '../../src/history/result.js'

/** A clock the test moves by hand. */
function clock (): { nowMs: () => number, advance: (ms: number) => void } {
  let now = 1000
  return { nowMs: () => now, advance: (ms) => { now += ms } }
}

function newHistory (maxOperations?: number): History {
  return new History(maxOperations === undefined ? {} : { maxOperations }, { nowMs: clock().nowMs })
}

function record (contact: string, name: string, rev: number, deleted = false): ContactRecord {
  return { contact, name, deleted, rev }
}

function place (messageIds: string[] = [], contacts: ContactRecord[] = []): PlaceRead {
  return { messageIds, contacts }
}

/** The same read in both failure domains. */
function both (messageIds: string[] = [], contacts: ContactRecord[] = []): UserFinalState {
  return { device: place(messageIds, contacts), store: place(messageIds, contacts) }
}

function state (users: Record<string, UserFinalState>): FinalState {
  return new Map(Object.entries(users))
}

function add (user: string, contact: string, name: string): ContactOp {
  return { kind: 'contact', user, op: 'add', contact, name }
}

function rename (user: string, contact: string, name: string): ContactOp {
  return { kind: 'contact', user, op: 'rename', contact, name }
}

function remove (user: string, contact: string): ContactOp {
  return { kind: 'contact', user, op: 'remove', contact }
}

function send (id: string, from: string, to: string): SendOp {
  return { kind: 'send', id, from, to }
}

/** lost + duplicated + unexpected, the objective's value. */
function problems (result: HistoryCheck): number {
  return result.lost + result.duplicated + result.unexpected
}

test('a clean history passes: every acknowledged write everywhere, nothing else', () => {
  const history = newHistory()
  history.invoke(send('m1', 'alice', 'bob')).ok()
  history.invoke(send('m2', 'bob', 'alice')).ok()
  history.invoke(send('m3', 'alice', 'bob')).failed('BUSY')
  history.invoke(add('alice', 'bob', 'Bob')).ok()
  history.invoke(rename('alice', 'bob', 'Bobby')).ok()
  history.invoke(add('alice', 'carol', 'Carol')).ok()
  history.invoke(remove('alice', 'carol')).ok()
  const aliceContacts = [record('bob', 'Bobby', 2), record('carol', 'Carol', 4, true)]
  const result = checkHistory(history, state({ alice: both(['m2'], aliceContacts), bob: both(['m1']) }))
  assert.equal(result.ok, 6)
  assert.equal(result.failed, 1)
  assert.equal(result.perKind.send.ok, 2)
  assert.equal(result.perKind.contact.ok, 4)
  assert.equal(problems(result), 0)
  assert.equal(result.unreadable, 0)
  assert.deepEqual(result.examples, [])
  assert.deepEqual(historyObjective(result), { name: 'no-lost-writes', ok: true, value: 0, limit: 0 })
})

test('an acknowledged message missing from the recipient\'s inbox is lost on the device', () => {
  const history = newHistory()
  history.invoke(send('m1', 'alice', 'bob')).ok()
  history.invoke(send('m2', 'alice', 'bob')).ok()
  const result = checkHistory(history, state({ alice: both(), bob: { device: place(['m1']), store: place(['m1', 'm2']) } }))
  assert.equal(result.lost, 1)
  assert.equal(result.perKind.send.lost, 1)
  assert.deepEqual(result.examples, [{ what: 'lost', kind: 'send', where: 'device', user: 'bob', id: 'm2', expected: 'present', got: 'missing' }])
  assert.deepEqual(historyObjective(result), { name: 'no-lost-writes', ok: false, value: 1, limit: 0 })
})

test('an acknowledged message missing from the store only is lost in the store', () => {
  const history = newHistory()
  history.invoke(send('m1', 'alice', 'bob')).ok()
  const result = checkHistory(history, state({ alice: both(), bob: { device: place(['m1']), store: place([]) } }))
  assert.equal(result.lost, 1)
  assert.equal(result.examples[0]?.where, 'store')
  assert.equal(result.examples[0]?.id, 'm1')
})

test('a message missing from both places counts once per place', () => {
  const history = newHistory()
  history.invoke(send('m1', 'alice', 'bob')).ok()
  const result = checkHistory(history, state({ alice: both(), bob: both([]) }))
  assert.equal(result.lost, 2)
  assert.deepEqual(result.examples.map((p) => p.where), ['device', 'store'])
})

test('an acknowledged rename whose final record shows the older name is lost, in that place only', () => {
  const history = newHistory()
  history.invoke(add('alice', 'bob', 'Bob')).ok()
  history.invoke(rename('alice', 'bob', 'Bobby')).ok()
  const result = checkHistory(history, state({
    alice: { device: place([], [record('bob', 'Bob', 1)]), store: place([], [record('bob', 'Bobby', 2)]) }
  }))
  assert.equal(result.lost, 1)
  assert.equal(result.perKind.contact.lost, 1)
  assert.deepEqual(result.examples, [{ what: 'lost', kind: 'contact', where: 'device', user: 'alice', contact: 'bob', expected: '"Bobby"', got: '"Bob"' }])
})

test('a contact whose record vanished after an acknowledged change is lost (the Sidekick case)', () => {
  const history = newHistory()
  history.invoke(add('alice', 'bob', 'Bob')).ok()
  history.invoke(remove('alice', 'carol')).ok()
  // The store came back empty: both the contact and the tombstone are gone.
  const result = checkHistory(history, state({ alice: { device: place([], [record('bob', 'Bob', 1), record('carol', '', 2, true)]), store: place() } }))
  assert.equal(result.lost, 2)
  assert.deepEqual(result.examples.map((p) => [p.where, p.contact, p.got]), [['store', 'bob', 'absent'], ['store', 'carol', 'absent']])
})

test('an id or a contact read twice in one read is duplicated', () => {
  const history = newHistory()
  history.invoke(send('m1', 'alice', 'bob')).ok()
  history.invoke(add('bob', 'alice', 'Al')).ok()
  history.invoke(rename('bob', 'alice', 'Alice')).ok()
  // Of the two store records, the newer is judged (the one a merge keeps): not a lost rename.
  const result = checkHistory(history, state({
    alice: both(),
    bob: { device: place(['m1', 'm1'], [record('alice', 'Alice', 2)]), store: place(['m1'], [record('alice', 'Al', 1), record('alice', 'Alice', 2)]) }
  }))
  assert.equal(result.duplicated, 2)
  assert.equal(result.lost, 0)
  assert.equal(result.perKind.send.duplicated, 1)
  assert.equal(result.perKind.contact.duplicated, 1)
  assert.deepEqual(result.examples.find((p) => p.kind === 'send'), { what: 'duplicated', kind: 'send', where: 'device', user: 'bob', id: 'm1', expected: '1 copy', got: '2 copies' })
  assert.equal(result.examples.find((p) => p.kind === 'contact')?.where, 'store')
})

test('ids never sent, or sent to someone else, are unexpected', () => {
  const history = newHistory()
  history.invoke(send('m1', 'alice', 'bob')).ok()
  const result = checkHistory(history, state({ alice: { device: place(['m1']), store: place() }, bob: both(['m1', 'ghost']) }))
  assert.equal(result.unexpected, 3)
  assert.deepEqual(result.examples.map((p) => [p.where, p.user, p.id, p.expected]), [
    ['device', 'alice', 'm1', 'absent: sent to bob'],
    ['device', 'bob', 'ghost', 'absent: never sent'],
    ['store', 'bob', 'ghost', 'absent: never sent']
  ])
  assert.equal(historyObjective(result).ok, false)
})

test('a contact nobody added, or a name no change wrote, is unexpected', () => {
  const history = newHistory()
  history.invoke(add('alice', 'bob', 'Bob')).ok()
  const result = checkHistory(history, state({ alice: { device: place([], [record('bob', 'Robert', 1), record('mallory', 'M', 2)]), store: place([], [record('bob', 'Bob', 1)]) } }))
  assert.equal(result.unexpected, 2)
  assert.equal(result.lost, 0)
  assert.deepEqual(result.examples.map((p) => [p.contact, p.expected, p.got]), [['bob', '"Bob"', '"Robert"'], ['mallory', 'absent', '"M"']])
})

test('unknown sends are resolved present (anywhere) or absent, and are not errors', () => {
  const history = newHistory()
  history.invoke(send('m1', 'alice', 'bob')).unknown('TIMEOUT')
  history.invoke(send('m2', 'alice', 'bob')).unknown('PENDING')
  history.invoke(send('m3', 'alice', 'bob')).unknown('SENDER_KILLED')
  // Never completed: the run ended under it.
  history.invoke(send('m4', 'alice', 'bob'))
  history.invoke(send('m5', 'alice', 'bob'))
  const result = checkHistory(history, state({ alice: both(), bob: { device: place(['m1', 'm4']), store: place(['m2']) } }))
  assert.deepEqual(result.unknown, { present: 3, absent: 2 })
  assert.deepEqual(result.perKind.send.unknown, { present: 3, absent: 2 })
  assert.equal(result.ok, 0)
  assert.equal(problems(result), 0)
  assert.equal(historyObjective(result).ok, true)
})

test('a refused send that shows up is unexpected', () => {
  const history = newHistory()
  history.invoke(send('m1', 'alice', 'bob')).failed('BUSY')
  const result = checkHistory(history, state({ alice: both(), bob: { device: place([]), store: place(['m1']) } }))
  assert.equal(result.failed, 1)
  assert.equal(result.unexpected, 1)
  assert.deepEqual(result.examples, [{ what: 'unexpected', kind: 'send', where: 'store', user: 'bob', id: 'm1', expected: 'absent: refused (BUSY)', got: 'present' }])
})

test('a refused contact change that shows up is unexpected; one that does not is fine', () => {
  const history = newHistory()
  history.invoke(add('alice', 'bob', 'Bob')).ok()
  history.invoke(rename('alice', 'bob', 'Refused')).failed('BAD_REQUEST')
  history.invoke(add('alice', 'carol', 'Carol')).failed('BAD_REQUEST')
  const result = checkHistory(history, state({ alice: { device: place([], [record('bob', 'Refused', 2)]), store: place([], [record('bob', 'Bob', 1)]) } }))
  assert.equal(result.perKind.contact.failed, 2)
  assert.equal(result.unexpected, 1)
  assert.deepEqual(result.examples, [{ what: 'unexpected', kind: 'contact', where: 'device', user: 'alice', contact: 'bob', expected: '"Bob"', got: '"Refused"' }])
})

test('a place that could not be read is unreadable, not lost, and fails the objective', () => {
  const history = newHistory()
  history.invoke(send('m1', 'alice', 'bob')).ok()
  history.invoke(add('carol', 'bob', 'Bob')).ok()
  // bob's device is gone; carol (the history needs her contacts) was not read at all.
  const result = checkHistory(history, state({ alice: both(), bob: { device: null, store: place([]) } }))
  assert.equal(result.unreadable, 3)
  assert.equal(result.perKind.send.unreadable, 3)
  assert.equal(result.lost, 1)
  assert.deepEqual(result.examples.map((p) => [p.what, p.where, p.user]), [
    ['unreadable', 'device', 'bob'],
    ['unreadable', 'device', 'carol'],
    ['unreadable', 'store', 'carol'],
    ['lost', 'store', 'bob']
  ])
  const objective = historyObjective(result)
  assert.equal(objective.ok, false)
  assert.equal(objective.value, 1)
})

test('unreadable alone fails the objective with no problem counted', () => {
  const history = newHistory()
  const result = checkHistory(history, state({ alice: { device: place(), store: null } }))
  assert.deepEqual(historyObjective(result), { name: 'no-lost-writes', ok: false, value: 0, limit: 0 })
})

test('the history is bounded: operations past it are dropped, counted, and not blamed on the cluster', () => {
  const history = newHistory(3)
  history.invoke(send('m1', 'alice', 'bob')).ok()
  history.invoke(add('alice', 'bob', 'Bob')).ok()
  history.invoke(send('m2', 'alice', 'bob')).ok()
  // Past the bound: their handles do nothing, even completed twice.
  const late = history.invoke(send('m3', 'alice', 'bob'))
  late.ok()
  late.ok()
  history.invoke(rename('alice', 'bob', 'Robert')).ok()
  assert.equal(history.operations().length, 3)
  assert.deepEqual(history.dropped(), { send: 1, contact: 1 })
  const result = checkHistory(history, state({
    // m3 at bob and Robert at alice come from dropped operations; m3 at alice cannot.
    alice: both(['m3'], [record('bob', 'Robert', 2)]),
    bob: both(['m1', 'm2', 'm3'])
  }))
  assert.equal(result.dropped, 2)
  assert.equal(result.perKind.send.dropped, 1)
  assert.equal(result.perKind.contact.dropped, 1)
  assert.equal(result.unexpected, 2)
  assert.deepEqual(result.examples.map((p) => [p.user, p.id]), [['alice', 'm3'], ['alice', 'm3']])
  // Unchecked operations fail the objective even with nothing else wrong.
  assert.equal(historyObjective({ ...result, unexpected: 0 }).ok, false)
})

test('a bound of zero records nothing and refuses a negative bound', () => {
  const history = newHistory(0)
  history.invoke(send('m1', 'alice', 'bob')).ok()
  assert.equal(history.operations().length, 0)
  assert.equal(history.dropped().send, 1)
  assert.throws(() => newHistory(-1), RangeError)
})

test('times, codes and invocation order are recorded; a second outcome is a bug', () => {
  const time = clock()
  const history = new History({}, { nowMs: time.nowMs })
  const first = history.invoke(send('m1', 'alice', 'bob'))
  time.advance(250)
  const second = history.invoke(remove('alice', 'bob'))
  time.advance(100)
  second.unknown('TIMEOUT')
  time.advance(50)
  first.failed('BUSY')
  const [a, b] = history.operations()
  assert.deepEqual(a, { index: 0, op: send('m1', 'alice', 'bob'), invokedAtMs: 1000, outcome: 'failed', completedAtMs: 1400, code: 'BUSY' })
  assert.deepEqual(b, { index: 1, op: remove('alice', 'bob'), invokedAtMs: 1250, outcome: 'unknown', completedAtMs: 1350, code: 'TIMEOUT' })
  assert.throws(() => { first.ok() }, /completed twice/)
  assert.equal(history.operations()[0]?.outcome, 'failed')
})

/** alice's final record of bob, read the same in both places. */
function checkBob (history: History, final: ContactRecord | null): HistoryCheck {
  return checkHistory(history, state({ alice: both([], final === null ? [] : [final]) }))
}

test('an unknown change at the end allows either the last acknowledged value or its own', () => {
  const history = newHistory()
  history.invoke(add('alice', 'bob', 'Bob')).ok()
  history.invoke(rename('alice', 'bob', 'Robert')).ok()
  history.invoke(remove('alice', 'bob')).unknown('TIMEOUT')
  const kept = checkBob(history, record('bob', 'Robert', 2))
  assert.equal(problems(kept), 0)
  assert.deepEqual(kept.unknown, { present: 0, absent: 1 })
  const removed = checkBob(history, record('bob', 'Robert', 3, true))
  assert.equal(problems(removed), 0)
  assert.deepEqual(removed.unknown, { present: 1, absent: 0 })
  // Older than the last acknowledged change: lost, in both places.
  const older = checkBob(history, record('bob', 'Bob', 1))
  assert.equal(older.lost, 2)
  assert.equal(older.examples[0]?.expected, '"Robert" or removed')
  assert.equal(checkBob(history, null).lost, 2)
})

test('after an acknowledged removal, an unknown re-add allows the tombstone or the new name', () => {
  const history = newHistory()
  history.invoke(add('alice', 'bob', 'Bob')).ok()
  history.invoke(remove('alice', 'bob')).ok()
  history.invoke(add('alice', 'bob', 'Bobby')).unknown('PENDING')
  history.invoke(rename('alice', 'bob', 'B')).unknown('SENDER_KILLED')
  assert.equal(problems(checkBob(history, record('bob', 'Bob', 2, true))), 0)
  assert.equal(problems(checkBob(history, record('bob', 'Bobby', 3))), 0)
  const last = checkBob(history, record('bob', 'B', 4))
  assert.equal(problems(last), 0)
  assert.deepEqual(last.unknown, { present: 1, absent: 1 })
  assert.equal(checkBob(history, record('bob', 'Bob', 1)).lost, 2)
  assert.equal(checkBob(history, null).lost, 2)
  assert.equal(checkBob(history, record('bob', 'Nobody', 5)).unexpected, 2)
})

test('an unknown change before an acknowledged one cannot be the final value', () => {
  const history = newHistory()
  history.invoke(add('alice', 'bob', 'Bob')).unknown('TIMEOUT')
  history.invoke(rename('alice', 'bob', 'Robert')).ok()
  const stale = checkBob(history, record('bob', 'Bob', 1))
  assert.equal(stale.lost, 2)
  assert.deepEqual(stale.unknown, { present: 0, absent: 1 })
})

test('with no acknowledged change, no record or an unknown change\'s value are both fine', () => {
  const history = newHistory()
  history.invoke(add('alice', 'bob', 'Bob')).unknown('TIMEOUT')
  history.invoke(rename('alice', 'bob', 'Robert'))
  assert.equal(problems(checkBob(history, null)), 0)
  assert.equal(problems(checkBob(history, record('bob', 'Bob', 1))), 0)
  assert.equal(problems(checkBob(history, record('bob', 'Robert', 2))), 0)
  assert.equal(checkBob(history, record('bob', 'Other', 2)).unexpected, 2)
})

test('contact changes are judged per user: another user\'s change does not excuse a value', () => {
  const history = newHistory()
  history.invoke(add('alice', 'carol', 'Carol')).ok()
  history.invoke(add('bob', 'carol', 'Caroline')).ok()
  const result = checkHistory(history, state({
    alice: both([], [record('carol', 'Caroline', 1)]),
    bob: both([], [record('carol', 'Caroline', 1)])
  }))
  assert.equal(result.unexpected, 2)
  assert.ok(result.examples.every((p) => p.user === 'alice'))
})

test('examples stop at the bound; the counts do not', () => {
  const history = newHistory()
  const ids = Array.from({ length: MAX_HISTORY_EXAMPLES + 5 }, (_, i) => `m${i}`)
  for (const id of ids) history.invoke(send(id, 'alice', 'bob')).ok()
  const result = checkHistory(history, state({ alice: both(), bob: { device: place([]), store: place(ids) } }))
  assert.equal(result.lost, ids.length)
  assert.equal(result.examples.length, MAX_HISTORY_EXAMPLES)
  assert.equal(result.examples[0]?.id, 'm0')
})

test('inFlightAt: operations invoked before the trigger and not completed by then, with what became of them', () => {
  let now = 0
  const history = new History({}, { nowMs: () => now })
  const done = history.invoke({ kind: 'send', id: 'a', from: 'u1', to: 'u2' })
  now = 5
  done.ok() // completed before the trigger: not in flight
  const acked = history.invoke({ kind: 'send', id: 'b', from: 'u1', to: 'u2' })
  const refused = history.invoke({ kind: 'contact', user: 'u1', op: 'add', contact: 'u2', name: 'Ada 1' })
  history.invoke({ kind: 'contact', user: 'u3', op: 'remove', contact: 'u4' }) // never completed
  now = 11 // just after the trigger (10)
  const after = history.invoke({ kind: 'send', id: 'c', from: 'u1', to: 'u2' })
  now = 20
  acked.ok()
  refused.failed('BAD_REQUEST')
  after.unknown('TIMEOUT')
  assert.deepEqual(inFlightAt(history, 10), { atMs: 10, send: 1, contact: 2, outcomes: { ok: 1, failed: 1, unknown: 1 } })
})
