/**
 * Every message this device sent, kept (docs/durability.md): written `pending` before it is
 * routed, then `delivered` (the recipient's inbox stored it) or `mailboxed` (the server mailbox
 * did). `archived_store_id` names the server store holding a copy in the recipient's mailbox (the
 * server copy of every inbox); it is cleared when that store is gone (a new storeId), so that
 * "not archived" is always "not in the current store" and needs no scan to find.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { MAX_OUTBOX, ReboundError, type ChatMessage } from '@rebound/protocol'
import { transaction } from '../sqlite-file.js'

export type OutboxState = 'pending' | 'delivered' | 'mailboxed'

export interface OutboxEntry {
  message: ChatMessage
  state: OutboxState
  archivedStoreId: string | null
}

/** What GET /outbox?all=1 shows of an entry. */
export interface OutboxView {
  id: string
  to: string
  state: OutboxState
  /** A copy is in the current server store's mailbox. */
  archived: boolean
}

const COLUMNS = 'id, from_user, to_user, body, sent_at_ms, state, archived_store_id'

export class OutboxTable {
  private readonly insertStmt: StatementSync
  private readonly getStmt: StatementSync
  private readonly deliveredStmt: StatementSync
  private readonly mailboxedStmt: StatementSync
  private readonly archivedStmt: StatementSync
  /** Kept in memory: entries are never deleted, so the count only grows with inserts. */
  private entryCount: number

  constructor (private readonly db: DatabaseSync) {
    this.insertStmt = db.prepare('INSERT INTO outbox (id, from_user, to_user, body, sent_at_ms, state, archived_store_id) VALUES (?, ?, ?, ?, ?, \'pending\', NULL)')
    this.getStmt = db.prepare(`SELECT ${COLUMNS} FROM outbox WHERE id = ?`)
    this.deliveredStmt = db.prepare('UPDATE outbox SET state = \'delivered\' WHERE id = ? AND state = \'pending\'')
    // Mailboxed is also archived; a message delivered meanwhile keeps `delivered`.
    this.mailboxedStmt = db.prepare(`UPDATE outbox SET state = CASE WHEN state = 'pending' THEN 'mailboxed' ELSE state END,
      archived_store_id = ? WHERE id = ?`)
    this.archivedStmt = db.prepare('UPDATE outbox SET archived_store_id = ? WHERE id = ? AND state != \'pending\'')
    this.entryCount = Number((db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number | bigint }).n)
  }

  get count (): number {
    return this.entryCount
  }

  /**
   * Store a message `pending`, durably, before it is routed. A full outbox is BUSY; an id already
   * used for another message is BAD_REQUEST (both before anything is stored). The same message
   * again (a client's retry) returns the stored entry: routing it again is harmless (ids).
   */
  add (message: ChatMessage): OutboxEntry {
    const existing = this.get(message.id)
    if (existing !== undefined) {
      const m = existing.message
      if (m.to !== message.to || m.body !== message.body || m.from !== message.from) {
        throw new ReboundError('BAD_REQUEST', `message id ${message.id} was already used for another message`, { id: message.id })
      }
      return existing
    }
    if (this.entryCount >= MAX_OUTBOX) throw new ReboundError('BUSY', `outbox full (MAX_OUTBOX = ${MAX_OUTBOX} messages)`, { limit: 'MAX_OUTBOX' })
    this.insertStmt.run(message.id, message.from, message.to, message.body, message.sentAtMs)
    this.entryCount++
    return { message, state: 'pending', archivedStoreId: null }
  }

  get (id: string): OutboxEntry | undefined {
    const row = this.getStmt.get(id) as Record<string, unknown> | undefined
    return row === undefined ? undefined : this.entryOf(row)
  }

  markDelivered (id: string): void {
    this.deliveredStmt.run(id)
  }

  markMailboxed (id: string, storeId: string): void {
    this.mailboxedStmt.run(storeId, id)
  }

  /** These delivered or mailboxed messages are in store `storeId`'s mailbox. */
  markArchived (ids: readonly string[], storeId: string): void {
    transaction(this.db, () => {
      for (const id of ids) this.archivedStmt.run(storeId, id)
    })
  }

  /** The current store is `storeId`: copies in any other store are gone, put them again. */
  forgetArchivesOutside (storeId: string): number {
    const result = this.db.prepare('UPDATE outbox SET archived_store_id = NULL WHERE archived_store_id IS NOT NULL AND archived_store_id != ?').run(storeId)
    return Number(result.changes)
  }

  /** Pending messages, oldest first, leaving out `skip` (sends in flight). */
  pending (limit: number, skip: ReadonlySet<string>): OutboxEntry[] {
    const rows = this.db.prepare(`SELECT ${COLUMNS} FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT ?`).all(limit + skip.size) as Array<Record<string, unknown>>
    return rows.filter((r) => !skip.has(String(r.id))).slice(0, limit).map((r) => this.entryOf(r))
  }

  /** Delivered or mailboxed messages with no copy in the current store, oldest first. */
  unarchived (limit: number): OutboxEntry[] {
    const rows = this.db.prepare(`SELECT ${COLUMNS} FROM outbox WHERE state != 'pending' AND archived_store_id IS NULL ORDER BY seq LIMIT ?`).all(limit) as Array<Record<string, unknown>>
    return rows.map((r) => this.entryOf(r))
  }

  /** Every entry in send order (at most MAX_OUTBOX). */
  views (): OutboxView[] {
    const rows = this.db.prepare('SELECT id, to_user, state, archived_store_id FROM outbox ORDER BY seq').all() as Array<Record<string, unknown>>
    return rows.map((r) => ({ id: String(r.id), to: String(r.to_user), state: r.state as OutboxState, archived: r.archived_store_id !== null }))
  }

  private entryOf (row: Record<string, unknown>): OutboxEntry {
    return {
      message: { id: String(row.id), from: String(row.from_user), to: String(row.to_user), body: String(row.body), sentAtMs: Number(row.sent_at_ms) },
      state: row.state as OutboxState,
      archivedStoreId: row.archived_store_id === null ? null : String(row.archived_store_id)
    }
  }
}
