/**
 * Integration: admission control on real login servers and real client nodes over TCP. A server
 * hashing one login at a time (production scrypt cost) meets a storm; refusals carry slots that
 * work at their due time, once; renewals pass the storm; a connection flood is refused before
 * Noise; the naive profile queues everything and hands out nothing.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import type { Libp2p } from 'libp2p'
import type { Multiaddr } from '@multiformats/multiaddr'
import {
  LOGIN_PROTOCOL, LoginResponse, deriveSlotKey, generateClusterKey, issueSlot, peekSlot, request, verifyTicket,
  type ClusterKeyPair
} from '@rebound/protocol'
import { LoginServer, type LoginServerInit } from '../src/index.js'
import { clientNode, serverInit, tempDir, testLogger } from './helpers.js'

const DEADLINE_MS = 10_000
const PRODUCTION_SCRYPT_N = 16_384
const STORM_PER_CLIENT = 8 // the server's streams per connection and protocol

type Reply = LoginResponse
type ErrorReply = Extract<Reply, { type: 'error' }>

async function ask (node: Libp2p, target: Multiaddr, message: object): Promise<Reply> {
  return await request(node, target, LOGIN_PROTOCOL, { deadlineMs: DEADLINE_MS, ...message }, LoginResponse, DEADLINE_MS)
}

const ALICE = { type: 'login', user: 'alice', password: 'pw-alice' }

function errorsOf (replies: Reply[]): ErrorReply[] {
  return replies.filter((r): r is ErrorReply => r.type === 'error')
}

async function metricsOf (server: LoginServer): Promise<(series: string) => number> {
  const text = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text()
  return (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
}

async function healthOf (server: LoginServer): Promise<Record<string, unknown>> {
  return await (await fetch(`http://127.0.0.1:${server.httpPort}/healthz`)).json() as Record<string, unknown>
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))) }

/**
 * Open `count` raw TCP connections at once that never say a word (no Noise), and report when the
 * server closed each one, in ms from the start; closed by us after `holdMs` otherwise (Infinity).
 */
async function silentFlood (port: number, count: number, holdMs: number): Promise<number[]> {
  const startMs = performance.now()
  return await Promise.all(Array.from({ length: count }, async () => await new Promise<number>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    let closedByUs = false
    const timer = setTimeout(() => { closedByUs = true; socket.destroy() }, holdMs)
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(closedByUs ? Infinity : performance.now() - startMs)
    })
  })))
}

function tcpPort (addr: Multiaddr): number {
  const port = addr.getComponents().find((c) => c.name === 'tcp')?.value
  assert.ok(port !== undefined)
  return Number(port)
}

describe('admission control over libp2p', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let clusterKey: ClusterKeyPair
  const servers: LoginServer[] = []
  const clients: Libp2p[] = []

  const startServer = async (name: string, over: Partial<LoginServerInit>): Promise<{ server: LoginServer, addr: Multiaddr }> => {
    const server = new LoginServer({ ...serverInit(dir.path, name, clusterKey), scryptN: PRODUCTION_SCRYPT_N, ...over }, { log: testLogger() })
    servers.push(server)
    await server.start()
    const addr = server.multiaddrs[0]
    assert.ok(addr !== undefined)
    return { server, addr }
  }
  const newClient = async (): Promise<Libp2p> => {
    const node = await clientNode()
    clients.push(node)
    return node
  }

  before(async () => {
    dir = await tempDir('admission')
    clusterKey = generateClusterKey()
  })

  after(async () => {
    for (const node of clients) await node.stop()
    for (const server of servers) await server.stop()
    await dir?.remove()
  })

  test('a repeated registration is USER_EXISTS at once, not queued behind a storm of logins', async () => {
    // Its own user: the servers of this file share one store.
    const { addr } = await startServer('tiny-register', { tuning: { limit: { initial: 1, min: 1, max: 1 }, queues: { login: { capacity: 1 } } } })
    const [c1, c2] = [await newClient(), await newClient()]
    assert.equal((await ask(c1, addr, { type: 'register', user: 'rita', password: 'pw-rita' })).type, 'registered')
    // Logins without pause: a queued registration, the class served last, would starve and be shed.
    let saturated!: () => void
    const firstRefusal = new Promise<void>((resolve) => { saturated = resolve })
    let storming = true
    const replies: Reply[] = []
    const storm = Promise.all(Array.from({ length: STORM_PER_CLIENT }, async () => {
      while (storming) {
        const reply = await ask(c1, addr, { type: 'login', user: 'rita', password: 'pw-rita' })
        replies.push(reply)
        if (reply.type === 'error') saturated()
      }
    }))
    await firstRefusal
    const again = await ask(c2, addr, { type: 'register', user: 'rita', password: 'pw-rita' })
    storming = false
    await storm
    assert.equal(again.type === 'error' && again.code, 'USER_EXISTS', JSON.stringify(again))
    assert.ok(errorsOf(replies).length > 0, 'the server was saturated')
  })

  test('a storm gets slots; a due slot overtakes the next storm, once; renewals never queue', async () => {
    // One hash at a time, one waiter: a storm of 24 overflows at once.
    const { server, addr } = await startServer('tiny', { tuning: { limit: { initial: 1, min: 1, max: 1 }, queues: { login: { capacity: 1 } } } })
    const [c1, c2, c3] = [await newClient(), await newClient(), await newClient()]
    assert.equal((await ask(c1, addr, { type: 'register', user: 'alice', password: 'pw-alice' })).type, 'registered')
    const first = await ask(c1, addr, ALICE)
    assert.ok(first.type === 'logged-in', JSON.stringify(first))

    const storm = async (nodes: Libp2p[]): Promise<Array<{ node: Libp2p, reply: Reply }>> => await Promise.all(nodes.flatMap((node) =>
      Array.from({ length: STORM_PER_CLIENT }, async () => ({ node, reply: await ask(node, addr, ALICE) }))))
    const results = await storm([c1, c2, c3])
    const refused = errorsOf(results.map((r) => r.reply))
    assert.ok(results.some((r) => r.reply.type === 'logged-in'), 'the storm is served at capacity')
    assert.ok(refused.length >= 15, `most of the storm is refused (${refused.length} of ${results.length})`)
    for (const r of refused) {
      assert.equal(r.code, 'OVERLOADED', JSON.stringify(r))
      assert.ok(r.slot !== undefined && r.retryAfterMs !== undefined && r.retryAfterMs > 0, JSON.stringify(r))
    }
    const slots = refused.map((r) => peekSlot(r.slot ?? ''))
    const dues = slots.map((s) => s?.dueAtMs ?? NaN).sort((a, b) => a - b)
    assert.equal(new Set(dues).size, dues.length, 'every refusal got its own place')
    assert.equal(new Set(slots.map((s) => s?.slotId)).size, slots.length)
    assert.ok(slots.every((s) => s?.server === server.peerId && s.user === 'alice'))

    // c1 comes back with its last place at the due time, into a second storm.
    const own = results.filter((r) => r.node === c1 && r.reply.type === 'error').map((r) => (r.reply as ErrorReply).slot ?? '')
    const token = own.sort((a, b) => (peekSlot(a)?.dueAtMs ?? 0) - (peekSlot(b)?.dueAtMs ?? 0)).at(-1)
    assert.ok(token !== undefined, 'c1 holds a slot')
    assert.equal(peekSlot(token)?.peerId, c1.peerId.toString(), 'a slot is bound to the peer it was given to')
    await sleep((peekSlot(token)?.dueAtMs ?? 0) - Date.now() + 5)
    let saturated!: () => void
    const firstRefusal = new Promise<void>((resolve) => { saturated = resolve })
    const secondStorm = Promise.all([c2, c3].flatMap((node) => Array.from({ length: STORM_PER_CLIENT }, async () => {
      const reply = await ask(node, addr, ALICE)
      if (reply.type === 'error') saturated()
      return reply
    })))
    // A refusal means a hash is running and the login queue is full: now the slot holder arrives.
    await Promise.race([firstRefusal, secondStorm])
    const [slotReply, renewReply] = await Promise.all([
      ask(c1, addr, { ...ALICE, slot: token }),
      ask(c1, addr, { type: 'renew', ticket: first.ticket })
    ])
    const stormReplies = await secondStorm
    assert.equal(slotReply.type, 'logged-in', `the due slot got through the storm: ${JSON.stringify(slotReply)}`)
    assert.equal(renewReply.type, 'logged-in', `the renewal got through the storm: ${JSON.stringify(renewReply)}`)
    assert.ok(errorsOf(stormReplies).length >= 10, 'the server was saturated again')

    const replay = await ask(c1, addr, { ...ALICE, slot: token })
    assert.ok(replay.type === 'error' && replay.code === 'SLOT_INVALID' && /already used/.test(replay.message), JSON.stringify(replay))
    const foreign = await ask(c2, addr, { ...ALICE, slot: own[0] })
    assert.ok(foreign.type === 'error' && foreign.code === 'SLOT_INVALID' && /another user or peer/.test(foreign.message), JSON.stringify(foreign))
    const forgedToken = issueSlot({ user: 'alice', peerId: c1.peerId.toString(), server: server.peerId, dueAtMs: Date.now(), graceMs: 60_000 },
      deriveSlotKey(generateClusterKey().privateKey)).token
    const forged = await ask(c1, addr, { ...ALICE, slot: forgedToken })
    assert.ok(forged.type === 'error' && forged.code === 'SLOT_INVALID' && /signature/.test(forged.message), JSON.stringify(forged))

    const value = await metricsOf(server)
    assert.equal(value('rebound_login_rejected_total{reason="SLOT_INVALID"}'), 3)
    assert.ok(value('rebound_login_rejected_total{reason="QUEUE_FULL"}') >= 25)
    assert.ok(value('rebound_login_slots_issued_total') >= refused.length)
    assert.equal(value('rebound_login_renewals_total{result="accepted"}'), 1)
    assert.equal(value('rebound_login_concurrency_limit'), 1)
    assert.ok(value('rebound_login_capacity_per_second') > 1, 'mu is measured')
    assert.equal(value('rebound_login_queue_length{class="slot"}'), 0)
    assert.equal(value('rebound_login_queue_delay_seconds_count{class="slot"}'), 1)
    assert.ok(value('rebound_login_queue_delay_seconds_sum{class="slot"}') > 0, 'the slot holder waited for the running hash, not for the queued logins')
    assert.ok(value('rebound_login_rejection_cpu_seconds_total') >= 0)
    assert.equal((await healthOf(server)).profile, 'defended')
  })

  test('renew: a fresh ticket for the same user and peer; refused for a ticket from another peer', async () => {
    const { server, addr } = await startServer('renew', {})
    const [owner, thief] = [await newClient(), await newClient()]
    const login = await ask(owner, addr, ALICE)
    assert.ok(login.type === 'logged-in')
    await sleep(5)
    const renewed = await ask(owner, addr, { type: 'renew', ticket: login.ticket })
    assert.ok(renewed.type === 'logged-in', JSON.stringify(renewed))
    const payload = verifyTicket(renewed.ticket, clusterKey.publicKey, { peerId: owner.peerId.toString(), nowMs: Date.now() })
    assert.equal(payload.user, 'alice')
    assert.ok(renewed.expiresAtMs > login.expiresAtMs, 'a new lifetime')
    assert.notEqual(renewed.ticket, login.ticket)
    const stolen = await ask(thief, addr, { type: 'renew', ticket: login.ticket })
    assert.ok(stolen.type === 'error' && stolen.code === 'TICKET_PEER_MISMATCH', JSON.stringify(stolen))
    const value = await metricsOf(server)
    assert.equal(value('rebound_login_renewals_total{result="accepted"}'), 1)
    assert.equal(value('rebound_login_renewals_total{result="TICKET_PEER_MISMATCH"}'), 1)
    assert.equal(value('rebound_login_offered_total'), 1, 'renewals are not password logins')
  })

  test('a connection flood beyond the budget is held, then refused before Noise; a real client logs in after it', async () => {
    // Upgrade timeout 1000 ms: the gate holds a connection at most 600 ms of it.
    const { server, addr } = await startServer('gated', {
      maxNewConnectionsPerS: 5,
      tuning: { connectionBurst: 5, inboundUpgradeTimeoutMs: 1000 }
    })
    const closedAtMs = await silentFlood(tcpPort(addr), 40, 4000)
    const refused = closedAtMs.filter((ms) => ms < 850)
    const admitted = closedAtMs.filter((ms) => ms >= 850)
    const shown = closedAtMs.map(Math.round).join(' ')
    assert.ok(refused.length >= 28 && refused.every((ms) => ms >= 500),
      `held for the hold time, then refused, before any handshake: ${refused.length} of 40 (${shown})`)
    assert.ok(admitted.length >= 5 && admitted.every((ms) => ms >= 900 && ms < 3000),
      `the admitted silent ones hold a pending place until the 1000 ms upgrade timeout, then are dropped: ${shown}`)
    let value = await metricsOf(server)
    assert.equal(value('rebound_login_connections_refused_total{reason="rate"}'), refused.length)
    assert.equal(server.pendingConnections, 0, 'timed-out handshakes left the pending set')
    await sleep(400) // two tokens at 5/s
    const client = await newClient()
    const reply = await ask(client, addr, ALICE)
    assert.equal(reply.type, 'logged-in', JSON.stringify(reply))
    assert.equal(server.pendingConnections, 0, 'an upgraded connection is no longer pending')
    value = await metricsOf(server)
    assert.equal(value('rebound_login_connections_admitted_total'), admitted.length + 1)
  })

  test('naive profile: no connection limits, everything queues', async () => {
    const { server, addr } = await startServer('naive', { profile: 'naive', maxNewConnectionsPerS: 1 })
    assert.equal((await healthOf(server)).profile, 'naive')
    const closedAtMs = await silentFlood(tcpPort(addr), 20, 300)
    assert.ok(closedAtMs.every((ms) => ms === Infinity), 'no gate: silent connections are all let in')
    const [c1, c2] = [await newClient(), await newClient()]
    const replies = await Promise.all([c1, c2].flatMap((node) => Array.from({ length: STORM_PER_CLIENT }, async () => await ask(node, addr, ALICE))))
    assert.ok(replies.every((r) => r.type === 'logged-in'), 'nothing is refused: the queue just grows')
    const value = await metricsOf(server)
    assert.ok(Number.isNaN(value('rebound_login_connections_refused_total{reason="rate"}')))
    assert.equal(value('rebound_login_concurrency_limit'), 4)
  })

  test('naive profile: a refusal carries no slot and no retry hint', async () => {
    // Only to see the shape of a naive refusal: the real naive queue holds a million.
    const { addr } = await startServer('naive-tiny', { profile: 'naive', tuning: { queues: { login: { capacity: 1 } } } })
    const client = await newClient()
    const refused = errorsOf(await Promise.all(Array.from({ length: STORM_PER_CLIENT }, async () => await ask(client, addr, ALICE))))
    assert.ok(refused.length >= 2, `${refused.length} refused: 4 hash, 1 waits`)
    for (const r of refused) assert.deepEqual([r.code, r.slot, r.retryAfterMs], ['OVERLOADED', undefined, undefined])
  })
})
