/**
 * The recipient's side of the server mailbox (docs/durability.md): fetch what the mailbox holds
 * after the highest seq already stored, put it in the inbox (ids are its primary key: each message
 * once), and only then save the new high-water seq, so a crash in between fetches again rather
 * than skipping. Seqs belong to one store: after a wipe of either side (another storeId, or no
 * cursor at all) the fetch starts from 0. Nothing is ever deleted from the mailbox: it is also the
 * server copy of the inbox that a wiped device gets back.
 */
import { MAX_MAILBOX_GET, type ChatMessage, type Logger } from '@rebound/protocol'
import type { DataApi } from './data-client.js'
import type { DeviceStore, MailboxCursor } from './device-store.js'

/**
 * Live messages arrive through the supernodes; the mailbox holds those sent while this device was
 * offline (fetched after each attach) and the server copy of the inbox, so polling is only a
 * backstop and a way to notice a new storeId: every 1000 devices cost ~33 requests/s at 30 s.
 */
export const MAILBOX_FETCH_INTERVAL_MS = 30_000
/** Pages fetched in one run; a fuller mailbox is fetched over the next runs (the task says more). */
export const MAX_MAILBOX_PAGES_PER_RUN = 20

export interface MailboxSyncDeps {
  store: DeviceStore
  client: DataApi
  user: string
  /** Store in the inbox, durably; true when new. */
  /** Into the inbox, marked as held by store `storeId`'s mailbox; true when new. */
  deliver: (message: ChatMessage, storeId: string) => boolean
  log: Logger
}

export class MailboxSync {
  constructor (private readonly deps: MailboxSyncDeps) {}

  /** One run: up to MAX_MAILBOX_PAGES_PER_RUN pages. True when the mailbox has more. */
  async fetch (): Promise<boolean> {
    const { store, client } = this.deps
    let cursor = store.mailboxCursor()
    for (let page = 0; page < MAX_MAILBOX_PAGES_PER_RUN; page++) {
      const reply = await client.mailboxGet(cursor.seq, MAX_MAILBOX_GET)
      if (reply.storeId !== cursor.storeId && cursor.seq !== 0) {
        // Our seq counts in a store that is gone: this page is from the middle of another list.
        this.deps.log.warn({ was: cursor.storeId, now: reply.storeId, seq: cursor.seq }, 'mailbox store changed: fetching from the start')
        cursor = { storeId: reply.storeId, seq: 0 }
        store.saveMailboxCursor(cursor)
        continue
      }
      cursor = this.storeEntries(reply.storeId, reply.entries, cursor)
      if (!reply.more) return false
    }
    return true
  }

  /** Inbox first, cursor after: the cursor never runs ahead of what the inbox holds. */
  private storeEntries (storeId: string, entries: ReadonlyArray<{ seq: number, message: ChatMessage }>, from: MailboxCursor): MailboxCursor {
    let seq = from.storeId === storeId ? from.seq : 0
    let fresh = 0
    for (const { seq: entrySeq, message } of entries) {
      if (message.to !== this.deps.user) {
        this.deps.log.warn({ id: message.id, to: message.to }, 'mailbox entry for another user, skipped')
      } else if (this.deps.deliver(message, storeId)) {
        fresh++
      }
      seq = Math.max(seq, entrySeq)
    }
    const cursor = { storeId, seq }
    this.deps.store.saveMailboxCursor(cursor)
    if (fresh > 0) this.deps.log.debug({ fresh, seq }, 'mailbox messages stored in the inbox')
    return cursor
  }
}
