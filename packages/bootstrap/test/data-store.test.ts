/**
 * Unit: users' data in the store file (data-store.ts): the contacts merge rules, the mailbox,
 * paging, the storeId and the migration of older files. No network.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import {
  DataReply, MAX_CONTACTS, MAX_CONTACTS_PER_FRAME, MAX_MAILBOX, MAX_MAILBOX_REPLY_BYTES, ReboundError, StoreId, encodeFrame,
  type ChatMessage, type ContactRecord
} from '@rebound/protocol'
import { MAX_CONTACTS_REPLY_BYTES, Store } from '../src/index.js'
import { tempDir } from './helpers.js'

async function openStore (t: TestContext): Promise<{ store: Store, path: string }> {
  const dir = await tempDir('data')
  t.after(dir.remove)
  const path = join(dir.path, 'store.db')
  const store = Store.open(path)
  t.after(() => { store.close() })
  return { store, path }
}

const rec = (contact: string, rev: number, name = contact.toUpperCase(), deleted = false): ContactRecord => ({ contact, name, deleted, rev })
const msg = (id: string, over: Partial<ChatMessage> = {}): ChatMessage => ({ id, from: 'alice', to: 'bob', body: `body of ${id}`, sentAtMs: 1000, ...over })
const contact = (i: number): string => `c${String(i).padStart(3, '0')}`

function isCode (code: string, pattern?: RegExp): (err: unknown) => boolean {
  return (err) => err instanceof ReboundError && err.code === code && (pattern === undefined || pattern.test(err.message))
}

/** Every page the store returns must fit a frame once wrapped in its reply. */
function assertFitsFrame (reply: DataReply): void {
  assert.doesNotThrow(() => encodeFrame(DataReply.parse(reply)))
}

test('contacts: per record the higher rev wins; an equal or lower rev is stale and changes nothing', async (t) => {
  const { data } = (await openStore(t)).store
  assert.deepEqual(data.putContacts('alice', [rec('bob', 1, 'Bob'), rec('carol', 2, 'Carol')]), { applied: 2, stale: 0 })
  assert.deepEqual(data.putContacts('alice', [rec('bob', 1, 'Robert'), rec('carol', 1, 'Caroline')]), { applied: 0, stale: 2 })
  assert.deepEqual(data.putContacts('alice', [rec('bob', 3, 'Robert'), rec('carol', 2, 'Caroline')]), { applied: 1, stale: 1 })
  assert.deepEqual(data.getContacts('alice', undefined).items, [rec('bob', 3, 'Robert'), rec('carol', 2, 'Carol')])
  // The same contact twice in one request: the second, older one is stale against the first.
  assert.deepEqual(data.putContacts('alice', [rec('dave', 5, 'D5'), rec('dave', 4, 'D4')]), { applied: 1, stale: 1 })
  assert.equal(data.getContacts('alice', 'carol').items[0]?.name, 'D5')
  assert.deepEqual(data.getContacts('bob', undefined), { items: [], more: false }, "another user's list is separate")
})

test('contacts: a removal is a tombstone that an older add cannot bring back, and a newer one can', async (t) => {
  const { data } = (await openStore(t)).store
  data.putContacts('alice', [rec('bob', 1, 'Bob')])
  assert.deepEqual(data.putContacts('alice', [rec('bob', 2, 'Bob', true)]), { applied: 1, stale: 0 })
  assert.deepEqual(data.putContacts('alice', [rec('bob', 1, 'Bob')]), { applied: 0, stale: 1 })
  assert.deepEqual(data.getContacts('alice', undefined).items, [rec('bob', 2, 'Bob', true)], 'the tombstone is kept and returned')
  data.putContacts('alice', [rec('bob', 3, 'Bobby')])
  assert.deepEqual(data.userData('alice').contacts, [rec('bob', 3, 'Bobby')])
})

test(`contacts: a request that would exceed ${MAX_CONTACTS} records (tombstones included) is refused whole`, async (t) => {
  const { data } = (await openStore(t)).store
  for (let start = 0; start < MAX_CONTACTS; start += MAX_CONTACTS_PER_FRAME) {
    // Half tombstones: they count towards the limit like any record.
    const batch = Array.from({ length: MAX_CONTACTS_PER_FRAME }, (_, i) => rec(contact(start + i), 1, 'x', i % 2 === 0))
    assert.equal(data.putContacts('alice', batch).applied, MAX_CONTACTS_PER_FRAME)
  }
  assert.throws(() => data.putContacts('alice', [rec(contact(0), 2, 'renamed'), rec('one-too-many', 1)]),
    isCode('BAD_REQUEST', new RegExp(`at most ${MAX_CONTACTS} contact records`)))
  assert.equal(data.getContacts('alice', undefined, 1).items[0]?.rev, 1, 'nothing of the refused request was stored')
  assert.deepEqual(data.putContacts('alice', [rec(contact(0), 2, 'renamed')]), { applied: 1, stale: 0 }, 'updates at the limit are fine')
  assert.equal(data.userData('alice').contacts.length, MAX_CONTACTS)
  assert.equal(data.putContacts('bob', [rec('alice', 1)]).applied, 1, 'the limit is per user')
})

test('contacts: pages in contact order with `more`, and stop at a byte budget so that a reply fits a frame', async (t) => {
  const { data } = (await openStore(t)).store
  for (let start = 0; start < 250; start += 100) {
    data.putContacts('alice', Array.from({ length: Math.min(100, 250 - start) }, (_, i) => rec(contact(249 - start - i), 1)))
  }
  const seen: string[] = []
  let after: string | undefined
  const pages: boolean[] = []
  for (let i = 0; i < 10; i++) {
    const page = data.getContacts('alice', after)
    seen.push(...page.items.map((r) => r.contact))
    pages.push(page.more)
    if (!page.more) break
    after = page.items.at(-1)?.contact
  }
  assert.deepEqual(pages, [true, true, false])
  assert.deepEqual(seen, Array.from({ length: 250 }, (_, i) => contact(i)))

  // The worst case: 32-character contacts named by 64 control characters (384 bytes of JSON each).
  // 100 such records would not fit a frame; a full list must still come in at most 10 pages.
  const heavy = '\u0001'.repeat(64)
  for (let start = 0; start < MAX_CONTACTS; start += 100) {
    data.putContacts('bob', Array.from({ length: 100 }, (_, i) => rec(contact(start + i).padEnd(32, 'x'), Number.MAX_SAFE_INTEGER, heavy)))
  }
  let count = 0
  let pageCount = 0
  for (let page = data.getContacts('bob', undefined); ; page = data.getContacts('bob', page.items.at(-1)?.contact)) {
    pageCount++
    assert.ok(page.items.length < 100 && page.items.reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r)), 0) <= MAX_CONTACTS_REPLY_BYTES)
    assertFitsFrame({ type: 'contacts', storeId: data.storeId, records: page.items, more: page.more })
    count += page.items.length
    if (!page.more || pageCount > 20) break
  }
  assert.equal(count, MAX_CONTACTS)
  assert.ok(pageCount <= 10, `${pageCount} pages`)
})

test('mailbox: idempotent by id, another message under a taken id refused whole, all or nothing when a mailbox is full', async (t) => {
  const { store, path } = await openStore(t)
  const { data } = store
  assert.deepEqual(data.putMailbox([msg('m1'), msg('m2')]), { stored: 2, duplicates: 0 })
  assert.deepEqual(data.putMailbox([msg('m1'), msg('m3'), msg('m3')]), { stored: 1, duplicates: 2 })
  // A taken id is not a duplicate of another message: acknowledging it would store nothing.
  assert.throws(() => data.putMailbox([msg('m4'), msg('m1', { body: 'another body' })]), isCode('BAD_REQUEST', /m1 is already taken/))
  const page = data.getMailbox('bob', 0)
  assert.deepEqual(page.items.map((e) => [e.message.id, e.message.body]), [['m1', 'body of m1'], ['m2', 'body of m2'], ['m3', 'body of m3']])
  assert.deepEqual(page.items.map((e) => e.seq), [1, 2, 3])
  assert.deepEqual(data.getMailbox('alice', 0), { items: [], more: false }, "bob's mail is not alice's")

  // Fill carol's mailbox to the limit directly (100 000 single puts would take long).
  const raw = new DatabaseSync(path)
  t.after(() => { raw.close() })
  raw.prepare(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
    INSERT INTO mailbox (id, to_user, from_user, body, sent_at_ms) SELECT 'fill-' || i, 'carol', 'alice', 'x', 1 FROM n`).run(MAX_MAILBOX)
  assert.throws(() => data.putMailbox([msg('to-bob'), msg('to-carol', { to: 'carol' })]), isCode('BUSY', /mailbox of carol is full/))
  assert.equal(data.userData('bob').mailbox.includes('to-bob'), false, 'nothing of the refused request was stored')
  assert.deepEqual(data.putMailbox([msg('fill-7', { to: 'carol', body: 'x' })]), { stored: 0, duplicates: 1 }, 'a retry of a stored message is still a duplicate')
  assert.deepEqual(data.putMailbox([msg('to-bob')]), { stored: 1, duplicates: 0 })
})

test(`mailbox: pages stop at ${MAX_MAILBOX_REPLY_BYTES} bytes of entries and at the limit, always with one entry`, async (t) => {
  const { data } = (await openStore(t)).store
  const ids = Array.from({ length: 10 }, (_, i) => `big-${i}`)
  for (const id of ids) data.putMailbox([msg(id, { body: 'b'.repeat(4096) })])
  const got: string[] = []
  let afterSeq = 0
  for (let i = 0; i < 20; i++) {
    const page = data.getMailbox('bob', afterSeq)
    const bodyBytes = page.items.reduce((n, e) => n + Buffer.byteLength(e.message.body), 0)
    assert.ok(page.items.length >= 1 && bodyBytes <= MAX_MAILBOX_REPLY_BYTES, `page of ${page.items.length} entries, ${bodyBytes} bytes`)
    assertFitsFrame({ type: 'mailbox', storeId: data.storeId, entries: page.items, more: page.more })
    got.push(...page.items.map((e) => e.message.id))
    afterSeq = page.items.at(-1)?.seq ?? afterSeq
    if (!page.more) break
  }
  assert.deepEqual(got, ids)
  assert.ok(data.getMailbox('bob', 0).more, 'the first page is cut by bytes')

  const small = data.getMailbox('bob', 0, 3)
  assert.deepEqual([small.items.length, small.more], [3, true])
  // One body of control characters escapes to ~24 KiB of JSON: still returned, alone, and fits a frame.
  data.putMailbox([msg('escaped', { to: 'dave', body: '\u0001'.repeat(4096) }), msg('after', { to: 'dave' })])
  const alone = data.getMailbox('dave', 0)
  assert.deepEqual([alone.items.map((e) => e.message.id), alone.more], [['escaped'], true])
  assertFitsFrame({ type: 'mailbox', storeId: data.storeId, entries: alone.items, more: alone.more })
})

test('userData: storeId, every record with tombstones, and mailbox ids in seq order', async (t) => {
  const { data } = (await openStore(t)).store
  data.putContacts('bob', [rec('zed', 1), rec('amy', 2, 'Amy', true)])
  data.putMailbox([msg('z-first'), msg('a-second')])
  data.putMailbox([msg('not-bobs', { to: 'carol' })])
  assert.deepEqual(data.userData('bob'), { storeId: data.storeId, contacts: [rec('amy', 2, 'Amy', true), rec('zed', 1)], mailbox: ['z-first', 'a-second'] })
})

test('storeId: made once per file, shared by every handle, kept across reopen, new for a new file', async (t) => {
  const { store, path } = await openStore(t)
  const id = store.data.storeId
  assert.equal(StoreId.safeParse(id).success, true, id)
  const second = Store.open(path)
  assert.equal(second.data.storeId, id, 'a second login server on the same file')
  second.close()
  store.close()
  const reopened = Store.open(path)
  t.after(() => { reopened.close() })
  assert.equal(reopened.data.storeId, id)
  const other = (await openStore(t)).store
  assert.notEqual(other.data.storeId, id, 'a wiped and re-created store is told apart')
})

test('a store of schema version 2 gains the data tables and a storeId when opened, keeping its accounts', async (t) => {
  const dir = await tempDir('data')
  t.after(dir.remove)
  const path = join(dir.path, 'store.db')
  // The version-2 file as a server of that version left it: no meta, contacts or mailbox.
  Store.open(path).close()
  const raw = new DatabaseSync(path)
  raw.exec('DROP TABLE meta; DROP TABLE contacts; DROP TABLE mailbox; PRAGMA user_version = 2')
  raw.prepare('INSERT INTO accounts (user, salt, hash, scrypt_n, created_at_ms) VALUES (?, ?, ?, ?, ?)').run('alice', new Uint8Array(4), new Uint8Array(8), 1024, 1)
  raw.close()
  const store = Store.open(path)
  t.after(() => { store.close() })
  assert.equal(store.getAccount('alice')?.scryptN, 1024)
  assert.equal(StoreId.safeParse(store.data.storeId).success, true)
  assert.deepEqual(store.data.putContacts('alice', [rec('bob', 1)]), { applied: 1, stale: 0 })
  assert.deepEqual(store.data.putMailbox([msg('m1')]), { stored: 1, duplicates: 0 })
  const check = new DatabaseSync(path)
  t.after(() => { check.close() })
  assert.equal(Number(check.prepare('PRAGMA user_version').get()?.user_version), 3)
  assert.equal(check.prepare("SELECT value FROM meta WHERE key = 'storeId'").get()?.value, store.data.storeId)
})

test('a write waits for another process\'s lock no longer than its deadline, then BUSY; the store carries on', async (t) => {
  const { store, path } = await openStore(t)
  const other = new DatabaseSync(path)
  t.after(() => { other.close() })
  other.exec('BEGIN IMMEDIATE')
  const startMs = Date.now()
  assert.throws(() => store.data.putContacts('alice', [rec('bob', 1)], { lockWaitMs: 200 }), isCode('BUSY'))
  const waitedMs = Date.now() - startMs
  assert.ok(waitedMs >= 150 && waitedMs < 2000, `waited ${waitedMs} ms`)
  other.exec('ROLLBACK')
  assert.deepEqual(store.data.putContacts('alice', [rec('bob', 1)], { lockWaitMs: 200 }), { applied: 1, stale: 0 })
})
