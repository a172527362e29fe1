/**
 * Integration: supernode membership over gossipsub. A real rebound-bootstrap process, operator
 * supernodes as real libp2p peers in this process, and a rogue libp2p node that speaks gossip
 * but holds no certificate of its own.
 */
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import {
  MEMBERSHIP_TOPIC, createLogger, encodeFrame, generateClusterKey, privateKeyToPem, publicKeyToBase64, type MembershipNotice
} from '@rebound/protocol'
import { NodeConfigSchema, Peer } from '../src/index.js'
import { createPeerNode, type PeerNode } from '../src/libp2p.js'

const NET = '127.94'
const BOOTSTRAP_BIN = fileURLToPath(new URL('../../../bootstrap/dist/src/main.js', import.meta.url))
const key = generateClusterKey()
const log = createLogger({ service: 'test', level: (process.env.TEST_LOG ?? 'silent') as 'silent' })
let dir: string
let loginServer: ChildProcess
let loginAddr: string
const peers: Peer[] = []
const nodes: PeerNode[] = []

async function waitFor<T> (what: string, fn: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = fn()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

async function startSupernode (name: string, ip: string, heartbeatMs: number): Promise<Peer> {
  const config = NodeConfigSchema.parse({
    listen: ip, dataDir: join(dir, name), clusterPubkey: publicKeyToBase64(key.publicKey), loginServers: loginAddr,
    supernode: true, operatorToken: 'operator-secret-1', capacity: 20, heartbeatMs
  })
  const peer = new Peer(config, { log: log.child({ peer: name }), http: false })
  await peer.start()
  peers.push(peer)
  await waitFor(`${name} certified`, () => (peer.supernodeCertificate !== null ? true : undefined))
  return peer
}

/** Notices counted by a supernode's gossip validator, by verdict. */
async function notices (peer: Peer, result: 'accepted' | 'rejected'): Promise<number> {
  const metric = await peer.metrics.gossipNotices.get()
  return metric.values.filter((v) => v.labels.result === result).reduce((sum, v) => sum + v.value, 0)
}

const known = (peer: Peer): number => peer.status().knownSupernodes

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rebound-membership-'))
  await mkdir(join(dir, 'ls1'))
  await writeFile(join(dir, 'cluster.pem'), privateKeyToPem(key.privateKey), { mode: 0o600 })
  loginServer = spawn(process.execPath, [BOOTSTRAP_BIN, '--listen', `${NET}.1.1`, '--data-dir', join(dir, 'ls1'), '--store', join(dir, 'store.sqlite'),
    '--cluster-key-file', join(dir, 'cluster.pem'), '--operator-token', 'operator-secret-1', '--scrypt-n', '1024', '--log-level', 'warn'],
  { stdio: ['ignore', 'inherit', 'inherit'] })
  let peerId: string | undefined
  // Bounded: 200 tries of at most 600 ms.
  for (let i = 0; i < 200 && peerId === undefined; i++) {
    try {
      const res = await fetch(`http://${NET}.1.1:7480/healthz`, { signal: AbortSignal.timeout(500) })
      if (res.ok) peerId = (await res.json() as { peerId: string }).peerId
    } catch { await new Promise((resolve) => setTimeout(resolve, 100)) }
  }
  assert.ok(peerId !== undefined, 'login server started')
  loginAddr = `/ip4/${NET}.1.1/tcp/7401/p2p/${peerId}`
})

after(async () => {
  for (const node of nodes) await node.stop()
  for (const peer of peers) await peer.stop()
  loginServer.kill('SIGTERM')
  await rm(dir, { recursive: true, force: true })
})

test('a supernode learns a newer one over gossip, long before its own registry list names it', async () => {
  // Registry heartbeats of a minute: after its first one, A's list never changes during the test.
  const a = await startSupernode('a', `${NET}.2.1`, 60_000)
  await waitFor('A alone', () => (known(a) === 1 ? true : undefined))
  const b = await startSupernode('b', `${NET}.2.2`, 60_000)
  const startedAtMs = Date.now()
  // B's first list names A; B connects to A, and A hears B's announcements.
  await waitFor('A knows B', () => (known(a) === 2 ? true : undefined), 10_000)
  await waitFor('B knows A', () => (known(b) === 2 ? true : undefined), 10_000)
  assert.ok(Date.now() - startedAtMs < 10_000)
  assert.ok(await notices(a, 'accepted') > 0, 'A accepted announcements')
})

test('gossip from a peer without a valid certificate is refused: it cannot announce itself, borrow a certificate, or accuse a supernode', async () => {
  const a = peers[0]
  const b = peers[1]
  assert.ok(a !== undefined && b !== undefined)
  const rogue = await createPeerNode({ listen: `${NET}.3.1`, port: 7401, privateKey: await generateKeyPair('Ed25519'), log, gossip: true })
  nodes.push(rogue)
  await rogue.start()
  const gossip = rogue.services.gossip
  const identify = rogue.services.identify
  assert.ok(gossip !== undefined && identify !== undefined)
  gossip.subscribe(MEMBERSHIP_TOPIC)
  const connection = await rogue.dial(multiaddr(`${a.node.getMultiaddrs()[0]?.toString() ?? ''}`))
  await identify.identify(connection)
  await waitFor('rogue sees A on the topic', () => (gossip.getSubscribers(MEMBERSHIP_TOPIC).some((p) => p.equals(a.node.peerId)) ? true : undefined), 10_000)

  const rejectedBefore = await notices(a, 'rejected')
  const bCertificate = b.supernodeCertificate
  assert.ok(bCertificate !== null)
  const addrs = rogue.getMultiaddrs().map(String)
  const forged: MembershipNotice[] = [
    // Its own entry with a made-up certificate.
    { type: 'announce', entry: { peerId: rogue.peerId.toString(), addrs, class: 'operator', clients: 0, capacity: 1000, certificate: 'bm90.c2lnbmVk' } },
    // B's real certificate on the rogue's entry: the certificate names B, the signature is the rogue's.
    { type: 'announce', entry: { peerId: rogue.peerId.toString(), addrs, class: 'operator', clients: 0, capacity: 1000, certificate: bCertificate } },
    // B's entry, certificate and all, but published (signed) by the rogue.
    { type: 'announce', entry: { peerId: b.node.peerId.toString(), addrs, class: 'operator', clients: 0, capacity: 1000, certificate: bCertificate } },
    // An accusation, with B's certificate.
    { type: 'suspect', certificate: bCertificate, supernode: b.node.peerId.toString() },
    { type: 'leave', certificate: bCertificate }
  ]
  for (const notice of forged) await gossip.publish(MEMBERSHIP_TOPIC, encodeFrame(notice))
  await gossip.publish(MEMBERSHIP_TOPIC, new TextEncoder().encode('{"type":"announce"'))
  const deadline = Date.now() + 10_000
  while (await notices(a, 'rejected') < rejectedBefore + forged.length + 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(await notices(a, 'rejected'), rejectedBefore + forged.length + 1)
  // Nothing changed: A still knows exactly A and B, and B is not suspected.
  await new Promise((resolve) => setTimeout(resolve, 1500))
  assert.equal(known(a), 2)
  assert.equal(known(b), 2)
})

test('an oversized gossip frame ends that stream only: the supernode keeps gossiping with the others', async () => {
  const a = peers[0]
  assert.ok(a !== undefined)
  const rogue = nodes[0]
  assert.ok(rogue?.services.gossip !== undefined)
  // 100 KiB: over MAX_GOSSIP_RPC_BYTES (64 KiB); A's reader ends that inbound stream.
  await rogue.services.gossip.publish(MEMBERSHIP_TOPIC, new Uint8Array(100 * 1024).fill(0x7b))
  await new Promise((resolve) => setTimeout(resolve, 500))
  const acceptedBefore = await notices(a, 'accepted')
  const deadline = Date.now() + 5000
  while (await notices(a, 'accepted') <= acceptedBefore + 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  assert.ok(await notices(a, 'accepted') > acceptedBefore + 2, 'A still hears B each second')
  assert.equal(known(a), 2)
})
