/**
 * The run's end of the history against fake control ports and a fake login server: the settle
 * waits for what devices still owe (bounded), the final reads fill both failure domains or say
 * unreadable, and the check of a clean run passes no-lost-writes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import { mapBounded, type ContactRecord, type DeviceDataStatus, type OutboxList } from '@rebound/protocol'
import { readFinalState } from '../../src/final-reads.js'
import { History } from '../../src/history/history.js'
import { NO_LOST_WRITES } from '../../src/history/checker.js'
import { checkRunHistory, historyObjectiveOf } from '../../src/history-run.js'
import { deviceRestoredInto, owed, settle, type PeerLook } from '../../src/settle.js'
import type { WorkloadPeer } from '../../src/workload.js'

const log = pino({ level: 'silent' })
const TOKEN = 'operator-secret'

interface UserData { inbox: string[], outbox: OutboxList['entries'], contacts: ContactRecord[], mailbox: string[] }

/** One server as a node (u001, no ?user=), a swarm (?user=) and a login server (/data). */
async function fakeCluster (data: Map<string, UserData>): Promise<{ url: string, server: Server, requests: string[] }> {
  const requests: string[] = []
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    requests.push(`${req.method ?? ''} ${req.url ?? ''}`)
    const user = url.searchParams.get('user') ?? 'u001'
    const d = data.get(user)
    const reply = (body: unknown): void => { res.end(JSON.stringify(body)) }
    if (url.pathname === '/data') {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) { res.statusCode = 401; reply({ code: 'NOT_AUTHORIZED' }); return }
      reply({ storeId: 'store-0001', contacts: d?.contacts ?? [], mailbox: d?.mailbox ?? [] })
      return
    }
    if (d === undefined) { res.statusCode = 400; reply({ code: 'BAD_REQUEST' }); return }
    if (url.pathname === '/inbox' && url.searchParams.get('all') === '1') { reply({ ids: d.inbox }); return }
    if (url.pathname === '/outbox' && url.searchParams.get('all') === '1') { reply({ entries: d.outbox }); return }
    if (url.pathname === '/contacts') { reply(d.contacts); return }
    res.statusCode = 404
    res.end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, requests }
}

const ada: ContactRecord = { contact: 'u002', name: 'Ada 1', deleted: false, rev: 1 }

function cleanData (): Map<string, UserData> {
  return new Map([
    ['u001', { inbox: ['m2'], outbox: [{ id: 'm1', to: 'u002', state: 'delivered', archived: true }], contacts: [ada], mailbox: ['m2'] }],
    ['u002', { inbox: ['m1'], outbox: [{ id: 'm2', to: 'u001', state: 'mailboxed', archived: true }], contacts: [], mailbox: ['m1'] }]
  ])
}

function peers (url: string): WorkloadPeer[] {
  return [{ name: 'p001', user: 'u001', url }, { name: 'p002', user: 'u002', url, swarm: 'sw01' }]
}

test('owed: pending, unarchived, mailboxed but not fetched, and silent peers are owed', () => {
  const peer = (user: string): WorkloadPeer => ({ name: user, user, url: 'http://x' })
  const looks: PeerLook[] = [
    { peer: peer('u001'), inbox: new Set(['a']), outbox: { entries: [
      { id: 'm1', to: 'u002', state: 'pending', archived: false },
      { id: 'm2', to: 'u002', state: 'delivered', archived: false },
      { id: 'm3', to: 'u002', state: 'mailboxed', archived: true },
      { id: 'm4', to: 'u002', state: 'mailboxed', archived: true },
      // Its recipient was not looked at (not running): nothing to wait for here.
      { id: 'm5', to: 'u009', state: 'mailboxed', archived: true }
    ] } },
    { peer: peer('u002'), inbox: new Set(['m4']), outbox: null }
  ]
  assert.deepEqual(owed(looks), { pending: 1, unarchived: 1, unfetched: 1, unanswered: 1, unsynced: 0 })
  assert.deepEqual(owed([{ peer: peer('u001'), inbox: new Set(), outbox: { entries: [] } }]), { pending: 0, unarchived: 0, unfetched: 0, unanswered: 0, unsynced: 0 })
})

test('owed: after a store wipe a device owes the new store until it has noticed it and pushed everything', () => {
  const peer = (user: string): WorkloadPeer => ({ name: user, user, url: 'http://x' })
  const restored: DeviceDataStatus = { storeId: 'new', contactsStoreId: 'new', contactsUnsynced: 0, contactsReady: true, mailboxStoreId: 'new', inboxUnarchived: 0 }
  const look = (data: DeviceDataStatus | null | undefined): PeerLook => ({ peer: peer('u001'), inbox: new Set(), outbox: { entries: [] }, data })
  assert.equal(owed([look(restored)], 'new').unsynced, 0)
  assert.ok(deviceRestoredInto(restored, 'new'))
  // Each way of still owing the new store something.
  for (const stale of [{ storeId: 'old' }, { contactsStoreId: 'old' }, { contactsUnsynced: 3 }, { mailboxStoreId: null }, { inboxUnarchived: 1 }]) {
    assert.equal(owed([look({ ...restored, ...stale })], 'new').unsynced, 1, JSON.stringify(stale))
  }
  // No status seen yet, or no storeId known: not judged.
  assert.equal(owed([look(undefined)], 'new').unsynced, 0)
  assert.equal(owed([look({ ...restored, storeId: 'old' })], null).unsynced, 0)
})

test('mapBounded: keeps order and never runs more than the limit at once', async () => {
  let running = 0
  let most = 0
  const out = await mapBounded([5, 1, 4, 2, 3, 0], 2, async (ms) => {
    running++
    most = Math.max(most, running)
    await new Promise((resolve) => setTimeout(resolve, ms))
    running--
    return ms * 10
  })
  assert.deepEqual(out, [50, 10, 40, 20, 30, 0])
  assert.equal(most, 2)
})

test('final reads: device through its own port or its swarm\'s, store with the token; unreadable is null', async () => {
  const fake = await fakeCluster(cleanData())
  try {
    const both = await readFinalState({ peers: peers(fake.url), loginServers: ['http://127.0.0.1:1', fake.url], operatorToken: TOKEN }, { isRunning: () => true, log })
    assert.deepEqual(both.get('u001'), { device: { messageIds: ['m2'], contacts: [ada] }, store: { messageIds: ['m2'], contacts: [ada] } })
    assert.deepEqual(both.get('u002'), { device: { messageIds: ['m1'], contacts: [] }, store: { messageIds: ['m1'], contacts: [] } })
    assert.ok(fake.requests.includes('GET /contacts?user=u002'), 'a swarm member is named')
    assert.ok(fake.requests.includes('GET /inbox?all=1'), 'a node is not')
    // A process not running is not asked; a wrong token reads no store.
    const none = await readFinalState({ peers: peers(fake.url), loginServers: [fake.url], operatorToken: 'wrong' }, { isRunning: (name) => name !== 'sw01', log })
    assert.deepEqual(none.get('u002'), { device: null, store: null })
    assert.equal(none.get('u001')?.store, null)
    assert.notEqual(none.get('u001')?.device, null)
  } finally {
    fake.server.close()
  }
})

test('settle: drained at once when nothing is owed, gives up at its bound otherwise', async () => {
  const data = cleanData()
  const fake = await fakeCluster(data)
  const signal = new AbortController().signal
  try {
    const quick = await settle({ peers: peers(fake.url), pollMs: 20, timeoutMs: 2000 }, { isRunning: () => true, signal, log })
    assert.equal(quick.drained, true)
    assert.ok(quick.settledMs < 1000)
    // m2 was mailboxed to u001 and is not in its inbox yet.
    const u001 = data.get('u001')
    if (u001 !== undefined) u001.inbox = []
    const stuck = await settle({ peers: peers(fake.url), pollMs: 20, timeoutMs: 200 }, { isRunning: () => true, signal, log })
    assert.equal(stuck.drained, false)
    assert.deepEqual(stuck.left, { pending: 0, unarchived: 0, unfetched: 1, unanswered: 0, unsynced: 0 })
    assert.ok(stuck.settledMs >= 200)
  } finally {
    fake.server.close()
  }
})

test('checkRunHistory: a clean run is ok; a message missing from the store is lost', async () => {
  const data = cleanData()
  const fake = await fakeCluster(data)
  const history = new History()
  history.invoke({ kind: 'send', id: 'm1', from: 'u001', to: 'u002' }).ok()
  history.invoke({ kind: 'send', id: 'm2', from: 'u002', to: 'u001' }).ok()
  history.invoke({ kind: 'contact', user: 'u001', op: 'add', contact: 'u002', name: 'Ada 1' }).ok()
  const phases: string[] = []
  const deps = { history, isRunning: () => true, signal: new AbortController().signal, log, setPhase: (p: string) => { phases.push(p) } }
  const init = { peers: peers(fake.url), loginServers: [fake.url], operatorToken: TOKEN }
  try {
    const clean = await checkRunHistory(init, deps)
    assert.ok(clean !== undefined)
    assert.deepEqual([clean.ok, clean.lost, clean.operations, clean.drained, clean.unreadable], [3, 0, 3, true, 0])
    assert.deepEqual(phases, ['settle', 'check'])
    assert.deepEqual(historyObjectiveOf(clean), { name: NO_LOST_WRITES, ok: true, value: 0, limit: 0 })
    const u002 = data.get('u002')
    if (u002 !== undefined) u002.mailbox = []
    const lost = await checkRunHistory(init, deps)
    assert.equal(lost?.lost, 1)
    assert.equal(lost?.examples[0]?.id, 'm1')
    assert.equal(historyObjectiveOf(lost).ok, false)
    assert.equal(historyObjectiveOf(undefined).ok, false)
  } finally {
    fake.server.close()
  }
})
