/**
 * Integration: supernode membership over gossipsub. A real rebound-bootstrap process, operator
 * supernodes as real libp2p peers in this process, and a rogue libp2p node that speaks gossip
 * but holds no certificate of its own.
 */
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { MEMBERSHIP_TOPIC, createLogger, encodeFrame, publicKeyToBase64, type MembershipNotice } from '@rebound/protocol'
import { NodeConfigSchema, Peer } from '../src/index.js'
import { createPeerNode, type PeerNode } from '../src/libp2p.js'
import { OPERATOR_TOKEN, startLoginServer, waitFor, type LoginServerFixture } from './login-server-fixture.js'

const NET = '127.94'
const log = createLogger({ service: 'test', level: (process.env.TEST_LOG ?? 'silent') as 'silent' })
let ls: LoginServerFixture
const peers: Peer[] = []
const nodes: PeerNode[] = []

async function startSupernode (name: string, ip: string, heartbeatMs: number): Promise<Peer> {
  const config = NodeConfigSchema.parse({
    listen: ip, dataDir: join(ls.dir, name), clusterPubkey: publicKeyToBase64(ls.key.publicKey), loginServers: ls.addr,
    supernode: true, operatorToken: OPERATOR_TOKEN, capacity: 20, heartbeatMs
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
  ls = await startLoginServer(NET, 'membership')
})

after(async () => {
  for (const node of nodes) await node.stop()
  for (const peer of peers) await peer.stop()
  await ls.stop()
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
