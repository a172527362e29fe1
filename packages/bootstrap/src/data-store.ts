/**
 * Users' data in the login servers' shared store, the server's failure domain (docs/durability.md):
 * contacts as last-writer-wins records, and the mailbox, which is also the server copy of every
 * inbox and is never deleted from. It lives in the store file (store.ts opens it, WAL and
 * synchronous=FULL, and creates these tables); every write request is one transaction, committed
 * before the caller replies, so an acknowledged write survives a crash of any login server.
 */
import { randomBytes } from 'node:crypto'
import type { DatabaseSync, SQLOutputValue, StatementSync } from 'node:sqlite'
import {
  MAX_CONTACTS, MAX_CONTACTS_PER_FRAME, MAX_FRAME_BYTES, MAX_MAILBOX, MAX_MAILBOX_GET, MAX_MAILBOX_REPLY_BYTES, ReboundError,
  type ChatMessage, type ContactRecord, type MailboxEntry, type StoreUserData
} from '@rebound/protocol'

export const DATA_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS contacts (
  user TEXT NOT NULL,
  contact TEXT NOT NULL,
  name TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  rev INTEGER NOT NULL,
  PRIMARY KEY (user, contact)
);
CREATE TABLE IF NOT EXISTS mailbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT UNIQUE NOT NULL,
  to_user TEXT NOT NULL,
  from_user TEXT NOT NULL,
  body TEXT NOT NULL,
  sent_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS mailbox_to_seq ON mailbox (to_user, seq);
`
export const DATA_COLUMNS: Record<string, string[]> = {
  meta: ['key', 'value'],
  contacts: ['user', 'contact', 'name', 'deleted', 'rev'],
  mailbox: ['seq', 'id', 'to_user', 'from_user', 'body', 'sent_at_ms']
}

/**
 * Bytes of JSON-encoded records in one contacts reply. 100 records fit a frame only when their
 * names are plain: a 64-byte name of control characters is 384 bytes of JSON (a record ~480), and
 * 100 of those (~47 KiB) would not fit the 32 KiB frame, so a page also stops here (`more`). The
 * 2 KiB left is for the envelope and commas (~200 bytes); at ~64 such records a page, a full list
 * of 500 still takes 8 pages, within the node's bound on a pull (node data/contacts.ts, 10).
 */
export const MAX_CONTACTS_REPLY_BYTES = MAX_FRAME_BYTES - 2 * 1024

/**
 * Make the file's storeId unless it has one. Called inside the schema migration's IMMEDIATE
 * transaction, so login servers opening a new (or older) file together agree on one id.
 */
export function ensureStoreId (db: DatabaseSync): string {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run('storeId', randomBytes(16).toString('base64url'))
  const row = db.prepare("SELECT value FROM meta WHERE key = 'storeId'").get()
  return String(row?.value)
}

export interface DataStoreDeps {
  /** The store's translation of SQLite lock errors into BUSY. */
  guard: <T>(fn: () => T) => T
  /** The connection's usual busy_timeout, restored after a write that asked to wait less. */
  busyTimeoutMs: number
}

export interface WriteOptions {
  /** Wait at most this long for another login server's write lock (the request's deadline). */
  lockWaitMs?: number
}

export interface Page<T> {
  items: T[]
  more: boolean
}

export class DataStore {
  /** Made once when the file was created: a new id means the data of the old one is gone. */
  readonly storeId: string
  private readonly db: DatabaseSync
  private readonly deps: DataStoreDeps
  private readonly stmts: ReturnType<typeof prepareStatements>

  constructor (db: DatabaseSync, storeId: string, deps: DataStoreDeps) {
    this.db = db
    this.storeId = storeId
    this.deps = deps
    this.stmts = prepareStatements(db)
  }

  /** The user's records in contact order after `after`, at most `limit` and MAX_CONTACTS_REPLY_BYTES. */
  getContacts (user: string, after: string | undefined, limit: number = MAX_CONTACTS_PER_FRAME): Page<ContactRecord> {
    const n = Math.min(limit, MAX_CONTACTS_PER_FRAME)
    // '' sorts before every user name (names are non-empty), so it means "from the start".
    const rows = this.deps.guard(() => this.stmts.contactsAfter.all(user, after ?? '', n + 1))
    return pageByBytes(rows.slice(0, n).map(decodeContact), rows.length > n, MAX_CONTACTS_REPLY_BYTES)
  }

  /**
   * Merge records in: per contact the higher rev wins; a record whose rev is equal to or lower
   * than the stored one is stale and changes nothing. All or nothing: a request that would leave
   * the user with more than MAX_CONTACTS records (tombstones included) stores none of them.
   */
  putContacts (user: string, records: ContactRecord[], options: WriteOptions = {}): { applied: number, stale: number } {
    return this.transaction(options.lockWaitMs, () => {
      const before = this.countContacts(user)
      let applied = 0
      for (const r of records) {
        applied += Number(this.stmts.mergeContact.run(user, r.contact, r.name, r.deleted ? 1 : 0, r.rev).changes)
      }
      const after = this.countContacts(user)
      // Only growth is refused: a user already over a (lowered) limit can still update its records.
      if (after > MAX_CONTACTS && after > before) {
        throw new ReboundError('BAD_REQUEST', `at most ${MAX_CONTACTS} contact records per user (tombstones included); this request would make ${after}`, { user, count: after })
      }
      return { applied, stale: records.length - applied }
    })
  }

  /**
   * Store messages in their recipients' mailboxes, idempotent by id: an id already stored is a
   * duplicate whatever its content (the first write wins). All or nothing: BUSY when a recipient
   * already holds MAX_MAILBOX messages (nothing is ever deleted, so that mailbox stays full).
   */
  putMailbox (messages: ChatMessage[], options: WriteOptions = {}): { stored: number, duplicates: number } {
    return this.transaction(options.lockWaitMs, () => {
      let stored = 0
      for (const m of messages) {
        const held = this.stmts.hasMessage.get(m.id)
        if (held !== undefined) {
          // The same message again (a retry, or its recipient archiving it): a duplicate. Another
          // message under a taken id would be acknowledged and never stored: refuse it instead.
          if (held.from_user !== m.from || held.to_user !== m.to || held.body !== m.body) {
            throw new ReboundError('BAD_REQUEST', `message id ${m.id} is already taken by another message`, { id: m.id })
          }
          continue
        }
        // Counting walks the recipient's index entries, at most MAX_MAILBOX of them.
        if (Number(this.stmts.countMailbox.get(m.to, MAX_MAILBOX)?.n ?? 0) >= MAX_MAILBOX) {
          throw new ReboundError('BUSY', `the mailbox of ${m.to} is full (${MAX_MAILBOX} messages)`, { to: m.to })
        }
        this.stmts.insertMessage.run(m.id, m.to, m.from, m.body, m.sentAtMs)
        stored++
      }
      return { stored, duplicates: messages.length - stored }
    })
  }

  /**
   * The user's mailbox in seq order after `afterSeq`: at most `limit` entries and
   * MAX_MAILBOX_REPLY_BYTES of them (JSON-encoded, so the reply fits a frame even when bodies
   * escape to several bytes a character), but always one entry when there is one.
   * Seqs are safe as a cursor: SQLite has one writer at a time, so a seq never becomes visible
   * after a higher one, and AUTOINCREMENT never reuses one.
   */
  getMailbox (user: string, afterSeq: number, limit: number = MAX_MAILBOX_GET): Page<MailboxEntry> {
    const n = Math.min(limit, MAX_MAILBOX_GET)
    const rows = this.deps.guard(() => this.stmts.mailboxAfter.all(user, afterSeq, n + 1))
    return pageByBytes(rows.slice(0, n).map(decodeEntry), rows.length > n, MAX_MAILBOX_REPLY_BYTES)
  }

  /** The store's whole copy of a user's data, for checkers (GET /data): one read snapshot. */
  userData (user: string): StoreUserData {
    return this.deps.guard(() => {
      this.db.exec('BEGIN')
      try {
        return {
          storeId: this.storeId,
          contacts: this.stmts.allContacts.all(user).map(decodeContact),
          mailbox: this.stmts.mailboxIds.all(user).map((row) => String(row.id))
        }
      } finally {
        this.db.exec('COMMIT')
      }
    })
  }

  private countContacts (user: string): number {
    return Number(this.stmts.countContacts.get(user)?.n ?? 0)
  }

  /**
   * One write request = one IMMEDIATE transaction, committed before returning. The wait for
   * another process's write lock is bounded by the request's deadline: past it, the client has
   * given up, and this (synchronous) wait blocks the server's event loop.
   */
  private transaction<T> (lockWaitMs: number | undefined, fn: () => T): T {
    const { busyTimeoutMs } = this.deps
    const waitMs = Math.max(0, Math.min(Math.floor(lockWaitMs ?? busyTimeoutMs), busyTimeoutMs))
    return this.deps.guard(() => {
      if (waitMs !== busyTimeoutMs) this.db.exec(`PRAGMA busy_timeout = ${waitMs}`)
      try {
        this.db.exec('BEGIN IMMEDIATE')
        try {
          const result = fn()
          this.db.exec('COMMIT')
          return result
        } catch (err) {
          if (this.db.isTransaction) this.db.exec('ROLLBACK')
          throw err
        }
      } finally {
        if (waitMs !== busyTimeoutMs) this.db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`)
      }
    })
  }
}

/** The longest prefix of `items` within `maxBytes` of JSON (at least one item); `more` if any is left. */
function pageByBytes<T> (items: T[], moreAfter: boolean, maxBytes: number): Page<T> {
  let bytes = 0
  for (let i = 0; i < items.length; i++) {
    bytes += Buffer.byteLength(JSON.stringify(items[i]), 'utf8')
    if (i > 0 && bytes > maxBytes) return { items: items.slice(0, i), more: true }
  }
  return { items, more: moreAfter }
}

type StatementName = 'contactsAfter' | 'allContacts' | 'countContacts' | 'mergeContact' |
  'hasMessage' | 'countMailbox' | 'insertMessage' | 'mailboxAfter' | 'mailboxIds'

function prepareStatements (db: DatabaseSync): Record<StatementName, StatementSync> {
  return {
    contactsAfter: db.prepare('SELECT contact, name, deleted, rev FROM contacts WHERE user = ? AND contact > ? ORDER BY contact LIMIT ?'),
    allContacts: db.prepare('SELECT contact, name, deleted, rev FROM contacts WHERE user = ? ORDER BY contact'),
    countContacts: db.prepare('SELECT COUNT(*) AS n FROM contacts WHERE user = ?'),
    // Last writer wins: the row changes (changes = 1) only for a strictly higher rev.
    mergeContact: db.prepare(`INSERT INTO contacts (user, contact, name, deleted, rev) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (user, contact) DO UPDATE SET name = excluded.name, deleted = excluded.deleted, rev = excluded.rev
      WHERE excluded.rev > contacts.rev`),
    hasMessage: db.prepare('SELECT from_user, to_user, body FROM mailbox WHERE id = ?'),
    countMailbox: db.prepare('SELECT COUNT(*) AS n FROM (SELECT 1 FROM mailbox WHERE to_user = ? LIMIT ?)'),
    insertMessage: db.prepare('INSERT INTO mailbox (id, to_user, from_user, body, sent_at_ms) VALUES (?, ?, ?, ?, ?)'),
    mailboxAfter: db.prepare(`SELECT seq, id, to_user, from_user, body, sent_at_ms FROM mailbox
      WHERE to_user = ? AND seq > ? ORDER BY seq LIMIT ?`),
    mailboxIds: db.prepare('SELECT id FROM mailbox WHERE to_user = ? ORDER BY seq')
  }
}

function decodeContact (row: Record<string, SQLOutputValue>): ContactRecord {
  return { contact: String(row.contact), name: String(row.name), deleted: Number(row.deleted) !== 0, rev: Number(row.rev) }
}

function decodeEntry (row: Record<string, SQLOutputValue>): MailboxEntry {
  return {
    seq: Number(row.seq),
    message: { id: String(row.id), from: String(row.from_user), to: String(row.to_user), body: String(row.body), sentAtMs: Number(row.sent_at_ms) }
  }
}
