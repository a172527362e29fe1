/**
 * A durable SQLite file: WAL with synchronous=FULL (a commit is fsync'd before it returns), checked
 * with `PRAGMA quick_check` at open. A file that fails the check is CORRUPT_STORE and left as it
 * is, never replaced: an empty replacement would look like the truth (docs/durability.md).
 */
import { DatabaseSync } from 'node:sqlite'
import { ReboundError } from '@rebound/protocol'

/** How long a write waits for a lock held by another connection (only ever a checkpoint). */
const BUSY_TIMEOUT_MS = 5000

export function transaction<T> (db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE')
  try {
    const result = fn()
    db.exec('COMMIT')
    return result
  } catch (err) {
    db.exec('ROLLBACK')
    throw err
  }
}

/** Open, set durability, create the tables, and check the file; any failure is CORRUPT_STORE. */
export function openChecked (path: string, schema: string, what: string): DatabaseSync {
  let db: DatabaseSync | undefined
  try {
    db = new DatabaseSync(path)
    db.exec(`PRAGMA busy_timeout=${BUSY_TIMEOUT_MS}; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;`)
    const check = db.prepare('PRAGMA quick_check').get() as { quick_check?: string } | undefined
    if (check?.quick_check !== 'ok') throw new Error(`quick_check: ${check?.quick_check ?? 'no answer'}`)
    db.exec(schema)
    return db
  } catch (err) {
    if (db?.isOpen === true) db.close()
    throw new ReboundError('CORRUPT_STORE', `${what} ${path} cannot be opened (${(err as Error).message}); refusing to replace it`, { path })
  }
}
