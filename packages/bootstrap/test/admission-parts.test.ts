/**
 * The admission building blocks on an injected clock: AIMD limit, waiting-room schedule, replay
 * memory, token bucket and the connection gate.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { MultiaddrConnection } from '@libp2p/interface'
import { AimdLimit, CapacityEstimator, ConnectionGate, UsedSlots, WaitingRoom } from '../src/index.js'
import { TokenBucket } from '@rebound/protocol'

test('AIMD: +1 while in use and fast, x0.9 past twice the minimum latency, within its bounds', () => {
  const limit = new AimdLimit({ initial: 4, min: 1, max: 8 })
  limit.onSample(50, 4, 0)
  assert.equal(limit.current, 5)
  limit.onSample(99, 5, 10) // under 2 x 50
  assert.equal(limit.current, 6)
  limit.onSample(60, 2, 20) // inflight 2 < 6/2: an idle limit does not grow
  assert.equal(limit.current, 6)
  limit.onSample(101, 6, 30) // over 2 x 50: 6 x 0.9 = 5.4
  assert.equal(limit.current, 5)
  for (let i = 0; i < 20; i++) limit.onSample(50, 8, 40)
  assert.equal(limit.current, 8, 'capped at max')
  for (let i = 0; i < 40; i++) limit.onSample(500, 8, 50)
  assert.equal(limit.current, 1, 'floored at min')
  assert.equal(limit.minLatencyMs, 50)
})

test('AIMD: the latency floor is forgotten after two windows, so a slower machine is not pinned at 1', () => {
  const limit = new AimdLimit({ initial: 2, min: 1, max: 8 })
  limit.onSample(10, 2, 0)
  limit.onSample(40, 2, 31_000) // window rotates: the floor of 10 is still remembered
  assert.equal(limit.minLatencyMs, 10)
  limit.onSample(40, 2, 62_000) // second rotation: only the 40 ms window remains
  assert.equal(limit.minLatencyMs, 40)
})

test('waiting room: places are 1/(0.9 mu) apart, start from now when idle, and stop at the horizon', () => {
  const room = new WaitingRoom()
  const mu = 20 // logins/s: spacing 1000 / 18 = 55.6 ms
  const spacing = 1000 / (0.9 * mu)
  const due = [room.schedule(1000, mu), room.schedule(1000, mu), room.schedule(1010, mu), room.schedule(1010, mu)]
  // Due times are whole milliseconds (rounded up); the schedule keeps the exact pace underneath.
  assert.deepEqual(due, [1, 2, 3, 4].map((k) => Math.ceil(1000 + k * spacing)), 'a backlog keeps its pace whatever the arrival time')
  assert.ok(Math.abs(room.backlogMs(1010) - (1000 + 4 * spacing - 1010)) < 1e-9)
  assert.equal(room.schedule(60_000, mu), Math.ceil(60_000 + spacing), 'an idle room schedules from now')
  // Fill up to the 120 s horizon at mu = 7.3: 120 s x 6.57 places/s = 788.4 places.
  const slow = new WaitingRoom()
  let issued = 0
  while (slow.schedule(0, 7.3) !== undefined) issued++
  assert.equal(issued, 788)
  assert.equal(slow.schedule(0, 7.3), undefined, 'a refused place does not advance the schedule')
  assert.ok(slow.backlogMs(0) <= 120_000 && slow.backlogMs(0) > 120_000 - 1000 / (0.9 * 7.3))
})

test('used slots: an id is remembered until its slot expires, within a bounded memory', () => {
  const used = new UsedSlots(2)
  assert.equal(used.remember('a', 100, 0), true)
  assert.equal(used.remember('b', 200, 0), true)
  assert.equal(used.has('a'), true)
  assert.equal(used.remember('c', 300, 50), false, 'full of live slots: refuse to remember')
  assert.equal(used.remember('c', 300, 100), true, 'a expired and was forgotten')
  assert.equal(used.has('a'), false)
  assert.deepEqual([used.has('b'), used.has('c'), used.size], [true, true, 2])
})

test('token bucket: a burst, then the rate', () => {
  let nowMs = 0
  const bucket = new TokenBucket(10, 3, () => nowMs)
  assert.deepEqual([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()], [true, true, true, false])
  nowMs = 99
  assert.equal(bucket.tryTake(), false)
  nowMs = 100
  assert.equal(bucket.tryTake(), true, 'one token per 100 ms at 10/s')
  nowMs = 10_000
  assert.deepEqual([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()], [true, true, true, false], 'never more than the burst')
})

/** Just enough of a MultiaddrConnection for the gate: a status and a close event. */
function fakeConnection (): MultiaddrConnection & { close: () => void } {
  const target = new EventTarget() as EventTarget & { status: string, close: () => void }
  target.status = 'open'
  target.close = () => {
    target.status = 'closed'
    target.dispatchEvent(new Event('close'))
  }
  return target as unknown as MultiaddrConnection & { close: () => void }
}

/** Timers on the fake clock: run every timer due by `nowMs`. */
function fakeTimers (clock: () => number): { schedule: (fn: () => void, ms: number) => () => void, run: () => void } {
  const timers = new Set<{ atMs: number, fn: () => void }>()
  return {
    schedule: (fn, ms) => {
      const timer = { atMs: clock() + ms, fn }
      timers.add(timer)
      return () => { timers.delete(timer) }
    },
    run: () => {
      for (const timer of [...timers].sort((a, b) => a.atMs - b.atMs)) {
        if (timer.atMs > clock() || !timers.has(timer)) continue
        timers.delete(timer)
        timer.fn()
      }
    }
  }
}

test('connection gate: over the rate or the pending cap a connection is held in order, refused only when the hold is full or too long', async () => {
  let nowMs = 0
  const refused: string[] = []
  let admitted = 0
  const timers = fakeTimers(() => nowMs)
  const gate = new ConnectionGate({ maxNewConnectionsPerS: 10, maxPendingConnections: 3, burst: 4, maxHeld: 2, maxHoldMs: 1000 },
    { clock: () => nowMs, onRefused: (r) => refused.push(r), onAdmitted: () => { admitted++ }, schedule: timers.schedule })
  const gater = gate.gater()
  const conns = Array.from({ length: 6 }, fakeConnection)
  const decisions = conns.map((c) => gater.denyInboundConnection?.(c))
  assert.deepEqual(decisions.slice(0, 3), [false, false, false])
  assert.ok(decisions[3] instanceof Promise && decisions[4] instanceof Promise, 'over the pending cap: held')
  assert.equal(decisions[5], true, 'the hold queue is full: refused at once')
  assert.deepEqual([refused, gate.pendingCount, gate.heldCount], [['pending'], 3, 2])

  conns[0]?.close() // a handshake failed or timed out: the oldest held one goes in (token 4)
  assert.equal(await decisions[3], false)
  void gater.denyInboundUpgradedConnection?.({} as never, conns[1] as MultiaddrConnection) // a handshake finished
  assert.equal(gate.heldCount, 1, 'a pending place but no token: still held')
  nowMs = 100
  timers.run() // the next token is due
  assert.equal(await decisions[4], false)
  assert.deepEqual([gate.pendingCount, gate.heldCount, admitted], [3, 0, 5])

  // Held too long: refused for what blocked it; a held connection its client closed leaves quietly.
  const late = gater.denyInboundConnection?.(fakeConnection())
  const quitter = fakeConnection()
  const gone = gater.denyInboundConnection?.(quitter)
  quitter.close()
  assert.equal(await gone, true)
  nowMs = 1100
  timers.run()
  assert.equal(await late, true)
  assert.deepEqual(refused, ['pending', 'pending'])
})

test('capacity is the completion rate while work waits; idle gaps and lone fast hashes do not move it', () => {
  const mu = new CapacityEstimator(30)
  const near = (value: number, expected: number): boolean => Math.abs(value - expected) < 1e-9
  assert.ok(near(mu.perSecond, 30))
  // Idle: completions 2 s apart with nobody waiting measure the arrivals, not the server.
  for (let t = 0; t < 20_000; t += 2000) mu.onCompletion(t, false)
  assert.ok(near(mu.perSecond, 30))
  // Saturated: two hashes in parallel finishing in pairs every 100 ms, i.e. 20 per second.
  let t = 100_000
  for (let i = 0; i < 400; i++) {
    t += i % 2 === 0 ? 100 : 0
    mu.onCompletion(t, true)
  }
  assert.ok(Math.abs(mu.perSecond - 20) < 1.5, `converges on the delivered rate, got ${mu.perSecond}`)
  // The gap that spans an idle spell (saturated now, idle before) is not a sample.
  mu.onCompletion(t + 60_000, false)
  mu.onCompletion(t + 120_000, true)
  assert.ok(Math.abs(mu.perSecond - 20) < 1.5)
  // A starved spell (2 per second) does not pull it under half the start-up estimate.
  for (let i = 0; i < 400; i++) mu.onCompletion(t + 120_000 + (i + 1) * 500, true)
  assert.ok(near(mu.perSecond, 15), `floored at 30 / 2, got ${mu.perSecond}`)
})
