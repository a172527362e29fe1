import { test } from 'node:test'
import assert from 'node:assert/strict'
import { firstAttachAfter, nearestRankPercentile, recoveryFigures } from '../../src/recovery.js'
import { patchTuesday } from '../../src/scenarios/patch-tuesday.js'
import type { RunFacts } from '../../src/scenarios/scenario.js'
import { RunOptionsSchema } from '../../src/options.js'

test('nearest-rank percentiles of a fully recovered set', () => {
  const values = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5]
  assert.equal(nearestRankPercentile(values, 50), 5)
  assert.equal(nearestRankPercentile(values, 90), 9)
  assert.equal(nearestRankPercentile(values, 99), 10)
  assert.equal(nearestRankPercentile(values, 100), 10)
  assert.equal(nearestRankPercentile(values, 1), 1)
  assert.equal(nearestRankPercentile([42], 50), 42)
  assert.equal(nearestRankPercentile([42], 100), 42)
})

test('peers that never came back count as never: the percentile is null once it needs them', () => {
  const values = [100, null, 300, 200]
  assert.equal(nearestRankPercentile(values, 50), 200)
  assert.equal(nearestRankPercentile(values, 75), 300)
  assert.equal(nearestRankPercentile(values, 90), null)
  assert.equal(nearestRankPercentile(values, 100), null)
  assert.equal(nearestRankPercentile([null, null], 50), null)
  // 99 of 100 back: T99 is reached, T100 is not.
  const ninetyNine = [...Array.from({ length: 99 }, (_, i) => i + 1), null]
  assert.equal(nearestRankPercentile(ninetyNine, 99), 99)
  assert.equal(nearestRankPercentile(ninetyNine, 100), null)
})

test('an empty killed set has nothing to wait for; bad percentiles are refused', () => {
  assert.equal(nearestRankPercentile([], 50), 0)
  assert.equal(nearestRankPercentile([], 100), 0)
  assert.throws(() => nearestRankPercentile([1], 0), RangeError)
  assert.throws(() => nearestRankPercentile([1], 101), RangeError)
})

test('firstAttachAfter takes the first attach strictly after the kill', () => {
  assert.equal(firstAttachAfter([10, 20, 30], 15), 20)
  assert.equal(firstAttachAfter([10, 20, 30], 20), 30)
  assert.equal(firstAttachAfter([10, 20, 30], 30), null)
  assert.equal(firstAttachAfter([], 0), null)
})

test('recoveryFigures counts and summarises', () => {
  assert.deepEqual(recoveryFigures([300, 100, null, 200]), { killed: 4, reattached: 3, t50Ms: 200, t90Ms: null, t99Ms: null, t100Ms: null })
  assert.deepEqual(recoveryFigures([5, 1]), { killed: 2, reattached: 2, t50Ms: 1, t90Ms: 5, t99Ms: 5, t100Ms: 5 })
})

function facts (over: Partial<RunFacts> & { t100Ms?: number | null, reattached?: number }): RunFacts {
  const options = RunOptionsSchema.parse({ rebootWindowMs: '5000' })
  return {
    options,
    outcome: {
      recovery: { killed: 5, reattached: over.reattached ?? 5, t50Ms: 1, t90Ms: 2, t99Ms: 3, t100Ms: over.t100Ms === undefined ? 4000 : over.t100Ms },
      kills: []
    },
    messages: over.messages ?? { sent: 100, delivered: 95, counted: 100 },
    unexpectedExits: over.unexpectedExits ?? 0
  }
}

const verdicts = (f: RunFacts): Record<string, boolean> => Object.fromEntries(patchTuesday.objectives(f).map((o) => [o.name, o.ok]))

test('patch-tuesday objectives', () => {
  assert.deepEqual(verdicts(facts({})), { 'all-killed-reattached': true, 't100-ms': true, 'no-unexpected-exits': true, 'message-delivery-ratio': true })
  const t100 = patchTuesday.objectives(facts({})).find((o) => o.name === 't100-ms')
  assert.equal(t100?.limit, 35_000)
  assert.equal(verdicts(facts({ reattached: 4, t100Ms: null }))['all-killed-reattached'], false)
  assert.equal(verdicts(facts({ reattached: 4, t100Ms: null }))['t100-ms'], false)
  assert.equal(verdicts(facts({ t100Ms: 35_001 }))['t100-ms'], false)
  assert.equal(verdicts(facts({ unexpectedExits: 1 }))['no-unexpected-exits'], false)
  assert.equal(verdicts(facts({ messages: { sent: 100, delivered: 80, counted: 100 } }))['message-delivery-ratio'], false)
  // Failures excluded from the ratio (recipient offline) leave 80 of 85 counted: above 0.9.
  assert.equal(verdicts(facts({ messages: { sent: 100, delivered: 80, counted: 85 } }))['message-delivery-ratio'], true)
  // Nothing sent: nothing to judge.
  assert.equal(verdicts(facts({ messages: { sent: 0, delivered: 0, counted: 0 } }))['message-delivery-ratio'], true)
})
