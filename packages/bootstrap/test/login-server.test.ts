/**
 * Integration: a real login server and real client nodes over TCP on 127.0.0.1 (port 0). The
 * tests run in order and share the server; each uses its own account names.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import type { Libp2p } from 'libp2p'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { z } from 'zod'
import {
  LOGIN_PROTOCOL, LoginResponse, LoginServerHealth, MAX_FRAME_BYTES, REGISTRY_PROTOCOL, RegistryResponse, ReboundError,
  decodeFrame, issueCertificate, metricNameProblems, request, generateClusterKey, verifyCertificate, verifyTicket, type ClusterKeyPair
} from '@rebound/protocol'
import { LoginServer } from '../src/index.js'
import { OPERATOR_TOKEN, clientNode, serverInit, tempDir, testLogger } from './helpers.js'

const DEADLINE_MS = 5000

describe('login server over libp2p', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let clusterKey: ClusterKeyPair
  let server: LoginServer
  let addr: Multiaddr
  let client: Libp2p
  let supernode: Libp2p
  /** Added to the server's clock, to age certificates and heartbeats without waiting. */
  let offsetMs = 0
  const clock = (): number => Date.now() + offsetMs

  const login = async (node: Libp2p, message: object, target: Multiaddr = addr): Promise<LoginResponse> =>
    await requestOf(node, target, LOGIN_PROTOCOL, { deadlineMs: DEADLINE_MS, ...message }, LoginResponse)
  const registry = async (node: Libp2p, message: object): Promise<RegistryResponse> =>
    await requestOf(node, addr, REGISTRY_PROTOCOL, message, RegistryResponse)
  const certify = async (node: Libp2p, over: object = {}): Promise<RegistryResponse> => await registry(node, {
    type: 'certify', addrs: ['/ip4/127.0.0.1/tcp/4001'], class: 'operator', operatorToken: OPERATOR_TOKEN, capacity: 50, ...over
  })

  before(async () => {
    dir = await tempDir('server')
    clusterKey = generateClusterKey()
    server = new LoginServer(serverInit(dir.path, 'a', clusterKey), { log: testLogger(), clock })
    await server.start()
    const first = server.multiaddrs[0]
    assert.ok(first !== undefined, 'the server listens somewhere')
    addr = first
    client = await clientNode()
    supernode = await clientNode()
  })

  after(async () => {
    await client?.stop()
    await supernode?.stop()
    await server?.stop()
    await dir?.remove()
  })

  test('listens on the port the OS gave it, with its peer id in the address', () => {
    assert.match(addr.toString(), new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/[1-9][0-9]*/p2p/${server.peerId}$`))
  })

  test('register, then the same name again is USER_EXISTS', async () => {
    const registered = await login(client, { type: 'register', user: 'alice', password: 'pw-alice' })
    assert.ok(registered.type === 'registered' && registered.user === 'alice', JSON.stringify(registered))
    // A registration is a login: its ticket is bound to the peer that registered.
    assert.equal(verifyTicket(registered.ticket, clusterKey.publicKey, { peerId: client.peerId.toString(), nowMs: Date.now() }).user, 'alice')
    const again = await login(client, { type: 'register', user: 'alice', password: 'other' })
    assert.equal(again.type === 'error' && again.code, 'USER_EXISTS')
  })

  test('a wrong password is BAD_PASSWORD and an unknown name is UNKNOWN_USER', async () => {
    const wrong = await login(client, { type: 'login', user: 'alice', password: 'pw-bob!' })
    assert.equal(wrong.type === 'error' && wrong.code, 'BAD_PASSWORD')
    const unknown = await login(client, { type: 'login', user: 'nobody', password: 'pw-alice' })
    assert.equal(unknown.type === 'error' && unknown.code, 'UNKNOWN_USER')
  })

  test('a good login yields a ticket bound to the peer id the connection authenticated', async () => {
    const reply = await login(client, { type: 'login', user: 'alice', password: 'pw-alice' })
    assert.equal(reply.type, 'logged-in', JSON.stringify(reply))
    if (reply.type !== 'logged-in') return
    const payload = verifyTicket(reply.ticket, clusterKey.publicKey, { peerId: client.peerId.toString(), nowMs: clock() })
    assert.equal(payload.user, 'alice')
    assert.equal(payload.expiresAtMs, reply.expiresAtMs)
    assert.ok(Math.abs(payload.expiresAtMs - (clock() + 3600_000)) < 10_000, 'ticket lives --ticket-ttl-ms')
    const stranger = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    assert.throws(() => verifyTicket(reply.ticket, clusterKey.publicKey, { peerId: stranger, nowMs: clock() }),
      (err: unknown) => err instanceof ReboundError && err.code === 'TICKET_PEER_MISMATCH')
    assert.deepEqual(reply.supernodes, [], 'no supernode is registered yet')
  })

  test('certify refuses a wrong operator token and the elected class', async () => {
    const wrong = await certify(supernode, { operatorToken: 'not-the-token' })
    assert.equal(wrong.type === 'error' && wrong.code, 'NOT_AUTHORIZED')
    const elected = await certify(supernode, { class: 'elected' })
    assert.equal(elected.type === 'error' && elected.code, 'NOT_AUTHORIZED')
    assert.match(elected.type === 'error' ? elected.message : '', /elected promotion is decided by the registry/)
  })

  test('certify, heartbeat, and the supernode is handed out with tickets', async () => {
    const certified = await certify(supernode)
    assert.equal(certified.type, 'certified', JSON.stringify(certified))
    if (certified.type !== 'certified') return
    const cert = verifyCertificate(certified.certificate, clusterKey.publicKey, { peerId: supernode.peerId.toString(), nowMs: clock() })
    assert.deepEqual([cert.class, cert.addrs], ['operator', ['/ip4/127.0.0.1/tcp/4001']])

    const beat = await registry(supernode, { type: 'heartbeat', certificate: certified.certificate, clients: 3, capacity: 50 })
    assert.equal(beat.type, 'heartbeat-ok', JSON.stringify(beat))
    if (beat.type !== 'heartbeat-ok') return
    assert.equal(beat.certificate, undefined, 'a fresh certificate is not renewed')
    const listed = beat.supernodes.find((s) => s.peerId === supernode.peerId.toString())
    assert.deepEqual(listed && { ...listed, certificate: '' }, {
      peerId: supernode.peerId.toString(), addrs: ['/ip4/127.0.0.1/tcp/4001'], class: 'operator', clients: 3, capacity: 50, certificate: ''
    })

    const reply = await login(client, { type: 'login', user: 'alice', password: 'pw-alice' })
    assert.equal(reply.type, 'logged-in')
    const entry = reply.type === 'logged-in' ? reply.supernodes.find((s) => s.peerId === supernode.peerId.toString()) : undefined
    assert.ok(entry !== undefined, 'the login reply lists the supernode')
    verifyCertificate(entry.certificate, clusterKey.publicKey, { peerId: entry.peerId, nowMs: clock() })
  })

  test('a heartbeat must show a certificate naming the sender, signed by the cluster key', async () => {
    const certified = await certify(supernode)
    assert.equal(certified.type, 'certified')
    if (certified.type !== 'certified') return
    const stolen = await registry(client, { type: 'heartbeat', certificate: certified.certificate, clients: 0, capacity: 50 })
    assert.equal(stolen.type === 'error' && stolen.code, 'CERT_INVALID')
    const forged = issueCertificate({ peerId: client.peerId.toString(), addrs: ['/ip4/127.0.0.1/tcp/9'], class: 'operator', nowMs: clock(), ttlMs: 60_000 },
      generateClusterKey().privateKey)
    const refused = await registry(client, { type: 'heartbeat', certificate: forged.token, clients: 0, capacity: 50 })
    assert.equal(refused.type === 'error' && refused.code, 'CERT_INVALID')
    const health = LoginServerHealth.parse(await (await fetch(`http://127.0.0.1:${server.httpPort}/healthz`)).json())
    assert.equal(health.supernodes, 1, 'the refused peer was not listed')
  })

  test('another login server on the same store serves the same accounts and supernodes', async (t) => {
    const other = new LoginServer(serverInit(dir.path, 'b', clusterKey), { log: testLogger(), clock })
    await other.start()
    t.after(async () => { await other.stop() })
    assert.notEqual(other.peerId, server.peerId)
    const target = other.multiaddrs[0]
    assert.ok(target !== undefined)
    const reply = await login(client, { type: 'login', user: 'alice', password: 'pw-alice' }, target)
    assert.equal(reply.type, 'logged-in')
    assert.ok(reply.type === 'logged-in' && reply.supernodes.some((s) => s.peerId === supernode.peerId.toString()))
    // Registered through the second server, known to the first.
    assert.equal((await login(client, { type: 'register', user: 'bob', password: 'pw-bob' }, target)).type, 'registered')
    assert.equal((await login(client, { type: 'login', user: 'bob', password: 'pw-bob' })).type, 'logged-in')
  })

  test('a certificate past half its life is renewed; a silent supernode leaves the list; an expired one is refused', async () => {
    const certified = await certify(supernode)
    assert.equal(certified.type, 'certified')
    if (certified.type !== 'certified') return
    offsetMs += 40 * 60_000 // 40 of 60 minutes
    const beat = await registry(supernode, { type: 'heartbeat', certificate: certified.certificate, clients: 1, capacity: 50 })
    assert.equal(beat.type, 'heartbeat-ok')
    const renewed = beat.type === 'heartbeat-ok' ? beat.certificate : undefined
    assert.ok(renewed !== undefined, 'the reply carries a renewed certificate')
    const payload = verifyCertificate(renewed, clusterKey.publicKey, { peerId: supernode.peerId.toString(), nowMs: clock() })
    assert.ok(payload.expiresAtMs > certified.expiresAtMs)

    offsetMs += 10_000 // past the 6 s heartbeat timeout, with no heartbeat
    const reply = await login(client, { type: 'login', user: 'alice', password: 'pw-alice' })
    assert.deepEqual(reply.type === 'logged-in' && reply.supernodes, [])

    offsetMs += 30 * 60_000 // the original certificate has expired (the renewed one has not)
    const late = await registry(supernode, { type: 'heartbeat', certificate: certified.certificate, clients: 1, capacity: 50 })
    assert.equal(late.type === 'error' && late.code, 'CERT_EXPIRED')
    const back = await registry(supernode, { type: 'heartbeat', certificate: renewed, clients: 1, capacity: 50 })
    assert.equal(back.type === 'heartbeat-ok' && back.supernodes.length, 1, 'a heartbeat with the renewed certificate lists it again')
  })

  test('malformed and oversized frames end their own stream only', async () => {
    const bad = await rawExchange(client, addr, new TextEncoder().encode('{"type":"login",'))
    assert.equal(typeof bad === 'object' && bad.type === 'error' && bad.code, 'BAD_REQUEST', JSON.stringify(bad))
    const schemaMismatch = await rawExchange(client, addr, new TextEncoder().encode('{"type":"login","user":"alice","password":"pw-alice","deadlineMs":1,"admin":true}'))
    assert.equal(typeof schemaMismatch === 'object' && schemaMismatch.type === 'error' && schemaMismatch.code, 'BAD_REQUEST')
    const huge = await rawExchange(client, addr, new Uint8Array(MAX_FRAME_BYTES + 1024).fill(0x20))
    assert.equal(huge, 'reset', 'an oversized frame is answered by resetting the stream')
    // The connection and the server carry on.
    assert.equal((await login(client, { type: 'login', user: 'alice', password: 'pw-alice' })).type, 'logged-in')
  })

  test('/healthz and /metrics answer over HTTP', async () => {
    const base = `http://127.0.0.1:${server.httpPort}`
    const healthRes = await fetch(`${base}/healthz`)
    assert.equal(healthRes.status, 200)
    const health = LoginServerHealth.parse(await healthRes.json())
    assert.deepEqual([health.ok, health.peerId, health.addrs, health.pid], [true, server.peerId, [addr.toString()], process.pid])
    const metricsRes = await fetch(`${base}/metrics`)
    assert.equal(metricsRes.status, 200)
    assert.match(metricsRes.headers.get('content-type') ?? '', /^text\/plain/)
    const text = await metricsRes.text()
    const value = (series: string): number => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1])
    assert.equal(value('rebound_login_accepted_total'), 5)
    assert.equal(value('rebound_login_rejected_total{reason="BAD_PASSWORD"}'), 1)
    assert.equal(value('rebound_login_rejected_total{reason="UNKNOWN_USER"}'), 1)
    assert.equal(value('rebound_login_offered_total'), 7)
    assert.equal(value('rebound_register_total{result="accepted"}'), 1)
    assert.equal(value('rebound_register_total{result="rejected"}'), 1)
    assert.equal(value('rebound_login_duration_seconds_count'), 5)
    assert.equal(value('rebound_registry_live_supernodes'), 1)
    assert.ok(value('rebound_registry_certificates_issued_total') >= 4)
    assert.match(text, /^process_cpu_seconds_total /m, 'default process metrics are exported')
    assert.deepEqual(metricNameProblems(text), [], 'Prometheus naming conventions')
  })

  test('stop is idempotent and the server stops answering', async () => {
    const target = addr
    await Promise.all([server.stop(), server.stop()])
    await server.stop()
    await assert.rejects(login(client, { type: 'login', user: 'alice', password: 'pw-alice' }, target),
      (err: unknown) => err instanceof ReboundError && (err.code === 'UNAVAILABLE' || err.code === 'CLOSED'))
  })
})

async function requestOf<S extends z.ZodType> (node: Libp2p, target: Multiaddr, protocol: string, message: object, schema: S): Promise<z.infer<S>> {
  return await request(node, target, protocol, message, schema, DEADLINE_MS)
}

/**
 * Send one raw length-prefixed frame on a login stream; the decoded reply, or 'reset' when the
 * server ended the stream without one. A server that neither answers nor resets fails the test.
 */
async function rawExchange (node: Libp2p, target: Multiaddr, frame: Uint8Array): Promise<LoginResponse | 'reset'> {
  const stream = await node.dialProtocol(target, LOGIN_PROTOCOL, { signal: AbortSignal.timeout(DEADLINE_MS) })
  const lp = lpStream(stream, { maxDataLength: 1 << 20 })
  try {
    await lp.write(frame, { signal: AbortSignal.timeout(DEADLINE_MS) })
    const reply = await lp.read({ signal: AbortSignal.timeout(DEADLINE_MS) })
    return decodeFrame(LoginResponse, reply.subarray())
  } catch (err) {
    const name = (err as { name?: string }).name ?? ''
    if (name === 'TimeoutError' || name === 'AbortError') throw new Error('the server neither answered nor reset the stream')
    return 'reset'
  } finally {
    stream.abort(new Error('test done'))
  }
}
