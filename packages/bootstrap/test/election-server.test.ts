/**
 * Integration: the election on a real login server over TCP (127.55.0.1), with real client nodes.
 * An empty registry promotes a logged-in candidate; another peer's ticket is refused; idle
 * operators mean "not now"; an idle elected supernode is told to demote in its heartbeat reply,
 * leaves the list, and operators never are. The server's clock is offset to age the load history
 * without waiting; every supernode heartbeats at each 2 s step so that it stays live.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Libp2p } from 'libp2p'
import type { Multiaddr } from '@multiformats/multiaddr'
import {
  LOGIN_PROTOCOL, LoginResponse, REGISTRY_PROTOCOL, RegistryResponse, generateClusterKey, request, verifyCertificate,
  type ClusterKeyPair
} from '@rebound/protocol'
import { LoginServer } from '../src/index.js'
import { DEMOTE_ORPHAN_WINDOW_MS, DEMOTE_WINDOW_MS, RETRY_IDLE_MS } from '../src/election/policy.js'
import { OPERATOR_TOKEN, clientNode, serverInit, tempDir, testLogger } from './helpers.js'

const DEADLINE_MS = 5000
const LISTEN = '127.55.0.1'
const ELECTED_TTL_MS = 600_000
const HEARTBEAT_PERIOD_MS = 2000

describe('supernode election over libp2p', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let clusterKey: ClusterKeyPair
  let server: LoginServer
  let addr: Multiaddr
  const nodes: Libp2p[] = []
  let offsetMs = 0
  const clock = (): number => Date.now() + offsetMs

  const ask = async (node: Libp2p, message: object): Promise<RegistryResponse> =>
    await request(node, addr, REGISTRY_PROTOCOL, message, RegistryResponse, DEADLINE_MS)
  const node = async (): Promise<Libp2p> => {
    const n = await clientNode()
    nodes.push(n)
    return n
  }
  /** Register and log in `user` from `n`: its ticket. */
  const ticketOf = async (n: Libp2p, user: string): Promise<string> => {
    const login = async (message: object): Promise<LoginResponse> =>
      await request(n, addr, LOGIN_PROTOCOL, { deadlineMs: DEADLINE_MS, user, password: `pw-${user}`, ...message }, LoginResponse, DEADLINE_MS)
    assert.equal((await login({ type: 'register' })).type, 'registered')
    const reply = await login({ type: 'login' })
    assert.ok(reply.type === 'logged-in', JSON.stringify(reply))
    return reply.ticket
  }
  const candidate = (ticket: string, n: Libp2p): object => ({
    type: 'candidate', ticket, addrs: [`/ip4/127.55.0.9/tcp/7401/p2p/${n.peerId.toString()}`], capacity: 50, uptimeMs: 120_000
  })
  const metric = async (series: string): Promise<number> => {
    const text = await (await fetch(`http://${LISTEN}:${server.httpPort}/metrics`)).text()
    return Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
  }

  let elected: Libp2p
  let electedCert = ''
  const operators: Array<{ node: Libp2p, certificate: string }> = []

  before(async () => {
    dir = await tempDir('election')
    clusterKey = generateClusterKey()
    server = new LoginServer({ ...serverInit(dir.path, 'a', clusterKey), listen: LISTEN, electedCertTtlMs: ELECTED_TTL_MS }, { log: testLogger(), clock })
    await server.start()
    const first = server.multiaddrs[0]
    assert.ok(first !== undefined)
    addr = first
  })

  after(async () => {
    await Promise.all(nodes.map(async (n) => { await n.stop() }))
    await server?.stop()
    await dir?.remove()
  })

  test('with no supernode live, a logged-in candidate is promoted with an elected certificate naming it', async () => {
    elected = await node()
    const reply = await ask(elected, candidate(await ticketOf(elected, 'alice'), elected))
    assert.equal(reply.type, 'promoted', JSON.stringify(reply))
    if (reply.type !== 'promoted') return
    electedCert = reply.certificate
    const cert = verifyCertificate(reply.certificate, clusterKey.publicKey, { peerId: elected.peerId.toString(), nowMs: clock() })
    assert.equal(cert.class, 'elected')
    assert.equal(cert.expiresAtMs, reply.expiresAtMs)
    assert.ok(Math.abs(cert.expiresAtMs - (clock() + ELECTED_TTL_MS)) < 10_000, 'elected certificates live --elected-cert-ttl-ms')
    const again = await ask(elected, candidate(await ticketOf(elected, 'alice2'), elected))
    assert.equal(again.type === 'error' && again.code, 'BAD_REQUEST', 'a live supernode is not a candidate')
  })

  test("a candidate showing another peer's ticket is refused", async () => {
    const owner = await node()
    const thief = await node()
    const reply = await ask(thief, candidate(await ticketOf(owner, 'bob'), thief))
    assert.equal(reply.type === 'error' && reply.code, 'TICKET_PEER_MISMATCH', JSON.stringify(reply))
    const forged = await ask(thief, candidate('aGVsbG8.d29ybGQ', thief))
    assert.equal(forged.type === 'error' && forged.code, 'TICKET_INVALID')
  })

  test('while the operator supernodes are underused, candidates are told to come back in 30-60 s', async () => {
    for (let i = 0; i < 2; i++) {
      const n = await node()
      const certified = await ask(n, { type: 'certify', addrs: [`/ip4/127.55.0.${20 + i}/tcp/7401`], class: 'operator', operatorToken: OPERATOR_TOKEN, capacity: 50 })
      assert.ok(certified.type === 'certified', JSON.stringify(certified))
      operators.push({ node: n, certificate: certified.certificate })
    }
    await beatAll(5)
    const carol = await node()
    const reply = await ask(carol, candidate(await ticketOf(carol, 'carol'), carol))
    assert.equal(reply.type, 'not-now', JSON.stringify(reply))
    assert.ok(reply.type === 'not-now' && reply.retryAfterMs >= RETRY_IDLE_MS[0] && reply.retryAfterMs <= RETRY_IDLE_MS[1])
  })

  test('an idle elected supernode is told to demote once utilisation stayed low; operators never are', async () => {
    const steps = Math.ceil(DEMOTE_WINDOW_MS / HEARTBEAT_PERIOD_MS) + 2
    let demote: { orphanWindowMs: number } | undefined
    for (let i = 0; i < steps && demote === undefined; i++) {
      offsetMs += HEARTBEAT_PERIOD_MS
      const replies = await beatAll(5)
      for (const r of replies.slice(0, operators.length)) assert.equal(r.type === 'heartbeat-ok' && r.demote, undefined, 'an operator is never demoted')
      const own = replies.at(-1)
      assert.ok(own?.type === 'heartbeat-ok', JSON.stringify(own))
      demote = own.demote
      if (demote !== undefined) assert.ok((i + 1) * HEARTBEAT_PERIOD_MS >= DEMOTE_WINDOW_MS, `demoted after ${i + 1} steps, before the window had passed`)
    }
    assert.deepEqual(demote, { orphanWindowMs: DEMOTE_ORPHAN_WINDOW_MS })
    // It left the list at once, and hears "demote" again until it stops; its certificate is not renewed.
    const again = await ask(elected, { type: 'heartbeat', certificate: electedCert, clients: 0, capacity: 50 })
    assert.ok(again.type === 'heartbeat-ok' && again.demote !== undefined && again.certificate === undefined)
    assert.ok(again.type === 'heartbeat-ok' && again.supernodes.every((s) => s.peerId !== elected.peerId.toString()))
    assert.equal(again.type === 'heartbeat-ok' && again.supernodes.length, 2)
    assert.equal(await metric('rebound_registry_demotions_total'), 1)
    assert.equal(await metric('rebound_registry_promotions_total'), 1)
    assert.equal(await metric('rebound_registry_candidates_total{result="promoted"}'), 1)
    assert.equal(await metric('rebound_registry_candidates_total{result="refused"}'), 3)
    assert.equal(await metric('rebound_registry_candidates_total{result="no-need"}'), 1)
    assert.equal(await metric('rebound_registry_supernode_utilisation_ratio'), 10 / 100)
  })

  /** One heartbeat from every operator (`clients` each) and then from the elected supernode (0). */
  async function beatAll (clients: number): Promise<RegistryResponse[]> {
    const replies: RegistryResponse[] = []
    for (const op of operators) replies.push(await ask(op.node, { type: 'heartbeat', certificate: op.certificate, clients, capacity: 50 }))
    replies.push(await ask(elected, { type: 'heartbeat', certificate: electedCert, clients: 0, capacity: 50 }))
    return replies
  }
})
