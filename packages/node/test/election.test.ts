/**
 * Integration: supernode election from the peer's side. A real rebound-bootstrap process with no
 * supernode at all (and --min-supernodes 1); an eligible client that cannot attach anywhere offers
 * itself, is promoted, and then serves an ordinary client as an elected supernode, while its own
 * user session never tries to attach to itself.
 */
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLogger, publicKeyToBase64, verifyCertificate, type NodeStatus } from '@rebound/protocol'
import { NodeConfigSchema, Peer } from '../src/index.js'
import { OPERATOR_TOKEN, startLoginServer, waitFor, type LoginServerFixture } from './login-server-fixture.js'

const NET = '127.97'
const log = createLogger({ service: 'test', level: (process.env.TEST_LOG ?? 'silent') as 'silent' })
let ls: LoginServerFixture
const peers: Peer[] = []

async function startPeer (name: string, ip: string, extra: Record<string, unknown>): Promise<Peer> {
  const config = NodeConfigSchema.parse({
    listen: ip, dataDir: join(ls.dir, name), clusterPubkey: publicKeyToBase64(ls.key.publicKey), loginServers: ls.addr, heartbeatMs: 500, ...extra
  })
  const peer = new Peer(config, { log: log.child({ peer: name }) })
  await peer.start()
  peers.push(peer)
  return peer
}

const NODE_BIN = fileURLToPath(new URL('../src/main.js', import.meta.url))

/** An operator supernode in a process of its own, for the tests that kill or freeze it. */
async function spawnSupernode (name: string, ip: string): Promise<ChildProcess> {
  await mkdir(join(ls.dir, name), { recursive: true })
  return spawn(process.execPath, [NODE_BIN, '--listen', ip, '--data-dir', join(ls.dir, name), '--cluster-pubkey', publicKeyToBase64(ls.key.publicKey),
    '--login-servers', ls.addr, '--supernode', '--operator-token', OPERATOR_TOKEN, '--heartbeat-ms', '500', '--log-level', 'warn'],
  { stdio: ['ignore', 'inherit', 'inherit'] })
}

async function ended (child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill(signal)
  await exited
}

before(async () => {
  ls = await startLoginServer(NET, 'election', ['--min-supernodes', '1'])
})

after(async () => {
  for (const peer of peers) await peer.stop()
  await ls.stop()
})

test('with no supernode at all, an eligible client is elected and serves others; its own session never targets itself', async () => {
  const eve = await startPeer('eve', `${NET}.2.1`, { user: 'eve', password: 'eve-pw', register: true, eligible: true, capacity: 20 })
  const elected = await waitFor('eve elected', () => (eve.status().supernodeClass === 'elected' ? eve.status() : undefined), 30_000)
  assert.equal(elected.role, 'supernode')
  assert.equal(elected.capacity, 20)
  const certificate = eve.supernodeCertificate
  assert.ok(certificate !== null)
  const payload = verifyCertificate(certificate, ls.key.publicKey, { peerId: eve.node.peerId.toString(), nowMs: Date.now() })
  assert.equal(payload.class, 'elected')

  const fay = await startPeer('fay', `${NET}.2.2`, { user: 'fay', password: 'fay-pw', register: true })
  const attached = await waitFor('fay attached to eve', () => (fay.status().state === 'attached' ? fay.status() : undefined), 30_000)
  assert.equal(attached.supernode, eve.node.peerId.toString())
  await waitFor('eve counts fay', () => (eve.status().clients === 1 ? true : undefined))
  const eveStatus: NodeStatus = eve.status()
  assert.notEqual(eveStatus.supernode, eve.node.peerId.toString(), 'an elected supernode is not its own client')
  assert.equal(eveStatus.user, 'eve')
})

test('once an operator supernode makes it surplus and it stays idle, the elected one is demoted, drains, and stays a client', async () => {
  const eve = peers.find((p) => p.status().user === 'eve')
  const fay = peers.find((p) => p.status().user === 'fay')
  assert.ok(eve !== undefined && fay !== undefined)
  const op = await startPeer('op', `${NET}.2.3`, { supernode: true, operatorToken: OPERATOR_TOKEN, capacity: 20 })
  await waitFor('operator certified', () => (op.status().state === 'attached' ? true : undefined))
  // The registry demotes after 30 s below --demote-below, one supernode at a time, never an operator.
  const demoted = await waitFor('eve demoted', () => (eve.status().role === 'client' ? eve.status() : undefined), 60_000)
  assert.equal(demoted.supernodeClass, null)
  assert.equal(op.status().supernodeClass, 'operator')
  const rehomed = await waitFor('fay re-homed to the operator', () => (fay.status().state === 'attached' && fay.status().supernode === op.node.peerId.toString() ? fay.status() : undefined), 30_000)
  assert.equal(rehomed.user, 'fay')
  await waitFor('eve attached as a plain client', () => (eve.status().state === 'attached' ? true : undefined), 30_000)
})

test('a killed supernode leaves the others\' live set at once, not a registry timeout later', async () => {
  const op = peers.find((p) => p.status().supernodeClass === 'operator')
  assert.ok(op !== undefined)
  const op2 = await spawnSupernode('op2', `${NET}.2.4`)
  try {
    await waitFor('op knows op2', () => (op.status().knownSupernodes === 2 ? true : undefined), 20_000)
    await new Promise((resolve) => setTimeout(resolve, 1000)) // connected, and gossiping
    // SIGKILL: no leave notice, nothing said; the kernel resets the connection.
    await ended(op2, 'SIGKILL')
    const killedAtMs = Date.now()
    await waitFor('op drops op2', () => (op.status().knownSupernodes === 1 ? true : undefined), 5000)
    // The registry still lists op2 for its 6 s heartbeat timeout, and its last announcement is
    // fresh for 3.5 s: this was the connection.
    assert.ok(Date.now() - killedAtMs < 1500, `dropped after ${Date.now() - killedAtMs} ms`)
  } finally {
    await ended(op2, 'SIGKILL')
  }
})

test('a frozen supernode (SIGSTOP, connections still open) is left out by the others within 2 s, and taken back once thawed', async (t) => {
  const op = peers.find((p) => p.status().supernodeClass === 'operator')
  assert.ok(op !== undefined)
  const ice = await spawnSupernode('ice', `${NET}.2.5`)
  try {
    await waitFor('op knows the soon-frozen supernode', () => (op.status().knownSupernodes === 2 ? true : undefined), 20_000)
    await new Promise((resolve) => setTimeout(resolve, 1000)) // a few probes answered
    ice.kill('SIGSTOP')
    const frozeAtMs = Date.now()
    await waitFor('op leaves it out', () => (op.status().knownSupernodes === 1 ? true : undefined), 10_000)
    const tookMs = Date.now() - frozeAtMs
    t.diagnostic(`frozen supernode left out after ${tookMs} ms`)
    assert.ok(tookMs <= 2500, `left out after ${tookMs} ms`)
    // Thawed, it announces itself over gossip: taken back at once, not when the 10 s suspicion ends.
    ice.kill('SIGCONT')
    const thawedAtMs = Date.now()
    await waitFor('op takes it back', () => (op.status().knownSupernodes === 2 ? true : undefined), 8000)
    t.diagnostic(`thawed supernode taken back after ${Date.now() - thawedAtMs} ms`)
    assert.ok(Date.now() - thawedAtMs < 4000, `taken back after ${Date.now() - thawedAtMs} ms`)
  } finally {
    ice.kill('SIGCONT')
    await ended(ice, 'SIGTERM')
  }
})
