/**
 * The account store and supernode registry, in one SQLite file that every login-server process
 * opens at the same time; users' contacts and mailboxes live in it too (data-store.ts). WAL lets
 * readers run beside the one writer; synchronous=FULL makes a registration (or a contact, or a
 * mailboxed message) durable before it is acknowledged; busy_timeout makes a writer wait for another
 * process's write instead of failing at once. Every call is synchronous and short (a single row,
 * or one bounded query), so blocking the event loop for it is cheaper than a worker hop.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync, type SQLOutputValue, type StatementSync } from 'node:sqlite'
import { ReboundError, StoreId, SupernodeClass } from '@rebound/protocol'
import { DATA_COLUMNS, DATA_SCHEMA, DataStore, ensureStoreId } from './data-store.js'

/** How long a write waits for another process's write lock before giving up with BUSY. */
export const STORE_BUSY_TIMEOUT_MS = 5000
/**
 * Bumped when the tables change; a store written by a newer schema is refused. Changes are
 * additive (CREATE ... IF NOT EXISTS), so opening an older file adds what it lacks:
 * 2 added `demotions`; 3 added `meta` (the storeId), `contacts` and `mailbox`.
 */
export const STORE_SCHEMA_VERSION = 3

export interface AccountRecord {
  user: string
  salt: Uint8Array
  hash: Uint8Array
  /** The scrypt cost the hash was made with: accounts survive a change of --scrypt-n. */
  scryptN: number
  createdAtMs: number
}

export interface SupernodeRecord {
  peerId: string
  addrs: string[]
  class: SupernodeClass
  certificate: string
  clients: number
  capacity: number
  lastSeenMs: number
  expiresAtMs: number
}

/** The live supernode set in aggregate (its utilisation is clients / capacity); the election's input. */
export interface SupernodeLoad {
  count: number
  operators: number
  clients: number
  capacity: number
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS accounts (
  user TEXT PRIMARY KEY,
  salt BLOB NOT NULL,
  hash BLOB NOT NULL,
  scrypt_n INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS supernodes (
  peer_id TEXT PRIMARY KEY,
  addrs TEXT NOT NULL,
  class TEXT NOT NULL,
  certificate TEXT NOT NULL,
  clients INTEGER NOT NULL,
  capacity INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS supernodes_last_seen ON supernodes (last_seen_ms);
CREATE TABLE IF NOT EXISTS demotions (
  peer_id TEXT PRIMARY KEY,
  demoted_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL
);
`
const EXPECTED_COLUMNS: Record<string, string[]> = {
  accounts: ['user', 'salt', 'hash', 'scrypt_n', 'created_at_ms'],
  supernodes: ['peer_id', 'addrs', 'class', 'certificate', 'clients', 'capacity', 'last_seen_ms', 'expires_at_ms'],
  demotions: ['peer_id', 'demoted_at_ms', 'expires_at_ms'],
  ...DATA_COLUMNS
}

// SQLite primary result codes (https://www.sqlite.org/rescode.html); errcode may be extended.
const SQLITE_BUSY = 5
const SQLITE_LOCKED = 6
const SQLITE_CORRUPT = 11
const SQLITE_NOTADB = 26

function sqliteCode (err: unknown): number | undefined {
  const code = (err as { errcode?: unknown } | null)?.errcode
  return typeof code === 'number' ? code & 0xff : undefined
}

export class Store {
  readonly path: string
  /** Users' contacts and mailboxes, on the same connection (data-store.ts). */
  readonly data: DataStore
  private readonly db: DatabaseSync
  private readonly stmts: ReturnType<typeof prepareStatements>

  private constructor (path: string, db: DatabaseSync, storeId: string) {
    this.path = path
    this.db = db
    this.stmts = prepareStatements(db)
    this.data = new DataStore(db, storeId, { guard: (fn) => this.guard(fn), busyTimeoutMs: STORE_BUSY_TIMEOUT_MS })
  }

  /**
   * Open (creating if absent) the store at `path`. A file that is not a SQLite database, or holds
   * tables of another shape, is refused with CORRUPT_STORE and left untouched: replacing it would
   * silently drop every account.
   */
  static open (path: string): Store {
    mkdirSync(dirname(path), { recursive: true })
    // Login servers started together race to create the store and switch it to WAL; SQLite can
    // answer SQLITE_BUSY to that switch without consulting busy_timeout, so retry a bounded
    // number of times. Anything other than "locked/busy" fails at once.
    for (let attempt = 1; ; attempt++) {
      try {
        return Store.openOnce(path)
      } catch (err) {
        if (!isBusy(err) || attempt >= STORE_OPEN_ATTEMPTS) throw translate(err, path)
        sleepSync(STORE_OPEN_RETRY_MS * attempt)
      }
    }
  }

  private static openOnce (path: string): Store {
    let db: DatabaseSync
    try {
      db = new DatabaseSync(path)
    } catch (err) {
      throw translate(err, path)
    }
    try {
      // busy_timeout first: switching to WAL itself needs a lock another process may hold.
      db.exec(`PRAGMA busy_timeout = ${STORE_BUSY_TIMEOUT_MS}`)
      db.exec('PRAGMA journal_mode = WAL')
      db.exec('PRAGMA synchronous = FULL')
      const storeId = migrate(db, path)
      return new Store(path, db, storeId)
    } catch (err) {
      db.close()
      throw err
    }
  }

  getAccount (user: string): AccountRecord | undefined {
    const row = this.guard(() => this.stmts.getAccount.get(user))
    if (row === undefined) return undefined
    return {
      user: String(row.user),
      salt: bytes(row.salt),
      hash: bytes(row.hash),
      scryptN: Number(row.scrypt_n),
      createdAtMs: Number(row.created_at_ms)
    }
  }

  /** Insert a new account; false when the name is taken (by any process). */
  insertAccount (account: AccountRecord): boolean {
    const result = this.guard(() => this.stmts.insertAccount.run(
      account.user, account.salt, account.hash, account.scryptN, account.createdAtMs))
    return Number(result.changes) === 1
  }

  upsertSupernode (record: SupernodeRecord): void {
    this.guard(() => this.stmts.upsertSupernode.run(
      record.peerId, JSON.stringify(record.addrs), record.class, record.certificate,
      record.clients, record.capacity, record.lastSeenMs, record.expiresAtMs))
  }

  /**
   * Supernodes heard from at or after `seenSinceMs` whose certificate is still valid at `nowMs`,
   * least loaded first (ties in random order), at most `limit`.
   */
  liveSupernodes (nowMs: number, seenSinceMs: number, limit: number): SupernodeRecord[] {
    const rows = this.guard(() => this.stmts.liveSupernodes.all(seenSinceMs, nowMs, limit))
    const records: SupernodeRecord[] = []
    for (const row of rows) {
      const record = decodeSupernode(row)
      if (record !== undefined) records.push(record)
    }
    return records
  }

  countLiveSupernodes (nowMs: number, seenSinceMs: number): number {
    return this.supernodeTotals(nowMs, seenSinceMs).count
  }

  /** Count, operators, clients and capacity of the live supernodes, in one bounded aggregate. */
  supernodeTotals (nowMs: number, seenSinceMs: number): SupernodeLoad {
    const row = this.guard(() => this.stmts.totals.get(seenSinceMs, nowMs))
    return {
      count: Number(row?.n ?? 0),
      operators: Number(row?.operators ?? 0),
      clients: Number(row?.clients ?? 0),
      capacity: Number(row?.capacity ?? 0)
    }
  }

  /** The live elected supernode with the lowest clients / capacity (ties: lowest peer id). */
  leastLoadedElected (nowMs: number, seenSinceMs: number): SupernodeRecord | undefined {
    const row = this.guard(() => this.stmts.leastLoadedElected.get(seenSinceMs, nowMs))
    return row === undefined ? undefined : decodeSupernode(row)
  }

  /** The row of one supernode, live or not (undefined once pruned or demoted). */
  getSupernode (peerId: string): SupernodeRecord | undefined {
    const row = this.guard(() => this.stmts.getSupernode.get(peerId))
    return row === undefined ? undefined : decodeSupernode(row)
  }

  /**
   * Take an elected supernode off the list and remember the demotion until its certificate
   * expires, so that every login server answers its heartbeats with "demote" and none lists it
   * again. One transaction: no server sees it listed and demoted at once.
   */
  demoteSupernode (peerId: string, nowMs: number, certificateExpiresAtMs: number): void {
    this.guard(() => {
      this.db.exec('BEGIN IMMEDIATE')
      try {
        this.stmts.deleteSupernode.run(peerId)
        this.stmts.insertDemotion.run(peerId, nowMs, certificateExpiresAtMs)
        this.db.exec('COMMIT')
      } catch (err) {
        this.db.exec('ROLLBACK')
        throw err
      }
    })
  }

  /** When `peerId` was demoted, if that demotion still stands (its certificate has not expired). */
  demotedAtMs (peerId: string, nowMs: number): number | undefined {
    const row = this.guard(() => this.stmts.getDemotion.get(peerId, nowMs))
    return row === undefined ? undefined : Number(row.demoted_at_ms)
  }

  /** The most recent demotion by any server, for "one at a time". */
  lastDemotionMs (): number | undefined {
    const row = this.guard(() => this.stmts.lastDemotion.get())
    return row?.at === null || row?.at === undefined ? undefined : Number(row.at)
  }

  /** A demoted peer promoted again is no longer demoted. */
  clearDemotion (peerId: string): void {
    this.guard(() => this.stmts.deleteDemotion.run(peerId))
  }

  /**
   * Drop supernodes whose certificate has expired: a row lives exactly as long as its certificate.
   * Demotions of expired certificates go too, except the newest, which "one at a time" still reads.
   */
  pruneExpiredSupernodes (nowMs: number): number {
    this.guard(() => this.stmts.pruneDemotions.run(nowMs))
    return Number(this.guard(() => this.stmts.pruneExpired.run(nowMs)).changes)
  }

  close (): void {
    if (this.db.isOpen) this.db.close()
  }

  /** Another process holding the write lock past busy_timeout is BUSY (retryable), not INTERNAL. */
  private guard<T> (fn: () => T): T {
    try {
      return fn()
    } catch (err) {
      const code = sqliteCode(err)
      if (code === SQLITE_BUSY || code === SQLITE_LOCKED) {
        throw new ReboundError('BUSY', 'store is busy', { retryAfterMs: 1000 })
      }
      throw err
    }
  }
}

type StatementName = 'getAccount' | 'insertAccount' | 'upsertSupernode' | 'liveSupernodes' | 'totals' | 'pruneExpired' |
  'leastLoadedElected' | 'getSupernode' | 'deleteSupernode' | 'insertDemotion' | 'getDemotion' | 'lastDemotion' |
  'deleteDemotion' | 'pruneDemotions'

const SUPERNODE_COLUMNS = 'peer_id, addrs, class, certificate, clients, capacity, last_seen_ms, expires_at_ms'

function prepareStatements (db: DatabaseSync): Record<StatementName, StatementSync> {
  return {
    getAccount: db.prepare('SELECT user, salt, hash, scrypt_n, created_at_ms FROM accounts WHERE user = ?'),
    insertAccount: db.prepare(`INSERT INTO accounts (user, salt, hash, scrypt_n, created_at_ms) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (user) DO NOTHING`),
    upsertSupernode: db.prepare(`INSERT INTO supernodes
      (peer_id, addrs, class, certificate, clients, capacity, last_seen_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (peer_id) DO UPDATE SET addrs = excluded.addrs, class = excluded.class, certificate = excluded.certificate,
      clients = excluded.clients, capacity = excluded.capacity, last_seen_ms = excluded.last_seen_ms,
      expires_at_ms = excluded.expires_at_ms`),
    liveSupernodes: db.prepare(`SELECT ${SUPERNODE_COLUMNS}
      FROM supernodes WHERE last_seen_ms >= ? AND expires_at_ms > ?
      ORDER BY CAST(clients AS REAL) / MAX(capacity, 1), random() LIMIT ?`),
    totals: db.prepare(`SELECT COUNT(*) AS n, SUM(class = 'operator') AS operators, SUM(clients) AS clients, SUM(capacity) AS capacity
      FROM supernodes WHERE last_seen_ms >= ? AND expires_at_ms > ?`),
    leastLoadedElected: db.prepare(`SELECT ${SUPERNODE_COLUMNS}
      FROM supernodes WHERE last_seen_ms >= ? AND expires_at_ms > ? AND class = 'elected'
      ORDER BY CAST(clients AS REAL) / MAX(capacity, 1), peer_id LIMIT 1`),
    getSupernode: db.prepare(`SELECT ${SUPERNODE_COLUMNS} FROM supernodes WHERE peer_id = ?`),
    deleteSupernode: db.prepare('DELETE FROM supernodes WHERE peer_id = ?'),
    pruneExpired: db.prepare('DELETE FROM supernodes WHERE expires_at_ms <= ?'),
    insertDemotion: db.prepare(`INSERT INTO demotions (peer_id, demoted_at_ms, expires_at_ms) VALUES (?, ?, ?)
      ON CONFLICT (peer_id) DO UPDATE SET demoted_at_ms = excluded.demoted_at_ms, expires_at_ms = excluded.expires_at_ms`),
    getDemotion: db.prepare('SELECT demoted_at_ms FROM demotions WHERE peer_id = ? AND expires_at_ms > ?'),
    lastDemotion: db.prepare('SELECT MAX(demoted_at_ms) AS at FROM demotions'),
    deleteDemotion: db.prepare('DELETE FROM demotions WHERE peer_id = ?'),
    pruneDemotions: db.prepare(`DELETE FROM demotions WHERE expires_at_ms <= ?
      AND demoted_at_ms < (SELECT MAX(demoted_at_ms) FROM demotions)`)
  }
}

/** Opening attempts when another process holds the store's lock at start-up, and their spacing. */
export const STORE_OPEN_ATTEMPTS = 20
export const STORE_OPEN_RETRY_MS = 50

function isBusy (err: unknown): boolean {
  const code = sqliteCode(err)
  return code === SQLITE_BUSY || code === SQLITE_LOCKED || /database is locked/i.test((err as Error)?.message ?? '')
}

/** Start-up only: blocks the thread, which is fine before the server serves anything. */
function sleepSync (ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** Create or complete the tables; the file's storeId. */
function migrate (db: DatabaseSync, path: string): string {
  const version = Number(db.prepare('PRAGMA user_version').get()?.user_version ?? 0)
  if (version > STORE_SCHEMA_VERSION) {
    throw new ReboundError('CORRUPT_STORE', `store ${path} has schema version ${version}, newer than this server's ${STORE_SCHEMA_VERSION}`, { path, version })
  }
  // IMMEDIATE takes the write lock up front, so two servers starting together create the tables once.
  db.exec('BEGIN IMMEDIATE')
  let storeId: string
  try {
    db.exec(SCHEMA)
    db.exec(DATA_SCHEMA)
    // Checked before anything is written to a table: a foreign file is refused untouched (rolled back).
    checkColumns(db, path)
    storeId = ensureStoreId(db)
    db.exec(`PRAGMA user_version = ${STORE_SCHEMA_VERSION}`)
    db.exec('COMMIT')
  } catch (err) {
    db.exec('ROLLBACK')
    throw err
  }
  // Every data reply names it, and the reply schema would refuse a malformed one.
  if (!StoreId.safeParse(storeId).success) {
    throw new ReboundError('CORRUPT_STORE', `store ${path} has a malformed storeId (${storeId.slice(0, 80)})`, { path })
  }
  return storeId
}

function checkColumns (db: DatabaseSync, path: string): void {
  for (const [table, expected] of Object.entries(EXPECTED_COLUMNS)) {
    const columns = db.prepare(`PRAGMA table_info(${table})`).all().map((c) => String(c.name))
    if (expected.some((name) => !columns.includes(name))) {
      throw new ReboundError('CORRUPT_STORE', `store ${path} has a table ${table} of another shape (${columns.join(', ')})`, { path, table })
    }
  }
}

function translate (err: unknown, path: string): Error {
  if (err instanceof ReboundError) return err
  const code = sqliteCode(err)
  if (code === SQLITE_NOTADB || code === SQLITE_CORRUPT) {
    return new ReboundError('CORRUPT_STORE', `store ${path} is not a valid SQLite database (${(err as Error).message}); refusing to replace it`, { path })
  }
  return err instanceof Error ? err : new Error(String(err))
}

function bytes (value: SQLOutputValue | undefined): Uint8Array {
  return value instanceof Uint8Array ? value : new Uint8Array()
}

function decodeSupernode (row: Record<string, SQLOutputValue>): SupernodeRecord | undefined {
  let addrs: unknown
  try {
    addrs = JSON.parse(String(row.addrs))
  } catch {
    return undefined
  }
  const cls = SupernodeClass.safeParse(row.class)
  if (!Array.isArray(addrs) || !cls.success) return undefined
  return {
    peerId: String(row.peer_id),
    addrs: addrs.map(String),
    class: cls.data,
    certificate: String(row.certificate),
    clients: Number(row.clients),
    capacity: Number(row.capacity),
    lastSeenMs: Number(row.last_seen_ms),
    expiresAtMs: Number(row.expires_at_ms)
  }
}
