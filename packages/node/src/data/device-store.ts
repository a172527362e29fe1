/**
 * The device's failure domain (docs/durability.md): `DATA_DIR/device.sqlite`, SQLite in WAL mode
 * with synchronous=FULL, so every write is fsync'd before the call returns and before anything is
 * acknowledged. It holds the user's contacts (contact-table.ts), every message the user sent
 * (outbox-table.ts) and the sync state below. A file that fails `PRAGMA quick_check` is
 * CORRUPT_STORE and the node does not start: replacing it by an empty store would be the Sidekick
 * failure, an empty copy then looking like the truth.
 */
import type { DatabaseSync } from 'node:sqlite'
import { join } from 'node:path'
import { ReboundError } from '@rebound/protocol'
import { openChecked, transaction } from '../sqlite-file.js'
import { ContactTable } from './contact-table.js'
import { OutboxTable } from './outbox-table.js'

export const DEVICE_STORE_FILE = 'device.sqlite'

/** Where the recipient's mailbox fetch stands: the last seq stored in the inbox, in which store. */
export interface MailboxCursor {
  storeId: string | null
  seq: number
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rev INTEGER NOT NULL,
    synced_store_id TEXT,
    mailbox_store_id TEXT,
    mailbox_seq INTEGER NOT NULL);
  INSERT OR IGNORE INTO meta VALUES (1, 0, NULL, NULL, 0);
  CREATE TABLE IF NOT EXISTS contacts (
    contact TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    rev INTEGER NOT NULL,
    synced INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS contacts_unsynced ON contacts(rev) WHERE synced = 0;
  CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    from_user TEXT NOT NULL,
    to_user TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at_ms INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'mailboxed')),
    archived_store_id TEXT);
  CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(seq) WHERE state = 'pending';
  CREATE INDEX IF NOT EXISTS outbox_unarchived ON outbox(seq) WHERE state != 'pending' AND archived_store_id IS NULL;
`

export class DeviceStore {
  readonly path: string
  readonly contacts: ContactTable
  readonly outbox: OutboxTable
  private readonly db: DatabaseSync

  constructor (dataDir: string) {
    this.path = join(dataDir, DEVICE_STORE_FILE)
    this.db = openChecked(this.path, SCHEMA, 'device store')
    try {
      // Preparing the statements also checks the tables' shape: a file of another shape is refused.
      this.contacts = new ContactTable(this.db, this)
      this.outbox = new OutboxTable(this.db)
    } catch (err) {
      this.db.close()
      throw new ReboundError('CORRUPT_STORE', `device store ${this.path} has tables of another shape (${(err as Error).message})`, { path: this.path })
    }
  }

  /** The highest rev this device has numbered or seen: the next change is rev + 1. */
  get rev (): number {
    return Number(this.meta().rev)
  }

  /** The store the contacts' synced flags refer to (null before the first sync). */
  get syncedStoreId (): string | null {
    const id = this.meta().synced_store_id
    return id === null ? null : String(id)
  }

  mailboxCursor (): MailboxCursor {
    const m = this.meta()
    return { storeId: m.mailbox_store_id === null ? null : String(m.mailbox_store_id), seq: Number(m.mailbox_seq) }
  }

  saveMailboxCursor (cursor: MailboxCursor): void {
    this.db.prepare('UPDATE meta SET mailbox_store_id = ?, mailbox_seq = ? WHERE id = 1').run(cursor.storeId, cursor.seq)
  }

  /** Meta writes for the contact table, inside its transactions. */
  setRev (rev: number): void {
    this.db.prepare('UPDATE meta SET rev = ? WHERE id = 1').run(rev)
  }

  setSyncedStoreId (storeId: string): void {
    this.db.prepare('UPDATE meta SET synced_store_id = ? WHERE id = 1').run(storeId)
  }

  /** Run `fn` in one transaction: all its writes are durable together, or none. */
  transaction<T> (fn: () => T): T {
    return transaction(this.db, fn)
  }

  close (): void {
    if (this.db.isOpen) this.db.close()
  }

  private meta (): Record<string, unknown> {
    return this.db.prepare('SELECT rev, synced_store_id, mailbox_store_id, mailbox_seq FROM meta WHERE id = 1').get() as Record<string, unknown>
  }
}
