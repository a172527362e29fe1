import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ReboundError } from '@rebound/protocol'
import { HashGate, hashPassword, verifyPassword } from '../src/index.js'

function deferred (): { promise: Promise<void>, resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => { resolve = r })
  return { promise, resolve }
}

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p
    return undefined
  } catch (err) {
    return err instanceof ReboundError ? err.code : String(err)
  }
}

test('jobs beyond the concurrency wait; one whose deadline passed while waiting never runs', async () => {
  let nowMs = 0
  const gate = new HashGate({ concurrency: 1, maxQueued: 10, retryAfterMs: 500 }, () => nowMs)
  const first = deferred()
  const ran: string[] = []
  const a = gate.run(100, async () => { ran.push('a'); await first.promise; return 'a' })
  const b = gate.run(50, async () => { ran.push('b'); return 'b' })
  const c = gate.run(1000, async () => { ran.push('c'); return 'c' })
  assert.equal(gate.queued, 2)
  nowMs = 60 // b's deadline passes while a holds the only slot
  first.resolve()
  assert.equal(await a, 'a')
  assert.equal(await codeOf(b), 'TIMEOUT')
  assert.equal(await c, 'c')
  assert.deepEqual(ran, ['a', 'c'])
  assert.equal(gate.queued, 0)
  // The slot was given back: a new job runs at once.
  assert.equal(await gate.run(1000, async () => 'd'), 'd')
})

test('a full queue refuses at once with OVERLOADED and a retry hint', async () => {
  const gate = new HashGate({ concurrency: 1, maxQueued: 1, retryAfterMs: 500 }, () => 0)
  const hold = deferred()
  const a = gate.run(10, async () => { await hold.promise })
  const b = gate.run(10, async () => {})
  await assert.rejects(gate.run(10, async () => {}), (err: unknown) =>
    err instanceof ReboundError && err.code === 'OVERLOADED' && err.meta.retryAfterMs === 500)
  hold.resolve()
  await a
  await b
})

test('a failing job frees its slot', async () => {
  const gate = new HashGate({ concurrency: 1, maxQueued: 1, retryAfterMs: 500 }, () => 0)
  await assert.rejects(gate.run(10, async () => { throw new Error('boom') }), /boom/)
  assert.equal(await gate.run(10, async () => 7), 7)
})

test('scrypt hashes verify for the right password only, with the stored cost', async () => {
  const stored = await hashPassword('correct horse', 1024)
  assert.equal(stored.salt.byteLength, 16)
  assert.equal(stored.hash.byteLength, 32)
  assert.equal(await verifyPassword('correct horse', stored), true)
  assert.equal(await verifyPassword('correct horsf', stored), false)
  assert.equal(await verifyPassword('correct horse', { ...stored, scryptN: 2048 }), false)
  const again = await hashPassword('correct horse', 1024)
  assert.notDeepEqual(again.salt, stored.salt, 'every hash gets its own salt')
})
