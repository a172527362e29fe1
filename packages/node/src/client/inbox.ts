/**
 * The client's durable inbox: SQLite in WAL mode with synchronous=FULL, so a delivery is fsync'd
 * before it is acknowledged. Messages are keyed by id: a redelivery is stored once.
 */
import type { DatabaseSync } from 'node:sqlite'
import { join } from 'node:path'
import type { ChatMessage, InboxEntry } from '@rebound/protocol'
import { openChecked } from '../sqlite-file.js'

export const INBOX_FILE = 'inbox.sqlite'
export const MAX_INBOX_READ = 10_000
/** Ids one GET /inbox?all=1 returns at most (~40 MB of JSON): far above any scenario's inbox. */
export const MAX_INBOX_IDS = 1_000_000

export class Inbox {
  private readonly db: DatabaseSync
  private readonly insertStmt
  private readonly countStmt

  constructor (dataDir: string) {
    this.db = openChecked(join(dataDir, INBOX_FILE), `CREATE TABLE IF NOT EXISTS inbox (
      id TEXT PRIMARY KEY, from_user TEXT NOT NULL, to_user TEXT NOT NULL, body TEXT NOT NULL,
      sent_at_ms INTEGER NOT NULL, received_at_ms INTEGER NOT NULL)`, 'inbox')
    this.insertStmt = this.db.prepare('INSERT OR IGNORE INTO inbox VALUES (?, ?, ?, ?, ?, ?)')
    this.countStmt = this.db.prepare('SELECT COUNT(*) AS n FROM inbox')
  }

  /** Store durably; true when new, false when this id was already there. */
  put (message: ChatMessage, receivedAtMs: number): boolean {
    const result = this.insertStmt.run(message.id, message.from, message.to, message.body, message.sentAtMs, receivedAtMs)
    return Number(result.changes) > 0
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
