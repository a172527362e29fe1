/**
 * Unit tests of the swarm's pure parts: member addresses and accounts, the open-loop arrival
 * schedule and the load statistics. No network.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { memberUser, swarmPassword } from '../src/swarm/accounts.js'
import { capacityFrom, firstIpProblem, memberIp } from '../src/swarm/addresses.js'
import { LoadRecorder, percentileOfSorted, phaseWindows } from '../src/swarm/load-stats.js'
import { OpenLoopSchedule } from '../src/swarm/open-loop.js'
import { SwarmConfigSchema, memberConfig, memberIdentity } from '../src/swarm/swarm-config.js'

test('member addresses run on from --first-ip, skipping .0 and .255, across the third octet', () => {
  assert.equal(memberIp('127.5.3.1', 0), '127.5.3.1')
  assert.equal(memberIp('127.5.3.1', 253), '127.5.3.254')
  assert.equal(memberIp('127.5.3.1', 254), '127.5.4.1')
  assert.equal(memberIp('127.5.3.250', 10), '127.5.4.6')
  assert.equal(memberIp('127.5.255.254', 0), '127.5.255.254')
  assert.throws(() => memberIp('127.5.255.254', 1), RangeError)
  assert.equal(capacityFrom('127.5.255.254'), 1)
  assert.match(firstIpProblem('127.5.3.0') ?? '', /\.0 or \.255/)
  assert.match(firstIpProblem('10.0.0.1') ?? '', /loopback/)
  assert.equal(firstIpProblem('127.5.3.9'), undefined)
  const ips = Array.from({ length: 600 }, (_, i) => memberIp('127.5.3.200', i))
  assert.equal(new Set(ips).size, 600)
  assert.ok(ips.every((ip) => !ip.endsWith('.0') && !ip.endsWith('.255')))
})

test('accounts: numbered users and the loadgen password derivation (pinned vector)', () => {
  assert.equal(memberUser('u', 42, 6), 'u000042')
  // The same vector is pinned in packages/loadgen/test/unit (derivePassword): the two must agree.
  assert.equal(swarmPassword('7', 'u000001'), '2tfQn76DHhEBFv_UaWuPBoIC')
  assert.notEqual(swarmPassword('7', 'u000002'), swarmPassword('7', 'u000001'))
})

test('swarm config: shared node flags, validated members, bad combinations refused', () => {
  const config = SwarmConfigSchema.parse({
    count: '3', firstIp: '127.5.3.254', userPrefix: 'sw', firstUser: '10', passwordSeed: 's', dataDir: '/tmp/x',
    clusterPubkey: 'k', loginServers: '/ip4/127.5.1.1/tcp/7401/p2p/12D3KooWabc', register: true, profile: 'naive'
  })
  const second = memberIdentity(config, 1)
  assert.deepEqual(second, { index: 1, user: 'sw000011', ip: '127.5.4.1' })
  const node = memberConfig(config, second)
  assert.equal(node.listen, '127.5.4.1')
  assert.equal(node.dataDir, '/tmp/x/sw000011')
  assert.equal(node.profile, 'naive')
  assert.equal(node.password, swarmPassword('s', 'sw000011'))
  assert.equal(SwarmConfigSchema.safeParse({ count: '2', firstIp: '127.5.3.1', passwordSeed: 's', loginServers: '/ip4/1.2.3.4/tcp/1/p2p/x' }).success, false)
  assert.equal(SwarmConfigSchema.safeParse({ count: '2', firstIp: '127.5.3.1', passwordSeed: 's', loginServers: '/ip4/1.2.3.4/tcp/1/p2p/x', loginLoad: true }).success, true)
  assert.equal(SwarmConfigSchema.safeParse({ count: '1001', firstIp: '127.5.3.1', passwordSeed: 's', loginServers: '/ip4/1.2.3.4/tcp/1/p2p/x', loginLoad: true }).success, false)
  assert.equal(SwarmConfigSchema.safeParse({ count: '2', firstIp: '127.5.255.254', passwordSeed: 's', loginServers: '/ip4/1.2.3.4/tcp/1/p2p/x', loginLoad: true }).success, false)
})

test('open-loop schedule: arrivals at the rate of each phase, due times exact', () => {
  const schedule = new OpenLoopSchedule([{ ratePerS: 10, durationMs: 1000 }, { ratePerS: 4, durationMs: 500 }, { ratePerS: 0, durationMs: 300 }], 1000)
  assert.deepEqual(schedule.take(0).map((a) => a.dueMs), [0])
  assert.deepEqual(schedule.take(250).map((a) => a.dueMs), [100, 200])
  const rest = schedule.take(10_000)
  assert.deepEqual(rest.map((a) => [a.phase, Math.round(a.dueMs)]), [
    [0, 300], [0, 400], [0, 500], [0, 600], [0, 700], [0, 800], [0, 900], [1, 1000], [1, 1250]
  ])
  assert.ok(schedule.done())
  assert.deepEqual(schedule.take(20_000), [])
  assert.equal(schedule.totalMs, 1800)
})

test('open-loop schedule: after a stall at most maxCatchUp arrivals are released, the rest counted missed', () => {
  const schedule = new OpenLoopSchedule([{ ratePerS: 1000, durationMs: 1000 }], 50)
  assert.equal(schedule.take(499).length, 50)
  assert.equal(schedule.missed[0], 450)
  assert.equal(schedule.take(500).length, 1)
  const released = 51 + schedule.take(2000).length
  assert.equal(released + (schedule.missed[0] ?? 0), 1000)
  assert.throws(() => new OpenLoopSchedule([{ ratePerS: -1, durationMs: 10 }]), RangeError)
  assert.throws(() => new OpenLoopSchedule([{ ratePerS: 1, durationMs: 0 }]), RangeError)
  assert.throws(() => new OpenLoopSchedule([{ ratePerS: 1, durationMs: 10 }], 0), RangeError)
})

test('load statistics: per-phase outcomes, goodput inside the phase window, admitted-login percentiles, per-second rows', () => {
  assert.equal(percentileOfSorted([], 99), null)
  assert.equal(percentileOfSorted([1, 2, 3, 4], 50), 2)
  assert.equal(percentileOfSorted([1, 2, 3, 4], 99), 4)
  assert.deepEqual(phaseWindows([1000, 500]), [{ startMs: 0, endMs: 1000 }, { startMs: 1000, endMs: 1500 }])
  const recorder = new LoadRecorder(phaseWindows([1000, 1000]))
  for (let i = 1; i <= 100; i++) {
    recorder.sent(0)
    recorder.sentAt(i * 10)
    recorder.completed(0, 'ok', 'OK', i, i * 10 + i)
  }
  // Admitted, but after its phase had ended: counted as ok, not in the phase's goodput.
  recorder.sent(0)
  recorder.completed(0, 'ok', 'OK', 500, 1200)
  recorder.sent(1)
  recorder.completed(1, 'rejected', 'OVERLOADED', 2, 1500)
  recorder.sent(1)
  recorder.completed(1, 'timeout', 'TIMEOUT', 10_000, 11_500)
  recorder.dropped(1)
  const [p0, p1] = recorder.phaseResults([
    { ratePerS: 100, concurrency: null, durationMs: 1000, missed: 0 },
    { ratePerS: 2, concurrency: null, durationMs: 1000, missed: 3 }
  ])
  assert.deepEqual([p0?.sent, p0?.ok, p0?.goodputPerS, p0?.p50Ms, p0?.p99Ms, p0?.maxMs], [101, 101, 90, 51, 100, 500])
  assert.deepEqual([p1?.sent, p1?.ok, p1?.rejected, p1?.timeouts, p1?.dropped, p1?.missed, p1?.goodputPerS], [2, 0, 1, 1, 1, 3, 0])
  assert.deepEqual(p1?.byCode, { OVERLOADED: 1, TIMEOUT: 1 })
  const rows = recorder.secondRows()
  assert.equal(rows.length, 12)
  assert.equal(rows.reduce((sum, r) => sum + r.ok, 0), 101)
  assert.equal(rows[1]?.rejected, 1)
  assert.equal(rows[11]?.timeouts, 1)
})
