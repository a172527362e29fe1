/**
 * Integration: a real rebound-bootstrap process on 127.96.1.1 and real libp2p clients (in this
 * process, dialling from 127.96.2.x) over TCP: /rebound/data with session tickets, and GET /data.
 * The tests run in order and share the server.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { lpStream } from '@libp2p/utils'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import {
  DATA_PROTOCOL, DataReply, LOGIN_PROTOCOL, LoginResponse, MAX_FRAME_BYTES, MAX_MAILBOX_PUT, MAX_MAILBOX_REPLY_BYTES, PROTOCOL_PREFIX,
  StoreUserData, decodeFrame, generateClusterKey, issueTicket, privateKeyToPem, request,
  type ChatMessage, type ContactRecord
} from '@rebound/protocol'
import { wireStack } from '@rebound/protocol/wire-stack'
import { OPERATOR_TOKEN, tempDir } from './helpers.js'

const NET = '127.96'
const SERVER_IP = `${NET}.1.1`
const HTTP = `http://${SERVER_IP}:7480`
const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url))
const DEADLINE_MS = 5000
const START_DEADLINE_MS = 20_000

/** A client node that dials from its own loopback address and never listens. */
async function client (ip: string): Promise<Libp2p> {
  return await createLibp2p({ ...wireStack(ip), connectionMonitor: { protocolPrefix: PROTOCOL_PREFIX } })
}

async function waitFor<T> (what: string, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + START_DEADLINE_MS
  while (Date.now() < deadline) {
    const value = await fn()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const rec = (contact: string, rev: number, name: string, deleted = false): ContactRecord => ({ contact, name, deleted, rev })

describe('/rebound/data on a real login server', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let server: ChildProcess
  let addr: Multiaddr
  let alice: Libp2p
  let bob: Libp2p
  let mallory: Libp2p
  let aliceTicket: string
  let bobTicket: string
  let storeId: string

  const data = async (node: Libp2p, message: object): Promise<DataReply> =>
    await request(node, addr, DATA_PROTOCOL, { deadlineMs: DEADLINE_MS, ...message }, DataReply, DEADLINE_MS)
  const getData = async (user: string, authorization?: string): Promise<Response> =>
    await fetch(`${HTTP}/data?user=${encodeURIComponent(user)}`, authorization === undefined ? {} : { headers: { authorization } })

  /** Register and log in `user` from `node`: a ticket bound to that node's peer id. */
  async function ticketFor (node: Libp2p, user: string): Promise<string> {
    const login = async (type: string): Promise<LoginResponse> =>
      await request(node, addr, LOGIN_PROTOCOL, { type, user, password: `pw-${user}`, deadlineMs: DEADLINE_MS }, LoginResponse, DEADLINE_MS)
    assert.equal((await login('register')).type, 'registered')
    const reply = await login('login')
    assert.ok(reply.type === 'logged-in', JSON.stringify(reply))
    return reply.ticket
  }

  before(async () => {
    dir = await tempDir('data-int')
    const keyFile = join(dir.path, 'cluster.pem')
    await writeFile(keyFile, privateKeyToPem(generateClusterKey().privateKey), { mode: 0o600 })
    server = spawn(process.execPath, [MAIN, '--listen', SERVER_IP, '--data-dir', join(dir.path, 'ls1'), '--store', join(dir.path, 'store.sqlite'),
      '--cluster-key-file', keyFile, '--operator-token', OPERATOR_TOKEN, '--scrypt-n', '1024', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] })
    const health = await waitFor('login server /healthz', async () => {
      if (server.exitCode !== null) throw new Error(`rebound-bootstrap exited with ${server.exitCode}`)
      try {
        const res = await fetch(`${HTTP}/healthz`, { signal: AbortSignal.timeout(500) })
        return res.ok ? await res.json() as { peerId: string, pid: number } : undefined
      } catch { return undefined }
    })
    // Not a server left over from an earlier run on the same address.
    assert.equal(health.pid, server.pid)
    addr = multiaddr(`/ip4/${SERVER_IP}/tcp/7401/p2p/${health.peerId}`)
    alice = await client(`${NET}.2.1`)
    bob = await client(`${NET}.2.2`)
    mallory = await client(`${NET}.2.3`)
    aliceTicket = await ticketFor(alice, 'alice')
    bobTicket = await ticketFor(bob, 'bob')
  })

  after(async () => {
    for (const node of [alice, bob, mallory]) await node?.stop()
    if (server?.exitCode === null) {
      server.kill('SIGTERM')
      await once(server, 'exit')
    }
    await dir?.remove()
  })

  test('contacts-put then contacts-get round trip, every reply naming the storeId', async () => {
    const records = [rec('bob', 1, 'Bob'), rec('carol', 2, 'Carol'), rec('dave', 3, 'Dave', true)]
    const put = await data(alice, { type: 'contacts-put', ticket: aliceTicket, records })
    assert.ok(put.type === 'contacts-stored', JSON.stringify(put))
    assert.deepEqual([put.applied, put.stale], [3, 0])
    storeId = put.storeId
    assert.deepEqual(await data(alice, { type: 'contacts-get', ticket: aliceTicket }), { type: 'contacts', storeId, records, more: false })
    assert.deepEqual(await data(alice, { type: 'contacts-get', ticket: aliceTicket, after: 'bob' }),
      { type: 'contacts', storeId, records: records.slice(1), more: false })
    assert.deepEqual(await data(bob, { type: 'contacts-get', ticket: bobTicket }), { type: 'contacts', storeId, records: [], more: false },
      "bob's ticket reads bob's list")
  })

  test('a stale put does not overwrite a newer record', async () => {
    const put = await data(alice, { type: 'contacts-put', ticket: aliceTicket, records: [rec('bob', 1, 'Robert'), rec('carol', 3, 'Caroline')] })
    assert.deepEqual(put, { type: 'contacts-stored', storeId, applied: 1, stale: 1 })
    const got = await data(alice, { type: 'contacts-get', ticket: aliceTicket })
    assert.deepEqual(got.type === 'contacts' && got.records.slice(0, 2), [rec('bob', 1, 'Bob'), rec('carol', 3, 'Caroline')])
  })

  test("a ticket for alice cannot write as bob: mailbox-put from bob is NOT_AUTHORIZED and stores nothing", async () => {
    const forged: ChatMessage = { id: 'forged-1', from: 'bob', to: 'carol', body: 'not from bob', sentAtMs: Date.now() }
    const reply = await data(alice, { type: 'mailbox-put', ticket: aliceTicket, messages: [forged] })
    assert.equal(reply.type === 'error' && reply.code, 'NOT_AUTHORIZED', JSON.stringify(reply))
    const carol = StoreUserData.parse(await (await getData('carol', `Bearer ${OPERATOR_TOKEN}`)).json())
    assert.deepEqual(carol.mailbox, [])
  })

  test('a ticket shown from another peer is TICKET_PEER_MISMATCH; one not signed by the cluster is TICKET_INVALID', async () => {
    const stolen = await data(mallory, { type: 'contacts-get', ticket: aliceTicket })
    assert.equal(stolen.type === 'error' && stolen.code, 'TICKET_PEER_MISMATCH', JSON.stringify(stolen))
    const own = issueTicket({ user: 'alice', peerId: mallory.peerId.toString(), nowMs: Date.now(), ttlMs: 60_000 }, generateClusterKey().privateKey)
    const forged = await data(mallory, { type: 'contacts-put', ticket: own.token, records: [rec('mallory', 99, 'pwned')] })
    assert.equal(forged.type === 'error' && forged.code, 'TICKET_INVALID', JSON.stringify(forged))
    const got = await data(alice, { type: 'contacts-get', ticket: aliceTicket })
    assert.equal(got.type === 'contacts' && got.records.some((r) => r.contact === 'mallory'), false)
  })

  test('mailbox-put is idempotent; mailbox-get pages by bytes and by limit, in seq order', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `a2b-${i}`)
    const messages = ids.map((id): ChatMessage => ({ id, from: 'alice', to: 'bob', body: `${id} `.padEnd(4000, '.'), sentAtMs: Date.now() }))
    let stored = 0
    for (let i = 0; i < messages.length; i += MAX_MAILBOX_PUT) {
      const put = await data(alice, { type: 'mailbox-put', ticket: aliceTicket, messages: messages.slice(i, i + MAX_MAILBOX_PUT) })
      assert.ok(put.type === 'mailbox-stored' && put.storeId === storeId, JSON.stringify(put))
      stored += put.stored
    }
    assert.equal(stored, ids.length)
    const again = await data(alice, { type: 'mailbox-put', ticket: aliceTicket, messages: messages.slice(0, 2) })
    assert.deepEqual(again, { type: 'mailbox-stored', storeId, stored: 0, duplicates: 2 })

    const got: string[] = []
    const seqs: number[] = []
    let afterSeq = 0
    let pages = 0
    while (pages < 10) {
      pages++
      const page = await data(bob, { type: 'mailbox-get', ticket: bobTicket, afterSeq, limit: 100 })
      assert.ok(page.type === 'mailbox' && page.entries.length > 0, JSON.stringify(page).slice(0, 200))
      assert.ok(page.entries.reduce((n, e) => n + e.message.body.length, 0) <= MAX_MAILBOX_REPLY_BYTES)
      got.push(...page.entries.map((e) => e.message.id))
      seqs.push(...page.entries.map((e) => e.seq))
      afterSeq = page.entries.at(-1)?.seq ?? afterSeq
      if (!page.more) break
    }
    assert.deepEqual(got, ids)
    assert.ok(pages >= 2, `eight 4 KB bodies take more than one page (${pages})`)
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b))
    const two = await data(bob, { type: 'mailbox-get', ticket: bobTicket, afterSeq: 0, limit: 2 })
    assert.deepEqual(two.type === 'mailbox' && [two.entries.map((e) => e.message.id), two.more], [ids.slice(0, 2), true])
    const mine = await data(alice, { type: 'mailbox-get', ticket: aliceTicket, afterSeq: 0, limit: 100 })
    assert.deepEqual(mine, { type: 'mailbox', storeId, entries: [], more: false }, "alice's ticket reads alice's mailbox, not bob's")
  })

  test('a malformed request or an oversized frame ends that stream only; the connection and server carry on', async () => {
    const before = alice.getConnections().map((c) => c.id)
    const bad = await rawExchange(alice, addr, new TextEncoder().encode(JSON.stringify({ type: 'contacts-get', ticket: aliceTicket, deadlineMs: 1000, user: 'bob' })))
    assert.equal(typeof bad === 'object' && bad.type === 'error' && bad.code, 'BAD_REQUEST', JSON.stringify(bad))
    const notJson = await rawExchange(alice, addr, new TextEncoder().encode('{"type":"contacts-get",'))
    assert.equal(typeof notJson === 'object' && notJson.type === 'error' && notJson.code, 'BAD_REQUEST')
    assert.equal(await rawExchange(alice, addr, new Uint8Array(MAX_FRAME_BYTES + 1024).fill(0x20)), 'reset')
    const got = await data(alice, { type: 'contacts-get', ticket: aliceTicket })
    assert.equal(got.type, 'contacts')
    assert.deepEqual(alice.getConnections().map((c) => c.id), before, 'the same connection served it')
  })

  test('GET /data: 401 without or with a wrong token, 400 for a bad name, the store copy with the token', async () => {
    assert.equal((await getData('bob')).status, 401)
    assert.equal((await getData('bob', 'Bearer not-the-token')).status, 401)
    assert.equal((await getData('bob', OPERATOR_TOKEN)).status, 401, 'the Bearer scheme is required')
    assert.equal((await getData('Not A User', `Bearer ${OPERATOR_TOKEN}`)).status, 400)
    assert.equal((await fetch(`${HTTP}/data`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).status, 400)
    const res = await getData('bob', `bearer ${OPERATOR_TOKEN}`)
    assert.equal(res.status, 200)
    const bobData = StoreUserData.parse(await res.json())
    assert.deepEqual(bobData, { storeId, contacts: [], mailbox: Array.from({ length: 8 }, (_, i) => `a2b-${i}`) })
    const aliceData = StoreUserData.parse(await (await getData('alice', `Bearer ${OPERATOR_TOKEN}`)).json())
    assert.deepEqual(aliceData.contacts, [rec('bob', 1, 'Bob'), rec('carol', 3, 'Caroline'), rec('dave', 3, 'Dave', true)])
  })

  test('rebound_data_requests_total counts requests by type and result', async () => {
    const text = await (await fetch(`${HTTP}/metrics`)).text()
    const value = (labels: string): number => Number(new RegExp(`^rebound_data_requests_total\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1])
    assert.equal(value('type="contacts-put",result="ok"'), 2)
    assert.equal(value('type="mailbox-put",result="NOT_AUTHORIZED"'), 1)
    assert.equal(value('type="contacts-get",result="TICKET_PEER_MISMATCH"'), 1)
    assert.equal(value('type="contacts-put",result="TICKET_INVALID"'), 1)
  })

  test('a recipient archives its own inbox: mailbox-put of a message from bob to alice with alice\'s ticket is stored', async () => {
    const received: ChatMessage = { id: 'b2a-archived', from: 'bob', to: 'alice', body: 'delivered live, archived by alice', sentAtMs: Date.now() }
    const reply = await data(alice, { type: 'mailbox-put', ticket: aliceTicket, messages: [received] })
    assert.equal(reply.type, 'mailbox-stored', JSON.stringify(reply))
    const got = StoreUserData.parse(await (await getData('alice', `Bearer ${OPERATOR_TOKEN}`)).json())
    assert.ok(got.mailbox.includes('b2a-archived'))
  })
})

/**
 * Send one raw length-prefixed frame on a data stream; the decoded reply, or 'reset' when the
 * server ended the stream without one. A server that neither answers nor resets fails the test.
 */
async function rawExchange (node: Libp2p, target: Multiaddr, frame: Uint8Array): Promise<DataReply | 'reset'> {
  const stream = await node.dialProtocol(target, DATA_PROTOCOL, { signal: AbortSignal.timeout(DEADLINE_MS) })
  const lp = lpStream(stream, { maxDataLength: 1 << 20 })
  try {
    await lp.write(frame, { signal: AbortSignal.timeout(DEADLINE_MS) })
    const reply = await lp.read({ signal: AbortSignal.timeout(DEADLINE_MS) })
    return decodeFrame(DataReply, reply.subarray())
  } catch (err) {
    const name = (err as { name?: string }).name ?? ''
    if (name === 'TimeoutError' || name === 'AbortError') throw new Error('the server neither answered nor reset the stream')
    return 'reset'
  } finally {
    stream.abort(new Error('test done'))
  }
}
