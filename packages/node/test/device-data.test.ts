/**
 * The device side of docs/durability.md. Unit tests (no network): the device store (merge rules,
 * counter, tombstones, limits, a corrupt file), the contacts sync, the outbox and the mailbox
 * fetch against an in-memory server store (fake-data-store.ts). Integration (last): a spawned
 * rebound-bootstrap and in-process peers on 127.95.x.y: both stores kept together through a
 * wiped device and a wiped store.
 */
import { test, after, before, describe } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { DatabaseSync } from 'node:sqlite'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  MAX_CONTACTS, MAX_OUTBOX, StoreUserData, createLogger, generateClusterKey, privateKeyToPem, publicKeyToBase64,
  type ChatMessage, type ContactRecord, type ReboundError
} from '@rebound/protocol'
import { Inbox, NodeConfigSchema, Peer } from '../src/index.js'
import { INBOX_FILE } from '../src/client/inbox.js'
import { Contacts } from '../src/data/contacts.js'
import { DEVICE_STORE_FILE, DeviceStore } from '../src/data/device-store.js'
import { InboxArchive } from '../src/data/inbox-archive.js'
import { MailboxSync } from '../src/data/mailbox-sync.js'
import { MAX_RESENDS_PER_PASS, Outbox, type Router } from '../src/data/outbox.js'
import { PeriodicTask } from '../src/periodic-task.js'
import { FakeDataStore } from './fake-data-store.js'

const log = createLogger({ service: 'test', level: 'silent' })
const dirs: string[] = []

async function freshDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rebound-device-'))
  dirs.push(dir)
  return dir
}

after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

const rec = (contact: string, name: string, rev: number, deleted = false): ContactRecord => ({ contact, name, deleted, rev })
const msg = (id: string, from: string, to: string, body = `body of ${id}`): ChatMessage => ({ id, from, to, body, sentAtMs: 1000 })

/** A device with contacts and a fake server store; `contacts.sync()` has not run. */
async function device (server: FakeDataStore, user = 'alice', dir?: string): Promise<{ store: DeviceStore, contacts: Contacts, dir: string, kicks: () => number }> {
  const d = dir ?? await freshDir()
  const store = new DeviceStore(d)
  let kicks = 0
  let contacts: Contacts | undefined
  const client = server.client(user, (id) => { if (contacts?.noticeStoreId(id) === true) kicks++ })
  contacts = new Contacts(store, client, () => { kicks++ }, log)
  return { store, contacts, dir: d, kicks: () => kicks }
}

// ---- device store ----

test('local changes are numbered 1, 2, 3 and a tombstone keeps the record; all survives a reopen', async () => {
  const dir = await freshDir()
  const store = new DeviceStore(dir)
  assert.equal(store.rev, 0)
  assert.deepEqual(store.contacts.writeLocal({ contact: 'bob', name: 'Bob', deleted: false }), rec('bob', 'Bob', 1))
  assert.deepEqual(store.contacts.writeLocal({ contact: 'carol', name: 'Carol', deleted: false }), rec('carol', 'Carol', 2))
  assert.deepEqual(store.contacts.writeLocal({ contact: 'bob', name: 'Bob', deleted: true }), rec('bob', 'Bob', 3, true))
  assert.equal(store.rev, 3)
  assert.deepEqual(store.contacts.unsynced(10).map((r) => r.rev), [2, 3])
  store.saveMailboxCursor({ storeId: 'store-aaaa', seq: 42 })
  store.close()
  const again = new DeviceStore(dir)
  assert.equal(again.rev, 3)
  assert.deepEqual(again.contacts.all(), [rec('bob', 'Bob', 3, true), rec('carol', 'Carol', 2)])
  assert.deepEqual(again.mailboxCursor(), { storeId: 'store-aaaa', seq: 42 })
  again.close()
})

test('merge keeps the highest rev per contact, raises the counter, and flags exactly what the server lacks', async () => {
  const store = new DeviceStore(await freshDir())
  store.contacts.writeLocal({ contact: 'bob', name: 'Bob', deleted: false }) // 1
  store.contacts.writeLocal({ contact: 'carol', name: 'Carol', deleted: false }) // 2
  store.contacts.writeLocal({ contact: 'dave', name: 'Dave', deleted: false }) // 3
  const stats = store.contacts.mergePulled([
    rec('bob', 'Robert', 7), // newer: taken
    rec('carol', 'Carol', 2), // same: synced
    rec('dave', 'Old Dave', 1, true), // older: ours stays, to push
    rec('erin', 'Erin', 5) // new to us: taken
  ], 'store-one1')
  assert.deepEqual(stats, { taken: 2, newerHere: 1 })
  assert.deepEqual(store.contacts.all(), [rec('bob', 'Robert', 7), rec('carol', 'Carol', 2), rec('dave', 'Dave', 3), rec('erin', 'Erin', 5)])
  assert.equal(store.rev, 7, 'the counter is the highest rev seen')
  assert.deepEqual(store.contacts.unsynced(10), [rec('dave', 'Dave', 3)])
  assert.equal(store.syncedStoreId, 'store-one1')
  assert.deepEqual(store.contacts.writeLocal({ contact: 'frank', name: 'Frank', deleted: false }).rev, 8, 'the next change is numbered above the server')
  // An empty copy (a wiped store) loses every merge: nothing is dropped, everything is to push.
  store.contacts.mergePulled([], 'store-two2')
  assert.equal(store.contacts.all().length, 5)
  assert.equal(store.contacts.unsynced(10).length, 5)
  store.close()
})

test('markSynced only marks the rev that was pushed; markAllUnsynced switches the store', async () => {
  const store = new DeviceStore(await freshDir())
  const first = store.contacts.writeLocal({ contact: 'bob', name: 'Bob', deleted: false })
  store.contacts.writeLocal({ contact: 'bob', name: 'Bobby', deleted: false }) // rev 2 while rev 1 was being pushed
  store.contacts.markSynced([first])
  assert.deepEqual(store.contacts.unsynced(10), [rec('bob', 'Bobby', 2)])
  store.contacts.markSynced([rec('bob', 'Bobby', 2)])
  assert.equal(store.contacts.unsyncedCount(), 0)
  store.contacts.markAllUnsynced('store-new1')
  assert.equal(store.contacts.unsyncedCount(), 1)
  assert.equal(store.syncedStoreId, 'store-new1')
  store.close()
})

test('MAX_CONTACTS counts tombstones: a new contact beyond it is BAD_REQUEST, changing an existing one is not', async () => {
  const dir = await freshDir()
  // Fill through SQLite directly: 500 fsync'd single writes would only slow the test down.
  const store = new DeviceStore(dir)
  store.close()
  const raw = new DatabaseSync(join(dir, DEVICE_STORE_FILE))
  raw.exec('BEGIN')
  const insert = raw.prepare('INSERT INTO contacts VALUES (?, ?, ?, ?, 1)')
  for (let i = 1; i <= MAX_CONTACTS; i++) insert.run(`c${i}`, `n${i}`, i % 2, i)
  raw.exec(`UPDATE meta SET rev = ${MAX_CONTACTS}; COMMIT`)
  raw.close()
  const full = new DeviceStore(dir)
  assert.throws(() => full.contacts.writeLocal({ contact: 'newcomer', name: 'N', deleted: false }),
    (err: ReboundError) => err.code === 'BAD_REQUEST' && /MAX_CONTACTS/.test(err.message))
  assert.equal(full.rev, MAX_CONTACTS, 'nothing numbered for a refused change')
  assert.equal(full.contacts.writeLocal({ contact: 'c1', name: 'back', deleted: false }).rev, MAX_CONTACTS + 1)
  full.close()
})

test('a device.sqlite that is not a database is CORRUPT_STORE naming its path, and is left as it was', async () => {
  const dir = await freshDir()
  const path = join(dir, DEVICE_STORE_FILE)
  const garbage = Buffer.from('this is not a SQLite database, it is what a bad disk left behind '.repeat(100))
  await writeFile(path, garbage)
  assert.throws(() => new DeviceStore(dir), (err: ReboundError) => err.code === 'CORRUPT_STORE' && err.message.includes(path) && err.meta.path === path)
  assert.deepEqual(await readFile(path), garbage, 'never replaced by an empty store')
})

test('a peer whose device store is corrupt does not start: CORRUPT_STORE before any network', async () => {
  const dir = await freshDir()
  await writeFile(join(dir, DEVICE_STORE_FILE), 'garbage, not SQLite '.repeat(300))
  const config = NodeConfigSchema.parse({
    listen: '127.95.9.9', port: 0, httpPort: 0, dataDir: dir, clusterPubkey: publicKeyToBase64(generateClusterKey().publicKey),
    loginServers: '/ip4/127.95.9.8/tcp/7401/p2p/12D3KooWB8d3e5oXht5T6UvnK2HHkXm94obqNuSfhdSdUjaM2129', user: 'alice', password: 'alice-pw'
  })
  const peer = new Peer(config, { log })
  await assert.rejects(peer.start(), (err: ReboundError) => err.code === 'CORRUPT_STORE' && err.message.includes(join(dir, DEVICE_STORE_FILE)))
  assert.equal(peer.httpPort, undefined, 'no control port')
  await peer.stop()
})

test('a valid database whose pages are damaged fails quick_check: CORRUPT_STORE', async () => {
  const dir = await freshDir()
  const store = new DeviceStore(dir)
  for (let i = 0; i < 50; i++) store.contacts.writeLocal({ contact: `c${i}`, name: 'x'.repeat(60), deleted: false })
  store.close()
  const path = join(dir, DEVICE_STORE_FILE)
  const bytes = await readFile(path)
  // Keep the header (page 1) valid, scribble over the pages after it.
  for (let i = 4096 + 100; i < bytes.length; i += 7) bytes[i] = 0xa5
  await writeFile(path, bytes)
  assert.throws(() => new DeviceStore(dir), (err: ReboundError) => err.code === 'CORRUPT_STORE' && err.message.includes(path))
})

test('outbox: pending first, never two entries per id, an id reused for another message refused, full is BUSY', async () => {
  const dir = await freshDir()
  const store = new DeviceStore(dir)
  const m = msg('m1', 'alice', 'bob')
  assert.equal(store.outbox.add(m).state, 'pending')
  assert.equal(store.outbox.add(m).state, 'pending')
  assert.equal(store.outbox.count, 1)
  assert.throws(() => store.outbox.add({ ...m, body: 'other' }), (err: ReboundError) => err.code === 'BAD_REQUEST')
  store.outbox.markDelivered('m1')
  store.outbox.add(msg('m2', 'alice', 'carol'))
  store.outbox.markMailboxed('m2', 'store-aaaa')
  assert.deepEqual(store.outbox.views(), [
    { id: 'm1', to: 'bob', state: 'delivered', archived: false },
    { id: 'm2', to: 'carol', state: 'mailboxed', archived: true }
  ])
  assert.deepEqual(store.outbox.unarchived(10).map((e) => e.message), [m])
  store.outbox.markArchived(['m1'], 'store-aaaa')
  assert.equal(store.outbox.unarchived(10).length, 0)
  assert.equal(store.outbox.forgetArchivesOutside('store-bbbb'), 2, 'a new store holds none of them')
  assert.deepEqual(store.outbox.unarchived(10).map((e) => e.message.id), ['m1', 'm2'])
  store.close()
  // Fill to MAX_OUTBOX directly (one transaction), then a new message is refused before storing.
  const raw = new DatabaseSync(join(dir, DEVICE_STORE_FILE))
  raw.exec('BEGIN')
  const insert = raw.prepare('INSERT INTO outbox (id, from_user, to_user, body, sent_at_ms, state) VALUES (?, \'alice\', \'bob\', \'b\', 0, \'delivered\')')
  for (let i = 2; i < MAX_OUTBOX; i++) insert.run(`fill-${i}`)
  raw.exec('COMMIT')
  raw.close()
  const full = new DeviceStore(dir)
  assert.equal(full.outbox.count, MAX_OUTBOX)
  assert.throws(() => full.outbox.add(msg('one-more', 'alice', 'bob')), (err: ReboundError) => err.code === 'BUSY')
  assert.equal(full.outbox.get('one-more'), undefined)
  assert.equal(full.outbox.add(msg('m1', 'alice', 'bob')).state, 'delivered', 'a retry of a stored message is still answered')
  full.close()
})

// ---- contacts against a server store ----

test('no change before the first sync; a bad op stores nothing; then each change is numbered and pushed', async () => {
  const server = new FakeDataStore()
  const { store, contacts } = await device(server)
  assert.deepEqual(await contacts.apply({ op: 'add', contact: 'bob', name: 'Bob' }), { ok: false, code: 'UNAVAILABLE', message: 'contacts not synced with the server yet' })
  assert.equal(store.rev, 0)
  assert.equal(await contacts.sync(), false)
  assert.equal(contacts.ready, true)
  for (const bad of [{ op: 'add' as const, contact: 'Bob!', name: 'x' }, { op: 'add' as const, contact: 'bob' }, { op: 'rename' as const, contact: 'bob', name: 'é'.repeat(33) }]) {
    const result = await contacts.apply(bad)
    assert.equal(result.ok, false)
    assert.equal(result.code, 'BAD_REQUEST')
    assert.equal(result.pending, undefined)
  }
  assert.equal(store.rev, 0, 'nothing stored for a refused op')
  assert.deepEqual(await contacts.apply({ op: 'add', contact: 'bob', name: 'Bob' }), { ok: true, rev: 1 })
  assert.deepEqual(await contacts.apply({ op: 'rename', contact: 'bob', name: 'Robert' }), { ok: true, rev: 2 })
  assert.deepEqual(await contacts.apply({ op: 'remove', contact: 'bob' }), { ok: true, rev: 3 })
  assert.deepEqual(server.contactsOf('alice'), [rec('bob', 'Robert', 3, true)])
  assert.deepEqual(contacts.list(), [rec('bob', 'Robert', 3, true)])
  assert.equal(store.contacts.unsyncedCount(), 0)
  store.close()
})

test('a push that fails leaves the change pending (stored, unsynced) and the next sync pushes it', async () => {
  const server = new FakeDataStore()
  const { store, contacts } = await device(server)
  await contacts.sync()
  server.failures.push('TIMEOUT')
  const result = await contacts.apply({ op: 'add', contact: 'bob', name: 'Bob' })
  assert.equal(result.ok, false)
  assert.equal(result.pending, true)
  assert.equal(result.code, 'TIMEOUT')
  assert.deepEqual(store.contacts.unsynced(10), [rec('bob', 'Bob', 1)])
  assert.deepEqual(server.contactsOf('alice'), [])
  await contacts.sync()
  assert.deepEqual(server.contactsOf('alice'), [rec('bob', 'Bob', 1)])
  assert.equal(store.contacts.unsyncedCount(), 0)
  store.close()
})

test('a wiped device gets every contact back over several pages and numbers above them', async () => {
  const server = new FakeDataStore(3)
  const first = await device(server)
  await first.contacts.sync()
  for (let i = 0; i < 8; i++) assert.equal((await first.contacts.apply({ op: 'add', contact: `c${i}`, name: `n${i}` })).ok, true)
  assert.equal((await first.contacts.apply({ op: 'remove', contact: 'c3' })).ok, true)
  const before = first.contacts.list()
  first.store.close()
  const wiped = await device(server) // a new data directory, same user
  await wiped.contacts.sync()
  assert.deepEqual(wiped.contacts.list(), before)
  assert.equal(wiped.contacts.list().length, 8)
  assert.ok(server.requests >= 4, 'pulled every page')
  assert.equal(wiped.store.rev, 9)
  assert.deepEqual(await wiped.contacts.apply({ op: 'rename', contact: 'c0', name: 'zero' }), { ok: true, rev: 10 })
  assert.equal(server.contactsOf('alice').find((r) => r.contact === 'c0')?.name, 'zero')
  wiped.store.close()
})

test('a wiped store (new storeId) is noticed at the next reply and every record is pushed again', async () => {
  const server = new FakeDataStore(2)
  const { store, contacts, kicks } = await device(server)
  await contacts.sync()
  for (const c of ['bob', 'carol', 'dave', 'erin', 'frank']) await contacts.apply({ op: 'add', contact: c, name: c })
  const oldId = server.storeId
  server.wipe()
  assert.notEqual(server.storeId, oldId)
  // The next change is committed by the new store; its reply names the new storeId.
  assert.deepEqual(await contacts.apply({ op: 'rename', contact: 'bob', name: 'Bob' }), { ok: true, rev: 6 })
  assert.equal(kicks(), 1, 'a sync was asked for')
  assert.equal(store.syncedStoreId, server.storeId)
  assert.equal(store.contacts.unsyncedCount(), 4, 'all but the one just pushed')
  await contacts.sync()
  assert.deepEqual(server.contactsOf('alice'), contacts.list())
  assert.equal(server.contactsOf('alice').length, 5)
  store.close()
})

test('an older device copy (restored from a backup) loses nothing newer on the server', async () => {
  const server = new FakeDataStore()
  const { store, contacts, dir } = await device(server)
  await contacts.sync()
  await contacts.apply({ op: 'add', contact: 'bob', name: 'Bob' })
  store.close()
  const backup = await readFile(join(dir, DEVICE_STORE_FILE))
  const again = await device(server, 'alice', dir)
  await again.contacts.sync()
  await again.contacts.apply({ op: 'rename', contact: 'bob', name: 'Bobby' })
  await again.contacts.apply({ op: 'add', contact: 'carol', name: 'Carol' })
  again.store.close()
  await rm(join(dir, `${DEVICE_STORE_FILE}-wal`), { force: true })
  await rm(join(dir, `${DEVICE_STORE_FILE}-shm`), { force: true })
  await writeFile(join(dir, DEVICE_STORE_FILE), backup)
  const restored = await device(server, 'alice', dir)
  assert.deepEqual(restored.contacts.list(), [rec('bob', 'Bob', 1)])
  await restored.contacts.sync()
  assert.deepEqual(restored.contacts.list(), [rec('bob', 'Bobby', 2), rec('carol', 'Carol', 3)])
  assert.deepEqual(server.contactsOf('alice'), [rec('bob', 'Bobby', 2), rec('carol', 'Carol', 3)])
  assert.equal((await restored.contacts.apply({ op: 'remove', contact: 'carol' })).rev, 4)
  restored.store.close()
})

// ---- outbox ----

function outbox (server: FakeDataStore, store: DeviceStore, route: Router, attached = true): Outbox {
  let o: Outbox | undefined
  const client = server.client('alice', (id) => { o?.noticeStoreId(id) })
  o = new Outbox({ store, client, route, attached: () => attached, now: Date.now, log })
  return o
}

test('send: acknowledged once the store holds it, routed (delivered) or not (mailboxed); otherwise pending and resent by the pass', async () => {
  const server = new FakeDataStore()
  const store = new DeviceStore(await freshDir())
  const online = new Set(['bob', 'dave', 'erin'])
  let fail = true
  const routed: string[] = []
  const route: Router = async (m) => {
    routed.push(m.id)
    if (m.to === 'dave' && fail) return { ok: false, code: 'TIMEOUT' }
    return online.has(m.to) ? { ok: true } : { ok: false, code: 'RECIPIENT_OFFLINE' }
  }
  const o = outbox(server, store, route)
  assert.deepEqual(await o.submit(msg('m1', 'alice', 'bob'), 5000), { ok: true })
  assert.deepEqual(await o.submit(msg('m2', 'alice', 'carol'), 5000), { ok: true })
  assert.deepEqual(server.mailboxIds('carol'), ['m2'])
  // Routing timed out and the store refused: not in two failure domains, so not acknowledged.
  server.failures.push('UNAVAILABLE')
  assert.deepEqual(await o.submit(msg('m3', 'alice', 'dave'), 5000), { ok: false, code: 'UNAVAILABLE', pending: true })
  // Routed, but the store refused: delivered to one device only, still not acknowledged.
  server.failures.push('UNAVAILABLE')
  assert.deepEqual(await o.submit(msg('m4', 'alice', 'erin'), 5000), { ok: false, code: 'UNAVAILABLE', pending: true })
  // Routing timed out but the store holds it: acknowledged; the recipient will fetch it.
  assert.deepEqual(await o.submit(msg('m5', 'alice', 'dave'), 5000), { ok: true })
  assert.deepEqual(store.outbox.views().map((v) => [v.id, v.state, v.archived]), [
    ['m1', 'delivered', true], ['m2', 'mailboxed', true], ['m3', 'pending', false], ['m4', 'delivered', false], ['m5', 'mailboxed', true]
  ])
  assert.deepEqual(server.mailboxIds('bob'), ['m1'], 'a delivered message is in the store too: the server copy of the inbox')
  // A retry of an acknowledged message answers ok without routing it again.
  const before = routed.length
  assert.deepEqual(await o.submit(msg('m1', 'alice', 'bob'), 5000), { ok: true })
  assert.equal(routed.length, before)
  fail = false
  assert.equal(await o.pass(), false)
  assert.deepEqual(store.outbox.views().map((v) => [v.id, v.state, v.archived]), [
    ['m1', 'delivered', true], ['m2', 'mailboxed', true], ['m3', 'delivered', true], ['m4', 'delivered', true], ['m5', 'mailboxed', true]
  ])
  assert.deepEqual(server.mailboxIds('dave').sort(), ['m3', 'm5'])
  assert.deepEqual(server.mailboxIds('erin'), ['m4'], 'the pass archives what the store refused')
  // An id reused for another message: a definite refusal, nothing stored.
  const refused = await o.submit({ ...msg('m1', 'alice', 'bob'), body: 'not the same' }, 5000)
  assert.deepEqual(refused, { ok: false, code: 'BAD_REQUEST' })
  store.close()
})

test('a failed mailbox put leaves the message pending; after a store wipe every message is put again', async () => {
  const server = new FakeDataStore()
  const store = new DeviceStore(await freshDir())
  const o = outbox(server, store, async () => ({ ok: false, code: 'RECIPIENT_OFFLINE' }))
  server.failures.push('UNAVAILABLE')
  assert.deepEqual(await o.submit(msg('m1', 'alice', 'carol'), 5000), { ok: false, code: 'UNAVAILABLE', pending: true })
  assert.deepEqual(server.mailboxIds('carol'), [])
  await o.pass()
  assert.deepEqual(server.mailboxIds('carol'), ['m1'])
  assert.equal(store.outbox.get('m1')?.state, 'mailboxed')
  await o.submit(msg('m2', 'alice', 'carol'), 5000)
  server.wipe()
  // The pass's first reply from the new store names it; the next pass puts both again.
  await o.submit(msg('m3', 'alice', 'erin'), 5000)
  await o.pass()
  assert.deepEqual(server.mailboxIds('carol').sort(), ['m1', 'm2'])
  assert.deepEqual(server.mailboxIds('erin'), ['m3'])
  assert.ok(store.outbox.views().every((v) => v.archived))
  store.close()
})

test('the outbox pass is bounded: at most MAX_RESENDS_PER_PASS resends, and it says when more are left', async () => {
  const server = new FakeDataStore()
  const store = new DeviceStore(await freshDir())
  let routes = 0
  let up = false
  const o = outbox(server, store, async () => { routes++; return up ? { ok: true } : { ok: false, code: 'CLOSED' } })
  // Neither routed nor stored: every one stays pending.
  for (let i = 0; i < MAX_RESENDS_PER_PASS + 10; i++) {
    server.failures.push('UNAVAILABLE')
    await o.submit(msg(`m${i}`, 'alice', 'bob'), 5000)
  }
  routes = 0
  up = true
  assert.equal(await o.pass(), true, 'more left')
  assert.equal(routes, MAX_RESENDS_PER_PASS)
  assert.equal(await o.pass(), false)
  assert.equal(routes, MAX_RESENDS_PER_PASS + 10)
  assert.ok(store.outbox.views().every((v) => v.state === 'delivered'))
  store.close()
})

// ---- mailbox fetch ----

test('mailbox fetch: every page into the inbox once, high-water seq saved after, from 0 after a store wipe', async () => {
  const server = new FakeDataStore(4)
  const dir = await freshDir()
  const store = new DeviceStore(dir)
  const inbox = new Inbox(dir)
  const senders = server.client('bob')
  for (let i = 0; i < 10; i++) await senders.mailboxPut([msg(`b${i}`, 'bob', 'alice')])
  await senders.mailboxPut([msg('other', 'bob', 'carol')])
  const sync = new MailboxSync({ store, client: server.client('alice'), user: 'alice', deliver: (m, storeId) => inbox.put(m, Date.now(), storeId), log })
  assert.equal(await sync.fetch(), false)
  assert.equal(inbox.count(), 10)
  assert.equal(inbox.unarchivedCount(), 0, 'what came from the mailbox is held there: nothing to archive')
  assert.deepEqual(store.mailboxCursor(), { storeId: server.storeId, seq: 10 })
  const requests = server.requests
  assert.equal(await sync.fetch(), false)
  assert.equal(server.requests - requests, 1, 'from the high-water seq: one empty page')
  assert.equal(inbox.count(), 10)
  // The store is wiped and others put messages again (seqs restart at 1).
  server.wipe()
  for (const id of ['b0', 'n1', 'n2']) await senders.mailboxPut([msg(id, 'bob', 'alice')])
  assert.equal(await sync.fetch(), false)
  assert.deepEqual(inbox.ids().sort(), [...Array.from({ length: 10 }, (_, i) => `b${i}`), 'n1', 'n2'].sort())
  assert.deepEqual(store.mailboxCursor(), { storeId: server.storeId, seq: 3 })
  assert.equal(server.mailboxIds('alice').length, 3, 'never deleted from the mailbox')
  inbox.close()
  store.close()
})

test('the inbox archive puts what the mailbox lacks, once; a new storeId makes it put everything again', async () => {
  const server = new FakeDataStore(4)
  const dir = await freshDir()
  const inbox = new Inbox(dir)
  // Delivered live (through the supernodes): in the inbox, in no mailbox yet.
  for (let i = 0; i < 7; i++) inbox.put(msg(`live${i}`, 'bob', 'alice'), Date.now())
  const archive = new InboxArchive({ inbox, client: server.client('alice'), log })
  assert.equal(inbox.unarchivedCount(), 7)
  assert.equal(await archive.pass(), false)
  assert.equal(inbox.unarchivedCount(), 0)
  assert.deepEqual(server.mailboxIds('alice').sort(), Array.from({ length: 7 }, (_, i) => `live${i}`).sort(), 'the recipient archives its own inbox (the sender may be gone)')
  const requests = server.requests
  assert.equal(await archive.pass(), false)
  assert.equal(server.requests, requests, 'nothing left: no request')
  server.wipe()
  assert.equal(inbox.forgetArchivesOutside(server.storeId), 7)
  await archive.pass()
  assert.equal(server.mailboxIds('alice').length, 7, 'the wiped store gets the inbox back')
  inbox.close()
  // A reopened inbox keeps the flags (and an inbox file from before the column gets it added).
  const again = new Inbox(dir)
  assert.equal(again.unarchivedCount(), 0)
  again.close()
})

test('an inbox written before archiving existed is opened: the column is added, every message to archive', async () => {
  const dir = await freshDir()
  const raw = new DatabaseSync(join(dir, INBOX_FILE))
  raw.exec(`CREATE TABLE inbox (id TEXT PRIMARY KEY, from_user TEXT NOT NULL, to_user TEXT NOT NULL, body TEXT NOT NULL,
    sent_at_ms INTEGER NOT NULL, received_at_ms INTEGER NOT NULL); INSERT INTO inbox VALUES ('old1', 'bob', 'alice', 'hi', 1, 2)`)
  raw.close()
  const inbox = new Inbox(dir)
  assert.deepEqual(inbox.unarchived(10).map((m) => m.id), ['old1'])
  inbox.close()
})

// ---- the background task ----

test('a periodic task runs at once when kicked, again after a failure, and stops', async () => {
  let runs = 0
  let failNext = true
  const ran: Array<() => void> = []
  const task = new PeriodicTask({
    name: 't', intervalMs: 60_000, log, random: () => 0,
    run: async () => {
      runs++
      ran.shift()?.()
      if (failNext) { failNext = false; throw new Error('first run fails') }
      return false
    }
  })
  const next = async (): Promise<void> => { await new Promise<void>((resolve) => ran.push(resolve)) }
  const first = next()
  const second = next()
  task.start()
  await first
  await second // the failure was retried after a backoff of U(0, 500) ms = 0 here
  assert.equal(runs, 2)
  const third = next()
  task.kick()
  await third
  assert.equal(runs, 3)
  await task.stop()
  task.kick()
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(runs, 3, 'no run after stop')
})

// ---- integration: a real rebound-bootstrap (its store) and real peers over TCP on 127.95.x.y ----

const NET = '127.95'
const BOOTSTRAP_BIN = fileURLToPath(new URL('../../../bootstrap/dist/src/main.js', import.meta.url))
const OPERATOR_TOKEN = 'operator-secret-5'

async function waitFor<T> (what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await fn()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe('against a real login server and its store', () => {
  const key = generateClusterKey()
  const peers: Peer[] = []
  const ips = new Map<Peer, string>()
  let dir: string
  let loginServer: ChildProcess | undefined
  let loginAddr: string

  async function startLoginServer (): Promise<void> {
    const child = spawn(process.execPath, [BOOTSTRAP_BIN, '--listen', `${NET}.1.1`, '--data-dir', join(dir, 'ls1'), '--store', join(dir, 'store.sqlite'),
      '--cluster-key-file', join(dir, 'cluster.pem'), '--operator-token', OPERATOR_TOKEN, '--scrypt-n', '1024', '--log-level', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'] })
    loginServer = child
    const health = await waitFor('login server /healthz', async () => {
      if (child.exitCode !== null) throw new Error(`login server exited with ${child.exitCode}`)
      try {
        const res = await fetch(`http://${NET}.1.1:7480/healthz`, { signal: AbortSignal.timeout(500) })
        return res.ok ? await res.json() as { peerId: string } : undefined
      } catch { return undefined }
    })
    loginAddr = `/ip4/${NET}.1.1/tcp/7401/p2p/${health.peerId}`
  }

  async function stopLoginServer (): Promise<void> {
    const child = loginServer
    if (child === undefined || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }

  async function startPeer (name: string, ip: string, extra: Record<string, unknown>): Promise<Peer> {
    const config = NodeConfigSchema.parse({
      listen: ip, httpPort: 0, dataDir: join(dir, name), clusterPubkey: publicKeyToBase64(key.publicKey), loginServers: loginAddr, heartbeatMs: 500, ...extra
    })
    const peer = new Peer(config, { log })
    await peer.start()
    peers.push(peer)
    ips.set(peer, ip)
    return peer
  }

  async function startUser (user: string, ip: string, dataDir = user): Promise<Peer> {
    const peer = await startPeer(dataDir, ip, { user, password: `${user}-pw`, register: true })
    await waitFor(`${user} attached with contacts synced`, () => peer.status().state === 'attached' && peer.contactsReady ? true : undefined)
    return peer
  }

  async function storeData (user: string): Promise<StoreUserData> {
    const res = await fetch(`http://${NET}.1.1:7480/data?user=${user}`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })
    assert.equal(res.status, 200)
    return StoreUserData.parse(await res.json())
  }

  async function http (peer: Peer, method: string, path: string, body?: unknown): Promise<{ status: number, body: any }> {
    const init: RequestInit = { method, headers: { 'content-type': 'application/json' } }
    if (body !== undefined) init.body = JSON.stringify(body)
    const res = await fetch(`http://${hostOf(peer)}:${peer.httpPort ?? 0}${path}`, init)
    return { status: res.status, body: await res.json() }
  }

  const hostOf = (peer: Peer): string => ips.get(peer) ?? ''

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rebound-durability-'))
    dirs.push(dir)
    await mkdir(join(dir, 'ls1'))
    await writeFile(join(dir, 'cluster.pem'), privateKeyToPem(key.privateKey), { mode: 0o600 })
    await startLoginServer()
    const sn = await startPeer('sn1', `${NET}.2.1`, { supernode: true, operatorToken: OPERATOR_TOKEN, capacity: 20 })
    await waitFor('supernode certified', () => sn.status().state === 'attached' ? true : undefined)
  })

  after(async () => {
    for (const peer of peers) await peer.stop()
    await stopLoginServer()
  })

  test('contacts: POST /contacts is 503 before the first sync, then each change is in both stores', async () => {
    // No ticket ever (wrong password): the first sync cannot run, so no change is accepted.
    const locked = await startPeer('locked', `${NET}.2.9`, { user: 'nobody', password: 'wrong-pw' })
    const early = await http(locked, 'POST', '/contacts', { op: 'add', contact: 'bob', name: 'Bob' })
    assert.equal(early.status, 503)
    await locked.stop()

    const alice = await startUser('alice', `${NET}.2.2`)
    assert.deepEqual((await http(alice, 'POST', '/contacts', { op: 'add', contact: 'bob', name: 'Bob' })).body, { ok: true, rev: 1 })
    assert.deepEqual((await http(alice, 'POST', '/contacts', { op: 'add', contact: 'carol', name: 'Carol' })).body, { ok: true, rev: 2 })
    assert.deepEqual((await http(alice, 'POST', '/contacts', { op: 'rename', contact: 'bob', name: 'Bobby' })).body, { ok: true, rev: 3 })
    assert.deepEqual((await http(alice, 'POST', '/contacts', { op: 'remove', contact: 'carol' })).body, { ok: true, rev: 4 })
    // A misshapen body is a 400; a well-shaped but bad change is a definite refusal, nothing stored.
    assert.equal((await http(alice, 'POST', '/contacts', { op: 'befriend', contact: 'bob' })).status, 400)
    const tooLong = await http(alice, 'POST', '/contacts', { op: 'add', contact: 'dave', name: 'x'.repeat(65) })
    assert.equal(tooLong.status, 200)
    assert.equal(tooLong.body.ok, false)
    assert.equal(tooLong.body.code, 'BAD_REQUEST')
    const expected = [rec('bob', 'Bobby', 3), rec('carol', 'Carol', 4, true)]
    assert.deepEqual((await http(alice, 'GET', '/contacts')).body, expected)
    assert.deepEqual((await storeData('alice')).contacts, expected)
  })

  test('a message to an offline user is mailboxed, and in its inbox once when it comes online', async () => {
    const alice = peers.find((p) => p.status().user === 'alice')
    assert.ok(alice !== undefined)
    const sent = await http(alice, 'POST', '/messages', { to: 'dave', body: 'for later', id: 'to-dave-1' })
    assert.equal(sent.status, 200)
    assert.equal(sent.body.ok, true, `send failed: ${JSON.stringify(sent.body)}`)
    assert.deepEqual((await http(alice, 'GET', '/outbox?all=1')).body, { entries: [{ id: 'to-dave-1', to: 'dave', state: 'mailboxed', archived: true }] })
    assert.deepEqual((await storeData('dave')).mailbox, ['to-dave-1'])
    const dave = await startUser('dave', `${NET}.2.4`)
    await waitFor('mailbox fetched', async () => (await http(dave, 'GET', '/inbox?all=1')).body.ids.length > 0 ? true : undefined)
    // A retry with the same id is answered from the outbox (acknowledged already); still once in the inbox.
    assert.equal((await alice.send({ id: 'to-dave-1', to: 'dave', body: 'for later' }, 5000)).ok, true)
    assert.deepEqual((await http(dave, 'GET', '/inbox?all=1')).body, { ids: ['to-dave-1'] })
    assert.deepEqual((await storeData('dave')).mailbox, ['to-dave-1'], 'never deleted from the mailbox')
  })

  test('a wiped device gets its contacts and inbox back from the store', async () => {
    const alice = peers.find((p) => p.status().user === 'alice')
    const bob = await startUser('bob', `${NET}.2.3`)
    assert.ok(alice !== undefined)
    for (let i = 0; i < 3; i++) assert.equal((await bob.send({ id: `to-alice-${i}`, to: 'alice', body: `hello ${i}` }, 5000)).ok, true)
    // Delivered end to end; the store gets its copy from bob's outbox pass (in the background).
    await waitFor('bob archived what he sent', () => bob.outbox().entries.every((e) => e.archived) ? true : undefined)
    assert.deepEqual((await storeData('alice')).mailbox, ['to-alice-0', 'to-alice-1', 'to-alice-2'])
    const contacts = alice.contacts()
    const inbox = alice.inbox?.ids() ?? []
    assert.equal(inbox.length, 3)
    await alice.stop()
    const wiped = await startUser('alice', `${NET}.2.5`, 'alice-wiped')
    assert.deepEqual(wiped.contacts(), contacts)
    await waitFor('inbox restored', () => (wiped.inbox?.count() ?? 0) >= 3 ? true : undefined)
    assert.deepEqual(wiped.inbox?.ids().sort(), [...inbox].sort())
    assert.deepEqual((await wiped.applyContact({ op: 'add', contact: 'erin', name: 'Erin' })).rev, 5, 'numbered above what came back')
  })

  test('a wiped store is restored by the devices: new storeId noticed, contacts pushed, outboxes put again', async () => {
    const alice = peers.find((p) => p.status().user === 'alice' && p.status().state !== 'stopping')
    assert.ok(alice !== undefined)
    // Something in this alice's outbox too (the one before the device wipe is gone with it).
    assert.equal((await alice.send({ id: 'to-dave-2', to: 'dave', body: 'again' }, 5000)).ok, true)
    await waitFor('alice archived what she sent', () => alice.outbox().entries.every((e) => e.archived) ? true : undefined)
    const before = await storeData('alice')
    const contacts = alice.contacts()
    assert.deepEqual(before.contacts, contacts)
    await stopLoginServer()
    for (const suffix of ['', '-wal', '-shm']) await rm(join(dir, `store.sqlite${suffix}`), { force: true })
    await startLoginServer()
    const wiped = await storeData('alice')
    assert.notEqual(wiped.storeId, before.storeId)
    assert.deepEqual([wiped.contacts, wiped.mailbox], [[], []])
    // The devices notice at their next reply (the mailbox fetch runs every 10 s) and put back.
    const back = async (what: string, check: () => Promise<boolean>): Promise<void> => {
      await waitFor(what, async () => await check() ? true : undefined, 45_000)
    }
    await back('alice contacts in the store again', async () => JSON.stringify((await storeData('alice')).contacts) === JSON.stringify(contacts))
    await back('bob\'s messages to alice in the store again', async () => (await storeData('alice')).mailbox.length === 3)
    await back('alice\'s message to dave in the store again', async () => (await storeData('dave')).mailbox.includes('to-dave-2'))
    assert.deepEqual((await storeData('alice')).mailbox.sort(), ['to-alice-0', 'to-alice-1', 'to-alice-2'])
    assert.equal((await alice.applyContact({ op: 'rename', contact: 'erin', name: 'Erin E.' })).ok, true)
  })
})
