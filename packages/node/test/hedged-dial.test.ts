import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { FramedStream, SupernodeEntry } from '@rebound/protocol'
import { hedgedDial, type Dial } from '../src/client/hedged-dial.js'

/** Only the field hedgedDial looks at: which supernode. */
function entries (...ids: string[]): SupernodeEntry[] {
  return ids.map((peerId) => ({ peerId }) as unknown as SupernodeEntry)
}

function from (list: SupernodeEntry[]): () => SupernodeEntry | undefined {
  const queue = [...list]
  return () => queue.shift()
}

/** A stream that records whether it was aborted (a late winner's is). */
function stream (): FramedStream & { aborted: boolean } {
  const s = { aborted: false, abort () { s.aborted = true } }
  return s as unknown as FramedStream & { aborted: boolean }
}

/**
 * Dials by plan: `ms` until it settles, `fail` to reject, `hang` never settling on its own (a
 * frozen supernode: only the signal ends it). Records when each started and whether it was aborted.
 */
function plannedDial (plan: Record<string, { ms?: number, fail?: boolean, hang?: boolean }>): Dial & { started: Map<string, number>, aborted: Set<string>, t0: number } {
  const t0 = Date.now()
  const started = new Map<string, number>()
  const aborted = new Set<string>()
  const dial = async (entry: SupernodeEntry, signal: AbortSignal): Promise<FramedStream> => {
    started.set(entry.peerId, Date.now() - t0)
    const p = plan[entry.peerId] ?? {}
    return await new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => { aborted.add(entry.peerId); reject(new Error('aborted')) }, { once: true })
      if (p.hang === true) return
      setTimeout(() => { p.fail === true ? reject(new Error('refused')) : resolve(stream()) }, p.ms ?? 0)
    })
  }
  return Object.assign(dial, { started, aborted, t0 })
}

test('hedged dial: a frozen first choice costs one hedge delay, and is aborted when another wins', async () => {
  const dial = plannedDial({ frozen: { hang: true }, healthy: { ms: 20 } })
  const result = await hedgedDial(from(entries('frozen', 'healthy', 'spare')), dial, { timeoutMs: 5000, hedgeAfterMs: 100 })
  assert.equal(result.winner?.entry.peerId, 'healthy')
  assert.deepEqual(result.abandoned.map((e) => e.peerId), ['frozen'])
  assert.deepEqual(result.failed, [])
  assert.ok(dial.aborted.has('frozen'), 'the frozen one\'s dial is aborted')
  assert.ok((dial.started.get('healthy') ?? 0) >= 90, 'the second dial waits for the hedge delay')
  assert.equal(dial.started.has('spare'), false, 'no third dial once one won')
})

test('hedged dial: a slow healthy first choice is not abandoned; it wins over the hedge that started later', async () => {
  const dial = plannedDial({ slow: { ms: 250 }, slower: { ms: 1000 } })
  const result = await hedgedDial(from(entries('slow', 'slower')), dial, { timeoutMs: 5000, hedgeAfterMs: 100 })
  assert.equal(result.winner?.entry.peerId, 'slow')
  assert.deepEqual(result.abandoned.map((e) => e.peerId), ['slower'])
  assert.ok(dial.aborted.has('slower'))
})

test('hedged dial: a refused dial makes room at once, without waiting for the hedge delay', async () => {
  const dial = plannedDial({ refuses: { fail: true }, ok: { ms: 10 } })
  const result = await hedgedDial(from(entries('refuses', 'ok')), dial, { timeoutMs: 5000, hedgeAfterMs: 10_000 })
  assert.equal(result.winner?.entry.peerId, 'ok')
  assert.deepEqual(result.failed.map((f) => f.entry.peerId), ['refuses'])
  assert.ok((dial.started.get('ok') ?? Infinity) < 1000)
})

test('hedged dial: at most maxInFlight at once, each bounded by timeoutMs, and every failure reported when none wins', async () => {
  const dial = plannedDial({ a: { hang: true }, b: { hang: true }, c: { fail: true } })
  const result = await hedgedDial(from(entries('a', 'b', 'c')), dial, { timeoutMs: 300, hedgeAfterMs: 50, maxInFlight: 2 })
  assert.equal(result.winner, undefined)
  assert.deepEqual(result.abandoned, [])
  assert.deepEqual(result.failed.map((f) => f.entry.peerId).sort(), ['a', 'b', 'c'])
  // c could start only when a timed out (300 ms): two were in flight until then.
  assert.ok((dial.started.get('c') ?? 0) >= 280, `c started at ${dial.started.get('c')} ms`)
})

test('hedged dial: nothing to dial is no winner and no failure', async () => {
  const result = await hedgedDial(() => undefined, plannedDial({}), { timeoutMs: 100 })
  assert.deepEqual(result, { failed: [], abandoned: [] })
})

test('hedged dial: a dial that finishes after another won has its stream aborted', async () => {
  const late = stream()
  let calls = 0
  const dial: Dial = async () => {
    calls++
    if (calls === 1) return await new Promise((resolve) => setTimeout(() => { resolve(late) }, 150))
    return stream()
  }
  // The first dial ignores its abort signal (as a dial in its last step may), so it settles later.
  const result = await hedgedDial(from(entries('x', 'y')), dial, { timeoutMs: 5000, hedgeAfterMs: 50 })
  assert.equal(result.winner?.entry.peerId, 'y')
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.equal(late.aborted, true)
})
