/**
 * The client's durable inbox: SQLite in WAL mode with synchronous=FULL, so a delivery is fsync'd
 * before it is acknowledged. Messages are keyed by id: a redelivery is stored once.
 * `archived_store_id` names the server store whose mailbox holds a copy (docs/durability.md): the
 * device archives its own inbox there (InboxArchive), so that a message whose sender was wiped
 * before archiving it still reaches the second failure domain.
 */
import type { DatabaseSync } from 'node:sqlite'
import { join } from 'node:path'
import type { ChatMessage, InboxEntry } from '@rebound/protocol'
import { openChecked, transaction } from '../sqlite-file.js'

export const INBOX_FILE = 'inbox.sqlite'
export const MAX_INBOX_READ = 10_000
/** Ids one GET /inbox?all=1 returns at most (~40 MB of JSON): far above any scenario's inbox. */
export const MAX_INBOX_IDS = 1_000_000

export class Inbox {
  private readonly db: DatabaseSync
  private readonly insertStmt
  private readonly archivedStmt
  private readonly countStmt

  constructor (dataDir: string) {
    this.db = openChecked(join(dataDir, INBOX_FILE), `CREATE TABLE IF NOT EXISTS inbox (
      id TEXT PRIMARY KEY, from_user TEXT NOT NULL, to_user TEXT NOT NULL, body TEXT NOT NULL,
      sent_at_ms INTEGER NOT NULL, received_at_ms INTEGER NOT NULL, archived_store_id TEXT)`, 'inbox')
    addArchiveColumn(this.db)
    // GET /status counts the unarchived messages on every observer poll: a partial index keeps that
    // (and the archive pass's scan) proportional to what is left to archive, not to the inbox.
    this.db.exec('CREATE INDEX IF NOT EXISTS inbox_unarchived ON inbox (received_at_ms, id) WHERE archived_store_id IS NULL')
    this.insertStmt = this.db.prepare(`INSERT OR IGNORE INTO inbox (id, from_user, to_user, body, sent_at_ms, received_at_ms, archived_store_id)
      VALUES (?, ?, ?, ?, ?, ?, ?)`)
    this.archivedStmt = this.db.prepare('UPDATE inbox SET archived_store_id = ? WHERE id = ?')
    this.countStmt = this.db.prepare('SELECT COUNT(*) AS n FROM inbox')
  }

  /**
   * Store durably; true when new, false when this id was already there. `archivedIn`: the message
   * came from that store's mailbox, which holds it already.
   */
  put (message: ChatMessage, receivedAtMs: number, archivedIn: string | null = null): boolean {
    const result = this.insertStmt.run(message.id, message.from, message.to, message.body, message.sentAtMs, receivedAtMs, archivedIn)
    const fresh = Number(result.changes) > 0
    if (!fresh && archivedIn !== null) this.archivedStmt.run(archivedIn, message.id)
    return fresh
  }

  /** Messages without a copy in the current store's mailbox, oldest first. */
  unarchived (limit: number): ChatMessage[] {
    const rows = this.db.prepare(`SELECT id, from_user, to_user, body, sent_at_ms FROM inbox WHERE archived_store_id IS NULL
      ORDER BY received_at_ms, id LIMIT ?`).all(limit) as Array<Record<string, unknown>>
    return rows.map((r) => ({ id: String(r.id), from: String(r.from_user), to: String(r.to_user), body: String(r.body), sentAtMs: Number(r.sent_at_ms) }))
  }

  unarchivedCount (): number {
    return Number((this.db.prepare('SELECT COUNT(*) AS n FROM inbox WHERE archived_store_id IS NULL').get() as { n: number | bigint }).n)
  }

  /** These messages are in store `storeId`'s mailbox. */
  markArchived (ids: readonly string[], storeId: string): void {
    transaction(this.db, () => {
      for (const id of ids) this.archivedStmt.run(storeId, id)
    })
  }

  /** The current store is `storeId`: copies in any other store are gone, archive them again. */
  forgetArchivesOutside (storeId: string): number {
    const result = this.db.prepare('UPDATE inbox SET archived_store_id = NULL WHERE archived_store_id IS NOT NULL AND archived_store_id != ?').run(storeId)
    return Number(result.changes)
  }

  count (): number {
    return Number((this.countStmt.get() as { n: number | bigint }).n)
  }

  latest (limit: number): InboxEntry[] {
    const rows = this.db.prepare(`SELECT id, from_user, to_user, body, sent_at_ms, received_at_ms FROM inbox
      ORDER BY received_at_ms DESC, id DESC LIMIT ?`).all(Math.min(limit, MAX_INBOX_READ)) as Array<Record<string, unknown>>
    return rows.reverse().map((r) => ({
      id: String(r.id), from: String(r.from_user), to: String(r.to_user), body: String(r.body),
      sentAtMs: Number(r.sent_at_ms), receivedAtMs: Number(r.received_at_ms)
    }))
  }

  /** Every message id, in arrival order (the checker's read: GET /inbox?all=1). */
  ids (limit = MAX_INBOX_IDS): string[] {
    const rows = this.db.prepare('SELECT id FROM inbox ORDER BY received_at_ms, id LIMIT ?').all(Math.min(limit, MAX_INBOX_IDS)) as Array<{ id: string }>
    return rows.map((r) => String(r.id))
  }

  close (): void {
    if (this.db.isOpen) this.db.close()
  }
}

/** Inboxes written before archiving existed lack the column: add it (NULL: archived nowhere yet). */
function addArchiveColumn (db: DatabaseSync): void {
  const columns = db.prepare('PRAGMA table_info(inbox)').all() as Array<{ name: string }>
  if (!columns.some((c) => c.name === 'archived_store_id')) db.exec('ALTER TABLE inbox ADD COLUMN archived_store_id TEXT')
}
