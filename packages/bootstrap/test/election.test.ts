/**
 * Unit: the election policy on an injected clock and seeded randomness. Sustained thresholds, the
 * promotion budget, the choice of the best candidates, "not now" hints, demotion order, and that
 * operators are never demoted.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { CandidateWindow, TOP_SHARE, candidateScore } from '../src/election/candidate-window.js'
import { capacityWanted } from '../src/election/deficit.js'
import { LoadHistory, MAX_SAMPLES } from '../src/election/load-history.js'
import {
  DEMOTE_COOLDOWN_MS, DEMOTE_WINDOW_MS, ElectionPolicy, MAX_PROMOTION_BURST, PROMOTE_WINDOW_MS, RETRY_IDLE_MS, RETRY_NEEDED_MS,
  type ElectedLoad, type ElectionInit
} from '../src/election/policy.js'
import type { SupernodeLoad } from '../src/store.js'

const SEED = Number(process.env.TEST_SEED ?? 4004)

/** mulberry32: one seed drives every jitter of a test. */
function seeded (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function harness (over: Partial<ElectionInit> = {}): { policy: ElectionPolicy, advance: (ms: number) => void, now: () => number } {
  let nowMs = 1_000_000
  const policy = new ElectionPolicy({
    minSupernodes: 2, promoteAbove: 0.7, demoteBelow: 0.4, promotionRatePerS: 2, admissionControl: true, ...over
  }, { clock: () => nowMs, random: seeded(SEED) })
  return { policy, advance: (ms) => { nowMs += ms }, now: () => nowMs }
}

/** `count` supernodes of capacity 100 holding `clients` in all. */
const load = (count: number, clients: number, operators = count): SupernodeLoad => ({ count, operators, clients, capacity: count * 100 })

/** Feed the same reading every 500 ms for `ms`. */
function hold (h: ReturnType<typeof harness>, reading: SupernodeLoad, ms: number): void {
  for (let t = 0; t <= ms; t += 500) {
    h.policy.observe(reading)
    if (t < ms) h.advance(500)
  }
}

const offer = (peerId: string, capacity = 50, uptimeMs = 600_000): { peerId: string, capacity: number, uptimeMs: number } => ({ peerId, capacity, uptimeMs })

describe('election policy', () => {
  test('with no supernode live, a candidate is promoted at once, up to the minimum', () => {
    const h = harness()
    const first = h.policy.decide(offer('A'), load(0, 0))
    assert.deepEqual(first, { kind: 'promote', deficit: 2 })
    assert.equal(h.policy.decide(offer('B'), load(1, 0, 0)).kind, 'promote')
    const third = h.policy.decide(offer('C'), load(2, 0, 0))
    assert.equal(third.kind, 'not-now')
    assert.equal(third.kind === 'not-now' && third.reason, 'no-need')
  })

  test('utilisation must stay above the threshold for the promote window: one reading is not enough', () => {
    const h = harness()
    hold(h, load(4, 200), 10_000) // 0.5 for 10 s
    assert.equal(h.policy.decide(offer('A'), load(4, 390)).kind, 'not-now', 'a spike to 0.975 does not promote')
    hold(h, load(4, 390), PROMOTE_WINDOW_MS - 1000)
    assert.equal(h.policy.decide(offer('A'), load(4, 390)).kind, 'not-now', 'not yet sustained for the whole window')
    hold(h, load(4, 390), 1500)
    const verdict = h.policy.decide(offer('A'), load(4, 390))
    // 390 clients at the 0.55 target need 709 of capacity: 309 more, 4 supernodes of 100.
    assert.deepEqual(verdict, { kind: 'promote', deficit: 4 })
    // A dip below the threshold inside the window breaks "sustained".
    const g = harness()
    hold(g, load(4, 390), 3000)
    hold(g, load(4, 250), 500)
    hold(g, load(4, 390), 3000)
    assert.equal(g.policy.decide(offer('A'), load(4, 390)).kind, 'not-now')
  })

  test('each promotion counts: the deficit shrinks as the live set grows', () => {
    const h = harness()
    hold(h, load(4, 390), PROMOTE_WINDOW_MS + 1000)
    const capacities = [400, 500, 600, 700, 800]
    const kinds = capacities.map((capacity, i) => h.policy.decide(offer(`P${i}`, 100), { count: 4 + i, operators: 4, clients: 390, capacity }).kind)
    // 390 / 0.55 = 709: at 700 one more, at 800 none.
    assert.deepEqual(kinds, ['promote', 'promote', 'promote', 'promote', 'not-now'])
  })

  test('after a mass loss the registry provisions for the clients the dead supernodes held', () => {
    const h = harness({ minSupernodes: 1 })
    hold(h, load(10, 500), 20_000) // 10 x 100, half used
    h.advance(1000)
    // 7 of 10 died: 3 left, 150 clients on them, 350 orphans on their way back.
    const deficit = h.policy.deficit(load(3, 150))
    // 500 clients at 0.55 need 910 of capacity, 300 live: 7 supernodes of 100.
    assert.equal(deficit, 7)
    assert.equal(capacityWanted({
      load: load(8, 400), sustained: undefined, recent: { minClients: 0, maxClients: 500, maxCapacity: 1000 },
      promoteAbove: 0.7, targetUtilisation: 0.55
    }), 0, 'a capacity drop of under 25% is left to the sustained rule')
  })

  test('the budget: a burst, then --promotion-rate per second; the others are told to come back in 1-5 s', () => {
    const h = harness({ minSupernodes: 100, promotionRatePerS: 2 })
    const verdicts = Array.from({ length: 20 }, (_, i) => h.policy.decide(offer(`C${i}`), load(0, 0)))
    assert.equal(verdicts.filter((v) => v.kind === 'promote').length, MAX_PROMOTION_BURST)
    for (const v of verdicts.slice(MAX_PROMOTION_BURST)) {
      assert.equal(v.kind === 'not-now' && v.reason, 'budget')
      assert.ok(v.kind === 'not-now' && v.retryAfterMs >= RETRY_NEEDED_MS[0] && v.retryAfterMs <= RETRY_NEEDED_MS[1], JSON.stringify(v))
    }
    h.advance(1000)
    const next = Array.from({ length: 5 }, (_, i) => h.policy.decide(offer(`D${i}`), load(0, 0)))
    assert.equal(next.filter((v) => v.kind === 'promote').length, 2, '2 a second')
  })

  test('only candidates among the best seen are promoted while the need is small', () => {
    const h = harness({ minSupernodes: 3 })
    // Live set at its minimum and idle: candidates are only remembered (and told 30-60 s).
    for (let i = 0; i < 12; i++) {
      const v = h.policy.decide(offer(`W${i}`, 50, (i + 1) * 60_000), load(3, 0))
      assert.equal(v.kind === 'not-now' && v.reason, 'no-need')
      assert.ok(v.kind === 'not-now' && v.retryAfterMs >= RETRY_IDLE_MS[0] && v.retryAfterMs <= RETRY_IDLE_MS[1])
    }
    // One supernode dies: a need of 1. A weak candidate (fresh, small) waits; a strong one is promoted.
    const weak = h.policy.decide(offer('weak', 10, 5000), load(2, 0))
    assert.equal(weak.kind === 'not-now' && weak.reason, 'not-best')
    assert.ok(weak.kind === 'not-now' && weak.retryAfterMs <= RETRY_NEEDED_MS[1], 'needed capacity: ask again soon')
    assert.equal(h.policy.decide(offer('W11', 50, 12 * 60_000), load(2, 0)).kind, 'promote')
  })

  test('the naive profile promotes whoever asks while there is need, and its hints are fixed', () => {
    const h = harness({ admissionControl: false, minSupernodes: 50 })
    const verdicts = Array.from({ length: 30 }, (_, i) => h.policy.decide(offer(`N${i}`, 1, 0), load(i, 0, 0)))
    assert.ok(verdicts.every((v) => v.kind === 'promote'))
    const idle = harness({ admissionControl: false })
    const v = idle.policy.decide(offer('X'), load(5, 0))
    assert.deepEqual(v, { kind: 'not-now', retryAfterMs: RETRY_IDLE_MS[0], reason: 'no-need', deficit: 0 })
  })

  describe('demotion', () => {
    const least: ElectedLoad = { peerId: 'E1', clients: 0, capacity: 100 }
    const query = (peerId: string, reading: SupernodeLoad, last?: number): Parameters<ElectionPolicy['shouldDemote']>[0] => ({
      peerId, load: reading, leastLoadedElected: least, lastDemotionMs: () => last
    })

    test('only when utilisation stayed low for the demote window, and only the least loaded elected one', () => {
      const h = harness()
      const idle = load(6, 100, 2) // 2 operators + 4 elected, 100 clients on 600: 0.17
      hold(h, idle, DEMOTE_WINDOW_MS - 1000)
      assert.equal(h.policy.shouldDemote(query('E1', idle)), false, 'not yet sustained')
      hold(h, idle, 1500)
      assert.equal(h.policy.shouldDemote(query('E2', idle)), false, 'not the least loaded')
      assert.equal(h.policy.shouldDemote(query('E1', idle)), true)
      assert.equal(h.policy.shouldDemote(query('E1', idle, h.now() - DEMOTE_COOLDOWN_MS + 1)), false, 'one at a time in the cluster')
      assert.equal(h.policy.shouldDemote(query('E1', idle, h.now() - DEMOTE_COOLDOWN_MS)), true)
    })

    test('never below the minimum, never above the target without it, never after a busy spell', () => {
      const h = harness({ minSupernodes: 2 })
      hold(h, load(2, 10, 1), DEMOTE_WINDOW_MS + 1000)
      assert.equal(h.policy.shouldDemote(query('E1', load(2, 10, 1))), false, 'at the minimum')
      const g = harness({ minSupernodes: 1 })
      // 3 x 100 holding 110: 0.37 now, but 110 on 200 would be 0.55 or more: keep it.
      hold(g, load(3, 111, 1), DEMOTE_WINDOW_MS + 1000)
      assert.equal(g.policy.shouldDemote(query('E1', load(3, 111, 1))), false)
      const b = harness()
      hold(b, load(6, 300), 10_000) // 0.5
      hold(b, load(6, 50), DEMOTE_WINDOW_MS - 5000)
      assert.equal(b.policy.shouldDemote(query('E1', load(6, 50))), false, 'the window still holds a busy reading')
    })

    test('operators are never demoted: the only candidate is an elected one', () => {
      const h = harness({ minSupernodes: 0 })
      const idle = load(5, 0, 5)
      hold(h, idle, DEMOTE_WINDOW_MS + 1000)
      assert.equal(h.policy.shouldDemote({ peerId: 'OP1', load: idle, leastLoadedElected: undefined, lastDemotionMs: () => undefined }), false)
    })
  })
})

describe('election parts', () => {
  test('the load history is bounded and needs a full window before a verdict', () => {
    const history = new LoadHistory()
    for (let i = 0; i < MAX_SAMPLES * 3; i++) history.record(i * 300, load(1, i % 7))
    const end = (MAX_SAMPLES * 3 - 1) * 300
    assert.equal(history.sustained(MAX_SAMPLES * 300 + 1000, end), undefined, 'older samples are gone')
    assert.deepEqual(history.sustained(3000, end), { minClients: 0, maxClients: 6, maxCapacity: 100 })
    const young = new LoadHistory()
    young.record(0, load(1, 5))
    young.record(100, load(1, 9)) // within the spacing: updates the newest sample
    assert.deepEqual(young.sustained(0, 100), { minClients: 9, maxClients: 9, maxCapacity: 100 })
    assert.equal(young.sustained(1000, 100), undefined)
  })

  test('candidate scores: capacity x capped uptime; ties are not starved; the window is bounded', () => {
    assert.equal(candidateScore({ capacity: 10, uptimeMs: 0 }), 10)
    assert.equal(candidateScore({ capacity: 10, uptimeMs: 1e12 }), candidateScore({ capacity: 10, uptimeMs: 30 * 60_000 }))
    const window = new CandidateWindow()
    for (let i = 0; i < 8; i++) window.record({ peerId: `T${i}`, capacity: 5, uptimeMs: 1000 }, 0)
    assert.ok(window.isAmongBest('T7', 1), 'equal peers all rank first')
    for (let i = 0; i < 400; i++) window.record({ peerId: `P${i}`, capacity: i + 1, uptimeMs: 1000 }, 1)
    assert.equal(window.size, 256)
    assert.ok(window.isAmongBest('P399', 1))
    assert.equal(window.isAmongBest('P399', 1) && !window.isAmongBest('P200', 1), true)
    assert.ok(window.isAmongBest(`P${399 - Math.ceil(TOP_SHARE * 256) + 1}`, 1), 'the top quarter')
    window.record({ peerId: 'late', capacity: 1, uptimeMs: 0 }, 200_000)
    assert.equal(window.size, 1, 'scores older than the window are forgotten')
  })
})
