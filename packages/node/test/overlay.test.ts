/**
 * Integration: a real rebound-bootstrap process and real libp2p peers (in this process) over TCP
 * on loopback addresses 127.99.x.y. Login, attach, end-to-end delivery, refusals, resumption.
 */
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, mkdir, rm, writeFile, copyFile, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import {
  LOGIN_PROTOCOL, SESSION_PROTOCOL, createLogger, generateClusterKey, loadOrCreateIdentity, metricNameProblems, privateKeyToPem, publicKeyToBase64, type NodeStatus
} from '@rebound/protocol'
import { NodeConfigSchema, Peer } from '../src/index.js'
import { createPeerNode } from '../src/libp2p.js'

const NET = '127.99'
const BOOTSTRAP_BIN = fileURLToPath(new URL('../../../bootstrap/dist/src/main.js', import.meta.url))
const OPERATOR_TOKEN = 'operator-secret-1'
const key = generateClusterKey()
const log = createLogger({ service: 'test', level: (process.env.TEST_LOG ?? 'silent') as 'silent' })
let dir: string
let loginServer: ChildProcess
let loginAddr: string
const peers: Peer[] = []

async function waitFor<T> (what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await fn()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

async function startPeer (name: string, ip: string, extra: Record<string, unknown>): Promise<Peer> {
  const config = NodeConfigSchema.parse({
    listen: ip, dataDir: join(dir, name), clusterPubkey: publicKeyToBase64(key.publicKey), loginServers: loginAddr, heartbeatMs: 500, ...extra
  })
  const peer = new Peer(config, { log: log.child({ peer: name }) })
  await peer.start()
  peers.push(peer)
  return peer
}

const attached = (peer: Peer): NodeStatus | undefined => (peer.status().state === 'attached' ? peer.status() : undefined)

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rebound-overlay-'))
  await mkdir(join(dir, 'ls1'))
  await writeFile(join(dir, 'cluster.pem'), privateKeyToPem(key.privateKey), { mode: 0o600 })
  loginServer = spawn(process.execPath, [BOOTSTRAP_BIN, '--listen', `${NET}.1.1`, '--data-dir', join(dir, 'ls1'), '--store', join(dir, 'store.sqlite'),
    '--cluster-key-file', join(dir, 'cluster.pem'), '--operator-token', OPERATOR_TOKEN, '--scrypt-n', '1024', '--log-level', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'] })
  const health = await waitFor('login server /healthz', async () => {
    try {
      const res = await fetch(`http://${NET}.1.1:7480/healthz`, { signal: AbortSignal.timeout(500) })
      return res.ok ? await res.json() as { peerId: string } : undefined
    } catch { return undefined }
  })
  loginAddr = `/ip4/${NET}.1.1/tcp/7401/p2p/${health.peerId}`
})

after(async () => {
  for (const peer of peers) await peer.stop()
  loginServer.kill('SIGTERM')
  await rm(dir, { recursive: true, force: true })
})

test('clients log in, attach, exchange messages end to end, and resume after a restart', async () => {
  const sn = await startPeer('sn1', `${NET}.2.1`, { supernode: true, operatorToken: OPERATOR_TOKEN, capacity: 10 })
  await waitFor('supernode certified', () => attached(sn))
  const alice = await startPeer('alice', `${NET}.2.2`, { user: 'alice', password: 'alice-pw', register: true })
  const bob = await startPeer('bob', `${NET}.2.3`, { user: 'bob', password: 'bob-pw', register: true })
  await waitFor('alice attached', () => attached(alice))
  const bobStatus = await waitFor('bob attached', () => attached(bob))
  assert.equal(bobStatus.supernode, sn.node.peerId.toString())
  assert.equal(bobStatus.counters.registrations, 1)
  // Each registration's reply carried its ticket: the login server was asked for no password login.
  const metrics = await (await fetch(`http://${NET}.1.1:7480/metrics`, { signal: AbortSignal.timeout(2000) })).text()
  assert.match(metrics, /^rebound_login_offered_total 0$/m)

  const result = await alice.send({ id: 'hello-1', to: 'bob', body: 'hello bob' }, 5000)
  assert.equal(result.ok, true, `send failed: ${result.code}`)
  assert.deepEqual(bob.inbox?.latest(10).map((m) => [m.id, m.from, m.body]), [['hello-1', 'alice', 'hello bob']])

  // Carol is offline: the message goes to her mailbox in the server store (docs/durability.md).
  const offline = await alice.send({ id: 'hello-2', to: 'carol', body: 'anyone?' }, 5000)
  assert.deepEqual([offline.ok, offline.code, offline.pending], [true, undefined, undefined])
  assert.equal(alice.outbox().entries.find((e) => e.id === 'hello-2')?.state, 'mailboxed')

  // Restart bob on the same data directory: it resumes with its ticket, no login.
  await bob.stop()
  const bob2 = await startPeer('bob', `${NET}.2.3`, { user: 'bob', password: 'bob-pw' })
  // The state turns 'attached' a moment before the agent counts how (it saves the list first).
  const resumed = await waitFor('bob re-attached', () => {
    const status = attached(bob2)
    return status !== undefined && status.counters.logins + status.counters.resumes > 0 ? status : undefined
  })
  assert.equal(resumed.counters.logins, 0)
  assert.equal(resumed.counters.resumes, 1)
  const again = await alice.send({ id: 'hello-3', to: 'bob', body: 'welcome back' }, 5000)
  assert.equal(again.ok, true, `send after resume failed: ${again.code}`)
  assert.equal(bob2.inbox?.count(), 2)

  // The directory check the load generator runs (POST /lookups): online users at their supernode.
  const snId = sn.node.peerId.toString()
  const lookup = await sn.lookup(['alice', 'bob', 'carol'], 5000)
  assert.deepEqual(lookup.results, [{ user: 'alice', supernode: snId }, { user: 'bob', supernode: snId }, { user: 'carol', supernode: null }])
  await assert.rejects(alice.lookup(['bob'], 5000), /only a supernode looks users up/)
  const post = async (body: unknown): Promise<Response> => await fetch(`http://${NET}.2.1:${sn.httpPort}/lookups`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const viaHttp = await post({ users: ['bob'] })
  assert.equal(viaHttp.status, 200)
  assert.deepEqual(((await viaHttp.json()) as { results: unknown[] }).results, [{ user: 'bob', supernode: snId }])
  assert.equal((await post({ users: [] })).status, 400)
  assert.equal((await post({ users: Array.from({ length: 501 }, (_, i) => `u${i}`) })).status, 400)
})

test('a wrong password is refused and the client backs off instead of attaching', async () => {
  const mallory = await startPeer('mallory', `${NET}.2.4`, { user: 'alice', password: 'wrong-pw' })
  const status = await waitFor('login refused', () => (mallory.status().counters.loginFailures > 0 ? mallory.status() : undefined))
  assert.notEqual(status.state, 'attached')
  const metrics = await mallory.metrics.registry.getSingleMetricAsString('rebound_node_logins_total')
  assert.match(metrics, /result="BAD_PASSWORD"\} 1/)
  await mallory.stop()
})

test('a ticket copied to another peer is refused by the supernode', async () => {
  // Give a fresh identity alice's saved ticket: the supernode sees another Noise peer id.
  await mkdir(join(dir, 'thief'), { recursive: true })
  await copyFile(join(dir, 'alice', 'session.json'), join(dir, 'thief', 'session.json'))
  const thief = await startPeer('thief', `${NET}.2.5`, { user: 'alice', password: 'wrong-pw' })
  const status = await waitFor('attach refused', () => (thief.status().counters.attachFailures > 0 ? thief.status() : undefined))
  assert.notEqual(status.state, 'attached')
  const metrics = await thief.metrics.registry.getSingleMetricAsString('rebound_node_attaches_total')
  assert.match(metrics, /result="TICKET_PEER_MISMATCH"\} 1/)
  await thief.stop()
})

test('a malformed or oversized session frame ends only that stream', async () => {
  const sn = peers.find((p) => p.status().role === 'supernode')
  assert.ok(sn !== undefined)
  const privateKey = await loadOrCreateIdentity(join(dir, 'raw'))
  const raw = await createPeerNode({ listen: `${NET}.2.6`, port: 0, privateKey, log })
  await raw.start()
  try {
    const target = multiaddr(`/ip4/${NET}.2.1/tcp/7401/p2p/${sn.node.peerId.toString()}`)
    for (const payload of [new TextEncoder().encode('{"type":"attach","ticket":'), new Uint8Array(64 * 1024)]) {
      const stream = await raw.dialProtocol(target, SESSION_PROTOCOL)
      const lp = lpStream(stream, { maxDataLength: 1 << 20 })
      await lp.write(payload)
      await assert.rejects(lp.read({ signal: AbortSignal.timeout(3000) }).then((reply) => {
        const text = new TextDecoder().decode(reply.subarray())
        // A decodable-but-bad frame gets an error reply before the stream ends.
        assert.match(text, /"type":"error"/)
        throw new Error('replied with error')
      }))
    }
  } finally {
    await raw.stop()
  }
  const alice = peers.find((p) => p.status().user === 'alice' && p.status().state === 'attached')
  assert.ok(alice !== undefined)
  const ok = await alice.send({ id: 'after-garbage', to: 'bob', body: 'still here' }, 5000)
  assert.equal(ok.ok, true, `supernode stopped serving: ${ok.code}`)
})

test('a restarted client honours the backoff its previous life saved, and saves its own', async () => {
  const dirName = 'backoff'
  await mkdir(join(dir, dirName), { recursive: true })
  const waitMs = 2500
  await writeFile(join(dir, dirName, 'session.json'), JSON.stringify({
    v: 1, user: 'alice', ticket: null, ticketExpiresAtMs: null, supernodes: [], savedAtMs: Date.now(), failures: 4, nextAttemptAtMs: Date.now() + waitMs, slot: null
  }))
  const started = Date.now()
  const peer = await startPeer(dirName, `${NET}.2.7`, { user: 'alice', password: 'wrong-pw' })
  await new Promise((resolve) => setTimeout(resolve, waitMs - 1000))
  const early = peer.status()
  assert.equal(early.state, 'backoff')
  assert.equal(early.counters.logins + early.counters.loginFailures, 0, 'no login attempt before the saved time')
  const failed = await waitFor('login attempted after the wait', () => (peer.status().counters.loginFailures > 0 ? peer.status() : undefined))
  assert.ok(Date.now() - started >= waitMs - 200)
  assert.equal(failed.counters.logins, 0)
  // The counter moves when the attempt fails; the backoff state is written (fsync) just after.
  const readSaved = async (): Promise<{ failures: number, nextAttemptAtMs: number }> => JSON.parse(await readFile(join(dir, dirName, 'session.json'), 'utf8'))
  const saved = await waitFor('backoff state saved', async () => { const s = await readSaved(); return s.failures > 4 ? s : undefined }, 5000)
  assert.equal(saved.failures, 5, 'the failure count carries on from the saved one')
  assert.ok(saved.nextAttemptAtMs > Date.now() - 1000, 'the next allowed attempt is on disk')
  await peer.stop()
})

test('a naive client logs in again on every restart; a defended one renews when its list is stale', async () => {
  const naive = await startPeer('naive', `${NET}.2.8`, { user: 'nancy', password: 'nancy-pw', register: true, profile: 'naive' })
  await waitFor('naive attached', () => attached(naive))
  await naive.stop()
  const naive2 = await startPeer('naive', `${NET}.2.8`, { user: 'nancy', password: 'nancy-pw', profile: 'naive' })
  const again = await waitFor('naive re-attached', () => attached(naive2))
  assert.deepEqual([again.counters.logins, again.counters.resumes], [1, 0])
  await naive2.stop()

  // A defended client with a valid ticket but no usable supernode asks for a fresh list (renew).
  const statePath = join(dir, 'naive', 'session.json')
  const state = JSON.parse(await readFile(statePath, 'utf8')) as Record<string, unknown>
  await writeFile(statePath, JSON.stringify({ ...state, supernodes: [] }))
  const defended = await startPeer('naive', `${NET}.2.8`, { user: 'nancy', password: 'nancy-pw' })
  const renewed = await waitFor('renewed and attached', () => attached(defended))
  assert.deepEqual([renewed.counters.renewals, renewed.counters.logins], [1, 0])
  await defended.stop()
})

test('a supernode out of join tokens sheds with a redirect, and the client follows it', async () => {
  const users = ['xavier', 'yvonne']
  for (const [i, user] of users.entries()) {
    const p = await startPeer(user, `${NET}.2.${21 + i}`, { user, password: `${user}-pw`, register: true })
    await waitFor(`${user} attached`, () => attached(p))
    await p.stop()
    peers.splice(peers.indexOf(p), 1)
  }
  // One join token and (practically) no refill: the first client takes it, the second is shed.
  const busy = await startPeer('sn-busy', `${NET}.2.20`, { supernode: true, operatorToken: OPERATOR_TOKEN, capacity: 10, joinRate: 0.001, joinBurst: 1 })
  await waitFor('busy supernode certified and aware of the others', () => (attached(busy) !== undefined && busy.status().knownSupernodes > 1 ? true : undefined))
  const busyEntry = {
    peerId: busy.node.peerId.toString(), addrs: busy.node.getMultiaddrs().map(String), class: 'operator', clients: 0, capacity: 10, certificate: busy.supernodeCertificate
  }
  for (const user of users) {
    const path = join(dir, user, 'session.json')
    const saved = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>
    await writeFile(path, JSON.stringify({ ...saved, supernodes: [busyEntry] }))
  }
  const x = await startPeer('xavier', `${NET}.2.21`, { user: 'xavier', password: 'xavier-pw' })
  assert.equal((await waitFor('xavier on the busy supernode', () => attached(x))).supernode, busyEntry.peerId)
  const y = await startPeer('yvonne', `${NET}.2.22`, { user: 'yvonne', password: 'yvonne-pw' })
  const status = await waitFor('yvonne redirected and attached', () => attached(y))
  assert.notEqual(status.supernode, busyEntry.peerId)
  assert.deepEqual([status.counters.logins, status.counters.renewals, status.counters.attachFailures], [0, 0, 1])
  assert.match(await y.metrics.registry.getSingleMetricAsString('rebound_node_attaches_total'), /result="OVERLOADED"\} 1/)
  // Every node metric (client and supernode ones live in one registry) by the naming conventions.
  assert.deepEqual(metricNameProblems(await y.metrics.registry.metrics()), [])
})

test('a client leaves a frozen supernode within the silence bound, re-homes, and keeps no login stream', async () => {
  // The supernode is its own OS process, so that SIGSTOP freezes it and nothing else.
  const NODE_BIN = fileURLToPath(new URL('../src/main.js', import.meta.url))
  const liveSupernodes = async (): Promise<number> => {
    const res = await fetch(`http://${NET}.1.1:7480/healthz`, { signal: AbortSignal.timeout(1000) })
    return (await res.json() as { supernodes: number }).supernodes
  }
  const before = await liveSupernodes()
  await mkdir(join(dir, 'sn-frozen'), { recursive: true })
  const frozen = spawn(process.execPath, [NODE_BIN, '--listen', `${NET}.2.30`, '--data-dir', join(dir, 'sn-frozen'),
    '--cluster-pubkey', publicKeyToBase64(key.publicKey), '--login-servers', loginAddr, '--supernode', '--operator-token', OPERATOR_TOKEN,
    '--capacity', '10', '--heartbeat-ms', '500', '--log-level', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'] })
  try {
    const frozenId = await waitFor('frozen-to-be supernode certified', async () => {
      try {
        const res = await fetch(`http://${NET}.2.30:7480/status`, { signal: AbortSignal.timeout(500) })
        const status = await res.json() as NodeStatus
        return status.state === 'attached' ? status.peerId : undefined
      } catch { return undefined }
    })
    await waitFor('the login server lists it', async () => (await liveSupernodes() > before ? true : undefined))
    // Point a fresh client at the soon-frozen supernode only; the registry list it gets later has the others.
    // The list a client saves comes from the supernode it attached to, which learns of new
    // supernodes a heartbeat later: start it again (bounded) until the new one is in it.
    const user = 'zoe'
    const path = join(dir, user, 'session.json')
    let entry: { peerId: string } | undefined
    let saved: { supernodes: Array<{ peerId: string }> } = { supernodes: [] }
    for (let attempt = 0; attempt < 10 && entry === undefined; attempt++) {
      const first = await startPeer(user, `${NET}.2.31`, { user, password: `${user}-pw`, register: true })
      await waitFor('zoe attached', () => attached(first))
      await first.stop()
      peers.splice(peers.indexOf(first), 1)
      saved = JSON.parse(await readFile(path, 'utf8')) as typeof saved
      entry = saved.supernodes.find((s) => s.peerId === frozenId)
      if (entry === undefined) await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    assert.ok(entry !== undefined, 'the new supernode was listed')
    await writeFile(path, JSON.stringify({ ...saved, supernodes: [entry] }))
    const zoe = await startPeer(user, `${NET}.2.31`, { user, password: `${user}-pw` })
    assert.equal((await waitFor('zoe on the frozen-to-be supernode', () => attached(zoe))).supernode, frozenId)

    frozen.kill('SIGSTOP')
    const frozeAt = Date.now()
    await waitFor('zoe notices the silence', () => (zoe.status().supernode !== frozenId ? true : undefined), 10_000)
    const noticedMs = Date.now() - frozeAt
    assert.ok(noticedMs <= 3000 + 1500, `noticed after ${noticedMs} ms`)
    const rehomed = await waitFor('zoe re-homed', () => attached(zoe), 15_000)
    assert.notEqual(rehomed.supernode, frozenId)
    // Its first attach needed a login server (renew: the one cached supernode failed), then it hung
    // up its login streams. The connection itself stays while the device's data channel uses it
    // (its mailbox is polled every 10 s: docs/durability.md).
    const loginPeer = loginAddr.split('/p2p/')[1]
    const loginStreams = (): number => zoe.node.getConnections().filter((c) => c.remotePeer.toString() === loginPeer)
      .flatMap((c) => c.streams).filter((s) => s.status === 'open' && s.protocol === LOGIN_PROTOCOL).length
    await waitFor('login streams closed', () => (loginStreams() === 0 ? true : undefined), 5000)
  } finally {
    frozen.kill('SIGCONT')
    frozen.kill('SIGTERM')
    await new Promise((resolve) => frozen.once('exit', resolve))
  }
})
