/**
 * The device's copy of the user's contacts: a last-writer-wins map with one writer (this device).
 * Every local change gets rev = ++counter; a merge keeps, per contact, the record with the highest
 * rev, so an empty or older copy loses every merge (docs/durability.md). `synced` says that the
 * server store named by `syncedStoreId` holds this record's rev (or a newer one).
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { MAX_CONTACTS, ReboundError, type ContactRecord } from '@rebound/protocol'
import type { DeviceStore } from './device-store.js'

export interface StoredContact extends ContactRecord {
  synced: boolean
}

/** A change before it is numbered. */
export interface ContactChange {
  contact: string
  name: string
  deleted: boolean
}

export interface MergeStats {
  /** Server records newer than ours, now ours. */
  taken: number
  /** Our records newer than the server's (or missing there): to push. */
  newerHere: number
}

function rowToContact (row: Record<string, unknown>): StoredContact {
  return { contact: String(row.contact), name: String(row.name), deleted: Number(row.deleted) === 1, rev: Number(row.rev), synced: Number(row.synced) === 1 }
}

export class ContactTable {
  private readonly getStmt: StatementSync
  private readonly upsertStmt: StatementSync
  private readonly syncedStmt: StatementSync
  private readonly countStmt: StatementSync

  constructor (private readonly db: DatabaseSync, private readonly store: DeviceStore) {
    this.getStmt = db.prepare('SELECT contact, name, deleted, rev, synced FROM contacts WHERE contact = ?')
    this.upsertStmt = db.prepare(`INSERT INTO contacts (contact, name, deleted, rev, synced) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (contact) DO UPDATE SET name = excluded.name, deleted = excluded.deleted, rev = excluded.rev, synced = excluded.synced`)
    // Only while the rev is the one pushed: a newer local change made meanwhile stays unsynced.
    this.syncedStmt = db.prepare('UPDATE contacts SET synced = ? WHERE contact = ? AND rev = ?')
    this.countStmt = db.prepare('SELECT COUNT(*) AS n FROM contacts')
  }

  get (contact: string): StoredContact | undefined {
    const row = this.getStmt.get(contact) as Record<string, unknown> | undefined
    return row === undefined ? undefined : rowToContact(row)
  }

  /** Every record, tombstones included, in contact order (at most MAX_CONTACTS, bar a server over its limit). */
  all (): ContactRecord[] {
    const rows = this.db.prepare('SELECT contact, name, deleted, rev FROM contacts ORDER BY contact').all() as Array<Record<string, unknown>>
    return rows.map((r) => ({ contact: String(r.contact), name: String(r.name), deleted: Number(r.deleted) === 1, rev: Number(r.rev) }))
  }

  count (): number {
    return Number((this.countStmt.get() as { n: number | bigint }).n)
  }

  /**
   * Number a local change and store it, unsynced, in one transaction (counter and record move
   * together). A new contact beyond MAX_CONTACTS records (tombstones count) is BAD_REQUEST.
   */
  writeLocal (change: ContactChange): ContactRecord {
    return this.store.transaction(() => {
      if (this.get(change.contact) === undefined && this.count() >= MAX_CONTACTS) {
        throw new ReboundError('BAD_REQUEST', `at most ${MAX_CONTACTS} contacts (MAX_CONTACTS, removed ones included)`, { limit: 'MAX_CONTACTS' })
      }
      const rev = this.store.rev + 1
      this.upsertStmt.run(change.contact, change.name, change.deleted ? 1 : 0, rev, 0)
      this.store.setRev(rev)
      return { ...change, rev }
    })
  }

  /**
   * Merge the server's complete list (every page of one pull from store `storeId`): per contact
   * the highest rev wins; the counter becomes at least the highest rev seen, so a wiped device
   * numbers its next change above everything it got back. Afterwards `synced` is exact against
   * that store: set where the server's rev is at least ours, cleared everywhere else (ours newer,
   * or missing there), and the flags are declared to refer to `storeId`.
   */
  mergePulled (server: readonly ContactRecord[], storeId: string): MergeStats {
    return this.store.transaction(() => {
      const stats: MergeStats = { taken: 0, newerHere: 0 }
      let highest = this.store.rev
      this.db.prepare('UPDATE contacts SET synced = 0').run()
      for (const record of server) {
        highest = Math.max(highest, record.rev)
        const local = this.get(record.contact)
        if (local === undefined || local.rev < record.rev) {
          this.upsertStmt.run(record.contact, record.name, record.deleted ? 1 : 0, record.rev, 1)
          stats.taken++
        } else if (local.rev === record.rev) {
          // One writer numbers each change once: the same rev is the same record.
          this.syncedStmt.run(1, record.contact, record.rev)
        }
      }
      stats.newerHere = this.unsyncedCount()
      this.store.setRev(highest)
      this.store.setSyncedStoreId(storeId)
      return stats
    })
  }

  /** The server store committed these records (their rev or a newer one). */
  markSynced (records: readonly ContactRecord[]): void {
    this.store.transaction(() => {
      for (const r of records) this.syncedStmt.run(1, r.contact, r.rev)
    })
  }

  /** A new store (its storeId changed): it holds none of our records until they are pushed again. */
  markAllUnsynced (storeId: string): void {
    this.store.transaction(() => {
      this.db.prepare('UPDATE contacts SET synced = 0').run()
      this.store.setSyncedStoreId(storeId)
    })
  }

  unsyncedCount (): number {
    return Number((this.db.prepare('SELECT COUNT(*) AS n FROM contacts WHERE synced = 0').get() as { n: number | bigint }).n)
  }

  /** Records the server does not hold yet, oldest change first. */
  unsynced (limit: number): ContactRecord[] {
    const rows = this.db.prepare('SELECT contact, name, deleted, rev FROM contacts WHERE synced = 0 ORDER BY rev LIMIT ?').all(limit) as Array<Record<string, unknown>>
    return rows.map((r) => ({ contact: String(r.contact), name: String(r.name), deleted: Number(r.deleted) === 1, rev: Number(r.rev) }))
  }
}
