import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { ReboundError } from '@rebound/protocol'
import { Store, type SupernodeRecord } from '../src/index.js'
import { tempDir } from './helpers.js'

const account = { user: 'alice', salt: new Uint8Array([1, 2, 3]), hash: new Uint8Array([9, 8, 7, 6]), scryptN: 1024, createdAtMs: 1000 }

function supernode (peerId: string, over: Partial<SupernodeRecord> = {}): SupernodeRecord {
  return {
    peerId, addrs: [`/ip4/127.0.0.1/tcp/1/p2p/${peerId}`], class: 'operator', certificate: 'a.b',
    clients: 0, capacity: 100, lastSeenMs: 18_000, expiresAtMs: 100_000, ...over
  }
}

test('accounts round-trip, and a taken name is not overwritten', async (t) => {
  const dir = await tempDir('store')
  t.after(dir.remove)
  const store = Store.open(join(dir.path, 'nested', 'store.db'))
  t.after(() => { store.close() })
  assert.equal(store.getAccount('alice'), undefined)
  assert.equal(store.insertAccount(account), true)
  assert.equal(store.insertAccount({ ...account, hash: new Uint8Array([0]) }), false)
  const loaded = store.getAccount('alice')
  assert.deepEqual(loaded && { ...loaded, salt: [...loaded.salt], hash: [...loaded.hash] }, { ...account, salt: [1, 2, 3], hash: [9, 8, 7, 6] })
})

/** Two handles on one new store file, as two login-server processes have; closed after the test. */
async function twoHandles (t: TestContext): Promise<{ path: string, a: Store, b: Store }> {
  const dir = await tempDir('store')
  t.after(dir.remove)
  const path = join(dir.path, 'store.db')
  const a = Store.open(path)
  const b = Store.open(path)
  t.after(() => { a.close(); b.close() })
  return { path, a, b }
}

test('two handles on one file (as two login-server processes) see each other\'s writes', async (t) => {
  const { path, a, b } = await twoHandles(t)
  assert.equal(a.insertAccount(account), true)
  assert.equal(b.getAccount('alice')?.user, 'alice')
  assert.equal(b.insertAccount(account), false, 'the second handle sees the name as taken')
  b.upsertSupernode(supernode('PeerA'))
  assert.deepEqual(a.liveSupernodes(20_000, 5_000, 10).map((r) => r.peerId), ['PeerA'])
  // The store really is in WAL mode, as every process must agree on it.
  const raw = new DatabaseSync(path)
  t.after(() => { raw.close() })
  assert.equal(raw.prepare('PRAGMA journal_mode').get()?.journal_mode, 'wal')
})

test('the live list keeps supernodes heard from recently with valid certificates, least loaded first', async (t) => {
  const dir = await tempDir('store')
  t.after(dir.remove)
  const store = Store.open(join(dir.path, 'store.db'))
  t.after(() => { store.close() })
  store.upsertSupernode(supernode('Busy', { clients: 90 }))
  store.upsertSupernode(supernode('Idle', { clients: 1 }))
  store.upsertSupernode(supernode('Half', { clients: 5, capacity: 10 }))
  store.upsertSupernode(supernode('Silent', { lastSeenMs: 1000 }))
  store.upsertSupernode(supernode('Expired', { expiresAtMs: 15_000 }))
  store.upsertSupernode(supernode('Busy', { clients: 95, lastSeenMs: 19_000 })) // an update, not a new row
  const nowMs = 20_000
  assert.deepEqual(store.liveSupernodes(nowMs, nowMs - 6000, 10).map((r) => [r.peerId, r.clients]), [['Idle', 1], ['Half', 5], ['Busy', 95]])
  assert.equal(store.countLiveSupernodes(nowMs, nowMs - 6000), 3)
  assert.equal(store.liveSupernodes(nowMs, nowMs - 6000, 2).length, 2)
  assert.equal(store.pruneExpiredSupernodes(nowMs), 1)
  assert.equal(store.liveSupernodes(nowMs, 0, 10).length, 4, 'silent but certified supernodes stay until their certificate expires')
})

test('a file that is not a SQLite database is refused with CORRUPT_STORE and left untouched', async (t) => {
  const dir = await tempDir('store')
  t.after(dir.remove)
  const path = join(dir.path, 'store.db')
  const garbage = 'these are not the bytes of a database '.repeat(40)
  await writeFile(path, garbage)
  assert.throws(() => Store.open(path), (err: unknown) => {
    assert.ok(err instanceof ReboundError)
    assert.equal(err.code, 'CORRUPT_STORE')
    assert.match(err.message, /not a valid SQLite database/)
    return true
  })
  assert.equal(await readFile(path, 'utf8'), garbage)
})

test('a SQLite file whose tables have another shape is refused with CORRUPT_STORE', async (t) => {
  const dir = await tempDir('store')
  t.after(dir.remove)
  const path = join(dir.path, 'store.db')
  const other = new DatabaseSync(path)
  other.exec('CREATE TABLE accounts (name TEXT, pw TEXT)')
  other.close()
  assert.throws(() => Store.open(path), (err: unknown) => err instanceof ReboundError && err.code === 'CORRUPT_STORE' && /accounts/.test(err.message))
})

test('login servers creating the store at the same moment all open it (start-up race)', async (t) => {
  const dir = await tempDir('rebound-store-race-')
  t.after(dir.remove)
  const storeModule = new URL('../src/store.js', import.meta.url).href
  const path = join(dir.path, 'store.sqlite')
  // Separate processes, as in a cluster: each opens the fresh file and writes an account.
  // Every child waits for one shared instant after its imports, so that the opens truly collide.
  const startAtMs = Date.now() + 1500
  const script = `import { Store } from ${JSON.stringify(storeModule)}; while (Date.now() < ${startAtMs}); const s = Store.open(process.argv[1]);
    s.insertAccount({ user: 'u' + process.pid, salt: new Uint8Array(16), hash: new Uint8Array(32), scryptN: 1024, createdAtMs: 1 }); s.close()`
  const PROCESSES = 8
  const exits = await Promise.all(Array.from({ length: PROCESSES }, async () => await new Promise<{ code: number | null, stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, path], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    child.on('exit', (code) => { resolve({ code, stderr }) })
  })))
  for (const exit of exits) assert.equal(exit.code, 0, exit.stderr)
  const db = new DatabaseSync(path)
  t.after(() => { db.close() })
  assert.equal(Number(db.prepare('SELECT COUNT(*) AS n FROM accounts').get()?.n), PROCESSES)
})

test('the election reads totals and the least loaded elected supernode; a demotion is shared and outlives pruning', async (t) => {
  const { a, b } = await twoHandles(t)
  assert.deepEqual(a.supernodeTotals(20_000, 14_000), { count: 0, operators: 0, clients: 0, capacity: 0 })
  a.upsertSupernode(supernode('Op', { clients: 1 }))
  a.upsertSupernode(supernode('E2', { class: 'elected', clients: 30, expiresAtMs: 50_000 }))
  a.upsertSupernode(supernode('E1', { class: 'elected', clients: 10, capacity: 50, expiresAtMs: 40_000 }))
  a.upsertSupernode(supernode('Gone', { class: 'elected', clients: 0, lastSeenMs: 1000 }))
  assert.deepEqual(b.supernodeTotals(20_000, 14_000), { count: 3, operators: 1, clients: 41, capacity: 250 })
  assert.equal(b.leastLoadedElected(20_000, 14_000)?.peerId, 'E1', 'operators and silent rows are not candidates; 10/50 < 30/100')
  assert.equal(b.lastDemotionMs(), undefined)
  b.demoteSupernode('E1', 20_000, 40_000)
  b.demoteSupernode('E2', 21_000, 50_000)
  assert.equal(a.getSupernode('E1'), undefined, 'off the list for every server at once')
  assert.equal(a.demotedAtMs('E1', 30_000), 20_000)
  assert.equal(a.demotedAtMs('E1', 40_000), undefined, 'a demotion lasts as long as the certificate it revoked')
  assert.equal(a.lastDemotionMs(), 21_000)
  a.pruneExpiredSupernodes(60_000)
  assert.equal(a.lastDemotionMs(), 21_000, 'the newest demotion is kept for "one at a time"')
  a.clearDemotion('E2')
  assert.equal(a.lastDemotionMs(), undefined)
})

test('a store of schema version 1 gains the demotions table when opened', async (t) => {
  const dir = await tempDir('store')
  t.after(dir.remove)
  const path = join(dir.path, 'store.db')
  Store.open(path).close()
  const raw = new DatabaseSync(path)
  raw.exec('DROP TABLE demotions')
  raw.exec('PRAGMA user_version = 1')
  raw.close()
  const store = Store.open(path)
  t.after(() => { store.close() })
  store.demoteSupernode('E1', 1, 2)
  assert.equal(store.demotedAtMs('E1', 1), 1)
})
