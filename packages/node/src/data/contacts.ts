/**
 * The user's contacts, kept in both failure domains (docs/durability.md). A change is numbered and
 * written to the device store, then pushed to the server store; it is acknowledged only when both
 * hold it. A push that fails leaves it pending (unsynced), and the sync pushes it again.
 *
 * Sync is the same merge both ways: pull every page of the server's records and merge them in
 * (highest rev wins: a wiped device gets everything back and numbers its next change above it),
 * then push every record the server lacks or holds older (a wiped store gets everything back).
 * No change is accepted before the first sync has finished: a wiped device would otherwise number
 * changes from 1 again, below the server's, and lose them to older records.
 */
import {
  ContactName, MAX_CONTACTS, MAX_CONTACTS_PER_FRAME, ReboundError, UserName, errorCodeOf,
  type ContactRecord, type ContactResult, type Logger
} from '@rebound/protocol'
import type { DataApi } from './data-client.js'
import type { DeviceStore } from './device-store.js'

/**
 * A full sync re-reads every page, so it is rare: a lost store is noticed sooner by the storeId of
 * any data reply (the mailbox fetch, every MAILBOX_FETCH_INTERVAL_MS), which starts a sync at once.
 */
export const CONTACTS_SYNC_INTERVAL_MS = 300_000
/** Pages of one pull: the server holds at most MAX_CONTACTS records per user; twice that is a broken server. */
export const MAX_PULL_PAGES = 2 * Math.ceil(MAX_CONTACTS / MAX_CONTACTS_PER_FRAME)
/** Push requests of one sync: every record once, plus changes made while it runs. */
export const MAX_PUSH_BATCHES = 2 * Math.ceil(MAX_CONTACTS / MAX_CONTACTS_PER_FRAME)

export type ContactOpName = 'add' | 'rename' | 'remove'

export interface ContactOp {
  op: ContactOpName
  contact: string
  name?: string | undefined
}

export class Contacts {
  private synced = false

  /** `requestSync`: run a sync soon (the background task's kick). */
  constructor (
    private readonly store: DeviceStore,
    private readonly client: DataApi,
    private readonly requestSync: () => void,
    private readonly log: Logger
  ) {}

  /** The first sync has finished: changes are accepted. */
  get ready (): boolean {
    return this.synced
  }

  list (): ContactRecord[] {
    return this.store.contacts.all()
  }

  /** Apply a change: validate, store (numbered, unsynced), push; ok once the server committed it. */
  async apply (op: ContactOp): Promise<ContactResult> {
    if (!this.synced) return { ok: false, code: 'UNAVAILABLE', message: 'contacts not synced with the server yet' }
    const problem = this.validate(op)
    if (problem !== undefined) return { ok: false, code: 'BAD_REQUEST', message: problem }
    const existing = this.store.contacts.get(op.contact)
    let record: ContactRecord
    try {
      record = this.store.contacts.writeLocal({
        contact: op.contact,
        // A tombstone keeps the last name: a removal says nothing about it.
        name: op.op === 'remove' ? (existing?.name ?? '') : (op.name ?? ''),
        deleted: op.op === 'remove'
      })
    } catch (err) {
      return { ok: false, code: errorCodeOf(err), message: (err as Error).message }
    }
    try {
      const reply = await this.client.contactsPut([record])
      if (reply.stale > 0) {
        // The server holds a rev at least as high for this contact: our counter was behind it,
        // which only a missed pull explains. A full sync brings its records in; the change is
        // not known to have won, so it is not acknowledged.
        this.log.warn({ contact: record.contact, rev: record.rev }, 'server holds a newer contact record; resyncing')
        this.requestSync()
        return { ok: false, code: 'UNAVAILABLE', pending: true, rev: record.rev, message: 'the server holds a newer record; resyncing' }
      }
      this.store.contacts.markSynced([record])
      return { ok: true, rev: record.rev }
    } catch (err) {
      return { ok: false, code: errorCodeOf(err), pending: true, rev: record.rev, message: (err as Error).message }
    }
  }

  /**
   * The server names `storeId`: a store other than the one our synced flags refer to has none of
   * our records (it was wiped and re-created). True when that is news: the caller runs a sync.
   */
  noticeStoreId (storeId: string): boolean {
    const known = this.store.syncedStoreId
    if (known === null || known === storeId) return false
    this.store.contacts.markAllUnsynced(storeId)
    this.log.warn({ was: known, now: storeId }, 'server store has a new storeId: pushing every contact again')
    return true
  }

  /** One full sync: pull and merge every page, then push what the server lacks. True when it should run again. */
  async sync (): Promise<boolean> {
    const { records, storeId } = await this.pullAll()
    const merged = this.store.contacts.mergePulled(records, storeId)
    const stale = await this.pushUnsynced()
    if (!this.synced) this.log.info({ server: records.length, taken: merged.taken, pushed: merged.newerHere }, 'contacts synced')
    this.synced = true
    // A store that changed during the sync (noticeStoreId) or a stale push needs another round.
    return stale > 0 || this.store.syncedStoreId !== storeId
  }

  private async pullAll (): Promise<{ records: ContactRecord[], storeId: string }> {
    const records: ContactRecord[] = []
    let after: string | undefined
    let storeId: string | undefined
    for (let page = 0; page < MAX_PULL_PAGES; page++) {
      const reply = await this.client.contactsGet(after)
      // Pages from two stores do not make one list: start over (next run).
      if (storeId !== undefined && reply.storeId !== storeId) throw new ReboundError('UNAVAILABLE', 'the server store changed during a pull')
      storeId = reply.storeId
      records.push(...reply.records)
      const last = reply.records.at(-1)
      if (!reply.more) return { records, storeId }
      if (last === undefined) throw new ReboundError('INTERNAL', 'server said more contacts but sent none')
      after = last.contact
    }
    throw new ReboundError('INTERNAL', `server sent more than ${MAX_PULL_PAGES} pages of contacts`)
  }

  /** Push every unsynced record in batches; returns how many the server held newer (stale). */
  private async pushUnsynced (): Promise<number> {
    let stale = 0
    for (let batch = 0; batch < MAX_PUSH_BATCHES; batch++) {
      const records = this.store.contacts.unsynced(MAX_CONTACTS_PER_FRAME)
      if (records.length === 0) return stale
      const reply = await this.client.contactsPut(records)
      // Stale ones too: the server holds their rev or a newer one, which the next pull brings in.
      this.store.contacts.markSynced(records)
      stale += reply.stale
    }
    return stale
  }

  private validate (op: ContactOp): string | undefined {
    if (!UserName.safeParse(op.contact).success) return `contact must be a user name (1-32 of [a-z0-9_-]), got ${JSON.stringify(op.contact).slice(0, 80)}`
    if (op.op === 'remove') return op.name === undefined || ContactName.safeParse(op.name).success ? undefined : 'contact names are at most 64 bytes (MAX_CONTACT_NAME_BYTES)'
    if (op.name === undefined) return `${op.op} needs a name`
    if (!ContactName.safeParse(op.name).success) return 'contact names are at most 64 bytes (MAX_CONTACT_NAME_BYTES)'
    return undefined
  }
}
