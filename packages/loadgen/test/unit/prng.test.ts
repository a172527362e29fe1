import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_SEED, Prng, createPrng } from '../../src/prng.js'

const draws = (prng: Prng, n: number): number[] => Array.from({ length: n }, () => prng.uint32())

test('golden vector: seed 42 gives the same numbers in every version (replays depend on it)', () => {
  assert.deepEqual(draws(createPrng(42), 3), [1998842318, 2004479809, 2971421727])
})

test('same seed and stream give the same sequence; another seed or stream does not', () => {
  assert.deepEqual(draws(createPrng(7, 'a'), 20), draws(createPrng(7, 'a'), 20))
  assert.notDeepEqual(draws(createPrng(7, 'a'), 20), draws(createPrng(8, 'a'), 20))
  assert.notDeepEqual(draws(createPrng(7, 'a'), 20), draws(createPrng(7, 'b'), 20))
})

test('forked streams are independent: extra draws in one never shift another', () => {
  const root1 = createPrng(99)
  const kills1 = root1.fork('kills')
  const delays1 = root1.fork('delays')
  draws(kills1, 5)
  const root2 = createPrng(99)
  const kills2 = root2.fork('kills')
  draws(kills2, 500)
  draws(root2, 50)
  const delays2 = root2.fork('delays')
  assert.deepEqual(draws(delays1, 10), draws(delays2, 10))
  assert.equal(root1.fork('kills').stream, 'root/kills')
})

test('next() is in [0, 1) and int() covers both ends, uniformly enough', () => {
  const prng = createPrng(1)
  const counts = new Map<number, number>()
  const drawsN = 60_000
  for (let i = 0; i < drawsN; i++) {
    const x = prng.next()
    assert.ok(x >= 0 && x < 1)
    const k = prng.int(-2, 3)
    counts.set(k, (counts.get(k) ?? 0) + 1)
  }
  assert.deepEqual([...counts.keys()].sort((a, b) => a - b), [-2, -1, 0, 1, 2, 3])
  for (const count of counts.values()) assert.ok(Math.abs(count - drawsN / 6) < drawsN / 6 * 0.05, `count ${count}`)
  assert.equal(prng.int(5, 5), 5)
})

test('int() refuses bad ranges, the constructor bad seeds', () => {
  const prng = createPrng(1)
  assert.throws(() => prng.int(3, 2), RangeError)
  assert.throws(() => prng.int(0.5, 2), RangeError)
  assert.throws(() => prng.int(0, 2 ** 33), RangeError)
  assert.throws(() => createPrng(-1), RangeError)
  assert.throws(() => createPrng(MAX_SEED + 1), RangeError)
  assert.throws(() => createPrng(1.5), RangeError)
  assert.doesNotThrow(() => createPrng(MAX_SEED))
})

test('shuffle is a deterministic permutation that leaves its input alone; pick and sample', () => {
  const items = Array.from({ length: 50 }, (_, i) => i)
  const copy = items.slice()
  const a = createPrng(5).shuffle(items)
  assert.deepEqual(items, copy)
  assert.deepEqual(a, createPrng(5).shuffle(items))
  assert.notDeepEqual(a, items)
  assert.deepEqual(a.slice().sort((x, y) => x - y), items)
  const prng = createPrng(5)
  assert.ok(items.includes(prng.pick(items)))
  assert.throws(() => prng.pick([]), RangeError)
  const sample = prng.sample(items, 10)
  assert.equal(new Set(sample).size, 10)
  assert.equal(prng.sample([1, 2], 5).length, 2)
})
