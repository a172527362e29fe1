import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RetryBudget } from '../src/client/retry-budget.js'
import { JoinSchedule, SCHEDULE_SHARE } from '../src/supernode/join-schedule.js'
import { ACCUSATION_WINDOW_MS, ACCUSERS_NEEDED, MAX_SUSPECTS, REFUTE_AFTER_MS, REFUTE_COOLDOWN_MS, SupernodeLiveness } from '../src/supernode/liveness.js'
import { ANSWER_WAIT_MS, MIN_FAILED_PROBES, PROBE_INTERVAL_MS, RingWatch, SILENCE_MS, ringSuccessors } from '../src/supernode/ring-monitor.js'
import { LATE_TICK_MS, STARVED_SILENCE_FACTOR } from '../src/client/silence-watch.js'
import { NAIVE_RETRY_INTERVAL_MS, SLOT_JITTER_MS, createRetryPolicy } from '../src/client/retry-policy.js'

test('defended retries: full jitter grows to the cap, obeys retryAfterMs, and a slot sets the time', () => {
  let r = 0.999
  const policy = createRetryPolicy('defended', () => r)
  const waits = Array.from({ length: 8 }, () => policy.onFailure({}, 0))
  assert.deepEqual(waits.map((w) => Math.ceil(w / 1000)), [1, 2, 4, 8, 16, 30, 30, 30])
  assert.equal(policy.failures, 8)
  r = 0
  assert.equal(policy.onFailure({ retryAfterMs: 4000 }, 0), 4000)
  // A slot due in 7 s: come back then, plus at most SLOT_JITTER_MS, whatever the backoff says.
  r = 0.5
  assert.equal(policy.onFailure({ slotDueAtMs: 10_000, retryAfterMs: 99_000 }, 3000), 7000 + SLOT_JITTER_MS / 2)
  policy.onSuccess()
  assert.equal(policy.failures, 0)
  policy.restore(5)
  r = 0.999
  assert.ok(policy.onFailure({}, 0) > 16_000, 'a restored failure count keeps the backoff where it was')
})

test('naive retries: every second, in lockstep, remembering nothing', () => {
  const policy = createRetryPolicy('naive', () => 0.5)
  for (let i = 0; i < 10; i++) assert.equal(policy.onFailure({ retryAfterMs: 30_000, slotDueAtMs: 99_000 }, 0), NAIVE_RETRY_INTERVAL_MS)
  policy.restore(7)
  assert.equal(policy.failures, 10)
})

test('retry budget: stops retries after a burst of failures, recovers with successes', () => {
  const budget = new RetryBudget(10, 0.1)
  for (let i = 0; i < 4; i++) budget.onFailure()
  assert.equal(budget.canRetry(), true)
  budget.onFailure()
  assert.equal(budget.canRetry(), false, '5 of 10 tokens left: no more retries')
  budget.onFailure()
  for (let i = 0; i < 10; i++) budget.onSuccess()
  assert.equal(budget.canRetry(), false, 'below half, ten successes win back one failure: 4 + 1.0 is not above 5')
  for (let i = 0; i < 2; i++) budget.onSuccess()
  assert.equal(budget.canRetry(), true)
  for (let i = 0; i < 500; i++) budget.onSuccess()
  assert.equal(budget.available, 10)
})

test('join schedule: refused joins get places paced at 0.9 of the join rate, after the token, within the horizon', () => {
  const schedule = new JoinSchedule(20, 5000) // places every 1000 / 18 ms
  const spacing = 1000 / (20 * SCHEDULE_SHARE)
  const first = schedule.place(0, 50)
  assert.equal(first, 50, 'the first refused join comes back when the next token is due')
  const places = Array.from({ length: 10 }, () => schedule.place(0, 50))
  for (const [i, at] of places.entries()) assert.equal(at, Math.ceil(50 + (i + 1) * spacing))
  // Later refusals queue behind the places handed out, however early they arrive.
  assert.equal(schedule.place(100, 0), Math.ceil(50 + 11 * spacing) - 100)
  // A long storm does not push places past the horizon.
  for (let i = 0; i < 1000; i++) assert.ok(schedule.place(200, 0) <= 5000)
  // After a quiet spell the schedule starts again from the next token.
  assert.equal(schedule.place(600_000, 10), 10)
})

test('supernode liveness: a lost connection suspects for SUSPECT_MS, a reconnect clears it, memory is bounded', () => {
  const liveness = new SupernodeLiveness(10_000)
  liveness.suspect('a', 0)
  assert.equal(liveness.isSuspect('a', 9_999), true)
  assert.equal(liveness.isSuspect('a', 10_000), false, 'expired: the registry list decides again')
  liveness.suspect('b', 0)
  assert.deepEqual([liveness.clear('b'), liveness.isSuspect('b', 1), liveness.clear('b')], [true, false, false])
  for (let i = 0; i < MAX_SUSPECTS + 10; i++) liveness.suspect(`p${i}`, 0)
  assert.equal(liveness.isSuspect('p0', 1), false, 'the oldest suspects are forgotten first')
  assert.equal(liveness.isSuspect(`p${MAX_SUSPECTS + 9}`, 1), true)
})

test('supernode liveness: a suspicion is acted on once two distinct supernodes voiced it within the window', () => {
  const liveness = new SupernodeLiveness(10_000)
  assert.equal(ACCUSERS_NEEDED, 2)
  assert.equal(liveness.accuse('x', 'a', 0), false, 'one accuser is not enough')
  assert.equal(liveness.accuse('x', 'a', 100), false, 'the same accuser twice is still one')
  assert.equal(liveness.accuse('x', 'b', 200), true)
  assert.equal(liveness.accuse('y', 'a', 0), false)
  assert.equal(liveness.accuse('y', 'b', ACCUSATION_WINDOW_MS + 1), false, 'the first accusation is too old')
  assert.equal(liveness.accuse('y', 'c', ACCUSATION_WINDOW_MS + 2), true)
})

test('supernode liveness: an announcement refutes a suspicion only when sent a period after it', () => {
  const liveness = new SupernodeLiveness(10_000)
  liveness.suspect('c', 5_000)
  assert.equal(liveness.refute('c', 5_000 + REFUTE_AFTER_MS - 1), false, 'possibly sent before the suspicion')
  assert.equal(liveness.isSuspect('c', 5_000 + REFUTE_AFTER_MS - 1), true)
  assert.equal(liveness.refute('c', 5_000 + REFUTE_AFTER_MS), true)
  assert.equal(liveness.isSuspect('c', 5_000 + REFUTE_AFTER_MS), false)
  assert.equal(liveness.refute('never-suspected', 99_999), false)
  // Suspected again soon after: no second refutation within the cooldown, the suspicion runs out.
  liveness.suspect('c', 8_000)
  assert.equal(liveness.refute('c', 8_000 + REFUTE_AFTER_MS), false)
  assert.equal(liveness.isSuspect('c', 8_000 + REFUTE_AFTER_MS), true)
  liveness.suspect('c', 5_000 + REFUTE_AFTER_MS + REFUTE_COOLDOWN_MS)
  assert.equal(liveness.refute('c', 5_000 + 2 * REFUTE_AFTER_MS + REFUTE_COOLDOWN_MS), true, 'after the cooldown, again')
})

test('ring monitor: k successors on the sorted ring; a verdict needs silence and an unanswered probe (or repeated failures)', () => {
  assert.deepEqual(ringSuccessors(['a', 'b', 'c', 'd', 'e'], 'c', 3), ['d', 'e', 'a'])
  assert.deepEqual(ringSuccessors(['a', 'b', 'c', 'd', 'e'], 'e', 2), ['a', 'b'])
  assert.deepEqual(ringSuccessors(['a', 'c'], 'b', 3), ['a', 'c'], 'fewer than k: all the others')
  assert.deepEqual(ringSuccessors(['x'], 'x'), [])
  const watch = new RingWatch()
  const onTime = (nowMs: number): number => nowMs - PROBE_INTERVAL_MS
  watch.setTargets(['a', 'b'], 0)
  assert.deepEqual(watch.idle(), ['a', 'b'])
  // a: frozen at 0; its probe, sent at 200, is never answered.
  watch.onSent('a', 200)
  assert.deepEqual(watch.idle(), ['b'], 'one probe in flight per target')
  // b: answers slowly but answers.
  watch.onSent('b', 0)
  watch.onAnswer('b', 900)
  watch.onSent('b', 1300)
  assert.deepEqual(watch.verdicts(SILENCE_MS - 1, onTime(SILENCE_MS - 1)), [], 'not silent long enough')
  // This process's own loop was blocked (the tick is late): answers may be waiting unread.
  const late = Math.max(SILENCE_MS, 200 + ANSWER_WAIT_MS)
  assert.deepEqual(watch.verdicts(late, late - PROBE_INTERVAL_MS - LATE_TICK_MS - 1), [], 'a late tick does not judge a short silence')
  assert.deepEqual(watch.verdicts(late, onTime(late)), ['a'], 'the same silence, judged on time')
  assert.deepEqual(watch.targets(), ['b'], 'a dead target is no longer watched')
  // b's probe from 1300 is unanswered at 900 + SILENCE_MS, but has waited less than ANSWER_WAIT_MS.
  assert.deepEqual(watch.verdicts(900 + SILENCE_MS, onTime(900 + SILENCE_MS)), [])
  watch.onAnswer('b', 2300)
  assert.deepEqual(watch.verdicts(2300 + SILENCE_MS - 1, onTime(2300 + SILENCE_MS - 1)), [])
  // Failed probes (broken stream): a verdict after MIN_FAILED_PROBES of them and the silence.
  watch.onFailure('b')
  assert.deepEqual(watch.verdicts(2300 + SILENCE_MS, onTime(2300 + SILENCE_MS)), [], 'one failure is never a verdict')
  watch.onFailure('b')
  assert.equal(MIN_FAILED_PROBES, 2)
  assert.deepEqual(watch.verdicts(2300 + SILENCE_MS, onTime(2300 + SILENCE_MS)), ['b'])
  watch.setTargets(['c'], 5000)
  assert.deepEqual(watch.targets(), ['c'])
  watch.onSent('c', 5000)
  const starved = 5000 + STARVED_SILENCE_FACTOR * SILENCE_MS
  assert.deepEqual(watch.verdicts(starved, starved - 10_000), ['c'], 'a long enough silence is judged even on a late tick')
})
