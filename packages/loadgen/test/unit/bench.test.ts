/**
 * Unit tests of the storm benchmark's arithmetic and tables (no processes): storm percentiles from
 * swarm statuses, attempts per client, recovery detection, targets, options.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { NodeCounters, type NodeStatus } from '@rebound/protocol'
import { BenchOptionsSchema, resolveSizes, SIZES } from '../../src/bench/bench-options.js'
import { StormTracker, recoverySeconds, rejectionCostRatio, target, timePercentiles } from '../../src/bench/bench-stats.js'
import { formatTable, targetsTable } from '../../src/bench/bench-tables.js'
import { evaluateTargets, peakGoodput } from '../../src/bench/bench-targets.js'
import type { CapacityResult } from '../../src/bench/capacity.js'
import type { PhaseResult, SecondRow } from '@rebound/protocol'

function counters (over: Partial<NodeCounters> = {}): NodeCounters {
  return { ...Object.fromEntries(Object.keys(NodeCounters.shape).map((k) => [k, 0])) as NodeCounters, ...over }
}

function member (user: string, over: Partial<NodeStatus>): NodeStatus {
  return {
    peerId: `12D3KooW${user}`, pid: 1, role: 'client', user, state: 'logging-in', supernode: null, attachedAtMs: null, loggedInAtMs: null,
    profile: 'defended', startedAtMs: 1000, ticketExpiresAtMs: null, knownSupernodes: 0, supernodeClass: null, clients: null, capacity: null,
    counters: counters(), ...over
  }
}

test('storm tracker: first login and first attach after t0, over all N (never = null), attempts per client', () => {
  const tracker = new StormTracker(1000, 4)
  tracker.observe([
    member('a', { loggedInAtMs: 1500, counters: counters({ logins: 1, loginFailures: 2 }) }),
    member('b', { loggedInAtMs: 900 }) // a login from before the storm does not count
  ])
  tracker.observe([
    member('a', { state: 'attached', attachedAtMs: 1700, loggedInAtMs: 2500, counters: counters({ logins: 2, loginFailures: 2 }) }),
    member('b', { state: 'attached', attachedAtMs: 3000, loggedInAtMs: 2900, counters: counters({ logins: 1 }) }),
    member('c', { state: 'backoff', counters: counters({ loginFailures: 3 }) })
  ])
  assert.equal(tracker.attached, 2)
  assert.deepEqual(tracker.login(), { n: 4, reached: 2, firstMs: 500, t50Ms: 1900, t90Ms: null, t99Ms: null, t100Ms: null })
  assert.deepEqual(tracker.attach(), { n: 4, reached: 2, firstMs: 700, t50Ms: 2000, t90Ms: null, t99Ms: null, t100Ms: null })
  // a: 4, b: 1, c: 3, d never seen: (4 + 1 + 3) / 4
  assert.equal(tracker.attemptsPerClient(), 2)
  assert.equal(tracker.loggedIn(), 2)
})

test('storm tracker: a restarted process (startedAtMs after t0) counts from 0, resumes are counted', () => {
  const tracker = new StormTracker(5000, 2)
  tracker.observe([
    member('a', { startedAtMs: 5200, state: 'attached', attachedAtMs: 5600, counters: counters({ resumes: 1 }) }),
    member('b', { startedAtMs: 4000, counters: counters({ logins: 7 }) }) // the old process, still answering
  ])
  assert.equal(tracker.attemptsPerClient(), 0)
  assert.equal(tracker.resumed(), 1)
  assert.equal(tracker.loggedIn(), 0)
  assert.equal(tracker.attach().t50Ms, 600)
})

test('time percentiles: nearest rank over n, missing clients are never', () => {
  assert.deepEqual(timePercentiles([100, 200, 300, 400], 4), { n: 4, reached: 4, firstMs: 100, t50Ms: 200, t90Ms: 400, t99Ms: 400, t100Ms: 400 })
  assert.deepEqual(timePercentiles(Array.from({ length: 99 }, (_, i) => i + 1), 100), { n: 100, reached: 99, firstMs: 1, t50Ms: 50, t90Ms: 90, t99Ms: 99, t100Ms: null })
})

function row (t: number, ok: number, p99Ms: number | null): SecondRow {
  return { t, sent: ok, ok, rejected: 0, timeouts: 0, failed: 0, p99Ms }
}

test('recovery: first second from which goodput and p99 stay good for 3 s', () => {
  const rows = [row(0, 10, 50), row(1, 10, 50), row(2, 2, 9000), row(3, 9, 90), row(4, 2, 9000), row(5, 9, 90), row(6, 9, 100), row(7, 9, 80), row(8, 9, 80)]
  // From second 2, offered 9/s (>= 8.1 needed), p99 <= 100: seconds 5, 6, 7 are the first good run of three.
  assert.equal(recoverySeconds(rows, 2, 9, 100), 3)
  assert.equal(recoverySeconds(rows, 2, 9, 85), null)
  assert.equal(recoverySeconds(rows.slice(0, 7), 2, 9, 100), null)
  assert.equal(recoverySeconds([row(0, 5, null), row(1, 5, null), row(2, 5, null)], 0, 5, 100), null)
})

function phase (over: Partial<PhaseResult>): PhaseResult {
  return {
    ratePerS: 1, concurrency: null, durationMs: 1000, sent: 1, ok: 1, rejected: 0, timeouts: 0, failed: 0, dropped: 0, missed: 0,
    goodputPerS: 1, byCode: {}, p50Ms: 10, p99Ms: 20, maxMs: 30, rejectP50Ms: null, ...over
  }
}

function capacity (mu: number, goodputAt10: number, p99At05: number, p99At10: number): CapacityResult {
  const level = (multiple: number, goodputPerS: number, p99Ms: number): CapacityResult['levels'][number] =>
    ({ multiple, offeredPerS: multiple * mu, phase: phase({ goodputPerS, p99Ms }), serverCpuS: 1, rejectionCpuS: null, serverCapacityPerS: null, loadCpuS: 0, rejectionCostRatio: 0.005 })
  return { muPerS: mu, loginCpuS: 0.05, closed: phase({}), closedServerCpuS: 1, closedLoadCpuS: 0, connections: 1, levels: [level(0.5, mu / 2, p99At05), level(10, goodputAt10, p99At10)] }
}

test('targets: verdicts from the parts that ran, not measured where a part is missing', () => {
  const targets = evaluateTargets({ capacity: { defended: capacity(40, 38, 100, 150), naive: capacity(40, 4, 100, 9000) }, storm: {}, hysteresis: {} })
  const byName = new Map(targets.map((t) => [t.name, t]))
  assert.equal(byName.get('defended goodput at 10 x mu')?.met, true)
  assert.equal(byName.get('defended goodput at 10 x mu')?.value, 0.95)
  assert.equal(byName.get('defended admitted p99 at 10 x mu')?.value, 1.5)
  assert.equal(byName.get('naive goodput at 10 x mu')?.met, true)
  assert.equal(byName.get('naive collapses (either of the two above)')?.met, true)
  assert.equal(byName.get('defended storm login T99')?.met, null)
  assert.equal(byName.get('defended rejection cost R at 10 x mu')?.met, true)
  // A closed-loop mu under what a level delivered: goodput is judged against the level's.
  const shedding = capacity(30, 36, 100, 150)
  shedding.levels.push({ ...shedding.levels[1]!, multiple: 2, phase: phase({ goodputPerS: 40 }) })
  assert.equal(peakGoodput(shedding), 40)
  assert.equal(evaluateTargets({ capacity: { defended: shedding }, storm: {}, hysteresis: {} }).find((t) => t.name === 'defended goodput at 10 x mu')?.value, 0.9)
  assert.equal(byName.get('login server peak RSS at 10 x mu')?.met, null)
  assert.deepEqual([target('x', 3, '<', 2, '').met, target('x', 2, '>=', 2, '').met, target('x', Infinity, '<=', 2, '').met], [false, true, false])
  const text = targetsTable(targets)
  assert.match(text, /defended goodput at 10 x mu\s+0\.95 x peak\s+>= 0\.90 x peak\s+met/)
  assert.match(text, /defended storm login T99\s+-\s+<= 1\.30 x N\/mu\s+not measured/)
})

test('rejection cost R: the CPU beyond the accepted logins, per rejection, over a login', () => {
  // 10 s of CPU, 100 logins at 50 ms = 5 s, the other 5 s over 1000 rejections: 5 ms = 10% of a login.
  assert.ok(Math.abs((rejectionCostRatio(10, 100, 1000, 0.05) ?? NaN) - 0.1) < 1e-12)
  assert.equal(rejectionCostRatio(4, 100, 1000, 0.05), 0, 'less CPU than the logins (noise) is no cost, not a negative one')
  assert.deepEqual([rejectionCostRatio(null, 1, 1, 0.05), rejectionCostRatio(1, 1, 0, 0.05), rejectionCostRatio(1, 1, 1, null)], [null, null, null])
})

test('tables: columns padded to the widest cell', () => {
  assert.equal(formatTable('T', ['a', 'bb'], [['ccc', 'd']]), '\nT\na    bb\n---  --\nccc  d\n')
})

test('options: quick and full sizes, explicit flags win, lists validated', () => {
  const quick = resolveSizes(BenchOptionsSchema.parse({ quick: true, clients: '50' }), 1)
  assert.equal(quick.clients, 50)
  assert.equal(quick.levelMs, SIZES.levelMs.quick)
  const full = resolveSizes(BenchOptionsSchema.parse({ parts: 'storm,capacity', profiles: 'defended' }), 2)
  assert.equal(full.levelMs, SIZES.levelMs.full)
  assert.deepEqual([full.parts, full.profiles, full.seed], [['storm', 'capacity'], ['defended'], 2])
  assert.equal(BenchOptionsSchema.safeParse({ parts: 'storm,nope' }).success, false)
  assert.equal(BenchOptionsSchema.safeParse({ profiles: '' }).success, false)
})
