import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setNewest } from '../src/bounded.js'

test('setNewest: the key becomes the newest entry and the oldest beyond max are dropped', () => {
  const map = new Map<string, number>()
  for (const [i, key] of ['a', 'b', 'c'].entries()) setNewest(map, key, i, 3)
  assert.deepEqual([...map.keys()], ['a', 'b', 'c'])
  setNewest(map, 'a', 10, 3)
  assert.deepEqual([...map], [['b', 1], ['c', 2], ['a', 10]], 'a set again moves to the end')
  setNewest(map, 'd', 3, 3)
  assert.deepEqual([...map.keys()], ['c', 'a', 'd'], 'b, now the oldest, is dropped')
  setNewest(map, 'e', 4, 1)
  assert.deepEqual([...map.keys()], ['e'], 'a smaller bound drops every older entry')
})
