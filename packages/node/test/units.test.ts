import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, writeFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ReboundError, SupernodeEntry } from '@rebound/protocol'
import { Backoff, ClientStateFile, Inbox, NodeConfigSchema, OPTIONS, attachOrder, rendezvousOwners } from '../src/index.js'
import { keysWithNewOwners } from '../src/hrw.js'
import { BALANCE_TOLERANCE, shouldSendOn } from '../src/supernode/balance.js'
import { MIN_ORPHAN_WINDOW_MS, orphanWaitMs, orphanWindowMs } from '../src/supernode/orphan-window.js'
import { PublishQueue } from '../src/supernode/publish-queue.js'
import { SilenceBound, isSilent } from '../src/client/silence-watch.js'
import { createLogger, parseConfig } from '@rebound/protocol'

function seeded (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = Math.imul(s ^ (s >>> 15), s | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

test('full-jitter backoff stays within U(0, min(cap, base*2^n)) and honours retryAfterMs', () => {
  const b = new Backoff(seeded(1), 1000, 30_000)
  const ceilings = [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
  for (const ceiling of ceilings) {
    const wait = b.fail()
    assert.ok(wait >= 0 && wait < ceiling, `wait ${wait} must be below ${ceiling}`)
  }
  assert.ok(new Backoff(() => 0).fail(7000) === 7000)
  b.reset()
  assert.equal(b.attempts, 0)
  assert.ok(b.fail() < 1000)
})

test('rendezvous owners: stable, k distinct, and only keys of a removed node move', () => {
  const nodes = ['sn-a', 'sn-b', 'sn-c', 'sn-d', 'sn-e']
  const owners = rendezvousOwners('alice', nodes, 3)
  assert.equal(new Set(owners).size, 3)
  assert.deepEqual(rendezvousOwners('alice', [...nodes].reverse(), 3), owners)
  let moved = 0
  for (let i = 0; i < 500; i++) {
    const before = rendezvousOwners(`u${i}`, nodes, 1)[0]
    const after = rendezvousOwners(`u${i}`, nodes.filter((n) => n !== 'sn-c'), 1)[0]
    if (before !== 'sn-c') assert.equal(after, before, `u${i} moved although its owner stayed`)
    else moved++
  }
  assert.ok(moved > 50 && moved < 150, `about a fifth of keys were on sn-c, got ${moved}`)
})

test('balance at admission: a newcomer is sent on only from well above the mean, and only to one below it', () => {
  const entry = (peerId: string, clients: number, capacity = 30): SupernodeEntry => ({ peerId, addrs: ['/ip4/127.0.0.1/tcp/1'], class: 'operator', clients, capacity, certificate: 'a.b' })
  assert.equal(shouldSendOn({ clients: 0, capacity: 30, others: [] }), false, 'alone: take it')
  assert.equal(shouldSendOn({ clients: 0, capacity: 30, others: [entry('b', 0)] }), false, 'an empty cluster: take it')
  // 18 here, 10 there: mean 28/60 = 0.47; taking one more makes 19/30 = 0.63 > 1.15 x 0.47.
  assert.equal(shouldSendOn({ clients: 18, capacity: 30, others: [entry('b', 10)] }), true)
  assert.equal(shouldSendOn({ clients: 11, capacity: 30, others: [entry('b', 10)] }), false, 'within the tolerance')
  // Everyone else as loaded: no one to send it to.
  assert.equal(shouldSendOn({ clients: 18, capacity: 30, others: [entry('b', 18), entry('c', 18)] }), false)
  // Capacity counts: 18 of 100 is light next to 10 of 30.
  assert.equal(shouldSendOn({ clients: 18, capacity: 100, others: [entry('b', 10)] }), false)
  assert.ok(BALANCE_TOLERANCE < 1.3, 'tighter than the 1.3 max/mean target')
})

test('keys with new owners: only the keys a joined or departed node held, and none for an unchanged set', () => {
  const keys = Array.from({ length: 300 }, (_, i) => `u${i}`)
  const before = ['a', 'b', 'c', 'd', 'e', 'f']
  assert.deepEqual(keysWithNewOwners(keys, before, [...before].reverse(), 3), [], 'same set, any order')
  const gone = keysWithNewOwners(keys, before, before.filter((n) => n !== 'c'), 3)
  assert.deepEqual(gone, keys.filter((k) => rendezvousOwners(k, before, 3).includes('c')), 'exactly the keys c owned')
  assert.ok(gone.length > 0.3 * keys.length && gone.length < 0.7 * keys.length, `about 3/6 of the keys: ${gone.length}`)
  const joined = keysWithNewOwners(keys, before, [...before, 'g'], 3)
  assert.deepEqual(joined, keys.filter((k) => rendezvousOwners(k, [...before, 'g'], 3).includes('g')), 'exactly the keys g now owns')
})

test('two choices prefers less loaded supernodes and tries every one once', () => {
  const entry = (peerId: string, clients: number): SupernodeEntry => ({ peerId, addrs: ['/ip4/127.0.0.1/tcp/1'], class: 'operator', clients, capacity: 100, certificate: 'a.b' })
  const list = [entry('a', 90), entry('b', 10), entry('c', 50), entry('d', 80)]
  const firsts = new Map<string, number>()
  const rand = seeded(7)
  for (let i = 0; i < 2000; i++) {
    const order = attachOrder(list, rand)
    assert.equal(new Set(order.map((e) => e.peerId)).size, 4)
    const first = order[0]?.peerId ?? ''
    firsts.set(first, (firsts.get(first) ?? 0) + 1)
  }
  assert.ok((firsts.get('b') ?? 0) > (firsts.get('c') ?? 0))
  assert.ok((firsts.get('c') ?? 0) > (firsts.get('a') ?? 0))
})

test('node config: a client needs user and password, a supernode its operator token', () => {
  const base = ['--listen', '127.0.2.1', '--data-dir', '/tmp/x', '--cluster-pubkey', 'AAAA', '--login-servers', '/ip4/127.0.1.1/tcp/7401/p2p/12D3KooWabc']
  const ok = parseConfig([...base, '--user', 'u1'], { REBOUND_PASSWORD: 'pw-1234' }, OPTIONS, NodeConfigSchema)
  assert.equal(ok?.user, 'u1')
  assert.equal(ok?.port, 7401)
  const bad = (argv: string[], pattern: RegExp): void => {
    assert.throws(() => parseConfig(argv, {}, OPTIONS, NodeConfigSchema), (err: ReboundError) => err.code === 'BAD_CONFIG' && pattern.test(err.message))
  }
  bad([...base, '--user', 'u1'], /--password/)
  bad([...base, '--supernode'], /--operator-token/)
  bad([...base.slice(2), '--user', 'u1', '--password', 'pw-1234'], /--listen/)
  bad(['--listen', 'localhost', ...base.slice(2), '--user', 'u1', '--password', 'pw-1234'], /--listen: must be an IPv4/)
  bad([...base.slice(0, 6), '--login-servers', '/ip4/127.0.1.1/tcp/7401', '--user', 'u1', '--password', 'pw-1234'], /--login-servers/)
})

test('client state: missing is empty, corrupt is CORRUPT_STORE, another user starts empty', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rebound-state-'))
  try {
    const file = new ClientStateFile(dir)
    assert.equal((await file.load('u1')).ticket, null)
    await file.save({ v: 1, user: 'u1', ticket: 'a.b', ticketExpiresAtMs: 5, supernodes: [], savedAtMs: 1, failures: 3, nextAttemptAtMs: 99, slot: null })
    assert.equal((await file.load('u1')).nextAttemptAtMs, 99)
    assert.equal((await file.load('u1')).ticket, 'a.b')
    assert.equal((await file.load('u2')).ticket, null)
    await writeFile(join(dir, 'session.json'), '{"v":1,"user":')
    await assert.rejects(file.load('u1'), (err: ReboundError) => err.code === 'CORRUPT_STORE')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('inbox stores a message once whatever the redeliveries, and refuses a corrupt file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rebound-inbox-'))
  try {
    const inbox = new Inbox(dir)
    const m = { id: 'm1', from: 'a', to: 'b', body: 'hi', sentAtMs: 1 }
    assert.equal(inbox.put(m, 10), true)
    assert.equal(inbox.put(m, 11), false)
    assert.equal(inbox.count(), 1)
    assert.equal(inbox.latest(10)[0]?.body, 'hi')
    inbox.close()
    const bad = await mkdtemp(join(tmpdir(), 'rebound-inbox-bad-'))
    await writeFile(join(bad, 'inbox.sqlite'), 'this is not a database, it is a wiped or damaged file'.repeat(100))
    assert.throws(() => new Inbox(bad), (err: ReboundError) => err.code === 'CORRUPT_STORE')
    await rm(bad, { recursive: true, force: true })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('orphan window: clients / join rate, within [1 s, the operator bound]; a silent supernode\'s orphans draw from the rest after one ping interval', () => {
  const w = (clients: number, maxMs = 2000): number => orphanWindowMs({ clients, joinRate: 20, maxMs })
  // Few clients: only the minimum spread.
  assert.equal(w(0), MIN_ORPHAN_WINDOW_MS)
  assert.equal(w(20), MIN_ORPHAN_WINDOW_MS)
  // clients / rate: 33 clients need 1.65 s at 20 joins/s.
  assert.equal(w(33), 1650)
  // A crowded supernode is held to the operator's bound; a bound of 0 turns the window off.
  assert.equal(w(500), 2000)
  assert.equal(w(500, 30_000), 25_000)
  assert.equal(w(500, 0), 0)
  // Waits: U(0, W) after a kill; U(0, W - ping interval) after a silence (never negative).
  assert.equal(orphanWaitMs(2000, false, 1000, () => 0.5), 1000)
  assert.equal(orphanWaitMs(2000, true, 1000, () => 0.5), 500)
  assert.equal(orphanWaitMs(800, true, 1000, () => 0.99), 0)
})

test('presence publish queue: one entry per user, failures retried until they succeed, stops on abort', async () => {
  const attempts = new Map<string, number>()
  // bob's owners refuse twice, then take it.
  const queue = new PublishQueue({
    publish: async (user) => {
      const n = (attempts.get(user) ?? 0) + 1
      attempts.set(user, n)
      return user !== 'bob' || n > 2
    },
    everyone: () => ['alice', 'bob'],
    now: Date.now,
    random: Math.random,
    log: createLogger({ service: 'test', level: 'silent' })
  })
  queue.add(['alice', 'bob', 'alice'])
  assert.equal(queue.size, 2)
  queue.start()
  const deadline = Date.now() + 5000
  while ((attempts.get('bob') ?? 0) < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(attempts.get('alice'), 1)
  assert.equal(attempts.get('bob'), 3)
  assert.equal(queue.size, 0)
  await queue.stop()
})

test('silence watch: a silent supernode is judged on time, a starved client lets its queued frames be read first', () => {
  const at = (nowMs: number, lastHeardAtMs: number, lastTickAtMs: number): boolean => isSilent({ nowMs, lastHeardAtMs, lastTickAtMs, silenceMs: 2500 })
  // Heard within the bound: not silent, whatever the tick.
  assert.equal(at(10_000, 8_000, 9_750), false)
  // Silent past the bound, ticks on time: silent.
  assert.equal(at(10_000, 7_400, 9_750), true)
  // Past the bound but this tick came 3 s late (our loop was blocked): the pongs may be queued.
  assert.equal(at(10_000, 7_400, 7_000), false)
  // ... unless the silence is past twice the bound: a frozen supernode is not hidden for ever.
  assert.equal(at(10_000, 4_900, 7_000), true)
})

test('silence bound: the floor for a prompt supernode, longer for an irregular one, back to the floor once it is prompt again, never past the ceiling', () => {
  const bound = new SilenceBound(1000, 2000, 4000)
  for (let i = 0; i < 20; i++) bound.observe(1000)
  assert.equal(bound.ms, 2000, 'a pong a second keeps the floor')
  for (let i = 0; i < 10; i++) bound.observe(i % 2 === 0 ? 300 : 700)
  assert.equal(bound.ms, 2000, 'deliveries between pongs shorten the gaps, not the floor')
  bound.observe(1900)
  const afterStall = bound.ms
  assert.ok(afterStall > 2000 && afterStall <= 4000, `one 1.9 s gap lengthens the bound (${afterStall} ms)`)
  for (let i = 0; i < 30; i++) bound.observe(1000)
  assert.equal(bound.ms, 2000, 'prompt again: back to the floor')
  for (let i = 0; i < 10; i++) bound.observe(5000)
  assert.equal(bound.ms, 4000, 'the ceiling bounds a supernode that is barely alive')
})
